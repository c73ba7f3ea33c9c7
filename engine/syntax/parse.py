"""parse → lower: `.yk` text to a syntax tree (Lark LALR, positions on) to the AST.

Errors never escape as exceptions: `parse_document` returns the AST (or None) and a list
of diagnostics. Parse errors are recovered from where the parser can go on, so one run
reports several of them.
"""

from __future__ import annotations

import bisect
import contextvars
import datetime as dt
import functools
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from importlib import resources
from typing import Any

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import (
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
    VisitError,
)

from yakkan.engine.core import ir as I
from yakkan.engine.core.diagnostics import Diagnostic, did_you_mean
from yakkan.engine.core.kinds import FORCES, one_of
from yakkan.engine.core.numerals import normalize_width, parse_date
from yakkan.engine.core.textnorm import IDENTIFIERS
from yakkan.engine.syntax import ast as A

MAX_DEPTH = 120
MAX_ERRORS = 25

KEYWORDS = (
    "document", "version", "effective", "until", "number", "issuer", "seed", "column", "memo",
    "language", "external", "alias", "enum", "fact", "judgment", "list", "define", "deleted",
    "omitted", "text", "proviso", "label", "kind", "when", "slip", "rule", "for", "each",
    "item", "as", "outcome", "unless", "requires", "charge", "amount", "tax", "per", "lower_bound",
    "quote", "row", "assume", "payer", "period", "cites", "notwithstanding", "mutatis", "amends",
    "reading", "in", "except", "prevails", "over", "correction", "because", "or", "and",
    "not", "holds", "if", "then", "else", "true", "false", "all", "any", "count", "sum",
    "min", "max", "arithmetic", "figures", "covers", *A.UNIT_KINDS, *FORCES,
)

TERMINAL_WORDS = {
    "STRING": "a quoted string",
    "NAME": "a name",
    "INT": "a whole number",
    "KEY": "a unit number such as 14_65_2",
    "DECIMAL": "a decimal number",
    "MONEY": "an amount such as 1500円",
    "DURATION": "a duration such as 30日",
    "PERCENT": "a percentage such as 14.6%",
    "DATE": "a date such as 2023-04-17 or 令和5年4月17日",
    "CITE": "a citation in 「」 such as 「第14条の65第2項」",
    # not a terminal: the unit kinds, collapsed into one phrase by _expected_words (the
    # terminal KIND is the keyword `kind`)
    "<unit kind>": "a unit kind (article, paragraph, item, subitem, remarks, note, table, "
    "section, row, suppl, appendix, chapter)",
    "FORCE": "a legal force (accept, may_refuse, refuse, approve, may, deemed, requirement, "
    "duty, prohibition, permission, exemption, declaration)",
    "FACTKIND": "`fact`, `judgment`",
    "REFVERB": "a reference (cites, notwithstanding, mutatis, amends)",
    "QUANT": "a quantifier (all, any, count, sum, min, max)",
    "CMPOP": "a comparison (==, !=, <, <=, >, >=)",
    "ADDOP": "`+`, `-`",
    "MULOP": "`*`, `/`",
    "$END": "the end of the file",
}
# The words a keyword-like terminal stands for, offered by "did you mean" hints.
TERMINAL_CHOICES: dict[str, tuple[str, ...]] = {
    "FORCE": tuple(A.FORCE_LABELS),
    "FACTKIND": ("fact", "judgment"),
    "REFVERB": ("cites", "notwithstanding", "mutatis", "amends"),
    "QUANT": ("all", "any", "count", "sum", "min", "max"),
}
HEADER_HINT = 'a file starts with its header: `document ID "title" { version … }`'


# Where the lexer puts the comments of the parse in progress. Lark's lexers copy their
# callbacks when they first run, so the callback is installed once and never swapped.
_COMMENTS: contextvars.ContextVar[list[Token] | None] = contextvars.ContextVar(
    "yakkan_comments", default=None)


def _on_comment(t: Token) -> Token:
    sink = _COMMENTS.get()
    if sink is not None:
        sink.append(t)
    return t


@functools.cache
def parser() -> Lark:
    grammar = resources.files("yakkan.grammar").joinpath("yakkan.lark").read_text("utf-8")
    return Lark(grammar, parser="lalr", propagate_positions=True, maybe_placeholders=True,
                start=["start", "decls"], lexer_callbacks={"COMMENT": _on_comment})


_KIND_TERMS = {k.upper() for k in A.UNIT_KINDS}


def _expected_words(expected: set[str]) -> list[str]:
    words = []
    p = parser()
    if len(expected & _KIND_TERMS) > 3:  # all the unit kinds: say so in one phrase
        expected = (expected - _KIND_TERMS) | {"<unit kind>"}
    for name in sorted(expected):
        if name in TERMINAL_WORDS:
            words.append(TERMINAL_WORDS[name])
            continue
        try:
            pat = p.get_terminal(name).pattern
            words.append(f"`{pat.value}`" if pat.type == "str" else name.lower())
        except KeyError:
            words.append(name.lower())
    return sorted(set(words))


def _expected_keywords(expected: set[str]) -> list[str]:
    """The keywords the parser would have accepted here, for a `did you mean` hint."""
    out: list[str] = []
    p = parser()
    for name in expected:
        if name in TERMINAL_CHOICES:
            out.extend(TERMINAL_CHOICES[name])
            continue
        try:
            pat = p.get_terminal(name).pattern
        except KeyError:
            continue
        if pat.type == "str":
            out.append(pat.value)
    return out


def _acceptable(e: UnexpectedInput, fallback: set[str]) -> set[str]:
    """The terminals the parser would accept where it failed. Lark's interactive parser
    gives the exact set; the LALR lookahead set merges states (after a fact's path it
    would also list `)` and `where`, which only follow a quantifier's path)."""
    ip = getattr(e, "interactive_parser", None)
    if ip is not None:
        try:
            return set(ip.accepts())
        except Exception:  # the fallback is only less precise
            pass
    return fallback


def _span(file: str, meta: Any) -> I.Span | None:
    if getattr(meta, "empty", True) and not hasattr(meta, "line"):
        return None
    try:
        return I.Span(
            file=file, line=meta.line, column=meta.column,
            end_line=meta.end_line, end_column=meta.end_column,
        )
    except AttributeError:
        return None


def _tok_span(file: str, t: Token) -> I.Span:
    return I.Span(
        file=file, line=t.line or 1, column=t.column or 1,
        end_line=t.end_line or t.line or 1, end_column=t.end_column or t.column or 1,
    )


def _unclosed_brace(text: str, file: str) -> I.Span | None:
    """The innermost `{` left open at the end of `text` (strings, citations and comments
    skipped), for an end-of-file error."""
    stack: list[int] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while j < n and text[j] not in '"\n':
                j += 2 if text[j] == "\\" else 1
            i = j + 1
            continue
        if c == "「":
            j = text.find("」", i)
            i = n if j < 0 else j + 1
            continue
        if c == "#":
            j = text.find("\n", i)
            i = n if j < 0 else j + 1
            continue
        if c == "{":
            stack.append(i)
        elif c == "}" and stack:
            stack.pop()
        i += 1
    if not stack:
        return None
    pos = stack[-1]
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return I.Span(file=file, line=line, column=col, end_line=line, end_column=col + 1)


def _glued_word(text: str, pos: int) -> tuple[int, str] | None:
    """Where the token at `pos` continues a word that began earlier (a keyword read off the
    front of `textx`), that whole word and its start; else None."""
    if pos <= 0 or not re.match(r"\w", text[pos:pos + 1]) or not re.match(r"\w", text[pos - 1]):
        return None
    start = pos
    while start > 0 and re.match(r"\w", text[start - 1]):
        start -= 1
    end = pos
    while end < len(text) and re.match(r"\w", text[end]):
        end += 1
    word = text[start:end]
    if not re.fullmatch(r"[^\W\d]\w*", word):
        return None
    return start, word


def _syntax_diag(file: str, e: UnexpectedInput, text: str) -> Diagnostic:
    line, col = e.line if e.line > 0 else 1, e.column if e.column > 0 else 1
    if isinstance(e, UnexpectedCharacters):
        pos = e.pos_in_stream or 0
        ch = text[pos] if 0 <= pos < len(text) else ""
        span = I.Span(file=file, line=line, column=col, end_line=line, end_column=col + 1)
        if ch == '"':
            return Diagnostic(
                code="parse.unterminated-string", span=span,
                message="this string is not closed on its line",
                hint='close it with `"`; a string cannot span lines (write `\\n` for a break)',
            )
        if ch == "「":
            return Diagnostic(
                code="parse.unterminated-citation", span=span,
                message="this citation is not closed on its line", hint="close it with `」`",
            )
        exp = _expected_words(_acceptable(e, set(e.allowed or ())))
        what = f"`{ch}`"
        if ch and not ch.isascii():
            what += f" (U+{ord(ch):04X} {unicodedata.name(ch, '?')})"
        return Diagnostic(
            code="parse.unexpected-character", span=span,
            # a long list (any operator or any next statement) says nothing: leave it out
            message=f"unexpected character {what}"
            + (f"; expected {', '.join(exp)}" if exp and len(exp) <= 8 else ""),
            hint="strings go in double quotes; citations in 「」; comments start with #",
        )
    if isinstance(e, UnexpectedToken):
        tok = e.token
        expected = _acceptable(e, set(e.expected))
        exp = _expected_words(expected)
        if tok.type == "$END":
            span = I.Span(file=file, line=line, column=col, end_line=line, end_column=col)
            opened = _unclosed_brace(text, file)
            return Diagnostic(
                code="parse.unexpected-eof", span=span,
                message="the file ends too early; expected " + ", ".join(exp),
                hint=HEADER_HINT if expected == {"DOCUMENT"}
                else f"the `{{` at line {opened.line} is never closed" if opened
                else "a `{` may be missing its `}`",
                related=[(opened, "this `{` is not closed")] if opened else [],
            )
        span = _tok_span(file, tok)
        hint = None
        pos = tok.start_pos or 0
        line_start = text.rfind("\n", 0, pos) + 1
        doubled = re.search(r"\b(and|or|not)\s+(and|or)\b", text[line_start:pos])
        if doubled:
            # `a and and b`: the lexer took the second operator for a name, and the error
            # shows up later on the line
            at = line_start + doubled.start(2)
            aline = text.count("\n", 0, at) + 1
            acol = at - (text.rfind("\n", 0, at) + 1) + 1
            return Diagnostic(
                code="parse.missing-operand",
                span=I.Span(file=file, line=aline, column=acol, end_line=aline,
                            end_column=acol + len(doubled.group(2))),
                message=f"`{doubled.group(2)}` follows `{doubled.group(1)}`: an operand is "
                "missing between them",
                hint=f"write a condition between them, or delete one `{doubled.group(2)}`")
        glued = _glued_word(text, pos)
        if glued is not None:
            # the lexer read a keyword off the front of a longer word (`textx` as `text` `x`):
            # report the word as written
            start, word = glued
            scol = col - (pos - start)
            return Diagnostic(
                code="parse.unexpected-token",
                span=I.Span(file=file, line=line, column=scol, end_line=line,
                            end_column=scol + len(word)),
                message=f"unexpected `{word}`: it begins with the keyword "
                f"`{word[:pos - start]}` but is no keyword or name here",
                hint=did_you_mean(word, KEYWORDS))
        if re.fullmatch(r"[^\W\d]\w*", str(tok)):  # a word (NAME, DOC_ID or keyword)
            hint = did_you_mean(str(tok), _expected_keywords(expected) or KEYWORDS)
        if expected == {"DOCUMENT"}:
            hint = HEADER_HINT
        elif tok.type == "CMPOP":
            hint = "comparisons do not chain: write `a < b and b < c`"
        elif str(tok) == "," and text[pos - 1 : pos].isdigit() and re.match(r",[0-9]{3}",
                                                                           text[pos:]):
            hint = "write numbers without thousands separators: 1500円 or 1_500円"
        elif tok.type == "KEY" and any("０" <= c <= "９" for c in str(tok)):
            hint = "write numbers with half-width digits (1500円); full-width digits are " \
                "read only in unit keys"
        return Diagnostic(
            code="parse.unexpected-token", span=span,
            message=f"unexpected `{tok}`; expected {', '.join(exp)}", hint=hint,
        )
    if isinstance(e, UnexpectedEOF):
        exp = _expected_words(set(e.expected))
        return Diagnostic(
            code="parse.unexpected-eof",
            span=I.Span(file=file, line=line, column=col, end_line=line, end_column=col),
            message="the file ends too early; expected " + ", ".join(exp),
            hint=HEADER_HINT if set(e.expected) == {"DOCUMENT"}
            else "a `{` may be missing its `}`",
        )
    return Diagnostic(code="parse.syntax", message=str(e).splitlines()[0])


def _too_deep(tree: Tree[Any], limit: int) -> Any:
    """The meta of the first subtree nested deeper than `limit` (where to point), or None."""
    stack: list[tuple[Any, int]] = [(tree, 1)]
    while stack:
        t, d = stack.pop()
        if d > limit:
            return t.meta if isinstance(t, Tree) else t
        if isinstance(t, Tree):
            stack.extend((c, d + 1) for c in reversed(t.children))  # leftmost first
    return None


_TOP = re.compile(
    r"^(article|appendix|suppl|chapter|table|external|fact|judgment|enum|define|correction)\b",
    re.M,
)


def _blank_before(text: str, pos: int) -> str:
    """`text` with everything before `pos` blanked, line breaks kept (positions unchanged)."""
    head = re.sub(r"[^\n]", " ", text[:pos])
    return head + text[pos:]


def syntax_tree(text: str, file: str) -> tuple[Tree[Any] | None, list[Diagnostic], list[Token]]:
    """Parse; on a syntax error, report it and resume at the next top-level declaration
    (a line starting with `article`, `fact`, …), so one run reports one error per broken
    declaration. Returns the tree (None on any error), diagnostics and comments."""
    diags: list[Diagnostic] = []
    comments: list[Token] = []
    p = parser()
    reset = _COMMENTS.set(comments)
    tree: Tree[Any] | None = None
    try:
        src, start = text, "start"
        while True:
            try:
                t = p.parse(src, start=start)
                if start == "start":
                    tree = t
                break
            except UnexpectedInput as e:
                diags.append(_syntax_diag(file, e, text))
                if len(diags) >= MAX_ERRORS:
                    break
                pos = _error_pos(text, e)
                nxt = _TOP.search(text, _next_line(text, pos))
                if nxt is None:
                    break
                src, start = _blank_before(text, nxt.start()), "decls"
                comments.clear()
    finally:
        _COMMENTS.reset(reset)
    if diags:
        return None, diags, comments
    assert tree is not None
    where = _too_deep(tree, MAX_DEPTH)
    if where is not None:
        line, col = getattr(where, "line", 1), getattr(where, "column", 1)
        return None, [
            Diagnostic(
                code="parse.too-deep",
                span=I.Span(file=file, line=line, column=col, end_line=line, end_column=col),
                message=f"the file nests deeper than {MAX_DEPTH} levels",
                hint="split the expression with `define`, or flatten the units",
            )
        ], comments
    return tree, diags, comments


def _error_pos(text: str, e: UnexpectedInput) -> int:
    if isinstance(e, UnexpectedToken) and e.token.type != "$END" and e.token.start_pos is not None:
        return int(e.token.start_pos)
    if isinstance(e, UnexpectedCharacters):
        return int(e.pos_in_stream or 0)
    return len(text)


def _next_line(text: str, pos: int) -> int:
    nl = text.find("\n", pos)
    return len(text) if nl < 0 else nl + 1


# ---- lowering --------------------------------------------------------------------

_ESC = re.compile(r"\\(.)")
_DUR_UNITS: dict[str, I.DurationUnit] = {
    "秒": "second", "分": "minute", "時間": "hour", "日": "day", "ヶ月": "month", "か月": "month",
    "箇月": "month", "年": "year",
}
# what an `arithmetic` relation and a row's `figures` may hold: numbers, names, + - * /
_ARITH_NODES = (I.Arith, I.Neg, I.Ref, I.Lit)
_FIGURE_TYPES = ("int", "decimal", "money", "duration")
TAX_CATEGORIES = ("excluded", "included", "not_taxable")
PERIODS = ("month", "once", "use", "call", "line", "year")
PAYERS = ("contractor", "company")


def unescape(s: str) -> str:
    body = s[1:-1]
    return _ESC.sub(lambda m: "\n" if m.group(1) == "n" else m.group(1), body)


class LowerError(Exception):
    def __init__(self, diag: Diagnostic):
        super().__init__(diag.message)
        self.diag = diag


@v_args(meta=True)
class Lower(Transformer[Token, Any]):
    """Syntax tree → AST. Statements are gathered into each unit's typed fields."""

    def __init__(self, file: str):
        super().__init__()
        self.file = file
        self.diags: list[Diagnostic] = []

    # helpers
    def sp(self, meta: Any) -> I.Span | None:
        return _span(self.file, meta)

    def err(self, code: str, msg: str, span: I.Span | None, hint: str | None = None) -> None:
        self.diags.append(Diagnostic(code=code, message=msg, span=span, hint=hint))

    def tok(self, t: Token) -> I.Span:
        return _tok_span(self.file, t)

    def date(self, t: Token) -> dt.date:
        try:
            return parse_date(str(t))
        except ValueError as e:
            self.err("lower.bad-date", f"`{t}` is not a valid date: {e}", self.tok(t),
                     "write 2023-04-17 or 令和5年4月17日")
            return dt.date(1, 1, 1)

    # header
    def start(self, meta: Any, ch: list[Any]) -> A.Document:
        header, *decls = ch
        doc = A.Document(header=header, span=self.sp(meta))
        for d in decls:
            if isinstance(d, A.External):
                doc.externals.append(d)
            elif isinstance(d, A.EnumDecl):
                doc.enums.append(d)
            elif isinstance(d, A.OutcomeDecl):
                doc.outcomes.append(d)
            elif isinstance(d, A.FactDecl):
                doc.facts.append(d)
            elif isinstance(d, A.Definition):
                doc.definitions.append(d)
            elif isinstance(d, A.Assumption):
                doc.assumptions.append(d)
            elif isinstance(d, A.Unit):
                doc.units.append(d)
            elif isinstance(d, A.Correction):
                doc.corrections.append(d)
        return doc

    def header(self, meta: Any, ch: list[Any]) -> A.Header:
        name, title, *metas = ch
        h = A.Header(id=str(name), title=unescape(title), span=self.sp(meta))
        seen: set[str] = set()
        for key, val, sp in metas:
            if key in seen and key != "memos":
                self.err("lower.duplicate-meta", f"`{key}` is given twice in the header", sp)
            seen.add(key)
            if key == "effective":
                h.effective_from, h.effective_until = val
            elif key == "seed":
                h.seed, h.seed_column = val
            elif key == "memos":
                h.memos.append(val)
            else:
                setattr(h, key, val)
        return h

    def m_version(self, meta: Any, ch: list[Any]) -> tuple[str, Any, Any]:
        return ("version", unescape(ch[0]), self.sp(meta))

    def m_effective(self, meta: Any, ch: list[Any]) -> tuple[str, Any, Any]:
        start = self.date(ch[0])
        end = self.date(ch[1]) if ch[1] is not None else None
        if end is not None and end < start:
            self.err("lower.bad-period", "the effective period ends before it starts",
                     self.sp(meta), "check the `until` date")
        return ("effective", (start, end), self.sp(meta))

    def m_number(self, meta: Any, ch: list[Any]) -> tuple[str, Any, Any]:
        return ("number", unescape(ch[0]), self.sp(meta))

    def m_issuer(self, meta: Any, ch: list[Any]) -> tuple[str, Any, Any]:
        return ("issuer", unescape(ch[0]), self.sp(meta))

    def m_seed(self, meta: Any, ch: list[Any]) -> tuple[str, Any, Any]:
        return ("seed", (unescape(ch[0]), str(ch[1]) if ch[1] else None), self.sp(meta))

    def m_memo(self, meta: Any, ch: list[Any]) -> tuple[str, Any, Any]:
        return ("memos", unescape(ch[0]), self.sp(meta))

    def m_lang(self, meta: Any, ch: list[Any]) -> tuple[str, Any, Any]:
        return ("language", str(ch[0]), self.sp(meta))

    # declarations
    def external(self, meta: Any, ch: list[Any]) -> A.External:
        name, title, *aliases = ch
        return A.External(name=str(name), title=unescape(title), aliases=aliases,
                          span=self.sp(meta))

    def alias(self, meta: Any, ch: list[Any]) -> str:
        return unescape(ch[0])

    def member(self, meta: Any, ch: list[Any]) -> I.EnumMember:
        return I.EnumMember(name=str(ch[0]), label=unescape(ch[1]) if ch[1] else None,
                            span=self.sp(meta))

    def _members(self, ms: list[Any]) -> list[I.EnumMember]:
        out = [m for m in ms if isinstance(m, I.EnumMember)]
        seen: set[str] = set()
        for m in out:
            if m.name in seen:
                self.err("lower.duplicate-member", f"enum member `{m.name}` is listed twice",
                         m.span)
            seen.add(m.name)
        return out

    def enum_decl(self, meta: Any, ch: list[Any]) -> A.EnumDecl:
        name, label, *ms = ch
        return A.EnumDecl(name=str(name), label=unescape(label) if label else None,
                          members=self._members(ms), span=self.sp(meta))

    def outcome_decl(self, meta: Any, ch: list[Any]) -> A.OutcomeDecl:
        name, label = ch
        return A.OutcomeDecl(name=str(name), label=unescape(label), span=self.sp(meta))

    def fact_decl(self, meta: Any, ch: list[Any]) -> A.FactDecl:
        kind, path, typ, label, constraint = ch
        if constraint is not None:
            typ = typ.model_copy(update={"constraint": constraint})
        return A.FactDecl(path=path, type=typ, label=unescape(label) if label else None,
                          judgment=str(kind) == "judgment", span=self.sp(meta))

    def c_range(self, meta: Any, ch: list[Any]) -> I.Constraint:
        low, high = ch
        return I.Constraint(minimum=low, maximum=high, span=self.sp(meta))

    def c_pattern(self, meta: Any, ch: list[Any]) -> I.Constraint:
        return I.Constraint(pattern=unescape(ch[0]), span=self.sp(meta))

    def bound(self, meta: Any, ch: list[Any]) -> I.Lit:
        sign, tok = ch
        kind = {"INT": "int", "DECIMAL": "decimal", "MONEY": "money"}.get(tok.type, "percent")
        lit = getattr(self, f"lit_{kind}")(meta, [tok])
        assert isinstance(lit, I.Lit)
        if sign is not None and str(sign) == "-" and lit.value:
            lit = lit.model_copy(update={"value": -lit.value})  # type: ignore[operator]
        return lit

    def t_named(self, meta: Any, ch: list[Any]) -> I.YType:
        name = str(ch[0])
        if name in I.SCALAR_TYPES:
            return I.YType(base=one_of(name, I.BASE_TYPES), span=self.sp(meta))
        if name in IDENTIFIERS:  # a typed identifier: a text with a pattern (duns)
            return I.YType(base="text", ident=name, span=self.sp(meta))
        return I.YType(base="enum", enum_name=name, span=self.sp(meta))

    def t_list(self, meta: Any, ch: list[Any]) -> I.YType:
        return I.YType(base="list", fields=ch, span=self.sp(meta))

    def t_enum(self, meta: Any, ch: list[Any]) -> I.YType:
        return I.YType(base="enum", members=self._members(ch), span=self.sp(meta))

    def field(self, meta: Any, ch: list[Any]) -> I.FieldDecl:
        kind, name, typ, label, constraint = ch
        if constraint is not None:
            typ = typ.model_copy(update={"constraint": constraint})
        return I.FieldDecl(name=str(name), type=typ, label=unescape(label) if label else None,
                           judgment=kind is not None and str(kind) == "judgment",
                           span=self.sp(meta))

    def define(self, meta: Any, ch: list[Any]) -> A.Definition:
        name, label, expr = ch
        return A.Definition(name=str(name), label=unescape(label) if label else None,
                            expr=expr, span=self.sp(meta))

    def assume(self, meta: Any, ch: list[Any]) -> A.Assumption:
        name, label, expr = ch
        return A.Assumption(name=str(name), label=unescape(label), expr=expr,
                            span=self.sp(meta))

    def path(self, meta: Any, ch: list[Any]) -> list[str]:
        return [str(c) for c in ch]

    def kind_kw(self, meta: Any, ch: list[Any]) -> Token:
        tok: Token = ch[0]
        return tok

    def key(self, meta: Any, ch: list[Any]) -> str:
        return normalize_width(str(ch[0]))

    # units
    def _new_unit(self, meta: Any, kind: Token, key: str | None, caption: Any) -> A.Unit:
        return A.Unit(kind=one_of(kind, A.UNIT_KINDS), key=key,
                      caption=unescape(caption) if caption else None, span=self.sp(meta))

    def unit(self, meta: Any, ch: list[Any]) -> A.Unit:
        kind, key, caption, *stmts = ch
        u = self._new_unit(meta, kind, key, caption)
        single = {"text", "proviso", "label", "unit_kind", "condition"}
        for st in stmts:
            if isinstance(st, A.Unit):
                st = ("children", st, st.span)
            elif isinstance(st, A.Definition):
                st = ("definitions", st, st.span)
            elif isinstance(st, A.Correction):
                st = ("corrections", st, st.span)
            elif isinstance(st, str):  # `alias "…"`: another name the text uses for it
                st = ("aliases", st, None)
            tag, val, sp = st
            if tag in single:
                if getattr(u, tag) is not None:
                    self.err("lower.duplicate-statement",
                             f"`{tag if tag != 'unit_kind' else 'kind'}` is given twice in "
                             f"this {u.kind}", sp, "merge them into one")
                setattr(u, tag, val)
            else:
                getattr(u, tag).append(val)
        keys: dict[tuple[str, str | None], A.Unit] = {}
        for c in u.children:
            k = (c.kind, c.key)
            if c.key is not None and k in keys:
                self.err("lower.duplicate-unit", f"{c.kind} `{c.key}` appears twice in this "
                         f"{u.kind}", c.span, "give each unit its own number")
            keys[k] = c
        return u

    def deleted_unit(self, meta: Any, ch: list[Any]) -> A.Unit:
        kind, key, caption, text = ch
        u = self._new_unit(meta, kind, key, caption)
        u.status = "deleted"
        u.text = unescape(text) if text else "削除"
        return u

    def omitted_unit(self, meta: Any, ch: list[Any]) -> A.Unit:
        kind, key, caption, text = ch
        u = self._new_unit(meta, kind, key, caption)
        u.status = "omitted"
        u.text = unescape(text) if text else None
        return u

    def omitted_range(self, meta: Any, ch: list[Any]) -> A.Unit:
        kind, start, end, text = ch
        u = self._new_unit(meta, kind, start, None)
        u.range_end = end
        u.status = "omitted"
        u.text = unescape(text) if text else None
        return u

    # statements: (field, value, span)
    def text(self, meta: Any, ch: list[Any]) -> tuple[str, Any, Any]:
        return ("text", unescape(ch[0]), self.sp(meta))

    def proviso(self, meta: Any, ch: list[Any]) -> tuple[str, Any, Any]:
        return ("proviso", unescape(ch[0]), self.sp(meta))

    def label(self, meta: Any, ch: list[Any]) -> tuple[str, Any, Any]:
        return ("label", unescape(ch[0]), self.sp(meta))

    def kind_of(self, meta: Any, ch: list[Any]) -> tuple[str, Any, Any]:
        return ("unit_kind", str(ch[0]), self.sp(meta))

    def memo(self, meta: Any, ch: list[Any]) -> tuple[str, Any, Any]:
        return ("memos", unescape(ch[0]), self.sp(meta))

    def slip(self, meta: Any, ch: list[Any]) -> tuple[str, Any, Any]:
        return ("slips", unescape(ch[0]), self.sp(meta))

    def condition(self, meta: Any, ch: list[Any]) -> tuple[str, Any, Any]:
        return ("condition", ch[0], self.sp(meta))

    def arithmetic(self, meta: Any, ch: list[Any]) -> tuple[str, Any, Any]:
        bad = next((x for x in I.walk(ch[1]) if not isinstance(x, _ARITH_NODES)
                    or (isinstance(x, I.Ref) and len(x.path) != 1)
                    or (isinstance(x, I.Lit) and x.type not in _FIGURE_TYPES)), None)
        if bad is not None:
            self.err("lower.bad-arithmetic", "`arithmetic` relates column names with "
                     "`+ - * /` and numbers only", bad.span or self.sp(meta),
                     "write it as `arithmetic 総額 = 単価 * 数量`")
        return ("arithmetic", A.Arithmetic(target=str(ch[0]), expr=ch[1], span=self.sp(meta)),
                self.sp(meta))

    def figures(self, meta: Any, ch: list[Any]) -> tuple[str, Any, Any]:
        label, *values = ch
        seen: set[str] = set()
        for f in values:
            if f.name in seen:
                self.err("lower.duplicate-statement", f"the figure `{f.name}` is given twice",
                         f.span, "give each column one figure per `figures` line")
            seen.add(f.name)
        return ("figures", A.Figures(label=unescape(label) if label else None, values=values,
                                     span=self.sp(meta)), self.sp(meta))

    def covers(self, meta: Any, ch: list[Any]) -> tuple[str, Any, Any]:
        var, src, where = ch
        q = I.Quant(q="any", var=str(var), source=I.Ref(path=src, span=self.sp(meta)),
                    where=where, span=self.sp(meta))
        return ("covers", q, self.sp(meta))

    def figure(self, meta: Any, ch: list[Any]) -> A.Figure:
        lit = ch[1]
        if lit.type not in _FIGURE_TYPES:
            self.err("lower.bad-arithmetic", f"the figure `{ch[0]}` is no number",
                     lit.span or self.sp(meta), "write an amount (4.60円), a quantity "
                     "(2000時間) or a number (12)")
        return A.Figure(name=str(ch[0]), value=lit, span=self.sp(meta))

    def _stmt_of(self, node: Any, field: str) -> tuple[str, Any, Any]:
        return (field, node, node.span)

    def rule(self, meta: Any, ch: list[Any]) -> Any:
        outcome, force, source, when, requires, *unless = ch
        r = A.Rule(outcome=str(outcome), force=one_of(force, FORCES), source=source,
                   when=when, requires=requires, unless=unless, span=self.sp(meta))
        return self._stmt_of(r, "rules")

    def each_item(self, meta: Any, ch: list[Any]) -> A.EachItem:
        return A.EachItem(span=self.sp(meta))

    def mutatis(self, meta: Any, ch: list[Any]) -> A.Mutatis:
        return A.Mutatis(cite=self.cite(ch[0]), outcome=str(ch[1]) if ch[1] else None,
                         span=self.sp(meta))

    def unless(self, meta: Any, ch: list[Any]) -> Any:
        return ch[0]

    def cite(self, t: Token) -> I.Citation:
        return I.Citation(raw=str(t)[1:-1], span=self.tok(t))

    def charge(self, meta: Any, ch: list[Any]) -> Any:
        name, label, *attrs = ch
        c = A.Charge(name=str(name), label=unescape(label) if label else None,
                     span=self.sp(meta))
        for key, val, sp in attrs:
            if key in ("memos", "assumptions"):
                getattr(c, key).append(val)
            else:
                if key != "lower_bound" and getattr(c, key) is not None:
                    self.err("lower.duplicate-statement", f"`{key}` is given twice in charge "
                             f"`{c.name}`", sp)
                setattr(c, key, val)
        return self._stmt_of(c, "charges")

    def c_amount(self, meta: Any, ch: list[Any]) -> tuple[str, Any, Any]:
        return ("amount", ch[0], self.sp(meta))

    def c_when(self, meta: Any, ch: list[Any]) -> tuple[str, Any, Any]:
        return ("when", ch[0], self.sp(meta))

    def c_tax(self, meta: Any, ch: list[Any]) -> tuple[str, Any, Any]:
        v = str(ch[0])
        if v not in TAX_CATEGORIES:
            self.err("lower.bad-tax", f"unknown tax category `{v}`", self.sp(meta),
                     did_you_mean(v, TAX_CATEGORIES)
                     or "use excluded (税別), included (税込) or not_taxable (不課税)")
        return ("tax", v, self.sp(meta))

    def c_period(self, meta: Any, ch: list[Any]) -> tuple[str, Any, Any]:
        v = str(ch[0])
        if v not in PERIODS:
            self.err("lower.bad-period-unit", f"unknown charge period `{v}`", self.sp(meta),
                     did_you_mean(v, PERIODS) or "use one of " + ", ".join(PERIODS))
        return ("per", v, self.sp(meta))

    def c_lower_bound(self, meta: Any, ch: list[Any]) -> tuple[str, Any, Any]:
        return ("lower_bound", True, self.sp(meta))

    def c_quote(self, meta: Any, ch: list[Any]) -> tuple[str, Any, Any]:
        return ("quote_when", ch[0], self.sp(meta))

    def c_memo(self, meta: Any, ch: list[Any]) -> tuple[str, Any, Any]:
        return ("memos", unescape(ch[0]), self.sp(meta))

    def c_cite(self, meta: Any, ch: list[Any]) -> tuple[str, Any, Any]:
        return ("row", self.cite(ch[0]), self.sp(meta))

    def c_assume(self, meta: Any, ch: list[Any]) -> tuple[str, Any, Any]:
        return ("assumptions", unescape(ch[0]), self.sp(meta))

    def c_payer(self, meta: Any, ch: list[Any]) -> tuple[str, Any, Any]:
        v = str(ch[0])
        if v not in PAYERS:
            self.err("lower.bad-payer", f"unknown payer `{v}`", self.sp(meta),
                     did_you_mean(v, PAYERS) or "use contractor or company")
        return ("payer", v, self.sp(meta))

    def period(self, meta: Any, ch: list[Any]) -> Any:
        return self._stmt_of(A.PeriodDef(name=str(ch[0]), expr=ch[1], span=self.sp(meta)),
                             "periods")

    def ref_stmt(self, meta: Any, ch: list[Any]) -> Any:
        verb, *cites = ch
        return self._stmt_of(
            A.RefStmt(verb=one_of(verb, A.REF_VERBS), cites=[self.cite(c) for c in cites],
                      span=self.sp(meta)), "refs")

    def reading(self, meta: Any, ch: list[Any]) -> Any:
        doc, orig, repl, *exc = ch
        exc = [self.cite(c) for c in exc if c is not None]
        return self._stmt_of(A.Reading(in_doc=self.cite(doc), original=unescape(orig),
                                       replacement=unescape(repl), except_=exc,
                                       span=self.sp(meta)), "readings")

    def precedence(self, meta: Any, ch: list[Any]) -> Any:
        win, lose, *exc = ch
        exc = [self.cite(c) for c in exc if c is not None]
        return self._stmt_of(A.Precedence(winner=self.cite(win), loser=self.cite(lose),
                                          except_=exc, span=self.sp(meta)), "precedences")

    def correction(self, meta: Any, ch: list[Any]) -> Any:
        return A.Correction(seed=unescape(ch[0]), encoded=unescape(ch[1]),
                            reason=unescape(ch[2]), span=self.sp(meta))

    # expressions
    def or_(self, meta: Any, ch: list[Any]) -> I.BoolOp:
        return self._boolop("or", ch, meta)

    def and_(self, meta: Any, ch: list[Any]) -> I.BoolOp:
        return self._boolop("and", ch, meta)

    def _boolop(self, op: str, ch: list[Any], meta: Any) -> I.BoolOp:
        # `a or b or c` is one BoolOp of three operands. The grammar is left-recursive, so
        # the chain arrives as or(or(a, b), c): merge a left operand of the same operator
        # unless it was parenthesised — then the node starts at the `(` (Lark's container
        # position), before its operand. `(a or b) or c` stays nested, as written.
        span = self.sp(meta)
        operands: list[Any] = []
        for i, c in enumerate(ch):
            if (i == 0 and isinstance(c, I.BoolOp) and c.op == op and span is not None
                    and c.span is not None
                    and (c.span.line, c.span.column) == (span.line, span.column)):
                operands.extend(c.operands)
            else:
                operands.append(c)
        return I.BoolOp(op=one_of(op, I.BOOL_OPS), operands=operands, span=span)

    def not_(self, meta: Any, ch: list[Any]) -> I.Not:
        return I.Not(operand=ch[0], span=self.sp(meta))

    def compare(self, meta: Any, ch: list[Any]) -> I.Compare:
        return I.Compare(op=one_of(ch[1], I.COMPARE_OPS), left=ch[0], right=ch[2],
                         span=self.sp(meta))

    def member_of(self, meta: Any, ch: list[Any]) -> I.MemberOf:
        return I.MemberOf(operand=ch[0], options=ch[1:], span=self.sp(meta))

    def arith(self, meta: Any, ch: list[Any]) -> I.Arith:
        return I.Arith(op=one_of(ch[1], I.ARITH_OPS), left=ch[0], right=ch[2],
                       span=self.sp(meta))

    def neg(self, meta: Any, ch: list[Any]) -> Any:
        if str(ch[0]) == "+":
            return ch[1]
        return I.Neg(operand=ch[1], span=self.sp(meta))

    def ref(self, meta: Any, ch: list[Any]) -> I.Ref:
        return I.Ref(path=ch[0], span=self.sp(meta))

    def call(self, meta: Any, ch: list[Any]) -> I.Call:
        name, *args = ch
        return I.Call(fn=str(name), args=[a for a in args if a is not None], span=self.sp(meta))

    def quant(self, meta: Any, ch: list[Any]) -> I.Quant:
        q, var, src, body, where = ch
        src_ref = I.Ref(path=src, span=self.sp(meta))
        return I.Quant(q=one_of(q, I.QUANTIFIERS), var=str(var), source=src_ref, body=body,
                       where=where, span=self.sp(meta))

    def call_q(self, meta: Any, ch: list[Any]) -> I.Call:
        """`min(a, b)` / `max(a, b)`: the builtins, not the quantifiers."""
        name, *args = ch
        return I.Call(fn=str(name), args=args, span=self.sp(meta))

    def holds(self, meta: Any, ch: list[Any]) -> I.Holds:
        return I.Holds(cite=self.cite(ch[0]), span=self.sp(meta))

    def if_(self, meta: Any, ch: list[Any]) -> I.IfThen:
        return I.IfThen(cond=ch[0], then=ch[1], orelse=ch[2], span=self.sp(meta))

    def lit_int(self, meta: Any, ch: list[Any]) -> I.Lit:
        return I.Lit(type="int", value=int(str(ch[0])), span=self.sp(meta))

    def lit_decimal(self, meta: Any, ch: list[Any]) -> I.Lit:
        return I.Lit(type="decimal", value=Decimal(str(ch[0])), span=self.sp(meta))

    def lit_money(self, meta: Any, ch: list[Any]) -> I.Lit:
        raw = str(ch[0])[:-1].replace("_", "")
        try:
            value = Decimal(raw)
        except InvalidOperation:
            self.err("lower.bad-money", f"`{ch[0]}` is not an amount", self.tok(ch[0]))
            value = Decimal(0)
        return I.Lit(type="money", value=value, span=self.sp(meta))

    def lit_duration(self, meta: Any, ch: list[Any]) -> I.Lit:
        m = re.fullmatch(r"([0-9]+)(.+)", str(ch[0]))
        assert m
        return I.Lit(type="duration", value=int(m.group(1)),
                      unit=_DUR_UNITS[m.group(2)], span=self.sp(meta))

    def lit_percent(self, meta: Any, ch: list[Any]) -> I.Lit:
        return I.Lit(type="percent", value=Decimal(str(ch[0])[:-1]), span=self.sp(meta))

    def lit_date(self, meta: Any, ch: list[Any]) -> I.Lit:
        return I.Lit(type="date", value=self.date(ch[0]), span=self.sp(meta))

    def lit_text(self, meta: Any, ch: list[Any]) -> I.Lit:
        return I.Lit(type="text", value=unescape(ch[0]), span=self.sp(meta))

    def lit_true(self, meta: Any, ch: list[Any]) -> I.Lit:
        return I.Lit(type="bool", value=True, span=self.sp(meta))

    def lit_false(self, meta: Any, ch: list[Any]) -> I.Lit:
        return I.Lit(type="bool", value=False, span=self.sp(meta))


def _attach_comments(doc: A.Document, comments: list[Token]) -> None:
    """Attach each comment to the unit or declaration that follows it — or, for an
    end-of-line comment, to the one that starts on its line. Comments above the header
    and inside it are the document's, those after the last node its trailing comments."""
    if not comments:
        return
    holders: list[tuple[int, Any]] = []
    for d in (*doc.externals, *doc.enums, *doc.outcomes, *doc.facts, *doc.definitions,
              *doc.assumptions):
        if d.span:
            holders.append((d.span.line, d))
    for _, u in doc.iter_units():
        for h in (u, *u.definitions):
            if h.span:
                holders.append((h.span.line, h))
    # comments above the header and inside it are the document's own
    header_end = doc.header.span.end_line if doc.header.span else 0
    holders.sort(key=lambda x: x[0])
    lines = [h[0] for h in holders]
    for c in comments:
        text = str(c)[1:].strip()
        if (c.line or 0) <= header_end:
            doc.comments.append(text)
            continue
        i = bisect.bisect_right(lines, c.line or 0)
        if i > 0 and lines[i - 1] == c.line:
            # an end-of-line comment belongs to the node that starts on its line
            i = bisect.bisect_left(lines, c.line)
        if i < len(holders):
            holders[i][1].comments.append(text)
        else:
            doc.trailing_comments.append(text)


def parse_document(text: str, file: str) -> tuple[A.Document | None, list[Diagnostic]]:
    """Parse and lower one `.yk` file. Never raises for bad input."""
    tree, diags, comments = syntax_tree(text, file)
    if tree is None:
        return None, diags
    lower = Lower(file)
    try:
        doc = lower.transform(tree)
    except VisitError as e:  # a lowering bug or a value pydantic refuses
        orig = e.orig_exc
        if isinstance(orig, LowerError):
            return None, [*lower.diags, orig.diag]
        return None, [*lower.diags, Diagnostic(
            code="lower.invalid", message=f"cannot build the AST: {orig}",
            span=_span(file, getattr(e.obj, "meta", None)),
        )]
    except RecursionError:
        return None, [Diagnostic(code="parse.too-deep", message="the file nests too deeply",
                                 span=I.Span(file=file, line=1, column=1, end_line=1,
                                             end_column=1))]
    _attach_comments(doc, comments)
    return doc, lower.diags
