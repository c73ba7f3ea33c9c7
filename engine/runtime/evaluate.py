"""evaluate: a DecisionProgram and a case (facts, as-of date) → outcomes, with a typed trace.

The reference interpreter of the program compiled by `semantics/program.py`: it decides
nothing by itself — grounds, overrides and each outcome's decision rule are expressions of
the program, and this module only says what each kind of node means (DESIGN.md,
"Evaluation semantics"):

* Kleene three-valued logic: a fact left out of the case is unknown (`None`), never false;
  a fact stated as absent (`values.ABSENT`) is known: it orders nothing and equals nothing.
* `Applies` is a ground's applicability (memoised per evaluation; a cycle reads as
  unknown and is a check error); `Holds` evaluates its lowered form.
* `Priority` (an outcome's decision rule) is Kleene-exact over its branches: it gives the
  set of values the outcome may take; the outcome is stated only when that set has one
  member, and is otherwise `undetermined`, bounded by that set.

Every step worth citing is emitted as a typed `trace.Event`; per ground the interpreter also
keeps the projection of those events that an explanation shows (`GroundResult`: the values
of its nodes, the facts and definitions it read, the provisions it relied on).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, assert_never

from yakkan.engine.core import ir as I
from yakkan.engine.core.builtins import call
from yakkan.engine.core.kinds import FORCES_AGAINST, Value
from yakkan.engine.core.memo import per_object
from yakkan.engine.core.values import ABSENT
from yakkan.engine.runtime.ops import (
    EvalError,
    arith_value,
    compare,
    fact_at,
    fold,
    kleene_and,
    kleene_or,
    literal,
    member,
    negate,
    possible,
    truth,
)
from yakkan.engine.runtime.trace import EventKind, Trace
from yakkan.engine.semantics.program import (
    UNDETERMINED,
    DecisionProgram,
    Ground,
    program_of,
)
from yakkan.engine.semantics.resolve import Rulebook

if TYPE_CHECKING:
    from yakkan.engine.runtime.recording import Recording

__all__ = [
    "RECORDS",
    "Comparison",
    "EvalError",
    "Evaluator",
    "GroundResult",
    "OutcomeResult",
    "Record",
    "RecordResult",
    "Result",
    "compared_facts",
    "compared_literals",
    "evaluate",
    "grounds_of",
]


# builtins whose evaluations inside a record are shown with it (`Comparison`)
COMPARING = frozenset({"same_name", "present"})
# the key under which a quantifier's records are kept in a Record's values: `<nid>#records`
RECORDS = "#records"
# what one record of a quantifier gives besides its body's value (`Evaluator._record`)
STOP = object()  # an unknown `where` of count/sum/min/max: the whole quantifier is unknown
SKIP = object()  # a record `where` leaves out


@dataclass
class Comparison:
    """A comparison evaluated for one record of `all`/`any`: the node (`Compare`, or a call
    of `same_name`/`present`), its operands' values and its value."""

    node: Any
    values: list[Any]
    value: Any


@dataclass
class RecordResult:
    """One record of `all`/`any` as evaluated: its index (0-based), the record, the body's
    value and the comparisons evaluated for it (only the branch an `if` took)."""

    index: int
    record: Any
    value: Any
    comparisons: list[Comparison]


@dataclass(slots=True)  # (slots: one is made per ground, definition and charge line)
class Record:
    """What one ground (or one charge line) read: node values (by fact path, definition name
    and node id), facts, definitions (name → the provision defining it) and the provisions it
    relied on (`holds`)."""

    values: dict[str, Any] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)
    definitions: dict[str, str | None] = field(default_factory=dict)
    relied: list[str] = field(default_factory=list)

    def __init__(self) -> None:  # (written out: the generated one calls a factory a field)
        self.values, self.facts, self.definitions, self.relied = {}, {}, {}, []

    def absorb(self, other: Record) -> None:
        """What a cited ground read is part of what the citing one relied on."""
        self.values.update(other.values)
        self.facts.update(other.facts)
        self.definitions.update(other.definitions)
        _merge_relied(self.relied, other.relied)


def _merge_relied(relied: list[str], more: Iterable[str]) -> None:
    """Add to `relied` the provisions of `more` it does not list yet, in their order."""
    for r in more:
        if r not in relied:
            relied.append(r)


class _Unkept(Record):
    """The record of a decision rule's own evaluation, which nobody reads: what its grounds
    read is kept with each ground, so it is not copied here as well."""

    __slots__ = ()

    def absorb(self, other: Record) -> None:
        pass


@dataclass(slots=True)
class GroundResult:
    ground: Ground
    applies: bool | None
    when_value: bool | None
    requires_value: bool | None
    unless_values: list[bool | None]
    values: dict[str, Any]
    facts: dict[str, Any]
    definitions: dict[str, str | None]
    relied_on: list[str]


@dataclass(slots=True)
class OutcomeResult:
    name: str
    value: Value
    kind: str  # "application" | "effect"
    grounds: list[GroundResult]  # applying (and not set aside)
    not_applicable: list[GroundResult]  # not applying, or set aside by an override
    undetermined: list[GroundResult]
    base: list[GroundResult]
    missing_facts: list[str]  # unknown facts that can change the value
    overrides: list[tuple[str, str]]  # (overriding provision, overridden provision)
    possible: list[Value] = field(default_factory=list)  # the values it may take, strongest first
    # for an undetermined outcome: each value it may take, with the keys of the grounds still
    # unknown that would give it (the last value is what it is at least, in the force order)
    open: list[tuple[str, list[str]]] = field(default_factory=list)

    @property
    def determinate(self) -> bool:
        return self.value != UNDETERMINED


@dataclass
class Result:
    book: Rulebook
    as_of: dt.date
    outcomes: dict[str, OutcomeResult]
    facts: dict[str, Any]
    trace: Trace | None = None
    # every definition the evaluation computed (those the outcomes read, and the program's
    # side-by-side classifications), by name
    definitions: dict[str, Any] = field(default_factory=dict)
    # the interpreter that produced this result, with what it computed (definitions,
    # grounds): later readers of the same case — the charges — continue it, so their steps
    # join the same trace and nothing is evaluated twice
    evaluator: Evaluator | None = field(default=None, repr=False, compare=False)


def grounds_of(book: Rulebook) -> dict[str, list[Ground]]:
    """Outcome name → its grounds, in document order (from the compiled program)."""
    return program_of(book).by_outcome()


# ---- the interpreter ---------------------------------------------------------------------------

class Evaluator:
    """Evaluates the program's expressions over one case."""

    def __init__(self, book: Rulebook, facts: dict[str, Any], as_of: dt.date,
                 trace: Trace | None = None, recording: Recording | None = None):
        self.book = book
        # the rulebook's recording functions (`runtime/recording.py`), or None: every
        # expression interpreted node by node (`part`)
        self.recording = recording
        self.program: DecisionProgram = program_of(book)
        self.facts = facts
        self.as_of = as_of
        self.trace = trace
        self.rec = Record()
        self.unkept = _Unkept()  # what each decision rule reads (`decide`): one for all
        self.parent: str | None = None
        self.defs: dict[str, Any] = {}
        self.def_reads: dict[str, Record] = {}
        self.def_lists: dict[str, dict[str, Any]] = {}  # the RECORDS values of each
        # each definition's value, and what a reader takes into its record: the facts and
        # definitions it read (itself among them, with the provision defining it), their
        # values and lists compared record by record, the provisions it relied on
        self.def_merges: dict[str, tuple[Any, dict[str, Any], dict[str, str | None],
                                         dict[str, Any], list[str]]] = {}
        self.applies_memo: dict[str, bool | None] = {}
        self.unknowns: dict[str, bool] = {}  # fact path → whether the case leaves it unknown
        self.results: dict[str, GroundResult] = {}
        self.ground_recs: dict[str, Record] = {}
        # inside a record of `all`/`any`: the comparisons evaluated for it, so an explanation
        # can show a list line by line (`Comparison`, `RECORDS`)
        self.sink: list[Comparison] | None = None
        # id(quantifier) → what each of its records gave (a value, `SKIP` or `STOP`), for
        # the quantifiers a reader asks to see record by record (a charge line's breakdown)
        self.kept: dict[int, list[Any]] | None = None

    def fresh(self) -> Record:
        """Start a new record (a charge line, a definition asked for by itself)."""
        self.rec = Record()
        return self.rec

    # facts
    def fact(self, path: list[str]) -> Any:
        return fact_at(self.facts, path)

    def part(self, e: I.Expr) -> Any:
        """A top-level expression's value — a ground's condition, requirement or proviso, a
        decision rule's branch, a definition's body — recorded as `ev` records it: by its
        recording function where the evaluator has them, else node by node."""
        r = self.recording
        return self.ev(e, {}) if r is None else r.fn(e)(self, {})

    def ev(self, e: I.Expr, env: dict[str, Any]) -> Any:
        # the cases are tried in order, so the kinds a program is mostly made of come first
        # (names, connectives, grounds' applicability); the kinds are disjoint, so the order
        # means nothing else
        match e:
            case I.Ref():
                return self.ref(e, env)
            case I.BoolOp():
                # every operand is evaluated (why and why-not show each), then Kleene's and/or
                vals: list[bool | None] = []  # (a loop: a comprehension is a call each)
                for x in e.operands:
                    vals.append(truth(self.ev(x, env)))
                return kleene_and(vals) if e.op == "and" else kleene_or(vals)
            case I.Applies():
                v = self.applies(e.ground)
                self.note(e, v)
                return v
            case I.Not():
                v = truth(self.ev(e.operand, env))
                return None if v is None else not v
            case I.Compare():
                a, b = self.ev(e.left, env), self.ev(e.right, env)
                v = None if a is None or b is None else compare(e.op, a, b)
                if self.sink is not None:
                    self.sink.append(Comparison(e, [a, b], v))
                return v
            case I.Lit():
                return literal(e)
            case I.IfThen():
                c = truth(self.ev(e.cond, env))
                if c is None:
                    return None
                return self.ev(e.then if c else e.orelse, env)
            case I.Call():
                args = [self.ev(a, env) for a in e.args]
                v = call(e.fn, args)
                if self.sink is not None and e.fn in COMPARING:
                    self.sink.append(Comparison(e, args, v))
                return v
            case I.Quant():
                v = self.quant(e, env)
                self.note(e, v)
                return v
            case I.Holds():
                _merge_relied(self.rec.relied, e.cite.targets)
                v = truth(self.ev(e.lowered, env)) if e.lowered is not None else None
                self.note(e, v)
                return v
            case I.MemberOf():
                a = self.ev(e.operand, env)
                return member(a, [self.ev(o, env) for o in e.options])
            case I.Arith():
                a, b = self.ev(e.left, env), self.ev(e.right, env)
                return arith_value(e.op, a, b)
            case I.Neg():
                return negate(self.ev(e.operand, env))
            case I.Priority():
                return self.priority(e)
            case _:
                assert_never(e)

    def note(self, e: I.Expr, v: Any) -> None:
        key = e.nid or f"@{id(e)}"
        self.rec.values[key] = v
        if self.trace is not None:
            self.trace.emit(EventKind.VALUE, key, self.parent, v)

    def ref(self, e: I.Ref, env: dict[str, Any]) -> Any:
        r = e.resolved
        if r == "fact":  # (the kinds are tested most frequent first)
            name = ".".join(e.path)
            v = fact_at(self.facts, e.path)
            rec = self.rec
            rec.facts[name] = v
            rec.values[name] = v
            if self.trace is not None:
                self.trace.emit(EventKind.FACT, e.nid or name, self.parent, v, name)
            return v
        if r == "definition":
            name = ".".join(e.path)
            v = self.definition(name)
            self.rec.values[name] = v
            return v
        if r == "enum":
            return e.path[0]
        if r == "var" or (r is None and e.path[0] in env):
            v = env.get(e.path[0])
            for p in e.path[1:]:
                v = v.get(p) if isinstance(v, dict) else None
            return v
        if r == "builtin" and ".".join(e.path) == "as_of":
            self.rec.values["as_of"] = self.as_of
            return self.as_of
        return None

    def definition(self, name: str) -> Any:
        merge = self.def_merges.get(name)
        if merge is None:
            if name in self.defs:  # being defined: a cycle reads as unknown (a check error)
                return None
            merge = self._define(name)
        rec = self.rec
        if rec.__class__ is _Unkept:
            return merge[0]
        # what the definition read is part of what the reader read
        v, facts, definitions, values, relied = merge
        rec.facts.update(facts)
        rec.definitions.update(definitions)
        rec.values.update(values)
        if relied:
            _merge_relied(rec.relied, relied)
        return v

    def _define(self, name: str) -> tuple[Any, dict[str, Any], dict[str, str | None],
                                           dict[str, Any], list[str]]:
        """Evaluate a definition, once per case, with a record of its own; what a reader of
        it takes into its own record (`def_merges`)."""
        outer = self.rec
        self.rec = Record()
        defs = self.defs
        defs[name] = None  # a cycle reads as unknown (and is a check error)
        try:
            defs[name] = self.part(self.program.definitions[name])
        finally:
            reads = self.def_reads[name] = self.rec
            self.rec = outer
        if self.trace is not None:
            self.trace.emit(EventKind.DEFINITION, f"def:{name}", self.parent,
                            defs[name], name)
        # a list the definition compared record by record is shown with the ground
        # using it
        lists = self.def_lists[name] = {k: v for k, v in reads.values.items()
                                        if k.endswith(RECORDS)}
        values = {n: defs.get(n) for n in reads.definitions}
        values.update(lists)
        merge = self.def_merges[name] = (
            defs[name], reads.facts, {**reads.definitions, name: self.book.definitions[name][1]},
            values, reads.relied)
        return merge

    def quant(self, e: I.Quant, env: dict[str, Any]) -> Any:
        src = self.ev(e.source, env)
        if src is None:
            return None
        if src is ABSENT:
            src = []
        results: list[Any] = []
        shown: list[RecordResult] | None = [] if e.q in ("all", "any") else None
        outer_sink = self.sink
        var = e.var
        try:
            for i, rec in enumerate(src):
                inner = {**env, var: rec}
                self.sink = [] if shown is not None else outer_sink
                r = self._record(e, inner)
                kept = self.kept.get(id(e)) if self.kept is not None else None
                if kept is not None:
                    kept.append(r)
                if r is STOP:
                    return None
                if r is SKIP:
                    continue
                results.append(r)
                if shown is not None:
                    shown.append(RecordResult(i, rec, r, self.sink or []))
        finally:
            self.sink = outer_sink
        if shown is not None:
            self.rec.values[f"{e.nid or id(e)}{RECORDS}"] = shown
        return fold(e.q, e.body is not None, results)

    def _record(self, e: I.Quant, inner: dict[str, Any]) -> Any:
        """One record of a quantifier: its body's value; `SKIP` when `where` leaves it
        out; `STOP` when an unknown `where` makes a count, sum, min or max unknown."""
        if e.where is not None:
            w = truth(self.ev(e.where, inner))
            if w is None:
                return STOP if e.q in ("count", "sum", "min", "max") else None
            if not w:
                return SKIP
        return self.ev(e.body, inner) if e.body is not None else True

    # grounds and decisions
    def applies(self, key: str) -> bool | None:
        """Whether ground `key` applies; its record is kept and absorbed by the caller."""
        memo = self.applies_memo
        if key in memo:
            rec = self.ground_recs.get(key)
            if rec is not None:
                self.rec.absorb(rec)
            return memo[key]
        if self.recording is not None:  # the same steps, by the ground's function
            return self.recording.ground(key)(self)
        memo[key] = None  # a cycle through `holds` reads as unknown
        g = self.program.grounds[key]
        outer, outer_parent = self.rec, self.parent
        self.rec, self.parent = Record(), key
        if self.trace is not None:
            self.trace.emit(EventKind.ENTER, key, outer_parent)
        # each part is evaluated once, in the order the text states them (when, requires,
        # unless); `connectives` then joins their values, by the part's identity
        parts: dict[int, bool | None] = {}
        whens: list[bool | None] = []
        unl: list[bool | None] = []
        try:
            for w in g.when:
                x = parts[id(w)] = truth(self.part(w))
                whens.append(x)
            req = truth(self.part(g.requires)) if g.requires is not None else None
            for u in g.unless:
                x = parts[id(u)] = truth(self.part(u))
                unl.append(x)
            if g.requires is not None:
                parts[id(g.requires)] = req
            v = self.connectives(g.applies, parts)
        finally:
            rec = self.rec
            self.rec, self.parent = outer, outer_parent
        memo[key] = v
        self.ground_recs[key] = rec
        self.results[key] = GroundResult(g, v, kleene_and(whens), req, unl, rec.values, rec.facts,
                                         rec.definitions, rec.relied)
        if self.trace is not None:
            self.trace.emit(EventKind.GROUND, key, outer_parent, v)
        outer.absorb(rec)
        return v

    def connectives(self, e: I.Expr, parts: dict[int, bool | None]) -> bool | None:
        """A ground's applicability (`Ground.applies`: its parts joined by and/not/or) from
        the values of its parts already evaluated — each part read once, as a reader would;
        anything else in it is evaluated."""
        if id(e) in parts:
            return parts[id(e)]
        if isinstance(e, I.BoolOp):
            vals: list[bool | None] = []
            for part in e.operands:
                vals.append(self.connectives(part, parts))
            return kleene_and(vals) if e.op == "and" else kleene_or(vals)
        if isinstance(e, I.Not):
            x = self.connectives(e.operand, parts)
            return None if x is None else not x
        return truth(self.part(e))

    def priority(self, p: I.Priority) -> tuple[Value, ...]:
        """The values the decision may take (Kleene-exact over its branches)."""
        return _rule_values(p, self.conditions(p))

    def conditions(self, p: I.Priority) -> list[bool | None]:
        """The values of a decision rule's branch conditions, in order."""
        conds: list[bool | None] = []
        for b in p.branches:
            conds.append(truth(self.part(b.cond)))
        return conds

    def decide(self, name: str) -> OutcomeResult:
        """An outcome: evaluate its decision rule, then sort its grounds for the reader."""
        d = self.program.decisions[name]
        rule = d.rule
        outer, self.rec, self.parent = self.rec, self.unkept, f"outcome:{name}"
        try:
            for k in d.grounds:  # every ground is evaluated, for why and why-not
                self.applies(k)
            conds = self.conditions(rule)
            values = _rule_values(rule, conds)
        finally:
            self.rec, self.parent = outer, None
        value = values[0] if len(values) == 1 else UNDETERMINED
        res = self.results  # (every ground of d among them: base and overrides are of d.grounds)
        # 「…にかかわらず」 shown where both apply: an effect's overridden ground is set aside;
        # an application's refusal is shown over the provision it overrides (承諾する)
        set_aside: set[str] = set()
        overrides: list[tuple[str, str]] = []
        if d.kind == "effect":
            for w, k in d.overrides:
                if res[w].applies is True and res[k].applies is True:
                    set_aside.add(k)
                    overrides.append((res[w].ground.rule_pid, res[k].ground.rule_pid))
                    if self.trace is not None:
                        self.trace.emit(EventKind.OVERRIDE, k, f"outcome:{name}", None, w)
        else:
            overrides = [(res[k].ground.rule_pid, o) for k in d.grounds if k not in d.base
                         and res[k].applies is True and res[k].ground.force in FORCES_AGAINST
                         for o in res[k].ground.overrides]
        base = [res[k] for k in d.base]
        # the other grounds, in document order: applying (and not set aside), not applying
        # (or set aside: only an applying ground is), unknown
        applying: list[GroundResult] = []
        na: list[GroundResult] = []
        unknown: list[GroundResult] = []
        for k in d.grounds:
            if k in d.base:
                continue
            r = res[k]
            if r.applies is None:
                unknown.append(r)
            elif r.applies is True and r.ground.key not in set_aside:
                applying.append(r)
            else:
                na.append(r)
        missing, open_ = ([], []) if value != UNDETERMINED else self._open(rule, conds)
        if self.trace is not None:
            self.trace.emit(EventKind.DECIDE, f"outcome:{name}", None, values, value)
        return OutcomeResult(name, value, d.kind, applying, na, unknown, base, missing,
                             sorted(set(overrides)), list(values), open_)

    def _open(self, rule: I.Priority, conds: list[bool | None]) -> \
            tuple[list[str], list[tuple[str, list[str]]]]:
        """For an undetermined outcome: the unknown facts that can change it (those the
        unknown grounds of the branches still open, before the first that holds, read —
        `DecisionProgram.reads`), and
        each value it may take with the unknown grounds that would give it. `conds`: the
        values of the branch conditions, as `decide` found them (every ground they read
        memoised by then, so evaluating them again gives the same)."""
        missing: dict[str, None] = {}  # (in the order found)
        reads = self.program.reads
        memo = self.applies_memo
        unknowns = self.unknowns
        open_: list[tuple[str, list[str]]] = []
        for b, c, grounds in zip(rule.branches, conds, _branch_grounds(self.book, rule),
                                 strict=True):
            if c is False:
                continue
            if c is True:
                open_.append((b.value, []))
                return list(missing), open_
            keys = [k for k in grounds if memo.get(k) is None]
            open_.append((b.value, keys))
            for k in keys:
                for path in reads[k]:
                    u = unknowns.get(path)
                    if u is None:
                        u = self.unknown(path)
                    if u:
                        missing[path] = None
        open_.append((rule.default, []))
        return list(missing), open_

    def unknown(self, path: str) -> bool:
        """Whether the case leaves the fact at `path` unknown (kept for the evaluation)."""
        u = self.unknowns.get(path)
        if u is None:
            u = self.unknowns[path] = fact_at(self.facts, path.split(".")) is None
        return u


def _branch_grounds(book: Rulebook, rule: I.Priority) -> list[tuple[str, ...]]:
    """Each branch's grounds of a decision rule, in the order of its condition (kept with
    the rulebook)."""
    return per_object(book.derived.branch_grounds, rule, lambda: [
        tuple(n.ground for n in I.walk(b.cond) if isinstance(n, I.Applies))
        for b in rule.branches])


def _rule_values(p: I.Priority, conds: list[bool | None]) -> tuple[Value, ...]:
    """The values a decision rule may take, from its branch conditions' values."""
    return possible(conds, [b.value for b in p.branches], p.default)


# ---- entry point -------------------------------------------------------------------------------

def evaluate(book: Rulebook, facts: dict[str, Any], as_of: dt.date,
             outcomes: list[str] | None = None, trace: bool = False,
             node_by_node: bool = False) -> Result:
    """Evaluate every outcome (or the named ones) for one case: by the rulebook's recording
    functions once it has them (`runtime/recording.py`: the same result), node by node where
    it has not, with `trace` (the trace is always the interpreter's own) or `node_by_node`."""
    from yakkan.engine.runtime.recording import recording_of  # (it compiles what ev does)
    tr = Trace() if trace else None
    ev = Evaluator(book, facts, as_of, tr,
                   None if trace or node_by_node else recording_of(book))
    out: dict[str, OutcomeResult] = {}
    for name in ev.program.decisions:
        if outcomes is not None and name not in outcomes:
            continue
        out[name] = ev.decide(name)
    if outcomes is None:  # the side-by-side classifications, for the overlap warning
        for names in ev.program.class_groups.values():
            for n in names:
                ev.definition(n)
    return Result(book, as_of, out, facts, tr, dict(ev.defs), ev)


# ---- what the grounds compare facts with (for counterfactuals and exhaustive search) -----------

def _comparisons(book: Rulebook) -> dict[str, tuple[list[Any], list[str]]]:
    """Fact path → (literals it is compared with, other facts it is compared with), over
    every ground's conditions. One scan, cached on the rulebook."""
    if book.derived.comparisons is not None:
        return book.derived.comparisons
    out: dict[str, tuple[list[Any], list[str]]] = {}
    for g in program_of(book).grounds.values():
        for e in (*g.when, g.requires, *g.unless):
            if e is None:
                continue
            for n in I.walk(e):
                if not isinstance(n, I.Compare):
                    continue
                for a, c in ((n.left, n.right), (n.right, n.left)):
                    if not isinstance(a, I.Ref):
                        continue
                    lits, refs = out.setdefault(".".join(a.path), ([], []))
                    if isinstance(c, I.Lit) and not isinstance(c.value, bool):
                        lits.append(c.value)
                    elif isinstance(c, I.Ref) and c.resolved == "fact":
                        refs.append(".".join(c.path))
    book.derived.comparisons = out
    return out


def compared_literals(book: Rulebook, path: str) -> list[Any]:
    """The literal values the grounds compare the fact `path` with (`x > 10` → 10): the
    boundaries a counterfactual or an exhaustive search tries."""
    return list(_comparisons(book).get(path, ([], []))[0])


def compared_facts(book: Rulebook, path: str) -> list[str]:
    """Other facts the grounds compare `path` with (`predictive_users >= full_seats`)."""
    return list(_comparisons(book).get(path, ([], []))[1])



def broken_assumptions(book: Rulebook, facts: dict[str, Any], as_of: dt.date) -> list[str]:
    """The names of the document's assumptions (`assume NAME "label" = EXPR`) that the case
    (nested facts) breaks: the expression is false. Unknown is not broken; an assumption the
    interpreter cannot evaluate for this case counts as broken (never silently kept)."""
    if not book.doc.assumptions:
        return []
    out = []
    ev = Evaluator(book, facts, as_of)  # one case: definitions evaluated once for all
    for a in book.doc.assumptions:
        try:
            v = ev.ev(a.expr, {})
        except (EvalError, ArithmeticError, TypeError, ValueError):
            v = False
        if v is False:
            out.append(a.name)
    return out


# ---- record by record (charges' breakdowns, the semantic diff's charge witnesses) -----------

def records_in(ev: Evaluator, e: I.Expr | None) -> list[tuple[I.Quant, str, list[Any]]]:
    """The outermost quantifiers over list facts in an expression — looking through the
    definitions it uses (違約金 counts lines through `lines_ended_within_minimum_period`) —
    with the records of their list."""
    out: list[tuple[I.Quant, str, list[Any]]] = []
    if e is None:
        return out
    for n in outer_quantifiers(ev.book, e):
        src = ev.fact(n.source.path) if n.source.resolved == "fact" else None
        if isinstance(src, list):
            out.append((n, ".".join(n.source.path), src))
    return out


def outer_quantifiers(book: Rulebook, e: I.Expr) -> tuple[I.Quant, ...]:
    """The outermost quantifiers of an expression, looking through the definitions it uses
    (nested quantifiers are summarised by their outer one). Kept per expression with the
    rulebook: explanations ask for every ground of every outcome."""
    return per_object(book.derived.quantifiers, e, lambda: _outer_quantifiers(book, e))


def _outer_quantifiers(book: Rulebook, e: I.Expr) -> tuple[I.Quant, ...]:
    out: list[I.Quant] = []
    seen: set[str] = set()
    stack: list[Any] = [e]
    while stack:
        n = stack.pop()
        if isinstance(n, I.Quant):
            out.append(n)
            continue
        if isinstance(n, I.Ref) and n.resolved == "definition":
            name = ".".join(n.path)
            if name not in seen and name in book.definitions:
                seen.add(name)
                stack.append(book.definitions[name][0].expr)
            continue
        stack.extend(reversed(I.children(n)))
    return tuple(out)


def breakdown(ev: Evaluator, e: I.Expr | None) -> list[dict[str, Any]]:
    """Per record of a `sum`/`count` in the amount (each call, each line): whether the
    `where` takes it and what its body gives — the same interpreter, record by record."""
    saved = ev.rec
    out: list[dict[str, Any]] = []
    try:
        for q, name, src in records_in(ev, e):
            if q.q not in ("sum", "count"):
                continue
            for i, rec in enumerate(src):
                env = {q.var: rec}
                ev.fresh()
                try:
                    w = ev.ev(q.where, env) if q.where is not None else True
                    b = ev.ev(q.body, env) if q.body is not None and w is not False else None
                except (EvalError, ArithmeticError, TypeError, ValueError):
                    w, b = None, None
                if q.body is None and w is True:
                    b = 1  # counted
                out.append({"path": f"{name}[{i}]", "record": rec, "included": w,
                            "value": b if w is not False else None, "q": q.q})
    finally:
        ev.rec = saved
    return out


def missing_fields(ev: Evaluator, e: I.Expr | None) -> list[str]:
    """Fields of list records that a quantifier could not decide for want of a value
    (`calls[1].duration`): the record-level facts still needed.

    Only records whose `where` or body is unknown are listed, with the fields of that record
    the sub-expression reads and the case leaves unknown (re-evaluated by the same
    interpreter, record by record; its records of values are left as they were)."""
    if e is None:
        return []
    saved = ev.rec
    out: list[str] = []
    try:
        for n, name, src in records_in(ev, e):
            for i, rec in enumerate(src):
                env = {n.var: rec}
                for sub in (n.where, n.body):
                    if sub is None:
                        continue
                    ev.fresh()
                    try:
                        v = ev.ev(sub, env)
                    except (EvalError, ArithmeticError, TypeError, ValueError):
                        v = None
                    if v is not None:
                        if sub is n.where and v is False:
                            break  # a record the where excludes: its body is not needed
                        continue
                    for r in I.walk(sub):
                        if isinstance(r, I.Ref) and len(r.path) == 2 and r.path[0] == n.var \
                                and (not isinstance(rec, dict) or rec.get(r.path[1]) is None):
                            m = f"{name}[{i}].{r.path[1]}"
                            if m not in out:
                                out.append(m)
                    break
    finally:
        ev.rec = saved
    return out
