"""compile: Rulebook → DecisionProgram, the one semantics every backend consumes.

The surface language says *what the text says* (rules with a force, `for each item`, 準用,
ただし書, 「前項の規定にかかわらず」, `holds 「…」`); this pass says *what that means* as
expressions of the one typed IR (`core/ir.py`), the way Catala lowers its surface language to
a default calculus:

* a **ground** is one possible reason for an outcome (a rule, or one item of a
  `for each item` rule, or a ground imported by 準用); its applicability is one expression:
  ``when₁ ∧ … ∧ [¬requires] ∧ ¬(unless₁ ∨ …)`` (Kleene);
* `holds 「…」` is lowered to the disjunction of `Applies` of the cited grounds (or the cited
  unit's own condition);
* each **outcome's decision rule** is a `Priority` expression over the grounds: the force
  lattice, strongest first (refuse/requirement > may_refuse > accept for applications;
  prohibition > refuse > … > exemption > declaration for other effects), each level the
  disjunction of its grounds, a ground set aside where a ground that overrides it
  (「…にかかわらず」) applies. An override by a ground of the same or a stronger level can
  never change the value (that ground's own level already decides), so it is left out of
  the decision — the explanation still shows it — and cannot make an outcome needlessly
  undetermined.

`Priority` is Kleene-exact over its branches (see `ir.Priority`): an outcome is stated only
when every completion of the unknown facts gives the same value; otherwise it is
undetermined, with the values it may take.

Every node of the program is a copy of the rulebook's (the rulebook is not changed) with a
stable id (`nid`, ``<root>/<pre-order index>``) and its type (`ty`). The interpreter
(`runtime/evaluate.py`) and the z3 encoder (`analysis/smt.py`) take only this program.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from yakkan.engine.core import ir as I
from yakkan.engine.core.kinds import VALUE_OF, Force, Value
from yakkan.engine.syntax import ast as A

if TYPE_CHECKING:
    from yakkan.engine.semantics.resolve import Rulebook

BASE: tuple[Value, ...] = ("accept", "approve")
# the levels of an application decision, strongest first (forces → the value they give)
APPLICATION_LEVELS: tuple[tuple[Value, tuple[Force, ...]], ...] = (
    ("refuse", ("refuse", "requirement")),
    ("may_refuse", ("may_refuse",)),
)
# strongest first, for outcomes that are not application decisions
FORCE_ORDER: tuple[Force, ...] = ("prohibition", "refuse", "requirement", "may_refuse", "deemed", "duty", "may",
               "permission", "exemption", "declaration")
UNDETERMINED: Value = "undetermined"
NOT_APPLICABLE: Value = "not_applicable"

# an item in a `for each item` rule that carries no condition: unknown, reported by lint
UNENCODED = ("__unencoded_condition__",)


@dataclass(frozen=True)
class Ground:
    """One possible reason for an outcome, with its applicability as one expression.

    `key` is the ground's stable id in the program (`Applies(ground=key)`); `id` is the
    provision it stands in (an item for `for each item`), `rule_pid` the provision of the
    rule, `via` the provision that imports it by 準用."""

    key: str
    id: str
    citation: str
    outcome: str
    force: Force
    rule_pid: str
    when: tuple[I.Expr, ...]
    requires: I.Expr | None
    unless: tuple[I.Expr, ...]
    via: str | None = None
    overrides: tuple[str, ...] = ()
    # filled by the compiler from the compiled parts (as the text states them until then)
    applies: I.Expr = field(default_factory=lambda: I.Lit(type="bool", value=True))


@dataclass(frozen=True)
class Decision:
    """An outcome: its grounds (in document order), the base grounds of an application
    (承諾する), and its decision rule."""

    outcome: str
    kind: str  # "application" | "effect"
    grounds: tuple[str, ...]
    base: tuple[str, ...]
    rule: I.Priority
    # (overrider, overridden) ground keys: every 「…にかかわらず」 between the grounds
    overrides: tuple[tuple[str, str], ...] = ()


@dataclass
class DecisionProgram:
    """A rulebook's meaning: grounds, definitions and decisions, with stable node ids."""

    grounds: dict[str, Ground] = field(default_factory=dict)
    decisions: dict[str, Decision] = field(default_factory=dict)
    definitions: dict[str, I.Expr] = field(default_factory=dict)
    # provision id → the keys of the grounds that stand in it or in its parts
    under: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # (provision id, charge name) → the charge with its expressions compiled
    charges: dict[tuple[str, str], A.Charge] = field(default_factory=dict)
    # provision id → the domains its `covers` declare (`any(c in calls where …)`), compiled
    coverages: dict[str, tuple[I.Expr, ...]] = field(default_factory=dict)
    # provision id → the compiled condition of a unit (for `holds` of a unit with no ground)
    conditions: dict[str, I.Expr] = field(default_factory=dict)
    # classifications a table defines side by side (第4条の4の4's プラン1…プラン4): the table's
    # provision id → its rows' definitions; evaluated with every case, so the explanation can
    # say when a case falls under two at once (the text does not make them exclusive)
    class_groups: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # ground key → every fact its applicability reads: in its own parts, in the definitions
    # they use and in the grounds they cite (`holds`); an unknown one among them is what an
    # undetermined outcome is "still missing"
    reads: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def grounds_of(self, outcome: str) -> list[Ground]:
        return [self.grounds[k] for k in self.decisions[outcome].grounds]

    def by_outcome(self) -> dict[str, list[Ground]]:
        return {name: self.grounds_of(name) for name in self.decisions}


# ---- the pass ---------------------------------------------------------------------------------

def compile_program(book: Rulebook) -> DecisionProgram:
    """The decision program of a resolved rulebook (which this pass does not change)."""
    return _Compiler(book).run()


def program_of(book: Rulebook) -> DecisionProgram:
    """The rulebook's program, compiled once and kept with it."""
    if book.program is None:
        book.program = compile_program(book)
    return book.program


class _Compiler:
    def __init__(self, book: Rulebook):
        self.book = book
        self.prog = DecisionProgram()
        self.counters: dict[str, int] = {}
        from yakkan.engine.semantics.types import TypeChecker
        self.types = TypeChecker(book)

    # copies with ids and types; `holds` lowered
    def copy(self, e: I.Expr, root: str) -> I.Expr:
        new = e.model_copy(deep=True)
        self._number(new, root, {})
        return new

    def _number(self, e: I.Expr, root: str, scope: dict[str, I.YType]) -> None:
        stack: list[tuple[I.Expr, dict[str, I.YType]]] = [(e, scope)]
        while stack:
            n, sc = stack.pop()
            k = self.counters.get(root, 0)
            self.counters[root] = k + 1
            n.nid = f"{root}/{k}"
            n.ty = self.types.type_of(n, sc)
            if isinstance(n, I.Holds) and n.lowered is None:
                n.lowered = self._lower_holds(n)
            inner = sc
            if isinstance(n, I.Quant):
                src = self.book.facts.get(".".join(n.source.path))
                inner = {**sc, n.var: src.type if src else I.YType(base="list")}
            kids = I.children(n)
            if isinstance(n, I.Holds):
                kids = []  # its lowered form was numbered when it was built
            stack.extend((c, inner if c is not getattr(n, "source", None) else sc)
                         for c in reversed(kids))

    def _lower_holds(self, h: I.Holds) -> I.Expr:
        parts: list[I.Expr] = []
        for t in h.cite.targets:
            keys = self.prog.under.get(t, ())
            if keys:
                parts.extend(I.Applies(ground=k) for k in keys)
                continue
            cond = self.book.provisions[t].unit.condition
            if cond is not None:
                parts.append(self._condition(t, cond))
            else:
                parts.append(I.Ref(path=list(UNENCODED), resolved="unknown"))
        if not parts:
            out: I.Expr = I.Ref(path=list(UNENCODED), resolved="unknown")
        else:
            out = parts[0] if len(parts) == 1 else I.BoolOp(op="or", operands=parts)
        self._number(out, f"holds:{h.nid}", {})
        return out

    def _condition(self, pid: str, cond: I.Expr) -> I.Expr:
        if pid not in self.prog.conditions:
            self.prog.conditions[pid] = I.Ref(path=list(UNENCODED), resolved="unknown")
            self.prog.conditions[pid] = self.copy(cond, f"cond:{pid}")
        return self.prog.conditions[pid]

    def run(self) -> DecisionProgram:
        book = self.book
        raw = _raw_grounds(book)
        # keys and `under` first: `holds` in any expression refers to grounds by key
        for g in raw:
            p: str | None = g.id
            while p is not None:
                self.prog.under[p] = (*self.prog.under.get(p, ()), g.key)
                p = book.provisions[p].parent
        for name, (d, _where) in book.definitions.items():
            self.prog.definitions[name] = I.Ref(path=list(UNENCODED), resolved="unknown")
            self.prog.definitions[name] = self.copy(d.expr, f"def:{name}")
        for g in raw:
            self.prog.grounds[g.key] = self._ground(g)
        names: dict[str, list[str]] = {}
        for g in raw:
            names.setdefault(g.outcome, []).append(g.key)
        for name, keys in names.items():
            self.prog.decisions[name] = self._decision(name, keys)
        for pid in book.order:
            for ch in book.provisions[pid].unit.charges:
                self.prog.charges[(pid, ch.name)] = self._charge(pid, ch)
            covers = book.provisions[pid].unit.covers
            if covers:
                self.prog.coverages[pid] = tuple(self.copy(cv, f"covers:{pid}:{i}")
                                                 for i, cv in enumerate(covers))
            rows = [book.provisions[c].unit for c in book.provisions[pid].children]
            defs = [r.definitions[0].name for r in rows if len(r.definitions) == 1]
            if len(defs) >= 2:
                self.prog.class_groups[pid] = tuple(defs)
        self.prog.reads = _reads(self.prog)
        return self.prog

    def _ground(self, g: Ground) -> Ground:
        root = f"g:{g.key}"
        when = tuple(self.copy(w, root) for w in g.when)
        req = self.copy(g.requires, root) if g.requires is not None else None
        unless = tuple(self.copy(u, root) for u in g.unless)
        parts: list[I.Expr] = list(when)
        if g.force == "requirement" and req is not None:
            parts.append(I.Not(operand=req))
        if unless:
            parts.append(I.Not(operand=unless[0] if len(unless) == 1
                               else I.BoolOp(op="or", operands=list(unless))))
        applies: I.Expr = (parts[0] if len(parts) == 1 else
                           I.BoolOp(op="and", operands=parts) if parts else
                           I.Lit(type="bool", value=True))
        if applies.nid is None:
            applies.nid = f"{root}/applies"
            applies.ty = "bool"
        for n in I.walk(applies):  # the connectives added here
            if n.nid is None:
                n.nid = f"{root}/applies.{self._next(root)}"
                n.ty = "bool"
        return replace(g, when=when, requires=req, unless=unless, applies=applies)

    def _next(self, root: str) -> int:
        k = self.counters.get(root, 0)
        self.counters[root] = k + 1
        return k

    def _decision(self, name: str, keys: list[str]) -> Decision:
        gs = [self.prog.grounds[k] for k in keys]
        base = [g for g in gs if g.force in BASE]
        rest = [g for g in gs if g.force not in BASE]
        levels: list[tuple[Value, list[Ground]]] = []
        if base:
            kind = "application"
            placed: set[str] = set()
            for value, forces in APPLICATION_LEVELS:
                hit = [g for g in rest if g.force in forces]
                placed |= {g.key for g in hit}
                levels.append((value, hit))
            # any other force in an application outcome: by its place in the lattice
            for f in FORCE_ORDER:
                hit = [g for g in rest if g.force == f and g.key not in placed]
                if hit:
                    levels.append((VALUE_OF[f], hit))
        else:
            kind = "effect"
            for f in FORCE_ORDER:
                hit = [g for g in rest if g.force == f]
                if hit:
                    levels.append((VALUE_OF[f], hit))
        rank = {g.key: i for i, (_v, hit) in enumerate(levels) for g in hit}
        if base:
            rank.update({g.key: len(levels) for g in base})
        overrides = tuple((w.key, g.key) for g in gs for w in gs
                          if w is not g and _overrides(w, g))
        branches: list[I.Branch] = []
        for value, hit in levels:
            if not hit:
                continue
            ors = [self._effective(g, gs, rank) for g in hit]
            cond = ors[0] if len(ors) == 1 else I.BoolOp(op="or", operands=ors)
            branches.append(I.Branch(cond=cond, value=value))
        if base:
            oks: list[I.Expr] = [self._effective(g, gs, rank) for g in base]
            cond = oks[0] if len(oks) == 1 else I.BoolOp(op="and", operands=oks)
            branches.append(I.Branch(cond=cond, value=VALUE_OF[base[0].force]))
        rule = I.Priority(branches=branches, default=NOT_APPLICABLE)
        self._number(rule, f"decide:{name}", {})
        return Decision(name, kind, tuple(keys), tuple(g.key for g in base), rule, overrides)

    def _effective(self, g: Ground, gs: list[Ground], rank: dict[str, int]) -> I.Expr:
        """`g` applies and no ground that overrides it from a weaker level applies."""
        beaters = [w for w in gs if w is not g and _overrides(w, g) and rank[w.key] > rank[g.key]]
        me: I.Expr = I.Applies(ground=g.key)
        if not beaters:
            return me
        others: list[I.Expr] = [I.Applies(ground=w.key) for w in beaters]
        beaten = others[0] if len(others) == 1 else I.BoolOp(op="or", operands=others)
        return I.BoolOp(op="and", operands=[me, I.Not(operand=beaten)])

    def _charge(self, pid: str, ch: A.Charge) -> A.Charge:
        root = f"charge:{pid}:{ch.name}"
        return ch.model_copy(update={
            "amount": self.copy(ch.amount, root) if ch.amount is not None else None,
            "when": self.copy(ch.when, root) if ch.when is not None else None,
            "quote_when": self.copy(ch.quote_when, root) if ch.quote_when is not None
            else None})


def direct_reads(*exprs: I.Expr | None) -> tuple[set[str], set[str], set[str]]:
    """(fact paths, definitions, ground keys) that expressions read directly."""
    facts: set[str] = set()
    defs: set[str] = set()
    grounds: set[str] = set()
    for e in exprs:
        if e is None:
            continue
        for n in I.walk(e):
            if isinstance(n, I.Ref):
                if n.resolved == "fact":
                    facts.add(".".join(n.path))
                elif n.resolved == "definition":
                    defs.add(".".join(n.path))
            elif isinstance(n, I.Applies):
                grounds.add(n.ground)
    return facts, defs, grounds


def ground_parts(g: Ground) -> list[I.Expr]:
    """Every expression of a ground the evaluation reads (its `requires` too)."""
    return [*g.when, *([g.requires] if g.requires is not None else []), *g.unless, g.applies]


def _reads(prog: DecisionProgram) -> dict[str, tuple[str, ...]]:
    """Every fact each ground reads, in the order an evaluation reads them."""
    out: dict[str, tuple[str, ...]] = {}
    def_reads: dict[str, tuple[str, ...]] = {}

    def scan(exprs: list[I.Expr], visiting: frozenset[str]) -> tuple[str, ...]:
        facts: dict[str, None] = {}
        for e in exprs:
            for n in I.walk(e):
                if isinstance(n, I.Ref) and n.resolved == "fact":
                    facts[".".join(n.path)] = None
                elif isinstance(n, I.Ref) and n.resolved == "definition":
                    facts.update(dict.fromkeys(of_def(".".join(n.path), visiting)))
                elif isinstance(n, I.Applies):
                    facts.update(dict.fromkeys(of_ground(n.ground, visiting)))
        return tuple(facts)

    def of_def(name: str, visiting: frozenset[str]) -> tuple[str, ...]:
        if name not in def_reads:
            if name in visiting or name not in prog.definitions:
                return ()  # a cycle is a check error elsewhere
            def_reads[name] = scan([prog.definitions[name]], visiting | {name})
        return def_reads[name]

    def of_ground(k: str, visiting: frozenset[str]) -> tuple[str, ...]:
        if k not in out:
            if k in visiting or k not in prog.grounds:
                return ()
            out[k] = scan(ground_parts(prog.grounds[k]), visiting | {k})
        return out[k]

    for k in prog.grounds:
        of_ground(k, frozenset())
    return out


def _overrides(winner: Ground, other: Ground) -> bool:
    """「前項の規定にかかわらず」: `winner`'s provision sets aside `other`'s."""
    ids = (other.id, other.rule_pid)
    return any(i == o or i.startswith(o + "/") for o in winner.overrides for i in ids)


# ---- grounds as the text states them ----------------------------------------------------------

_UNKNOWN = I.Ref(path=list(UNENCODED), resolved="unknown")


def _raw_grounds(book: Rulebook) -> list[Ground]:
    """Every ground of the rulebook in document order: rules, items of `for each item`
    rules, then grounds imported by 準用."""
    out: list[Ground] = []
    seen: dict[str, int] = {}

    def key(outcome: str, pid: str, via: str | None) -> str:
        k = f"{outcome}@{pid}" + (f"<{via}" if via else "")
        n = seen.get(k, 0)
        seen[k] = n + 1
        return k if n == 0 else f"{k}#{n + 1}"

    pending: list[tuple[str, A.Rule]] = []
    for pid in book.order:
        prov = book.provisions[pid]
        u = prov.unit
        if u.status != "encoded":
            continue
        overrides = tuple(t for r in u.refs if r.verb == "notwithstanding"
                          for c in r.cites for t in c.targets)
        for rule in u.rules:
            if isinstance(rule.source, A.Mutatis):
                pending.append((pid, rule))
                continue
            base_when = (rule.when,) if rule.when is not None else ()
            if isinstance(rule.source, A.EachItem):
                for c in prov.children:
                    cu = book.provisions[c].unit
                    if cu.kind not in ("item", "subitem", "row") or cu.status != "encoded":
                        continue
                    cond = cu.condition if cu.condition is not None else _UNKNOWN
                    out.append(Ground(key(rule.outcome, c, None), c, book.cite(c),
                                          rule.outcome, rule.force, pid, (*base_when, cond),
                                          rule.requires, tuple(rule.unless),
                                          overrides=overrides))
            else:
                when = base_when + ((u.condition,) if u.condition is not None else ())
                out.append(Ground(key(rule.outcome, pid, None), pid, book.cite(pid),
                                      rule.outcome, rule.force, pid, when, rule.requires,
                                      tuple(rule.unless), overrides=overrides))
    for pid, rule in pending:  # 準用: import the cited provisions' grounds
        assert isinstance(rule.source, A.Mutatis)
        targets = set(rule.source.cite.targets)
        src_outcome = rule.source.outcome or rule.outcome
        for g in [g for g in out if g.outcome == src_outcome]:
            if g.rule_pid in targets or g.id in targets or _within(book, g.rule_pid, targets):
                extra = (rule.when,) if rule.when is not None else ()
                out.append(Ground(
                    key(rule.outcome, g.id, pid), g.id,
                    f"{g.citation}（{book.cite(pid)}により準用）", rule.outcome, g.force,
                    g.rule_pid, (*g.when, *extra), g.requires, (*g.unless, *rule.unless),
                    via=pid, overrides=g.overrides))
    return out


def _within(book: Rulebook, pid: str, targets: set[str]) -> bool:
    p: str | None = pid
    while p is not None:
        if p in targets:
            return True
        p = book.provisions[p].parent
    return False
