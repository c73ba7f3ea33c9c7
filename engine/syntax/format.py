"""format: AST → `.yk` text in the one canonical layout (`yakkan fmt`).

The layout is fixed, never a matter of taste or line length:

* two-space indentation, one statement per line, strings on one line (re-escaped);
* the header's metas in the order number, issuer, version, effective, seed, language, memo;
* declarations grouped in the order externals, enums, outcomes, facts, definitions, assumptions, then the units in
  document order, then top-level corrections; a blank line between groups and between
  top-level units;
* inside a unit: label, text, proviso, kind, when, refs, readings, precedences, definitions,
  periods, rules, charges, corrections, slips, arithmetic, covers, figures, memos, then the child
  units; inside a charge:
  row, amount, when, quote when, tax, per, payer, lower_bound, assume, memo;
* expressions with the fewest parentheses the grammar needs (precedence, loosest first:
  `if`, `or`, `and`, `not`, comparison / `in`, `+ -`, `* /`, unary `-`). A parenthesised
  `and`/`or` inside one of the same operator is kept as written (`(a or b) or c`).
* comments: each node's `comments` as `# …` lines just before it, the document's own before
  the header, `trailing_comments` at the end.

INVARIANT: for every document the parser produces, `parse(format_document(doc)) == doc`
(spans aside) and formatting the result again changes nothing. `cli_fmt` checks the first
property before it writes a file, so a formatter bug can never corrupt a clause file.

>>> from yakkan.engine import ir as I
>>> format_expr(I.BoolOp(op="and", operands=[
...     I.Ref(path=["a"]), I.BoolOp(op="or", operands=[I.Ref(path=["b"]), I.Ref(path=["c"])])]))
'a and (b or c)'
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any, assert_never

from yakkan.engine.core import ir as I
from yakkan.engine.core.diagnostics import has_errors
from yakkan.engine.core.labels import UNIT_LABELS
from yakkan.engine.syntax import ast as A
from yakkan.engine.syntax.load import Source
from yakkan.engine.syntax.parse import parse_document

INDENT = "  "

# Precedence levels, loosest first. An operand whose level is below the one its position
# requires is parenthesised. `if … then … else …` is an atom in the grammar, but its `else`
# branch extends as far right as it can, so it is printed in parentheses wherever it is the
# operand of an operator.
P_IF, P_OR, P_AND, P_NOT, P_CMP, P_SUM, P_PROD, P_UNARY, P_ATOM = range(9)

DURATION_SUFFIX = UNIT_LABELS  # the DSL writes a duration as the text does: 30日
_NAME = re.compile(r"[^\W\d]\w*")
_DOC_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_KEY = re.compile(r"[0-9]+(_[0-9]+)*|\([^\W\d_]\)|\([0-9]+\)|[^\W\d]\w*")
QUANTIFIERS = ("all", "any", "count", "sum", "min", "max")
_STARTS_NAME_IN = re.compile(r"[^\W\d]\w* in ")


class FormatError(ValueError):
    """The AST holds something the grammar cannot express (a bug of whoever built it)."""


# ---- leaves ------------------------------------------------------------------------------


def quote(s: str) -> str:
    r"""A string literal: `\`, `"` and line breaks escaped, everything else verbatim.

    >>> print(quote('「当社」は"楽天"\\n'))
    "「当社」は\"楽天\"\\n"
    """
    body = s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{body}"'


def cite(c: I.Citation) -> str:
    if "」" in c.raw or "\n" in c.raw:
        raise FormatError(f"a citation cannot contain `」` or a line break: {c.raw!r}")
    return f"「{c.raw}」"


def name(s: str) -> str:
    if not _NAME.fullmatch(s):
        raise FormatError(f"`{s}` is not a name")
    return s


def key(s: str) -> str:
    if not _KEY.fullmatch(s):
        raise FormatError(f"`{s}` is not a unit key")
    return s


def _decimal(v: Any, *, point: bool) -> str:
    d = Decimal(v) if isinstance(v, int) and not isinstance(v, bool) else v
    if not isinstance(d, Decimal) or not d.is_finite() or d.is_signed():
        raise FormatError(f"`{v!r}` is not a non-negative decimal literal (write `-` as Neg)")
    s = format(d, "f")
    return s + ".0" if point and "." not in s else s


def literal(e: I.Lit) -> str:
    v = e.value
    if e.type == "bool":
        return "true" if v is True else "false"
    if e.type == "int":
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise FormatError(f"`{v!r}` is not a non-negative integer literal")
        return str(v)
    if e.type == "decimal":
        return _decimal(v, point=True)
    if e.type == "money":
        return _decimal(v, point=False) + "円"
    if e.type == "percent":
        return _decimal(v, point=False) + "%"
    if e.type == "duration":
        if isinstance(v, bool) or not isinstance(v, int) or v < 0 or e.unit is None:
            raise FormatError(f"`{v!r}` with unit {e.unit!r} is not a duration literal")
        return f"{v}{DURATION_SUFFIX[e.unit]}"
    if e.type == "date":
        if not isinstance(v, dt.date):
            raise FormatError(f"`{v!r}` is not a date")
        return v.isoformat()
    if e.type == "text":
        if not isinstance(v, str):
            raise FormatError(f"`{v!r}` is not a text literal")
        return quote(v)
    raise FormatError(f"unknown literal type `{e.type}`")


# ---- expressions ---------------------------------------------------------------------------


def precedence(e: I.Expr) -> int:
    match e:
        case I.IfThen():
            return P_IF
        case I.BoolOp():
            return P_OR if e.op == "or" else P_AND
        case I.Not():
            return P_NOT
        case I.Compare() | I.MemberOf():
            return P_CMP
        case I.Arith():
            return P_SUM if e.op in "+-" else P_PROD
        case I.Neg():
            return P_UNARY
        case I.Lit() | I.Ref() | I.Call() | I.Quant() | I.Holds() | I.Applies() | I.Priority():
            return P_ATOM
        case _:
            assert_never(e)


def format_expr(e: I.Expr, min_level: int = P_IF) -> str:
    """`e` as source text, parenthesised when its position needs a tighter level.

    >>> from yakkan.engine import ir as I
    >>> one, two = I.Lit(type="int", value=1), I.Lit(type="int", value=2)
    >>> format_expr(I.Arith(op="-", left=one, right=I.Arith(op="-", left=two, right=one)))
    '1 - (2 - 1)'
    """
    text = _expr(e)
    return f"({text})" if precedence(e) < min_level else text


def _expr(e: I.Expr) -> str:
    match e:
        case I.Lit():
            return literal(e)
        case I.Ref():
            return _path(e.path)
        case I.Not():
            return "not " + format_expr(e.operand, P_NOT)
        case I.BoolOp():
            if len(e.operands) < 2:
                raise FormatError(f"`{e.op}` needs at least two operands")
            # `and` inside `or` keeps its parentheses: `(plan2 and x) or plan3` reads as the
            # text does, where the bare precedence rule would print `plan2 and x or plan3`
            return f" {e.op} ".join(format_expr(o, P_NOT) for o in e.operands)
        case I.Compare():
            return f"{format_expr(e.left, P_SUM)} {e.op} {format_expr(e.right, P_SUM)}"
        case I.MemberOf():
            if not e.options:
                raise FormatError("`in [ ]` needs at least one option")
            opts = ", ".join(format_expr(o) for o in e.options)
            return f"{format_expr(e.operand, P_SUM)} in [{opts}]"
        case I.Arith():
            lhs, rhs = (P_SUM, P_PROD) if e.op in "+-" else (P_PROD, P_UNARY)
            return f"{format_expr(e.left, lhs)} {e.op} {format_expr(e.right, rhs)}"
        case I.Neg():
            operand = format_expr(e.operand, P_UNARY)
            return ("- " if operand.startswith("-") else "-") + operand
        case I.Call():
            return _call(e)
        case I.Quant():
            out = f"{e.q}({name(e.var)} in {_path(e.source.path)}"
            if e.body is not None:
                out += ": " + format_expr(e.body)
            if e.where is not None:
                out += " where " + format_expr(e.where)
            return out + ")"
        case I.Holds():
            return "holds " + cite(e.cite)
        case I.IfThen():
            return (f"if {format_expr(e.cond)} then {format_expr(e.then)} "
                    f"else {format_expr(e.orelse)}")
        case I.Applies() | I.Priority():
            # nodes of a compiled program: no source syntax
            raise FormatError(f"no printer for {type(e).__name__}")
        case _:
            assert_never(e)


def _call(e: I.Call) -> str:
    args = [format_expr(a) for a in e.args]
    if e.fn in QUANTIFIERS:
        # `min(a, b)`: a quantifier's name called with two or more arguments. A first
        # argument that starts `x in …` would read as the quantifier's `x in list`.
        if len(e.args) < 2:
            raise FormatError(f"`{e.fn}(…)` with fewer than two arguments reads as a "
                              "quantifier, not a call")
        if _STARTS_NAME_IN.match(args[0]):
            args[0] = f"({args[0]})"
        return f"{e.fn}({', '.join(args)})"
    return f"{name(e.fn)}({', '.join(args)})"


def _path(path: list[str]) -> str:
    if not path:
        raise FormatError("an empty name path")
    return ".".join(name(p) for p in path)


# ---- types ----------------------------------------------------------------------------------


def _members(ms: list[I.EnumMember]) -> str:
    if not ms:
        raise FormatError("an enum needs at least one member")
    return ", ".join(name(m.name) + (f" {quote(m.label)}" if m.label is not None else "")
                     for m in ms)


def constraint(c: I.Constraint | None) -> str:
    """A fact's constraint as written after its type and label (with a leading space), or
    nothing: ` range 1..2`, ` range 0..`, ` range -100..100`, ` pattern "[0-9]{7}"`."""
    if c is None:
        return ""
    if c.pattern is not None:
        if c.minimum is not None or c.maximum is not None:
            raise FormatError("a fact has a range or a pattern, not both")
        return f" pattern {quote(c.pattern)}"
    if c.minimum is None:
        raise FormatError("a range needs a lower bound (`range 0..`)")
    return " range " + "..".join(_bound(b) for b in (c.minimum, c.maximum) if b is not None) \
        + (".." if c.maximum is None else "")


def _bound(b: I.Lit) -> str:
    v = b.value
    if b.type not in ("int", "decimal", "money", "percent") or isinstance(v, bool) \
            or not isinstance(v, int | Decimal):
        raise FormatError(f"`{v!r}` is not a range bound (a number, an amount or a percentage)")
    neg = v < 0
    lit = literal(b.model_copy(update={"value": -v})) if neg else literal(b)
    return ("-" if neg else "") + lit


def _type(t: I.YType, depth: int) -> list[str]:
    """The type as lines; all but a list type fit on the first line."""
    if t.base == "list":
        if not t.fields:
            raise FormatError("a list type needs at least one field")
        lines = ["list {"]
        pad = INDENT * (depth + 1)
        for f in t.fields:
            head = ("judgment " if f.judgment else "") + name(f.name) + ": "
            sub = _type(f.type, depth + 1)
            label = f" {quote(f.label)}" if f.label is not None else ""
            label += constraint(f.type.constraint)
            lines.append(pad + head + sub[0])
            lines.extend(sub[1:])
            lines[-1] += label
        lines.append(INDENT * depth + "}")
        return lines
    if t.base == "enum":
        if t.enum_name is not None:
            return [name(t.enum_name)]
        return ["enum { " + _members(t.members) + " }"]
    return [t.ident or t.base]


# ---- document --------------------------------------------------------------------------------


class _Printer:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def emit(self, depth: int, text: str) -> None:
        self.lines.append(INDENT * depth + text)

    def blank(self) -> None:
        if self.lines and self.lines[-1] != "":
            self.lines.append("")

    def comments(self, depth: int, comments: list[str]) -> None:
        for c in comments:
            if "\n" in c:
                raise FormatError(f"a comment cannot hold a line break: {c!r}")
            self.emit(depth, f"# {c}" if c else "#")

    def header(self, h: A.Header) -> None:
        metas: list[str] = []
        if h.number is not None:
            metas.append(f"number {quote(h.number)}")
        if h.issuer is not None:
            metas.append(f"issuer {quote(h.issuer)}")
        if h.version is not None:
            metas.append(f"version {quote(h.version)}")
        if h.effective_from is not None:
            until = f" until {h.effective_until.isoformat()}" if h.effective_until else ""
            metas.append(f"effective {h.effective_from.isoformat()}{until}")
        elif h.effective_until is not None:
            raise FormatError("`effective … until` needs a start date")
        if h.seed is not None:
            column = f" column {name(h.seed_column)}" if h.seed_column is not None else ""
            metas.append(f"seed {quote(h.seed)}{column}")
        elif h.seed_column is not None:
            raise FormatError("a seed column needs a seed")
        if h.language is not None:
            metas.append(f"language {name(h.language)}")
        metas.extend(f"memo {quote(m)}" for m in h.memos)
        if not _DOC_ID.fullmatch(h.id):
            raise FormatError(f"`{h.id}` is not a document id (letters, digits, `-`, `_`)")
        head = f"document {h.id} {quote(h.title)} {{"
        if not metas:
            self.emit(0, head + "}")
            return
        self.emit(0, head)
        for m in metas:
            self.emit(1, m)
        self.emit(0, "}")

    def external(self, x: A.External) -> None:
        self.comments(0, x.comments)
        aliases = "".join(f" alias {quote(a)}" for a in x.aliases)
        self.emit(0, f"external {name(x.name)} {quote(x.title)}{aliases}")

    def enum(self, x: A.EnumDecl) -> None:
        self.comments(0, x.comments)
        label = f" {quote(x.label)}" if x.label is not None else ""
        self.emit(0, f"enum {name(x.name)}{label} {{ {_members(x.members)} }}")

    def outcome(self, x: A.OutcomeDecl) -> None:
        self.comments(0, x.comments)
        self.emit(0, f"outcome {name(x.name)} {quote(x.label)}")

    def fact(self, x: A.FactDecl) -> None:
        self.comments(0, x.comments)
        lines = _type(x.type, 0)
        lines[0] = f"{'judgment' if x.judgment else 'fact'} {_path(x.path)}: {lines[0]}"
        if x.label is not None:
            lines[-1] += f" {quote(x.label)}"
        lines[-1] += constraint(x.type.constraint)
        for line in lines:
            self.emit(0, line)

    def definition(self, depth: int, x: A.Definition) -> None:
        self.comments(depth, x.comments)
        label = f" {quote(x.label)}" if x.label is not None else ""
        self.emit(depth, f"define {name(x.name)}{label} = {format_expr(x.expr)}")

    def assumption(self, x: A.Assumption) -> None:
        self.comments(0, x.comments)
        self.emit(0, f"assume {name(x.name)} {quote(x.label)} = {format_expr(x.expr)}")

    def correction(self, depth: int, x: A.Correction) -> None:
        self.emit(depth, f"correction {quote(x.seed)} -> {quote(x.encoded)} "
                         f"because {quote(x.reason)}")

    def unit(self, depth: int, u: A.Unit) -> None:
        self.comments(depth, u.comments)
        head: str = u.kind
        if u.range_end is not None:
            if u.key is None or u.status != "omitted" or u.caption is not None:
                raise FormatError("a unit range must be `KIND A..B omitted`, without caption")
            head += f" {key(u.key)}..{key(u.range_end)}"
        elif u.key is not None:
            head += f" {key(u.key)}"
        if u.caption is not None:
            head += f" {quote(u.caption)}"
        if u.status != "encoded":
            if _has_body(u):
                raise FormatError(f"a {u.status} unit has no statements")
            if u.status == "deleted":
                if u.key is None or u.text is None:
                    raise FormatError("a deleted unit needs a key and its text (削除)")
                self.emit(depth, f"{head} deleted {quote(u.text)}")
            else:
                text = f" {quote(u.text)}" if u.text is not None else ""
                self.emit(depth, f"{head} omitted{text}")
            return
        body = self.body(depth + 1, u)
        if not body:
            self.emit(depth, head + " {}")
            return
        self.emit(depth, head + " {")
        self.lines.extend(body)
        self.emit(depth, "}")

    def body(self, depth: int, u: A.Unit) -> list[str]:
        outer, self.lines = self.lines, []
        try:
            if u.label is not None:
                self.emit(depth, f"label {quote(u.label)}")
            for a in u.aliases:
                self.emit(depth, f"alias {quote(a)}")
            if u.text is not None:
                self.emit(depth, f"text {quote(u.text)}")
            if u.proviso is not None:
                self.emit(depth, f"proviso {quote(u.proviso)}")
            if u.unit_kind is not None:
                self.emit(depth, f"kind {name(u.unit_kind)}")
            if u.condition is not None:
                self.emit(depth, f"when {format_expr(u.condition)}")
            for r in u.refs:
                if not r.cites:
                    raise FormatError(f"`{r.verb}` needs a citation")
                self.emit(depth, f"{r.verb} {', '.join(cite(c) for c in r.cites)}")
            for rd in u.readings:
                self.emit(depth, f"reading in {cite(rd.in_doc)} {quote(rd.original)} as "
                                 f"{quote(rd.replacement)}{_except(rd.except_)}")
            for p in u.precedences:
                self.emit(depth, f"prevails {cite(p.winner)} over {cite(p.loser)}"
                                 f"{_except(p.except_)}")
            for d in u.definitions:
                self.definition(depth, d)
            for pd in u.periods:
                self.emit(depth, f"period {name(pd.name)} = {format_expr(pd.expr)}")
            for rule in u.rules:
                self.emit(depth, _rule(rule))
            for c in u.charges:
                self.charge(depth, c)
            for co in u.corrections:
                self.correction(depth, co)
            for s in u.slips:
                self.emit(depth, f"slip {quote(s)}")
            for ar in u.arithmetic:
                self.emit(depth, f"arithmetic {name(ar.target)} = {format_expr(ar.expr)}")
            for cv in u.covers:
                where = f" where {format_expr(cv.where)}" if cv.where is not None else ""
                self.emit(depth, f"covers {name(cv.var)} in {'.'.join(cv.source.path)}{where}")
            for fg in u.figures:
                label = f" {quote(fg.label)}" if fg.label is not None else ""
                self.emit(depth, f"figures{label} " + ", ".join(
                    f"{name(f.name)} = {format_expr(f.value)}" for f in fg.values))
            for m in u.memos:
                self.emit(depth, f"memo {quote(m)}")
            for child in u.children:
                self.unit(depth, child)
            return self.lines
        finally:
            self.lines = outer

    def charge(self, depth: int, c: A.Charge) -> None:
        attrs: list[str] = [f"row {cite(c.row)}"] if c.row is not None else []
        if c.amount is not None:
            attrs.append(f"amount {format_expr(c.amount)}")
        if c.when is not None:
            attrs.append(f"when {format_expr(c.when)}")
        if c.quote_when is not None:
            attrs.append(f"quote when {format_expr(c.quote_when)}")
        if c.tax is not None:
            attrs.append(f"tax {name(c.tax)}")
        if c.per is not None:
            attrs.append(f"per {name(c.per)}")
        if c.payer is not None:
            attrs.append(f"payer {name(c.payer)}")
        if c.lower_bound:
            attrs.append("lower_bound")
        attrs.extend(f"assume {quote(a)}" for a in c.assumptions)
        attrs.extend(f"memo {quote(m)}" for m in c.memos)
        label = f" {quote(c.label)}" if c.label is not None else ""
        head = f"charge {name(c.name)}{label} {{"
        if not attrs:
            self.emit(depth, head + "}")
            return
        self.emit(depth, head)
        for a in attrs:
            self.emit(depth + 1, a)
        self.emit(depth, "}")


def _except(cites: list[I.Citation]) -> str:
    return " except " + ", ".join(cite(c) for c in cites) if cites else ""


def _rule(r: A.Rule) -> str:
    out = f"rule {name(r.outcome)}: {r.force}"
    if isinstance(r.source, A.EachItem):
        out += " for each item"
    elif isinstance(r.source, A.Mutatis):
        out += f" as {cite(r.source.cite)}"
        if r.source.outcome is not None:
            out += f" outcome {name(r.source.outcome)}"
    if r.when is not None:
        out += f" when {format_expr(r.when)}"
    if r.requires is not None:
        out += f" requires {format_expr(r.requires)}"
    for u in r.unless:
        out += f" unless {format_expr(u)}"
    return out


def _has_body(u: A.Unit) -> bool:
    return any((u.proviso, u.label, u.aliases, u.unit_kind, u.condition, u.rules, u.charges,
                u.definitions, u.periods, u.refs, u.readings, u.precedences, u.corrections,
                u.memos, u.slips, u.arithmetic, u.figures, u.covers,
                u.children))


def format_document(doc: A.Document) -> str:
    """The canonical `.yk` text of `doc` (see the module docstring for the layout)."""
    p = _Printer()
    p.comments(0, doc.comments)
    p.header(doc.header)
    groups: list[tuple[list[Any], Any]] = [
        (doc.externals, p.external),
        (doc.enums, p.enum),
        (doc.outcomes, p.outcome),
        (doc.facts, p.fact),
        (doc.definitions, lambda d: p.definition(0, d)),
        (doc.assumptions, p.assumption),
    ]
    for items, emit in groups:
        if items:
            p.blank()
            for item in items:
                emit(item)
    for u in doc.units:
        p.blank()
        p.unit(0, u)
    if doc.corrections:
        p.blank()
        for c in doc.corrections:
            p.correction(0, c)
    if doc.trailing_comments:
        p.blank()
        p.comments(0, doc.trailing_comments)
    return "\n".join(p.lines) + "\n"


# ---- the command -----------------------------------------------------------------------------


def _formatted(s: Source) -> str:
    """The canonical text of a cleanly parsed source, checked to parse back to the same AST."""
    assert s.doc is not None
    new = format_document(s.doc)
    again, diags = parse_document(new, s.path)
    if again is None or has_errors(diags) or again != s.doc:
        # INVARIANT: parse(format(doc)) == doc. Refuse to write rather than corrupt the file.
        raise RuntimeError(f"fmt: the canonical text of `{s.path}` does not parse back to "
                           "the same document")
    return new


