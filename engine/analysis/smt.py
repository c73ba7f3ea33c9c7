"""smt: the typed expression IR compiled to z3, for semantic diffs of two versions.

What is encoded (and how faithfully):

* Three-valued (Kleene) logic, as the interpreter evaluates it: every fact is a pair
  (`known`, value); a fact left out of a case is unknown, never false. `and`/`or`/`not`,
  comparisons, membership, arithmetic, `if`, builtins and quantifiers propagate unknowns
  exactly as `yakkan.engine.runtime.evaluate` does (e.g. `count` is unknown as soon as one `where`
  is unknown; `all` is false as soon as one record is false).
* Types: bool → Bool; enum → Int over one global numbering of member names (a fact ranges
  over its own members); int → Int; decimal/money/percent facts → Real in steps of 0.01
  (an Int of hundredths, so every model is an exact Decimal); date → Int (proleptic ordinal,
  1900-01-01 … 2199-12-31); duration → three Ints (months, days, seconds), like `Duration`;
  text → String.
* Lists of records (registered lines, calls) are a finite model: at most `LIST_BOUND`
  records (default 2). A difference that needs longer lists is not found; an equivalence is
  proved for lists up to that length only — the reports say so.
* Definitions are inlined; `holds 「…」`, grounds (`Applies`) and each outcome's decision rule
  (`Priority`) are the compiled DecisionProgram's expressions (`semantics/program.py`),
  encoded like any other node: nothing is decided here. A decision is one Int code per value,
  UNDET unless every completion of the unknowns agrees (as the interpreter). Observed absence
  (`null` in a case) is not modelled: witnesses never use it, and an equivalence is proved
  for cases without absent values.
* Inputs on which the interpreter raises (a negative quantity for `units_started`, a period
  that has no last day) are excluded from the search.

Anything else (interest, month arithmetic on dates, ordering of enums or texts, cycles of
definitions or citations, nonlinear constraints z3 gives up on) raises `Unsupported`, and the
caller falls back to an exhaustive search over a finite domain with the interpreter
(`exhaustive_witnesses`), saying which method was used.

Witnesses are searched per outcome whose grounds differ: first cases both versions decide
(neither undetermined) differently, fewest facts first (z3 Optimize minimises the number of
facts set, then prefers dates near the new version's date and small numbers); then, if none
exists, cases one version leaves undetermined; and where every case is decided alike, cases
decided alike on different grounds. Each witness is shrunk further by dropping facts one at
a time while the interpreter still gives the same two values.

Every witness is re-checked by the interpreter (`evaluate.evaluate` on both rulebooks);
only re-verified witnesses are reported. A witness z3 finds that the interpreter does not
confirm is an encoding bug: it is recorded in `OutcomeCheck.rejected`, never reported as a
witness.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import itertools
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any, TypeVar, assert_never

import z3

from yakkan.engine.core import ir as I
from yakkan.engine.core.kinds import VALUES, Value
from yakkan.engine.core.periods import Duration
from yakkan.engine.core.values import jsonable  # re-exported: diff.py uses smt.jsonable
from yakkan.engine.runtime.evaluate import EvalError, Evaluator, compared_literals, grounds_of
from yakkan.engine.runtime.evaluate import evaluate as interpret
from yakkan.engine.semantics.program import Ground, program_of
from yakkan.engine.semantics.resolve import Rulebook
from yakkan.engine.syntax import ast as A

LIST_BOUND = 2
MAX_WITNESSES = 5
DATE_MIN = dt.date(1900, 1, 1)
DATE_MAX = dt.date(2199, 12, 31)
SCALE = 100  # decimal facts: hundredths
TIMEOUT_MS = 20_000

CODE = {v: i for i, v in enumerate(VALUES)}
UNDET = CODE["undetermined"]

SEMANTICS_NOTE = (
    "three-valued (Kleene): every fact may be unknown, as in the interpreter; lists of "
    f"records bounded to at most {LIST_BOUND} records; decimal and money facts in steps of "
    "0.01; dates 1900-01-01…2199-12-31; observed absence (null) not modelled: cases "
    "with an absent value are outside what is searched and proved; names compared by "
    "same_name are searched among texts of a–z and 0–9 (which its normalisation leaves "
    "as they are)"
)
SEMANTICS_NOTE_JA = (  # the same, for the pages a person reads
    "ソルバーの意味論: 三値（クリーネ）— インタプリタと同じく、どの事実も不明でありうる。"
    f"記録の一覧は{LIST_BOUND}件まで。小数と金額は0.01刻み。日付は1900年1月1日から"
    "2199年12月31日まで。観測された不存在（null）は扱わない（値が不存在の事例は探索と証明の"
    "対象外）。名称の一致（same_name）で比べる名称は英小文字 a–z と数字 0–9 の文字列（正規化で変わらない"
    "もの）から探す"
)


class Unsupported(Exception):
    """An expression z3 is not given (the caller falls back to an exhaustive search)."""


# ---- symbolic values --------------------------------------------------------------------

@dataclass
class SV:
    """A Kleene value: `known` (z3 Bool) and `val` (a z3 term; a tuple for durations, a
    `ListVar` for lists, a dict of field → SV for a record)."""

    t: str
    known: Any
    val: Any


@dataclass
class ListVar:
    path: str
    n: Any
    records: list[dict[str, SV]]


# Every query runs in a fresh z3 context (`fresh_context`): z3's answers depend on the
# terms created before in the same context, and the reports must not depend on what else
# the process solved before (goldens, the order of tests). The stack of contexts is per
# thread and task (a ContextVar): the console computes diffs in worker threads, and one
# query must never see — or pop — another's context.
_CONTEXTS: ContextVar[tuple[z3.Context, ...]] = ContextVar("yakkan_z3_contexts", default=())


def ctx() -> z3.Context:
    stack = _CONTEXTS.get()
    return stack[-1] if stack else z3.main_ctx()


@contextmanager
def fresh_context() -> Iterator[z3.Context]:
    c = z3.Context()
    token = _CONTEXTS.set((*_CONTEXTS.get(), c))
    try:
        yield c
    finally:
        _CONTEXTS.reset(token)


def TRUE() -> Any:
    return z3.BoolVal(True, ctx())


def FALSE() -> Any:
    return z3.BoolVal(False, ctx())


def is_true(v: SV) -> Any:
    return z3.And(v.known, v.val)


def is_false(v: SV) -> Any:
    return z3.And(v.known, z3.Not(v.val))


def kleene_and(vs: list[SV]) -> SV:
    if not vs:
        return SV("bool", TRUE(), TRUE())
    any_false = z3.Or([is_false(v) for v in vs])
    all_known = z3.And([v.known for v in vs])
    return SV("bool", z3.Or(any_false, all_known), z3.And([v.val for v in vs]))


def kleene_or(vs: list[SV]) -> SV:
    if not vs:
        return SV("bool", TRUE(), FALSE())
    any_true = z3.Or([is_true(v) for v in vs])
    all_known = z3.And([v.known for v in vs])
    return SV("bool", z3.Or(any_true, all_known), z3.Or([v.val for v in vs]))


def kleene_not(v: SV) -> SV:
    return SV("bool", v.known, z3.Not(v.val))


def unknown_bool() -> SV:
    return SV("bool", FALSE(), FALSE())


# ---- the fact space ------------------------------------------------------------------------

def _decl_key(t: I.YType) -> str:
    return json.dumps(t.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)


class FactSpace:
    """The z3 variables of every fact of both versions, shared by their encoders."""

    def __init__(self, books: Iterable[Rulebook]):
        books = list(books)
        self.decls: dict[str, A.FactDecl] = {}
        self.types: dict[str, I.YType] = {}
        self.conflicts: set[str] = set()
        self.merged: list[str] = []  # facts whose declarations differ but were merged
        for b in books:
            for path, f in b.facts.items():
                self.decls.setdefault(path, f)
                if path not in self.types:
                    self.types[path] = f.type
                    continue
                merged = _merge_types(self.types[path], f.type)
                if merged is None:
                    self.conflicts.add(path)
                elif _decl_key(merged) != _decl_key(self.types[path]) or \
                        _decl_key(merged) != _decl_key(f.type):
                    self.types[path] = merged
                    if path not in self.merged:
                        self.merged.append(path)
        self.members: dict[str, int] = {}
        for b in books:
            for name in sorted(b.enum_members()):
                self.members.setdefault(name, len(self.members))
        self.vars: dict[str, SV] = {}
        self.anchors: list[tuple[Any, str]] = []  # (term, "date" | "number")
        self.constraints: list[Any] = []
        self.cost_terms: list[Any] = []
        self.scalars: dict[str, tuple[SV, I.YType]] = {}

    def member(self, name: str) -> int:
        if name not in self.members:
            self.members[name] = len(self.members)
        return self.members[name]

    def member_name(self, code: int) -> str:
        for k, v in self.members.items():
            if v == code:
                return k
        raise KeyError(code)

    def fact(self, path: str) -> SV:
        if path in self.vars:
            return self.vars[path]
        if path in self.conflicts:
            raise Unsupported(f"fact `{path}` has different types in the two versions")
        t = self.types.get(path)
        if t is None:
            raise Unsupported(f"`{path}` is not a declared fact")
        name = _var_name(path)
        if t.base == "list":
            known = z3.Bool(f"k:{name}", ctx())
            n = z3.Int(f"n:{name}", ctx())
            self.constraints += [n >= 0, n <= LIST_BOUND, z3.Implies(z3.Not(known), n == 0)]
            self.cost_terms += [z3.If(known, 1, 0), n]
            records = []
            for i in range(LIST_BOUND):
                rec: dict[str, SV] = {}
                for fd in t.fields:
                    sv = self._scalar(f"{name}[{i}].{fd.name}", fd.type)
                    self.constraints.append(z3.Implies(n <= i, z3.Not(sv.known)))
                    self.cost_terms.append(z3.If(sv.known, 1, 0))
                    rec[fd.name] = sv
                records.append(rec)
            sv = SV("list", known, ListVar(path, n, records))
        else:
            sv = self._scalar(name, t)
            self.cost_terms.append(z3.If(sv.known, 1, 0))
            self.scalars[path] = (sv, t)
        self.vars[path] = sv
        return sv

    def _scalar(self, name: str, t: I.YType) -> SV:
        known = z3.Bool(f"k:{name}", ctx())
        b = t.base
        if b == "bool":
            return SV("bool", known, z3.Bool(f"v:{name}", ctx()))
        if b == "int":
            v = z3.Int(f"v:{name}", ctx())
            self.anchors.append((v, "number"))
            self._within(v, t)
            return SV("int", known, v)
        if b in ("decimal", "money", "percent"):
            k = z3.Int(f"v:{name}", ctx())
            self.anchors.append((k, "number"))
            self._within(z3.ToReal(k) / SCALE, t)
            return SV("real", known, z3.ToReal(k) / SCALE)
        if b == "date":
            v = z3.Int(f"v:{name}", ctx())
            self.constraints += [v >= DATE_MIN.toordinal(), v <= DATE_MAX.toordinal()]
            self.anchors.append((v, "date"))
            return SV("date", known, v)
        if b == "duration":
            parts = tuple(z3.Int(f"v:{name}.{p}", ctx()) for p in ("months", "days", "seconds"))
            self.constraints += [p >= 0 for p in parts]
            # short durations read best (a call of 61 seconds, not of 10 days)
            self.anchors.append((parts[0] * 2_592_000 + parts[1] * 86_400 + parts[2], "number"))
            return SV("dur", known, parts)
        if b == "text":
            return SV("text", known, z3.String(f"v:{name}", ctx()))
        if b == "enum":
            v = z3.Int(f"v:{name}", ctx())
            codes = [self.member(m.name) for m in t.members]
            if not codes:
                raise Unsupported(f"enum fact `{name}` has no members")
            self.constraints.append(z3.Or([v == c for c in codes]))
            return SV("enum", known, v)
        raise Unsupported(f"facts of type {b} inside records")

    def _within(self, v: Any, t: I.YType) -> None:
        """A number stays where a case may put it: in the declared `range`, and without one
        counts, amounts and percentages are 0 or more (`YType.value_bounds`, as the case
        model enforces) — so no witness is a case the case model refuses."""
        lo, hi = t.value_bounds()
        for bound, above in ((lo, True), (hi, False)):
            if bound is None:
                continue
            x = z3.RealVal(str(bound), ctx()) if t.base != "int" else \
                z3.IntVal(int(bound.to_integral_value()), ctx())
            self.constraints.append(v >= x if above else v <= x)

    def complete(self) -> list[Any]:
        """Constraints: every fact (and every field of every listed record) is known."""
        out: list[Any] = []
        for sv in self.vars.values():
            out.append(sv.known)
            if sv.t == "list":
                lv: ListVar = sv.val
                for i, rec in enumerate(lv.records):
                    out += [z3.Implies(lv.n > i, f.known) for f in rec.values()]
        return out

    def assignment(self, facts: dict[str, Any]) -> list[Any]:
        """Constraints fixing every created variable to a case (flat path → value; a path
        left out is unknown). For differential tests of the encoding."""
        out: list[Any] = []
        for path, sv in self.vars.items():
            t = self.types[path]
            if path not in facts or facts[path] is None:
                out.append(z3.Not(sv.known))
                continue
            out.append(sv.known)
            v = facts[path]
            if sv.t == "list":
                lv: ListVar = sv.val
                out.append(lv.n == len(v))
                for i, rec in enumerate(v[:LIST_BOUND]):
                    for fd in t.fields:
                        fsv = lv.records[i][fd.name]
                        x = rec.get(fd.name)
                        if x is None:
                            out.append(z3.Not(fsv.known))
                        else:
                            out += [fsv.known, *self._fix(fsv, fd.type, x)]
            else:
                out += self._fix(sv, t, v)
        return out

    def _fix(self, sv: SV, t: I.YType, v: Any) -> list[Any]:
        b = t.base
        if b == "bool":
            return [sv.val == z3.BoolVal(bool(v), ctx())]
        if b == "int":
            return [sv.val == int(v)]
        if b in ("decimal", "money", "percent"):
            return [sv.val == z3.RealVal(str(v), ctx())]
        if b == "date":
            return [sv.val == v.toordinal()]
        if b == "duration":
            return [p == x for p, x in zip(sv.val, (v.months, v.days, v.seconds), strict=True)]
        if b == "text":
            return [sv.val == z3.StringVal(str(v), ctx())]
        if b == "enum":
            return [sv.val == self.member(str(v))]
        raise Unsupported(b)

    def cost(self) -> Any:
        return z3.Sum(self.cost_terms) if self.cost_terms else z3.IntVal(0, ctx())

    def closeness(self, today: dt.date) -> Any:
        """A secondary objective: dates near `today`, numbers near 0 (readable witnesses)."""
        terms = []
        for v, kind in self.anchors:
            x = v - today.toordinal() if kind == "date" else v
            terms.append(z3.If(x >= 0, x, -x))
        return z3.Sum(terms) if terms else z3.IntVal(0, ctx())

    def decode(self, model: z3.ModelRef) -> dict[str, Any]:
        """The case facts (flat path → value) a model sets; unknown facts are left out."""
        out: dict[str, Any] = {}
        for path, sv in self.vars.items():
            if not z3.is_true(model.eval(sv.known, model_completion=True)):
                continue
            t = self.types[path]
            if sv.t == "list":
                lv: ListVar = sv.val
                n = model.eval(lv.n, model_completion=True).as_long()
                recs = []
                for i in range(n):
                    rec = {}
                    for fd in t.fields:
                        fsv = lv.records[i][fd.name]
                        if z3.is_true(model.eval(fsv.known, model_completion=True)):
                            rec[fd.name] = self._value(model, fsv, fd.type)
                    recs.append(rec)
                out[path] = recs
            else:
                out[path] = self._value(model, sv, t)
        return out

    def _value(self, model: z3.ModelRef, sv: SV, t: I.YType) -> Any:
        def ev(x: Any) -> Any:
            return model.eval(x, model_completion=True)
        b = t.base
        if b == "bool":
            return z3.is_true(ev(sv.val))
        if b == "int":
            return ev(sv.val).as_long()
        if b in ("decimal", "money", "percent"):
            q = ev(sv.val)
            fr = Fraction(q.numerator_as_long(), q.denominator_as_long())
            return Decimal(fr.numerator) / Decimal(fr.denominator)
        if b == "date":
            return dt.date.fromordinal(ev(sv.val).as_long())
        if b == "duration":
            m, d, s = (ev(p).as_long() for p in sv.val)
            return Duration(seconds=s, days=d, months=m)
        if b == "text":
            return ev(sv.val).as_string()
        if b == "enum":
            return self.member_name(ev(sv.val).as_long())
        raise Unsupported(b)


def _merge_types(a: I.YType, b: I.YType) -> I.YType | None:
    """One type for a fact both versions declare: enums range over the members both
    declare; lists carry every field either declares (a field both declare must agree)."""
    if a.base != b.base:
        return None
    if a.base == "enum":
        names_b = {m.name for m in b.members}
        common = [m for m in a.members if m.name in names_b]
        return I.YType(base="enum", enum_name=a.enum_name, members=common) if common else None
    if a.base == "list":
        fields = {f.name: f for f in a.fields}
        for f in b.fields:
            if f.name in fields:
                t = _merge_types(fields[f.name].type, f.type)
                if t is None:
                    return None
                fields[f.name] = I.FieldDecl(name=f.name, type=t, label=f.label,
                                             judgment=f.judgment)
            else:
                fields[f.name] = f
        return I.YType(base="list", fields=list(fields.values()))
    if _decl_key(a.model_copy(update={"constraint": None})) != \
            _decl_key(b.model_copy(update={"constraint": None})):
        return None
    return a.model_copy(update={"constraint": _narrower(a.constraint, b.constraint)})


def _narrower(a: I.Constraint | None, b: I.Constraint | None) -> I.Constraint | None:
    """The values both constraints allow, as far as the solver keeps them: the intersection of
    two ranges (a pattern is checked by the case model only)."""
    if a is None or b is None or a.pattern is not None or b.pattern is not None:
        return a or b
    lows = [x for x in (a.minimum, b.minimum) if x is not None]
    highs = [x for x in (a.maximum, b.maximum) if x is not None]
    return I.Constraint(minimum=max(lows, key=I.bound_value) if lows else None,
                        maximum=min(highs, key=I.bound_value) if highs else None)


def _var_name(path: str) -> str:
    return path.replace(" ", "_")


# ---- the encoder of one version --------------------------------------------------------------

class Encoder:
    """Compiles the expressions, grounds and decisions of one rulebook over a FactSpace."""

    def __init__(self, space: FactSpace, book: Rulebook, as_of: dt.date):
        self.space = space
        self.book = book
        self.as_of = as_of
        self.defs: dict[str, SV] = {}
        self.in_progress: set[str] = set()
        self.applies_cache: dict[str, SV] = {}
        self.guards: list[Any] = []
        self.program = program_of(book)
        # the document's assumptions: no case the solver proposes may break one (an unknown
        # value does not break it); one the encoder cannot express is left to the
        # interpreter's check of every witness (`broken_assumptions`)
        self.assumptions: list[Any] = []
        self.unencoded_assumptions: list[str] = []
        for a in book.doc.assumptions:
            try:
                self.assumptions.append(z3.Not(is_false(self.truth(self.ev(a.expr, {})))))
            except Unsupported:
                self.unencoded_assumptions.append(a.name)

    # expressions
    def ev(self, e: I.Expr, env: dict[str, Any]) -> SV:
        match e:
            case I.Lit():
                return self.lit(e)
            case I.Ref():
                return self.ref(e, env)
            case I.BoolOp():
                vals = [self.truth(self.ev(x, env)) for x in e.operands]
                return kleene_and(vals) if e.op == "and" else kleene_or(vals)
            case I.Not():
                return kleene_not(self.truth(self.ev(e.operand, env)))
            case I.Compare():
                a, b = self.ev(e.left, env), self.ev(e.right, env)
                return SV("bool", z3.And(a.known, b.known), self.compare(e.op, a, b))
            case I.MemberOf():
                a = self.ev(e.operand, env)
                opts = [self.ev(o, env) for o in e.options]
                hits = [z3.And(o.known, self.compare("==", a, o)) for o in opts]
                hit = z3.Or(hits) if hits else FALSE()
                all_known = z3.And([o.known for o in opts]) if opts else TRUE()
                return SV("bool", z3.And(a.known, z3.Or(hit, all_known)), hit)
            case I.Arith():
                return self.arith(e.op, self.ev(e.left, env), self.ev(e.right, env))
            case I.Neg():
                v = self.ev(e.operand, env)
                if v.t not in ("int", "real"):
                    raise Unsupported(f"negation of {v.t}")
                return SV(v.t, v.known, -v.val)
            case I.Call():
                return self.call(e.fn, [self.ev(a, env) for a in e.args])
            case I.Quant():
                return self.quant(e, env)
            case I.Holds():
                if e.lowered is None:
                    return unknown_bool()
                return self.truth(self.ev(e.lowered, env))
            case I.Applies():
                return self.applies(self.program.grounds[e.ground])
            case I.IfThen():
                c = self.truth(self.ev(e.cond, env))
                a, b = self.ev(e.then, env), self.ev(e.orelse, env)
                t, av, bv = _unify(a, b)
                if t == "dur":
                    val: Any = tuple(z3.If(c.val, x, y) for x, y in zip(av, bv, strict=True))
                else:
                    val = z3.If(c.val, av, bv)
                return SV(t, z3.And(c.known, z3.If(c.val, a.known, b.known)), val)
            case I.Priority():
                # an outcome's decision rule is an Int code, not a value: see `priority`
                raise Unsupported(f"expression kind {e.kind}")
            case _:
                assert_never(e)

    def truth(self, v: SV) -> SV:
        if v.t != "bool":
            raise Unsupported(f"a condition of type {v.t} (the interpreter raises)")
        return v

    def lit(self, e: I.Lit) -> SV:
        v = e.value
        if e.type == "bool":
            return SV("bool", TRUE(), z3.BoolVal(bool(v), ctx()))
        if e.type == "int":
            return SV("int", TRUE(), z3.IntVal(int(v), ctx()))  # type: ignore[arg-type]
        if e.type in ("decimal", "money"):
            return SV("real", TRUE(), z3.RealVal(str(v), ctx()))
        if e.type == "percent":
            return SV("real", TRUE(), z3.RealVal(str(Decimal(v) / 100), ctx()))  # type: ignore[arg-type]
        if e.type == "date":
            assert isinstance(v, dt.date)
            return SV("date", TRUE(), z3.IntVal(v.toordinal(), ctx()))
        if e.type == "text":
            return SV("text", TRUE(), z3.StringVal(str(v), ctx()))
        if e.type == "duration":
            n = int(v)  # type: ignore[arg-type]
            unit = e.unit or "day"
            months, days, secs = 0, 0, 0
            if unit in ("second", "minute", "hour"):
                secs = n * {"second": 1, "minute": 60, "hour": 3600}[unit]
            elif unit == "day":
                days = n
            else:
                months = n * (12 if unit == "year" else 1)
            return SV("dur", TRUE(), (z3.IntVal(months, ctx()), z3.IntVal(days, ctx()), z3.IntVal(secs, ctx())))
        raise Unsupported(f"literal of type {e.type}")

    def ref(self, e: I.Ref, env: dict[str, Any]) -> SV:
        r = e.resolved
        if r == "var" or (r is None and e.path[0] in env):
            v = env.get(e.path[0])
            if v is None:
                return SV("bool", FALSE(), FALSE())
            if len(e.path) == 1:
                raise Unsupported("a whole record used as a value")
            if len(e.path) > 2 or not isinstance(v, dict):
                raise Unsupported("nested record fields")
            if e.path[1] not in v:
                return SV("bool", FALSE(), FALSE())  # no such field: always unknown
            sv: SV = v[e.path[1]]
            return sv
        name = ".".join(e.path)
        if r == "fact":
            return self.space.fact(name)
        if r == "definition":
            return self.definition(name)
        if r == "enum":
            return SV("enum", TRUE(), z3.IntVal(self.space.member(e.path[0]), ctx()))
        if r == "builtin" and name == "as_of":
            return SV("date", TRUE(), z3.IntVal(self.as_of.toordinal(), ctx()))
        return unknown_bool()

    def definition(self, name: str) -> SV:
        if name in self.defs:
            return self.defs[name]
        if name in self.in_progress:
            raise Unsupported(f"definition `{name}` depends on itself")
        self.in_progress.add(name)
        try:
            # the program's copy: its `holds` lowered to the grounds it cites, as every
            # backend reads it (the source expression's `holds` has no lowered form)
            v = self.ev(self.program.definitions[name], {})
        finally:
            self.in_progress.discard(name)
        self.defs[name] = v
        return v

    def compare(self, op: str, a: SV, b: SV) -> Any:
        if a.t == "dur" and b.t == "dur":
            ka = (a.val[0], a.val[1] * 86400 + a.val[2])
            kb = (b.val[0], b.val[1] * 86400 + b.val[2])
            eq = z3.And(ka[0] == kb[0], ka[1] == kb[1])
            lt = z3.Or(ka[0] < kb[0], z3.And(ka[0] == kb[0], ka[1] < kb[1]))
            return _order(op, eq, lt)
        if a.t == "dur" and b.t in ("int", "real"):
            secs = a.val[1] * 86400 + a.val[2]
            return _cmp(op, secs if b.t == "int" else z3.ToReal(secs), b.val)
        if a.t in ("int", "real") and b.t in ("int", "real"):
            x, y = a.val, b.val
            if a.t != b.t:
                x = z3.ToReal(x) if a.t == "int" else x
                y = z3.ToReal(y) if b.t == "int" else y
            return _cmp(op, x, y)
        if a.t == b.t and a.t in ("date",):
            return _cmp(op, a.val, b.val)
        if a.t == b.t and a.t in ("enum", "text", "bool"):
            if op == "==":
                return a.val == b.val
            if op == "!=":
                return a.val != b.val
            raise Unsupported(f"ordering of {a.t} values")
        raise Unsupported(f"comparison of {a.t} with {b.t}")

    def arith(self, op: str, a: SV, b: SV) -> SV:
        known = z3.And(a.known, b.known)
        if a.t == "date" and b.t == "dur":
            m, d, s = b.val
            if not (z3.is_int_value(m) and m.as_long() == 0):
                raise Unsupported("dates moved by months (calendar arithmetic)")
            if op not in ("+", "-"):
                return _bad(op, a, b)
            days = d + _idiv(s, 86400)
            return SV("date", known, a.val + days if op == "+" else a.val - days)
        if a.t == "date" and b.t == "date" and op == "-":
            return SV("int", known, a.val - b.val)
        if a.t == "date" and b.t == "int" and op in ("+", "-"):
            return SV("date", known, a.val + b.val if op == "+" else a.val - b.val)
        if a.t == "dur" and b.t == "dur" and op in ("+", "-"):
            parts = tuple(x + y if op == "+" else x - y for x, y in zip(a.val, b.val,
                                                                     strict=True))
            if op == "-":
                self.guards.append(z3.Implies(known, z3.And([p >= 0 for p in parts])))
            return SV("dur", known, parts)
        if a.t in ("int", "real") and b.t in ("int", "real"):
            if op == "/":
                x = z3.ToReal(a.val) if a.t == "int" else a.val
                y = z3.ToReal(b.val) if b.t == "int" else b.val
                return SV("real", z3.And(known, y != 0), x / y)
            if a.t == b.t == "int":
                return SV("int", known, _op(op, a.val, b.val))
            x = z3.ToReal(a.val) if a.t == "int" else a.val
            y = z3.ToReal(b.val) if b.t == "int" else b.val
            return SV("real", known, _op(op, x, y))
        return _bad(op, a, b)

    def call(self, fn: str, args: list[SV]) -> SV:
        if fn == "known":
            return SV("bool", TRUE(), args[0].known)
        if fn == "present":  # observed absence is not modelled: a known value is present
            return SV("bool", args[0].known, TRUE())
        known = z3.And([a.known for a in args]) if args else TRUE()
        if fn == "same_name":
            # core/textnorm.name_key is the identity on a name of ASCII letters and digits:
            # the search is kept to such names (a guard, like the inputs on which the
            # interpreter raises), where same_name is text equality
            a, b = args
            if a.t != "text" or b.t != "text":
                raise Unsupported("same_name of a non-text")
            plain = z3.Star(z3.Union(z3.Range("a", "z", ctx()), z3.Range("0", "9", ctx())))
            for x in (a, b):
                self.guards.append(z3.Implies(x.known, z3.InRe(x.val, plain)))
            return SV("bool", known, a.val == b.val)
        if fn == "len":
            if args[0].t != "list":
                raise Unsupported("len of a non-list")
            return SV("int", known, args[0].val.n)
        if fn in ("min", "max"):
            t = "real" if any(a.t == "real" for a in args) else args[0].t
            if t not in ("int", "real", "date"):
                raise Unsupported(f"{fn} of {t}")
            vals = [z3.ToReal(a.val) if t == "real" and a.t == "int" else a.val for a in args]
            acc = vals[0]
            for v in vals[1:]:
                acc = z3.If(v < acc, v, acc) if fn == "min" else z3.If(v > acc, v, acc)
            return SV(t, known, acc)
        if fn == "add_days":
            d, n = args
            if d.t != "date" or n.t != "int":
                raise Unsupported("add_days of non-integer days")
            return SV("date", known, d.val + n.val)
        if fn == "days_between":
            a, b = args
            if a.t != "date" or b.t != "date":
                raise Unsupported("days_between of non-dates")
            return SV("int", known, z3.If(b.val < a.val, 0, b.val - a.val + 1))
        if fn == "days":
            (d,) = args
            if d.t == "dur":
                return SV("int", known, d.val[1])
            if d.t == "int":
                return SV("int", known, d.val)
            raise Unsupported("days of a non-duration")
        if fn == "units_started":
            q, u = (self._seconds(a) for a in args)
            self.guards.append(z3.Implies(known, z3.And(q >= 0, u > 0)))
            ratio = q / u
            return SV("int", known, -z3.ToInt(-ratio))
        if fn == "period_end":
            start, dur = args
            if start.t != "date":
                raise Unsupported("period_end of a non-date")
            if dur.t == "int":
                days = dur.val
            elif dur.t == "dur":
                m, d, s = dur.val
                if not (z3.is_int_value(m) and m.as_long() == 0 and z3.is_int_value(s)
                        and s.as_long() == 0):
                    raise Unsupported("periods in months (calendar arithmetic)")
                days = d
            else:
                raise Unsupported("period_end of a non-duration")
            self.guards.append(z3.Implies(known, days >= 1))
            return SV("date", known, start.val + days - 1)
        if fn == "tax_included":
            (x,) = args
            v = z3.ToReal(x.val) if x.t == "int" else x.val
            up = v * 11 / 10
            return SV("real", known, z3.If(up >= 0, z3.ToReal(z3.ToInt(up)),
                                           -z3.ToReal(z3.ToInt(-up))))
        raise Unsupported(f"builtin `{fn}`")

    def _seconds(self, a: SV) -> Any:
        if a.t == "dur":
            self.guards.append(z3.Implies(a.known, a.val[0] == 0))
            return z3.ToReal(a.val[1] * 86400 + a.val[2])
        if a.t == "int":
            return z3.ToReal(a.val)
        if a.t == "real":
            return a.val
        raise Unsupported(f"seconds of {a.t}")

    def quant(self, e: I.Quant, env: dict[str, Any]) -> SV:
        src = self.ev(e.source, env)
        if src.t != "list":
            raise Unsupported("a quantifier over something that is not a list fact")
        lv: ListVar = src.val
        q = e.q
        present: list[Any] = []
        where_known: list[Any] = []
        bodies: list[SV | None] = []
        wheres: list[SV | None] = []
        for i, rec in enumerate(lv.records):
            active = lv.n > i
            inner = dict(env)
            inner[e.var] = rec
            w = self.truth(self.ev(e.where, inner)) if e.where is not None else None
            b = self.ev(e.body, inner) if e.body is not None else None
            wheres.append(w)
            bodies.append(b)
            if w is None:
                present.append(active)
                where_known.append(TRUE())
            else:
                where_known.append(z3.Implies(active, w.known))
                present.append(z3.And(active, w.known, w.val))
        if q in ("all", "any"):
            # a record contributes when active and its `where` is not false
            contrib, rk, rv = [], [], []
            for i in range(len(lv.records)):
                active = lv.n > i
                w, b = wheres[i], bodies[i]
                if b is not None:
                    self.truth(b)
                c = active if w is None else z3.And(active, z3.Or(z3.Not(w.known), w.val))
                k = (TRUE() if w is None else w.known)
                k = z3.And(k, b.known) if b is not None else k
                v = b.val if b is not None else TRUE()
                contrib.append(c)
                rk.append(k)
                rv.append(v)
            if q == "all":
                some_false = z3.Or([z3.And(c, k, z3.Not(v)) for c, k, v in zip(contrib, rk, rv,
                                                                                strict=True)])
                all_known = z3.And([z3.Implies(c, k) for c, k in zip(contrib, rk, strict=True)])
                return SV("bool", z3.And(src.known, z3.Or(some_false, all_known)),
                          z3.Not(some_false))
            some_true = z3.Or([z3.And(c, k, v) for c, k, v in zip(contrib, rk, rv, strict=True)])
            all_known = z3.And([z3.Implies(c, k) for c, k in zip(contrib, rk, strict=True)])
            return SV("bool", z3.And(src.known, z3.Or(some_true, all_known)), some_true)
        wk = z3.And(where_known)
        if q == "count":
            if e.body is None:
                return SV("int", z3.And(src.known, wk),
                          z3.Sum([z3.If(p, 1, 0) for p in present]))
            for b in bodies:
                assert b is not None
                self.truth(b)
            bk = z3.And([z3.Implies(p, b.known) for p, b in zip(present, bodies, strict=True)
                         if b is not None])
            return SV("int", z3.And(src.known, wk, bk),
                      z3.Sum([z3.If(z3.And(p, b.val), 1, 0)
                              for p, b in zip(present, bodies, strict=True) if b is not None]))
        if e.body is None:
            raise Unsupported(f"{q} without a body")
        ts = {b.t for b in bodies if b is not None}
        if not ts <= {"int", "real", "date"} or (q == "sum" and "date" in ts):
            raise Unsupported(f"{q} over {', '.join(sorted(ts))}")
        t = "real" if "real" in ts or q == "sum" else ts.pop()
        vals = []
        for b in bodies:
            assert b is not None
            vals.append(z3.ToReal(b.val) if t == "real" and b.t == "int" else b.val)
        bk = z3.And([z3.Implies(p, b.known) for p, b in zip(present, bodies, strict=True)
                     if b is not None])
        if q == "sum":
            return SV("real", z3.And(src.known, wk, bk),
                      z3.Sum([z3.If(p, v, 0) for p, v in zip(present, vals, strict=True)]))
        acc: Any = vals[0]
        seen: Any = present[0]
        for p, v in zip(present[1:], vals[1:], strict=True):
            better = (v < acc) if q == "min" else (v > acc)
            acc = z3.If(p, z3.If(z3.Or(z3.Not(seen), better), v, acc), acc)
            seen = z3.Or(seen, p)
        return SV(t, z3.And(src.known, wk, bk, z3.Or(present)), acc)

    # grounds and decisions: the program's expressions, nothing decided here
    def applies(self, g: Ground) -> SV:
        if g.key in self.applies_cache:
            return self.applies_cache[g.key]
        if g.key in self.in_progress:
            raise Unsupported(f"citation cycle through {g.citation}")
        self.in_progress.add(g.key)
        try:
            v = self.truth(self.ev(g.applies, {}))
        finally:
            self.in_progress.discard(g.key)
        self.applies_cache[g.key] = v
        return v

    def decision(self, name: str) -> Any:
        """The Int code of the outcome's value (UNDET unless every completion agrees)."""
        d = self.program.decisions.get(name)
        if d is None:
            return z3.IntVal(CODE["not_applicable"], ctx())
        return self.priority(d.rule)

    def priority(self, p: I.Priority) -> Any:
        """`ir.Priority` in z3: value v is stated where some branch of value v holds and
        every branch before it is false or unknown with the same value (or none holds and
        every branch is false or unknown with the default's value); else UNDET."""
        conds = [self.truth(self.ev(b.cond, {})) for b in p.branches]
        values = [b.value for b in p.branches]
        out: Any = z3.IntVal(UNDET, ctx())
        for v in dict.fromkeys([*values, p.default]):
            ways = []
            for i, c in enumerate(conds):
                if values[i] != v:
                    continue
                before = [is_false(conds[j]) if values[j] != v else z3.Not(is_true(conds[j]))
                          for j in range(i)]
                ways.append(z3.And([is_true(c), *before]))
            if v == p.default:
                ways.append(z3.And([TRUE(), *[is_false(c) if values[j] != v
                                              else z3.Not(is_true(c))
                                              for j, c in enumerate(conds)]]))
            out = z3.If(z3.Or(ways) if ways else FALSE(), CODE[v], out)
        return out


def _idiv(x: Any, n: int) -> Any:
    return x / n  # z3 integer division (floor) for Int terms


def _op(op: str, x: Any, y: Any) -> Any:
    if op == "+":
        return x + y
    if op == "-":
        return x - y
    if op == "*":
        return x * y
    raise Unsupported(f"operator {op}")


def _cmp(op: str, x: Any, y: Any) -> Any:
    return {"==": lambda: x == y, "!=": lambda: x != y, "<": lambda: x < y,
            "<=": lambda: x <= y, ">": lambda: x > y, ">=": lambda: x >= y}[op]()


def _order(op: str, eq: Any, lt: Any) -> Any:
    return {"==": eq, "!=": z3.Not(eq), "<": lt, "<=": z3.Or(lt, eq),
            ">": z3.Not(z3.Or(lt, eq)), ">=": z3.Not(lt)}[op]


def _bad(op: str, a: SV, b: SV) -> SV:
    raise Unsupported(f"{a.t} {op} {b.t}")


def _unify(a: SV, b: SV) -> tuple[str, Any, Any]:
    if a.t == b.t:
        return a.t, a.val, b.val
    if {a.t, b.t} == {"int", "real"}:
        av = z3.ToReal(a.val) if a.t == "int" else a.val
        bv = z3.ToReal(b.val) if b.t == "int" else b.val
        return "real", av, bv
    if b.t == "bool" and z3.is_false(b.known):
        return a.t, a.val, a.val
    if a.t == "bool" and z3.is_false(a.known):
        return b.t, b.val, b.val
    raise Unsupported(f"if with branches of types {a.t} and {b.t}")


def sv_differs(a: SV, b: SV) -> Any:
    """z3: the two Kleene values differ (one known and not the other, or both known and
    unequal)."""
    if a.t == "dur" and b.t == "dur":
        neq: Any = z3.Or([x != y for x, y in zip(a.val, b.val, strict=True)])
    elif a.t == b.t and a.t in ("bool", "int", "real", "date", "text", "enum"):
        neq = a.val != b.val
    elif {a.t, b.t} == {"int", "real"}:
        neq = (z3.ToReal(a.val) if a.t == "int" else a.val) != \
            (z3.ToReal(b.val) if b.t == "int" else b.val)
    elif z3.is_false(a.known) and z3.is_false(b.known):
        neq = FALSE()
    else:
        raise Unsupported(f"comparing values of types {a.t} and {b.t}")
    return z3.Or(a.known != b.known, z3.And(a.known, b.known, neq))


# ---- facts as a case ------------------------------------------------------------------------

def nest(flat: dict[str, Any], declared: Iterable[str] | None = None) -> dict[str, Any]:
    """Flat fact paths → the nested mapping a case (and `evaluate`) uses."""
    keep = set(declared) if declared is not None else None
    out: dict[str, Any] = {}
    for path, v in flat.items():
        if keep is not None and path not in keep:
            continue
        node = out
        parts = path.split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = copy.deepcopy(v)
    return out


# ---- results -----------------------------------------------------------------------------

@dataclass
class Side:
    value: Value
    grounds: list[tuple[str, str]]  # (provision id, citation) of the applying grounds
    undetermined: list[tuple[str, str]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


@dataclass
class Witness:
    """A case decided differently by the two versions, re-verified by the interpreter."""

    outcome: str
    facts: dict[str, Any]  # flat path → value (only the facts the case sets)
    old: Side
    new: Side
    method: str  # "z3" | "exhaustive"
    verified: bool = True
    # "decision": the two versions decide differently; "grounds": they decide alike, on
    # different grounds (a provision applies in one version and not in the other)
    kind: str = "decision"

    @property
    def both_determined(self) -> bool:
        return "undetermined" not in (self.old.value, self.new.value)


@dataclass
class OutcomeCheck:
    outcome: str
    status: str  # "identical" | "equivalent" | "differs" | "undecided"
    method: str  # "syntactic" | "z3" | "exhaustive"
    witnesses: list[Witness] = field(default_factory=list)
    note: str = ""
    rejected: list[dict[str, Any]] = field(default_factory=list)
    in_old: bool = True
    in_new: bool = True


def interpret_side(book: Rulebook, facts: dict[str, Any], as_of: dt.date,
                   outcome: str) -> Side:
    """The interpreter's decision of `outcome` for flat `facts` (facts this version does
    not declare are left out; an outcome the version does not have is not_applicable)."""
    res = interpret(book, nest(facts, book.facts), as_of, outcomes=[outcome])
    o = res.outcomes.get(outcome)
    if o is None:
        return Side("not_applicable", [])
    return Side(o.value, [(r.ground.id, r.ground.citation) for r in o.grounds],
                [(r.ground.id, r.ground.citation) for r in o.undetermined], o.missing_facts)


def breaks_assumption(old: Rulebook, new: Rulebook, facts: dict[str, Any], old_as_of: dt.date,
                      new_as_of: dt.date) -> bool:
    """Whether flat `facts` break an assumption of either version (the interpreter's
    reading): such a case is never offered as a witness."""
    from yakkan.engine.runtime.evaluate import broken_assumptions
    return bool(broken_assumptions(old, nest(facts, old.facts), old_as_of)
                or broken_assumptions(new, nest(facts, new.facts), new_as_of))


# ---- canonical forms (for "did the logic change at all?") -------------------------------------

def canonical(book: Rulebook, e: Any, stack: tuple[str, ...] = ()) -> Any:
    """A JSON-able form of `e` with definitions inlined and `holds` expanded into the cited
    grounds: equal canonical forms decide every case alike."""
    if e is None:
        return None
    if isinstance(e, I.Ref):
        name = ".".join(e.path)
        if e.resolved == "definition" and name in book.definitions:
            if name in stack:
                return {"cycle": name}
            return {"def": canonical(book, book.definitions[name][0].expr, (*stack, name))}
        if e.resolved == "fact":
            decl = book.facts.get(name)
            return {"fact": name, "type": decl.type.model_dump(mode="json") if decl else None}
        return {"ref": e.path, "as": e.resolved}
    if isinstance(e, I.Holds):
        out: list[Any] = []
        prog = program_of(book)
        for t in e.cite.targets:
            key = f"holds:{t}"
            if key in stack:
                out.append({"cycle": t})
                continue
            gs = [prog.grounds[k] for k in prog.under.get(t, ())]
            if gs:
                out.append([ground_canonical(book, g, (*stack, key)) for g in gs])
            else:
                out.append({"cond": canonical(book, book.provisions[t].unit.condition,
                                              (*stack, key))})
        return {"holds": out}
    if isinstance(e, I.Applies):
        g = program_of(book).grounds[e.ground]
        key = f"applies:{e.ground}"
        return {"cycle": e.ground} if key in stack else \
            {"applies": ground_canonical(book, g, (*stack, key))}
    if isinstance(e, I.Node):
        d: dict[str, Any] = {"_": type(e).__name__}
        for k in type(e).model_fields:
            if k in ("span", "nid", "ty", "lowered"):
                continue
            v = getattr(e, k)
            if isinstance(v, list):
                d[k] = [canonical(book, x, stack) if isinstance(x, I.Node) else x for x in v]
            elif isinstance(v, I.Node):
                d[k] = canonical(book, v, stack)
            elif isinstance(v, Decimal | dt.date):
                d[k] = str(v)
            else:
                d[k] = v
        return d
    return e


def ground_canonical(book: Rulebook, g: Ground, stack: tuple[str, ...] = ()) -> Any:
    return {"force": g.force,
            "when": [canonical(book, w, stack) for w in g.when],
            "requires": canonical(book, g.requires, stack),
            "unless": [canonical(book, u, stack) for u in g.unless]}


def outcome_canonical(book: Rulebook, name: str) -> str:
    prog = program_of(book)
    d = prog.decisions.get(name)
    gs = [prog.grounds[k] for k in d.grounds] if d else []
    form = {g.key: json.dumps(ground_canonical(book, g), sort_keys=True, ensure_ascii=False)
            for g in gs}
    forms = list(form.values())
    beats = sorted(f"{form[w]} > {form[k]}" for w, k in d.overrides) if d else []
    base = [prog.grounds[k].force for k in d.base] if d else []
    return json.dumps({"grounds": sorted(forms), "base0": base[:1], "overrides": beats},
                      ensure_ascii=False)


# ---- witness search ---------------------------------------------------------------------------

Progress = Callable[[str], None]


F = TypeVar("F", bound=Callable[..., Any])


def isolated(fn: F) -> F:
    """Run `fn` in a fresh z3 context (deterministic answers, whatever ran before)."""
    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        with fresh_context():
            return fn(*args, **kwargs)
    return run  # type: ignore[return-value]


def new_solver(space: FactSpace, enc_old: Encoder, enc_new: Encoder) -> z3.Optimize:
    """An optimiser over the fact space of two versions: the space's constraints, both
    encoders' guards and both documents' assumptions (`assume`)."""
    opt = z3.Optimize(ctx=ctx())
    opt.set("timeout", TIMEOUT_MS)
    opt.add(*space.constraints)
    opt.add(*enc_old.guards, *enc_new.guards, *enc_old.assumptions, *enc_new.assumptions)
    return opt


def readable_model(opt: z3.Optimize, space: FactSpace, today: dt.date) -> z3.ModelRef | None:
    """A model of `opt` a reader can follow (fewest facts stated, dates near `today`, numbers
    near 0), or None when there is none; `Unsupported` when z3 gives up."""
    opt.minimize(space.cost())
    opt.minimize(space.closeness(today))
    r = opt.check()
    if r == z3.unknown:
        raise Unsupported(f"z3 gave up ({opt.reason_unknown()})")
    return opt.model() if r == z3.sat else None


def compare_outcome(old: Rulebook, old_as_of: dt.date, new: Rulebook, new_as_of: dt.date,
                    name: str, max_witnesses: int = MAX_WITNESSES,
                    id_map: dict[str, str] | None = None) -> OutcomeCheck:
    """Search for cases the two versions decide differently, for one outcome. Where every
    case is decided alike, search for cases decided alike on different grounds (`id_map`:
    old provision id → new provision id, from the structural alignment)."""
    in_old = name in grounds_of(old)
    in_new = name in grounds_of(new)
    co, cn = outcome_canonical(old, name), outcome_canonical(new, name)
    if co == cn and (old_as_of == new_as_of or '"as_of"' not in co):
        return OutcomeCheck(name, "identical", "syntactic", in_old=in_old, in_new=in_new,
                            note="same grounds and conditions (definitions inlined)")
    try:
        chk = _z3_outcome(old, old_as_of, new, new_as_of, name, max_witnesses)
        if chk.status == "equivalent" and id_map is not None:
            _z3_grounds(old, old_as_of, new, new_as_of, name, id_map, chk)
    except (Unsupported, z3.Z3Exception) as e:
        chk = exhaustive_outcome(old, old_as_of, new, new_as_of, name, max_witnesses)
        chk.note = f"z3 not used ({e}); " + chk.note
    chk.in_old, chk.in_new = in_old, in_new
    return chk


@isolated
def _z3_outcome(old: Rulebook, old_as_of: dt.date, new: Rulebook, new_as_of: dt.date,
                name: str, max_witnesses: int) -> OutcomeCheck:
    space = FactSpace([old, new])
    eo, en = Encoder(space, old, old_as_of), Encoder(space, new, new_as_of)
    d_old, d_new = eo.decision(name), en.decision(name)
    ground_terms: list[tuple[str, str, Any]] = []
    for side, enc, book in (("old", eo, old), ("new", en, new)):
        for g in grounds_of(book).get(name, []):
            ground_terms.append((side, g.id, is_true(enc.applies(g))))
    chk = OutcomeCheck(name, "equivalent", "z3", note=SEMANTICS_NOTE)
    blocked: list[Any] = []
    for phase in ("determined", "any"):
        if chk.witnesses:
            break
        for _ in range(4 * max_witnesses):
            if len(chk.witnesses) >= max_witnesses:
                break
            opt = new_solver(space, eo, en)
            opt.add(d_old != d_new)
            if phase == "determined":
                opt.add(d_old != UNDET, d_new != UNDET)
            opt.add(*blocked)
            m = readable_model(opt, space, new_as_of)
            if m is None:
                break
            facts = space.decode(m)
            zo = m.eval(d_old, model_completion=True).as_long()
            zn = m.eval(d_new, model_completion=True).as_long()
            pattern = [t == m.eval(t, model_completion=True) for _, _, t in ground_terms]
            blocked.append(z3.Not(z3.And(d_old == zo, d_new == zn, *pattern)))
            w = _verify(old, old_as_of, new, new_as_of, name, facts, "z3")
            if w is None or (w.old.value, w.new.value) != (VALUES[zo], VALUES[zn]):
                chk.rejected.append({"facts": jsonable(facts), "z3": [VALUES[zo], VALUES[zn]],
                                     "interpreter": [w.old.value, w.new.value] if w else None})
                continue
            w = _shrink(old, old_as_of, new, new_as_of, w)
            if any(_same_case(w, x) for x in chk.witnesses):
                continue
            chk.witnesses.append(w)
        if phase == "determined" and not chk.witnesses and chk.rejected:
            break
    if chk.witnesses and all(w.both_determined for w in chk.witnesses):
        chk.status = "differs"
    elif chk.witnesses:
        chk.status = "differs_partial"
        chk.note = ("every case that both versions decide is decided alike (proved); they "
                    "differ only in what they leave undetermined while facts are unknown; "
                    + SEMANTICS_NOTE)
    elif chk.rejected:
        chk.status = "undecided"
        chk.note = "z3 found cases the interpreter does not confirm (an encoding bug)"
    return chk


def _ground_key(g: Ground, id_map: dict[str, str] | None = None) -> tuple[str, str | None]:
    if id_map is None:
        return (g.id, g.via)
    return (id_map.get(g.id, f"old:{g.id}"),
            id_map.get(g.via, f"old:{g.via}") if g.via else None)


def applying_keys(book: Rulebook, facts: dict[str, Any], as_of: dt.date, name: str,
                  id_map: dict[str, str] | None = None) -> set[tuple[str, str | None]]:
    """The grounds of `name` that apply to a case, as (new-version id, via) keys."""
    res = interpret(book, nest(facts, book.facts), as_of, outcomes=[name])
    o = res.outcomes.get(name)
    if o is None:
        return set()
    return {_ground_key(r.ground, id_map) for r in (*o.grounds, *o.base)
            if r.applies is True}


@isolated
def _z3_grounds(old: Rulebook, old_as_of: dt.date, new: Rulebook, new_as_of: dt.date,
                name: str, id_map: dict[str, str], chk: OutcomeCheck,
                max_witnesses: int = 3) -> None:
    """Cases both versions decide alike but on different grounds."""
    space = FactSpace([old, new])
    eo, en = Encoder(space, old, old_as_of), Encoder(space, new, new_as_of)
    d_old, d_new = eo.decision(name), en.decision(name)
    terms: dict[tuple[str, str | None], list[Any]] = {}
    for enc, book, mapping in ((eo, old, id_map), (en, new, None)):
        for g in grounds_of(book).get(name, []):
            terms.setdefault(_ground_key(g, mapping), [FALSE(), FALSE()])
            terms[_ground_key(g, mapping)][0 if mapping is not None else 1] = \
                is_true(enc.applies(g))
    differ = [a != b for a, b in terms.values()]
    blocked: list[Any] = []
    for _ in range(3 * max_witnesses):
        if sum(w.kind == "grounds" for w in chk.witnesses) >= max_witnesses:
            break
        opt = new_solver(space, eo, en)
        opt.add(d_old == d_new, d_old != UNDET, z3.Or(differ) if differ else FALSE(), *blocked)
        opt.minimize(space.cost())
        opt.minimize(space.closeness(new_as_of))
        r = opt.check()
        if r != z3.sat:
            break
        m = opt.model()
        blocked.append(z3.Not(z3.And([d == m.eval(d, model_completion=True)
                                      for d in differ])))
        facts = space.decode(m)

        def keeps(trial: dict[str, Any]) -> bool:
            try:
                so = interpret_side(old, trial, old_as_of, name)
                sn = interpret_side(new, trial, new_as_of, name)
                return so.value == sn.value != "undetermined" and \
                    applying_keys(old, trial, old_as_of, name, id_map) != \
                    applying_keys(new, trial, new_as_of, name)
            except (EvalError, ArithmeticError, ValueError, TypeError):
                return False
        if not keeps(facts):
            chk.rejected.append({"facts": jsonable(facts), "kind": "grounds"})
            continue
        facts = shrink_facts(facts, keeps)
        w = Witness(name, facts, interpret_side(old, facts, old_as_of, name),
                    interpret_side(new, facts, new_as_of, name), "z3", kind="grounds")
        if not any(_same_case(w, x) for x in chk.witnesses):
            chk.witnesses.append(w)
    if any(w.kind == "grounds" for w in chk.witnesses):
        chk.status = "grounds_differ"
        chk.note = ("every case is decided alike (proved); some are decided on different "
                    "grounds; " + SEMANTICS_NOTE)


def _same_case(a: Witness, b: Witness) -> bool:
    return json.dumps(jsonable(a.facts), sort_keys=True) == \
        json.dumps(jsonable(b.facts), sort_keys=True)


def _verify(old: Rulebook, old_as_of: dt.date, new: Rulebook, new_as_of: dt.date, name: str,
            facts: dict[str, Any], method: str) -> Witness | None:
    try:
        so = interpret_side(old, facts, old_as_of, name)
        sn = interpret_side(new, facts, new_as_of, name)
    except (EvalError, ArithmeticError, ValueError, TypeError):
        return None
    if so.value == sn.value or breaks_assumption(old, new, facts, old_as_of, new_as_of):
        return None
    return Witness(name, facts, so, sn, method)


def _smaller(facts: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Cases with one fact less: a fact, a record of a list, or a field of a record."""
    for path, v in facts.items():
        yield {k: x for k, x in facts.items() if k != path}
        if isinstance(v, list):
            for i in range(len(v)):
                yield {**facts, path: v[:i] + v[i + 1:]}
            for i, rec in enumerate(v):
                if isinstance(rec, dict):
                    for f in rec:
                        smaller = {k: x for k, x in rec.items() if k != f}
                        yield {**facts, path: [*v[:i], smaller, *v[i + 1:]]}


def shrink_facts(facts: dict[str, Any], keeps: Callable[[dict[str, Any]], bool]) -> \
        dict[str, Any]:
    """Drop facts (records, fields) one at a time while `keeps` holds (a local minimum)."""
    changed = True
    while changed:
        changed = False
        for trial in _smaller(facts):
            if keeps(trial):
                facts = trial
                changed = True
                break
    return facts


def _shrink(old: Rulebook, old_as_of: dt.date, new: Rulebook, new_as_of: dt.date,
            w: Witness) -> Witness:
    """Drop facts one at a time while the interpreter still gives the same two values."""
    want = (w.old.value, w.new.value)

    def keeps(trial: dict[str, Any]) -> bool:
        got = _verify(old, old_as_of, new, new_as_of, w.outcome, trial, w.method)
        return got is not None and (got.old.value, got.new.value) == want
    facts = shrink_facts(dict(w.facts), keeps)
    got = _verify(old, old_as_of, new, new_as_of, w.outcome, facts, w.method)
    return got if got is not None else w


# ---- expression equivalence (wording-only proofs) ---------------------------------------------

@dataclass
class Equivalence:
    equal: bool | None  # None: undecided
    method: str  # "syntactic" | "z3" | "exhaustive"
    counterexample: dict[str, Any] | None = None
    old_value: Any = None
    new_value: Any = None
    note: str = ""
    # when `equal` is False: whether the two still agree on every fully known case
    equal_when_known: bool | None = None


def expressions_equivalent(old: Rulebook, old_as_of: dt.date, old_exprs: list[Any],
                           new: Rulebook, new_as_of: dt.date, new_exprs: list[Any]) -> \
        Equivalence:
    """Whether each pair of expressions gives the same Kleene value in every case (each in its
    own version: definitions and cited grounds of that version)."""
    co = [json.dumps(canonical(old, e), sort_keys=True, ensure_ascii=False) for e in old_exprs]
    cn = [json.dumps(canonical(new, e), sort_keys=True, ensure_ascii=False) for e in new_exprs]
    if co == cn and (old_as_of == new_as_of or '"as_of"' not in "".join(co)):
        return Equivalence(True, "syntactic", note="identical once definitions are inlined")
    try:
        return _z3_exprs(old, old_as_of, old_exprs, new, new_as_of, new_exprs)
    except (Unsupported, z3.Z3Exception) as e:
        eq = _exhaustive_exprs(old, old_as_of, old_exprs, new, new_as_of, new_exprs)
        eq.note = f"z3 not used ({e}); " + eq.note
        return eq


@isolated
def _z3_exprs(old: Rulebook, old_as_of: dt.date, old_exprs: list[Any],
              new: Rulebook, new_as_of: dt.date, new_exprs: list[Any]) -> Equivalence:
    space = FactSpace([old, new])
    eo, en = Encoder(space, old, old_as_of), Encoder(space, new, new_as_of)
    differs = []
    for a, b in zip(old_exprs, new_exprs, strict=True):
        if a is None or b is None:
            if (a is None) != (b is None):
                differs.append(TRUE())
            continue
        differs.append(sv_differs(eo.ev(a, {}), en.ev(b, {})))
    opt = new_solver(space, eo, en)
    opt.add(z3.Or(differs) if differs else FALSE())
    opt.minimize(space.cost())
    opt.minimize(space.closeness(new_as_of))
    r = opt.check()
    if r == z3.unknown:
        raise Unsupported(f"z3 gave up ({opt.reason_unknown()})")
    if r == z3.unsat:
        return Equivalence(True, "z3", note=SEMANTICS_NOTE)
    facts = space.decode(opt.model())
    ov, nv = _ev_pairs(old, old_as_of, old_exprs, new, new_as_of, new_exprs, facts)
    if ov == nv:
        return Equivalence(None, "z3", note="z3 found a case the interpreter does not "
                           "confirm (an encoding bug)", counterexample=facts)
    full = new_solver(space, eo, en)
    full.add(z3.Or(differs), *space.complete())
    full.minimize(space.closeness(new_as_of))
    r2 = full.check()
    known_eq = True if r2 == z3.unsat else False if r2 == z3.sat else None
    if r2 == z3.sat:
        facts2 = space.decode(full.model())
        ov2, nv2 = _ev_pairs(old, old_as_of, old_exprs, new, new_as_of, new_exprs, facts2)
        if ov2 != nv2:  # prefer the counterexample with every fact known
            facts, ov, nv = facts2, ov2, nv2
    def keeps(trial: dict[str, Any]) -> bool:
        return _ev_pairs(old, old_as_of, old_exprs, new, new_as_of, new_exprs,
                         trial) == (ov, nv)
    facts = shrink_facts(facts, keeps)
    return Equivalence(False, "z3", facts, ov, nv, note=SEMANTICS_NOTE,
                       equal_when_known=known_eq)


def _ev_pairs(old: Rulebook, old_as_of: dt.date, old_exprs: list[Any], new: Rulebook,
              new_as_of: dt.date, new_exprs: list[Any], facts: dict[str, Any]) -> \
        tuple[list[Any], list[Any]]:
    def run(book: Rulebook, as_of: dt.date, exprs: list[Any]) -> list[Any]:
        ev = Evaluator(book, nest(facts, book.facts), as_of)
        out = []
        for e in exprs:
            try:
                out.append(None if e is None else ev.ev(e, {}))
            except (EvalError, ArithmeticError, ValueError, TypeError) as err:
                out.append(f"error: {err}")
        return out
    return run(old, old_as_of, old_exprs), run(new, new_as_of, new_exprs)


# ---- exhaustive fallback ------------------------------------------------------------------------

EXHAUSTIVE_BUDGET = 20_000


def facts_read(book: Rulebook, exprs: Iterable[Any]) -> list[str]:
    """Fact paths the expressions read, definitions and cited grounds followed."""
    out: list[str] = []
    seen: set[str] = set()
    prog = program_of(book)
    stack = [e for e in exprs if e is not None]
    while stack:
        e = stack.pop()
        for n in I.walk(e):
            if isinstance(n, I.Ref):
                name = ".".join(n.path)
                if n.resolved == "fact" and name not in out:
                    out.append(name)
                elif n.resolved == "definition" and f"def:{name}" not in seen \
                        and name in book.definitions:
                    seen.add(f"def:{name}")
                    stack.append(book.definitions[name][0].expr)
            elif isinstance(n, I.Quant):
                name = ".".join(n.source.path)
                if n.source.resolved == "fact" and name not in out:
                    out.append(name)
            elif isinstance(n, I.Applies):
                if f"applies:{n.ground}" not in seen:
                    seen.add(f"applies:{n.ground}")
                    stack.append(prog.grounds[n.ground].applies)
            elif isinstance(n, I.Holds) and n.lowered is None:
                for t in n.cite.targets:
                    if f"holds:{t}" in seen:
                        continue
                    seen.add(f"holds:{t}")
                    for k in prog.under.get(t, ()):
                        stack.append(prog.grounds[k].applies)
                    cond = book.provisions[t].unit.condition
                    if cond is not None:
                        stack.append(cond)
    return out


def _domain(books: list[Rulebook], path: str, as_of: dt.date) -> list[Any]:
    decl = next((b.facts[path] for b in books if path in b.facts), None)
    if decl is None:
        return []
    t = decl.type
    if t.base == "bool":
        return [True, False]
    if t.base == "enum":
        return [m.name for m in t.members]
    lits = [v for b in books for v in compared_literals(b, path)]
    out: list[Any] = []
    if t.base in ("int", "decimal", "money", "percent"):
        for v in lits:
            if isinstance(v, int | Decimal):
                out += [v - 1, v, v + 1]
        out = out or [0, 1]
        if t.base != "int":
            out = [Decimal(v) for v in out]
    elif t.base == "date":
        for v in lits:
            if isinstance(v, dt.date):
                out += [v - dt.timedelta(days=1), v, v + dt.timedelta(days=1)]
        out = out or [as_of]
    elif t.base == "text":
        out = [v for v in lits if isinstance(v, str)] + [""]
    elif t.base == "list":
        return [[]]
    return list(dict.fromkeys(out))


def _cases(books: list[Rulebook], paths: list[str], as_of: dt.date,
           budget: int) -> Iterable[tuple[int, dict[str, Any]]]:
    """Cases over the bounded domain, fewest known facts first."""
    doms = {p: _domain(books, p, as_of) for p in paths}
    n = 0
    for k in range(len(paths) + 1):
        for chosen in itertools.combinations(paths, k):
            for values in itertools.product(*(doms[p] for p in chosen)):
                n += 1
                if n > budget:
                    return
                yield k, dict(zip(chosen, values, strict=True))


def _complete_domain(books: list[Rulebook], paths: list[str]) -> bool:
    for p in paths:
        decl = next((b.facts[p] for b in books if p in b.facts), None)
        if decl is None or decl.type.base not in ("bool", "enum"):
            return False
    return True


def exhaustive_outcome(old: Rulebook, old_as_of: dt.date, new: Rulebook, new_as_of: dt.date,
                       name: str, max_witnesses: int = MAX_WITNESSES,
                       budget: int = EXHAUSTIVE_BUDGET) -> OutcomeCheck:
    exprs_o = [x for g in grounds_of(old).get(name, []) for x in
               (*g.when, g.requires, *g.unless)]
    exprs_n = [x for g in grounds_of(new).get(name, []) for x in
               (*g.when, g.requires, *g.unless)]
    paths = list(dict.fromkeys([*facts_read(old, exprs_o), *facts_read(new, exprs_n)]))
    chk = OutcomeCheck(name, "equivalent", "exhaustive")
    found_k: int | None = None
    loose: list[Witness] = []
    patterns: set[tuple[Any, ...]] = set()
    count = 0
    for k, facts in _cases([old, new], paths, new_as_of, budget):
        count += 1
        if found_k is not None and k > found_k:
            break
        w = _verify(old, old_as_of, new, new_as_of, name, facts, "exhaustive")
        if w is None:
            continue
        pattern = (w.old.value, w.new.value, tuple(w.old.grounds), tuple(w.new.grounds))
        if pattern in patterns:
            continue
        patterns.add(pattern)
        if w.both_determined:
            if len(chk.witnesses) < max_witnesses:
                chk.witnesses.append(w)
                found_k = k
        elif len(loose) < max_witnesses:
            loose.append(w)
    complete = count < budget and _complete_domain([old, new], paths)
    if not chk.witnesses:
        chk.witnesses = loose
    if chk.witnesses:
        chk.status = "differs"
        chk.note = f"searched {count} cases over {len(paths)} facts (fewest facts first)"
    elif complete:
        chk.note = (f"all {count} cases over {len(paths)} facts (each unknown or one of its "
                    "values) decided alike")
    else:
        chk.status = "undecided"
        chk.note = (f"no difference among {count} cases over a bounded domain (boundary "
                    "values of the rules' comparisons): not a proof")
    return chk


def _exhaustive_exprs(old: Rulebook, old_as_of: dt.date, old_exprs: list[Any],
                      new: Rulebook, new_as_of: dt.date, new_exprs: list[Any],
                      budget: int = EXHAUSTIVE_BUDGET) -> Equivalence:
    paths = list(dict.fromkeys([*facts_read(old, old_exprs), *facts_read(new, new_exprs)]))
    count = 0
    for _, facts in _cases([old, new], paths, new_as_of, budget):
        count += 1
        ov, nv = _ev_pairs(old, old_as_of, old_exprs, new, new_as_of, new_exprs, facts)
        if ov != nv:
            return Equivalence(False, "exhaustive", facts, ov, nv,
                               note=f"found after {count} cases")
    if count < budget and _complete_domain([old, new], paths):
        return Equivalence(True, "exhaustive",
                           note=f"all {count} cases over {len(paths)} facts agree")
    return Equivalence(None, "exhaustive", note=f"no difference among {count} bounded cases: "
                       "not a proof")

