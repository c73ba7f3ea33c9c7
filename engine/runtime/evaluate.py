"""evaluate: a Rulebook and a case (facts, as-of date) → outcomes with justifications.

Semantics (DESIGN.md, "Evaluation semantics"):
* Kleene three-valued logic: a missing fact is unknown (None), never false.
* Every rule naming an outcome is a *ground*; `for each item` makes each item a ground;
  `as 「…」` (準用) imports the cited provisions' grounds.
* Application-type outcomes (with an `accept`/`approve` base): refuse > may_refuse >
  undetermined > accept; every applying ground is reported, and the override of the base
  (「前項の規定にかかわらず」) is shown.
* Other outcomes take the strongest applying force, else undetermined, else not_applicable.

The evaluator records, per ground, every fact and definition it read with its value: the
explanation is a filtered view of that record, never a second computation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from yakkan.engine.core import ir as I
from yakkan.engine.core.builtins import call
from yakkan.engine.core.periods import Duration, add_months
from yakkan.engine.semantics.resolve import Rulebook
from yakkan.engine.syntax import ast as A

AGAINST = ("refuse", "requirement", "may_refuse")
BASE = ("accept", "approve")
# strongest first, for outcomes that are not application decisions
FORCE_ORDER = ("prohibition", "refuse", "requirement", "may_refuse", "deemed", "duty", "may",
               "permission", "exemption", "declaration")
FORCE_VALUE = {"prohibition": "prohibited", "requirement": "requirement_unmet"}


class EvalError(Exception):
    """A rule whose evaluation cannot proceed (e.g. adding a date to text): a rule bug."""


@dataclass
class Ground:
    """A possible reason for an outcome, as compiled from the rules."""

    id: str
    citation: str
    outcome: str
    force: str
    rule_pid: str
    when: list[I.Expr]
    requires: I.Expr | None
    unless: list[I.Expr]
    via: str | None = None
    overrides: list[str] = field(default_factory=list)


@dataclass
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


@dataclass
class OutcomeResult:
    name: str
    value: str
    kind: str  # "application" | "effect"
    grounds: list[GroundResult]
    not_applicable: list[GroundResult]
    undetermined: list[GroundResult]
    base: list[GroundResult]
    missing_facts: list[str]
    overrides: list[tuple[str, str]]


@dataclass
class Result:
    book: Rulebook
    as_of: dt.date
    outcomes: dict[str, OutcomeResult]
    facts: dict[str, Any]


# ---- compilation of grounds ------------------------------------------------------

def grounds_of(book: Rulebook) -> dict[str, list[Ground]]:
    """Outcome name → its grounds, in document order. Cached on the rulebook."""
    if "grounds" in book.cache:
        return book.cache["grounds"]
    out: dict[str, list[Ground]] = {}
    pending: list[tuple[str, A.Rule]] = []
    for pid in book.order:
        prov = book.provisions[pid]
        u = prov.unit
        if u.status != "encoded":
            continue
        overrides = [t for r in u.refs if r.verb == "notwithstanding"
                     for c in r.cites for t in c.targets]
        for rule in u.rules:
            if isinstance(rule.source, A.Mutatis):
                pending.append((pid, rule))
                continue
            base_when = [rule.when] if rule.when is not None else []
            if isinstance(rule.source, A.EachItem):
                for c in prov.children:
                    cu = book.provisions[c].unit
                    if cu.kind not in ("item", "subitem", "row") or cu.status != "encoded":
                        continue
                    when = [*base_when, cu.condition] if cu.condition is not None else \
                        [*base_when, _UNKNOWN]
                    out.setdefault(rule.outcome, []).append(Ground(
                        c, book.cite(c), rule.outcome, rule.force, pid, when, rule.requires,
                        list(rule.unless), overrides=overrides))
            else:
                when = list(base_when)
                if u.condition is not None:
                    when.append(u.condition)
                out.setdefault(rule.outcome, []).append(Ground(
                    pid, book.cite(pid), rule.outcome, rule.force, pid, when, rule.requires,
                    list(rule.unless), overrides=overrides))
    for pid, rule in pending:  # 準用: import the cited provisions' grounds
        assert isinstance(rule.source, A.Mutatis)
        targets = set(rule.source.cite.targets)
        src_outcome = rule.source.outcome or rule.outcome
        for g in list(out.get(src_outcome, [])):
            if g.rule_pid in targets or g.id in targets or _within(book, g.rule_pid, targets):
                extra = [rule.when] if rule.when is not None else []
                out.setdefault(rule.outcome, []).append(Ground(
                    g.id, f"{g.citation}（{book.cite(pid)}により準用）", rule.outcome, g.force,
                    g.rule_pid, [*g.when, *extra], g.requires, [*g.unless, *rule.unless],
                    via=pid, overrides=g.overrides))
    book.cache["grounds"] = out
    return out


def grounds_under(book: Rulebook) -> dict[str, list[Ground]]:
    """Provision id → the grounds that stand in it or in its parts (for `holds 「第2項」`,
    whose grounds are its items). Cached on the rulebook."""
    if "grounds_under" in book.cache:
        return book.cache["grounds_under"]
    out: dict[str, list[Ground]] = {}
    for gs in grounds_of(book).values():
        for g in gs:
            p: str | None = g.id
            while p is not None:
                out.setdefault(p, []).append(g)
                p = book.provisions[p].parent
    book.cache["grounds_under"] = out
    return out


def _comparisons(book: Rulebook) -> dict[str, tuple[list[Any], list[str]]]:
    """Fact path → (literals it is compared with, other facts it is compared with), over
    every ground's conditions. One scan, cached on the rulebook."""
    if "comparisons" in book.cache:
        return book.cache["comparisons"]
    out: dict[str, tuple[list[Any], list[str]]] = {}
    for gs in grounds_of(book).values():
        for g in gs:
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
    book.cache["comparisons"] = out
    return out


def compared_literals(book: Rulebook, path: str) -> list[Any]:
    """The literal values the grounds compare the fact `path` with (`x > 10` → 10): the
    boundaries a counterfactual or an exhaustive search tries."""
    return list(_comparisons(book).get(path, ([], []))[0])


def compared_facts(book: Rulebook, path: str) -> list[str]:
    """Other facts the grounds compare `path` with (`predictive_users >= full_seats`)."""
    return list(_comparisons(book).get(path, ([], []))[1])


def _within(book: Rulebook, pid: str, targets: set[str]) -> bool:
    p: str | None = pid
    while p is not None:
        if p in targets:
            return True
        p = book.provisions[p].parent
    return False


# an item in a `for each item` rule that carries no condition: unknown, reported by lint
_UNKNOWN = I.Ref(path=["__unencoded_condition__"], resolved="unknown")


# ---- the interpreter ---------------------------------------------------------------

class Evaluator:
    """Evaluates expressions over one case; records what each ground read."""

    def __init__(self, book: Rulebook, facts: dict[str, Any], as_of: dt.date):
        self.book = book
        self.facts = facts
        self.as_of = as_of
        self.defs: dict[str, Any] = {}
        self.def_reads: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
        self.values: dict[str, Any] = {}
        self.read_facts: dict[str, Any] = {}
        self.read_defs: dict[str, str | None] = {}
        self.holds_memo: dict[str, bool | None] = {}
        self.relied: list[str] = []

    # facts
    def fact(self, path: list[str]) -> Any:
        node: Any = self.facts
        for p in path:
            if not isinstance(node, dict):
                return None
            node = node.get(p)
            if node is None:
                return None
        return node

    def ev(self, e: Any, env: dict[str, Any]) -> Any:
        k = e.kind
        if k == "lit":
            return _lit(e)
        if k == "ref":
            return self.ref(e, env)
        if k == "boolop":
            vals = [self.ev(x, env) for x in e.operands]
            if e.op == "and":
                if any(v is False for v in vals):
                    return False
                return None if any(v is None for v in vals) else True
            if any(v is True for v in vals):
                return True
            return None if any(v is None for v in vals) else False
        if k == "not":
            v = self.ev(e.operand, env)
            return None if v is None else not v
        if k == "compare":
            a, b = self.ev(e.left, env), self.ev(e.right, env)
            if a is None or b is None:
                return None
            return _compare(e.op, a, b)
        if k == "member":
            a = self.ev(e.operand, env)
            opts = [self.ev(o, env) for o in e.options]
            if a is None:
                return None
            if a in [o for o in opts if o is not None]:
                return True
            return None if any(o is None for o in opts) else False
        if k == "arith":
            a, b = self.ev(e.left, env), self.ev(e.right, env)
            if a is None or b is None:
                return None
            return _arith(e.op, a, b)
        if k == "neg":
            v = self.ev(e.operand, env)
            return None if v is None else -v
        if k == "call":
            return call(e.fn, [self.ev(a, env) for a in e.args])
        if k == "quant":
            v = self.quant(e, env)
            self.values[f"@{id(e)}"] = v
            return v
        if k == "holds":
            v = self.holds(e.cite)
            self.values[f"@{id(e)}"] = v
            return v
        if k == "if":
            c = self.ev(e.cond, env)
            if c is None:
                return None
            return self.ev(e.then if c else e.orelse, env)
        raise EvalError(f"unknown expression kind {k}")

    def ref(self, e: I.Ref, env: dict[str, Any]) -> Any:
        r = e.resolved
        if r == "var" or (r is None and e.path[0] in env):
            v = env.get(e.path[0])
            for p in e.path[1:]:
                v = v.get(p) if isinstance(v, dict) else None
            return v
        name = ".".join(e.path)
        if r == "fact":
            v = self.fact(e.path)
            self.read_facts[name] = v
            self.values[name] = v
            return v
        if r == "definition":
            v = self.definition(name)
            self.values[name] = v
            return v
        if r == "enum":
            return e.path[0]
        if r == "builtin" and name == "as_of":
            self.values[name] = self.as_of
            return self.as_of
        return None

    def definition(self, name: str) -> Any:
        d, where = self.book.definitions[name]
        if name not in self.defs:
            outer = (self.values, self.read_facts)
            self.values, self.read_facts = {}, {}
            self.defs[name] = None  # a cycle reads as unknown (and is a check error)
            try:
                self.defs[name] = self.ev(d.expr, {})
            finally:
                self.def_reads[name] = (self.values, self.read_facts)
                self.values, self.read_facts = outer
        _vals, reads = self.def_reads[name]
        self.read_facts.update(reads)
        self.read_defs[name] = where
        return self.defs[name]

    def quant(self, e: I.Quant, env: dict[str, Any]) -> Any:
        src = self.ev(e.source, env)
        if src is None:
            return None
        results: list[Any] = []
        for rec in src:
            inner = dict(env)
            inner[e.var] = rec
            if e.where is not None:
                w = self.ev(e.where, inner)
                if w is None:
                    if e.q in ("count", "sum", "min", "max"):
                        return None
                    results.append(None)
                    continue
                if not w:
                    continue
            results.append(self.ev(e.body, inner) if e.body is not None else True)
        q = e.q
        if q == "all":
            if any(v is False for v in results):
                return False
            return None if any(v is None for v in results) else True
        if q == "any":
            if any(v is True for v in results):
                return True
            return None if any(v is None for v in results) else False
        if q == "count":
            if e.body is not None:
                if any(v is None for v in results):
                    return None
                return sum(1 for v in results if v)
            return len(results)
        if any(v is None for v in results):
            return None
        if q == "sum":
            total: Any = Decimal(0)
            for v in results:
                total = total + v
            return total
        if not results:
            return None
        return min(results) if q == "min" else max(results)

    def holds(self, cite: I.Citation) -> bool | None:
        """Some ground (or condition) of the cited provisions applies."""
        vals: list[bool | None] = []
        by_id = grounds_under(self.book)
        for t in cite.targets:
            self.relied.append(t)
            if t in self.holds_memo:
                vals.append(self.holds_memo[t])
                continue
            self.holds_memo[t] = None
            got: list[bool | None] = []
            for g in by_id.get(t, []):
                got.append(self.ground_applies(g))
            if not got:
                u = self.book.provisions[t].unit
                if u.condition is not None:
                    got.append(_truth(self.ev(u.condition, {})))
            v = True if any(x is True for x in got) else \
                (None if any(x is None for x in got) or not got else False)
            self.holds_memo[t] = v
            vals.append(v)
        if any(v is True for v in vals):
            return True
        return None if any(v is None for v in vals) else False

    def ground_applies(self, g: Ground) -> bool | None:
        when = _and([_truth(self.ev(w, {})) for w in g.when])
        req = _truth(self.ev(g.requires, {})) if g.requires is not None else None
        unl = [_truth(self.ev(u, {})) for u in g.unless]
        return _applies(g, when, req, unl)

    def run_ground(self, g: Ground) -> GroundResult:
        self.values, self.read_facts, self.read_defs, self.relied = {}, {}, {}, []
        whens = [_truth(self.ev(w, {})) for w in g.when]
        when = _and(whens)
        req = _truth(self.ev(g.requires, {})) if g.requires is not None else None
        unl = [_truth(self.ev(u, {})) for u in g.unless]
        return GroundResult(g, _applies(g, when, req, unl), when, req, unl, self.values,
                            self.read_facts, self.read_defs, self.relied)


def _applies(g: Ground, when: bool | None, req: bool | None, unl: list[bool | None]) -> \
        bool | None:
    cond = when
    if g.force == "requirement" and g.requires is not None:
        cond = _and([when, None if req is None else not req])
    if any(u is True for u in unl):
        return False
    if cond is False:
        return False
    if any(u is None for u in unl):
        return None
    return cond


def _truth(v: Any) -> bool | None:
    if v is None:
        return None
    if isinstance(v, bool):
        return v
    raise EvalError(f"a condition gave {v!r}, not true/false")


def _and(vals: list[bool | None]) -> bool | None:
    if any(v is False for v in vals):
        return False
    return None if any(v is None for v in vals) else True


def _lit(e: I.Lit) -> Any:
    if e.type == "duration":
        n = int(e.value)  # type: ignore[arg-type]
        unit = e.unit or "day"
        if unit in ("second", "minute", "hour"):
            return Duration(seconds=n * {"second": 1, "minute": 60, "hour": 3600}[unit])
        if unit == "day":
            return Duration(days=n)
        return Duration(months=n * (12 if unit == "year" else 1))
    if e.type == "percent":
        return Decimal(e.value) / 100  # type: ignore[arg-type]
    return e.value


def _dur_key(d: Duration) -> tuple[int, int]:
    return (d.months, d.days * 86400 + d.seconds)


def _compare(op: str, a: Any, b: Any) -> bool:
    if isinstance(a, Duration) and isinstance(b, Duration):
        a, b = _dur_key(a), _dur_key(b)
    elif isinstance(a, Duration) and isinstance(b, int | Decimal):
        a = a.seconds + a.days * 86400
    try:
        if op == "==":
            return bool(a == b)
        if op == "!=":
            return bool(a != b)
        if op == "<":
            return bool(a < b)
        if op == "<=":
            return bool(a <= b)
        if op == ">":
            return bool(a > b)
        return bool(a >= b)
    except TypeError as err:
        raise EvalError(f"cannot compare {a!r} {op} {b!r}") from err


def _arith(op: str, a: Any, b: Any) -> Any:
    if isinstance(a, dt.date) and isinstance(b, Duration):
        if b.months:
            a = add_months(a, b.months if op == "+" else -b.months)
        days = b.days + b.seconds // 86400
        return a + dt.timedelta(days=days if op == "+" else -days)
    if isinstance(a, dt.date) and isinstance(b, dt.date) and op == "-":
        return (a - b).days
    if isinstance(a, dt.date) and isinstance(b, int):
        return a + dt.timedelta(days=b if op == "+" else -b)
    if isinstance(a, Duration) and isinstance(b, Duration):
        sign = 1 if op == "+" else -1
        return Duration(seconds=a.seconds + sign * b.seconds, days=a.days + sign * b.days,
                        months=a.months + sign * b.months)
    if isinstance(a, float) or isinstance(b, float):
        a, b = Decimal(str(a)), Decimal(str(b))
    if (isinstance(a, int) and isinstance(b, Decimal)) or (isinstance(a, Decimal) and \
            isinstance(b, int)):
        a, b = Decimal(a), Decimal(b)
    try:
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if b == 0:
            return None
        return Decimal(a) / Decimal(b)
    except TypeError as err:
        raise EvalError(f"cannot compute {a!r} {op} {b!r}") from err


# ---- outcomes ------------------------------------------------------------------------

def decide(name: str, results: list[GroundResult]) -> OutcomeResult:
    base = [r for r in results if r.ground.force in BASE]
    rest = [r for r in results if r.ground.force not in BASE]
    applying = [r for r in rest if r.applies is True]
    unknown = [r for r in rest if r.applies is None]
    na = [r for r in rest if r.applies is False]
    missing = _missing(unknown)
    overrides: list[tuple[str, str]] = []
    if base:
        forces = {r.ground.force for r in applying}
        base_ok = _and([r.applies for r in base]) if base else None
        if forces & {"refuse", "requirement"}:
            value = "refuse"
        elif "may_refuse" in forces:
            value = "may_refuse"
        elif unknown:
            value = "undetermined"
        elif base_ok is None:
            value = "undetermined"
            missing = _missing([r for r in base if r.applies is None])
        elif base_ok:
            value = base[0].ground.force
        else:
            value = "not_applicable"
        if value in ("refuse", "may_refuse"):
            for r in applying:
                for o in r.ground.overrides:
                    overrides.append((r.ground.rule_pid, o))
        kind = "application"
    else:
        kind = "effect"
        # 「前項の規定にかかわらず」: an applying ground sets aside the grounds it overrides
        beaten = [r for r in applying for w in applying if w is not r and _overrides(w, r)]
        for r in beaten:
            w = next(w for w in applying if w is not r and _overrides(w, r))
            overrides.append((w.ground.rule_pid, r.ground.rule_pid))
        applying = [r for r in applying if r not in beaten]
        na = na + beaten
        value = "not_applicable"
        for f in FORCE_ORDER:
            if any(r.ground.force == f for r in applying):
                value = FORCE_VALUE.get(f, f)
                break
        else:
            if unknown:
                value = "undetermined"
    return OutcomeResult(name, value, kind, applying, na, unknown, base, missing,
                         sorted(set(overrides)))


def _overrides(winner: GroundResult, other: GroundResult) -> bool:
    ids = (other.ground.id, other.ground.rule_pid)
    return any(i == o or i.startswith(o + "/") for o in winner.ground.overrides for i in ids)


def _missing(unknown: list[GroundResult]) -> list[str]:
    out: list[str] = []
    for r in unknown:
        for path, v in r.facts.items():
            if v is None and path not in out:
                out.append(path)
    return out


def evaluate(book: Rulebook, facts: dict[str, Any], as_of: dt.date,
             outcomes: list[str] | None = None) -> Result:
    """Evaluate every outcome (or the named ones) for one case."""
    ev = Evaluator(book, facts, as_of)
    compiled = grounds_of(book)
    out: dict[str, OutcomeResult] = {}
    for name, gs in compiled.items():
        if outcomes is not None and name not in outcomes:
            continue
        out[name] = decide(name, [ev.run_ground(g) for g in gs])
    return Result(book, as_of, out, facts)
