"""static: drafting defects the engine finds by itself — z3 over the decision program.

Each check asks the solver a question about every case at once, and each finding carries a
witness case (facts a user can put in a case file and run) that the interpreter confirms
before it is reported:

* `static.dead` — a provision's condition can never hold: no case makes the ground apply
  (no witness can exist; the finding says which condition);
* `static.always` — a condition that holds in every case where all its facts are known:
  the condition decides nothing (witness: none exists the other way; reported as info);
* `static.overlap` — classifications a table presents side by side (第4条の4の4's
  プラン1…プラン4) that one case can satisfy at once, where neither is defined from the
  other; the witness is such a case;
* `static.double-charge` — two charges (tariff rows) that can both price the same record
  of a list (one call, one line) in the same case: both their conditions hold and the
  record passes both `where`s; the witness is such a case with one record;
* `static.gap` — a record the text says is charged that no row prices: a table declares the
  records its rows price, all of them (`covers c in calls where …`: 「…の通話に関する料金
  については、次表のとおり」), and a record of that domain passes no charge under the table
  (no row's `where`, or the row's `when` fails for the case); the witness is such a case,
  and the interpreter confirms that no charge there prices the record;
* `static.conflict` — two grounds of one outcome with opposite effects (a duty and an
  exemption; a prohibition and a permission; a refusal and an acceptance) that can apply to
  the same case while neither says it prevails (「…にかかわらず」); the engine then applies
  its force order, which the text does not state. The witness is such a case.

Dates are compared as of the version's first day in force (the solver fixes `as_of`);
observed absence is not modelled (see `smt.SEMANTICS_NOTE`), so witnesses state values.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import z3

from yakkan.engine.analysis.smt import (
    Encoder,
    FactSpace,
    Unsupported,
    ctx,
    fresh_context,
    is_false,
    is_true,
    nest,
)
from yakkan.engine.core import ir as I
from yakkan.engine.core.labels import FORCE_LABELS
from yakkan.engine.runtime.evaluate import broken_assumptions, evaluate
from yakkan.engine.semantics.program import Ground, program_of
from yakkan.engine.semantics.resolve import Rulebook

OPPOSITE = ({"duty", "exemption"}, {"prohibition", "permission"})
AGAINST = ("refuse", "may_refuse")
TIMEOUT_MS = 5_000


@dataclass
class Finding:
    code: str
    message: str
    pids: list[str]
    citations: list[str]
    witness: dict[str, Any] | None = None  # nested case facts
    severity: str = "warning"
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        from yakkan.engine.core.values import case_jsonable
        return {"code": self.code, "severity": self.severity, "message": self.message,
                "citations": self.citations, "provisions": self.pids,
                "witness": None if self.witness is None else case_jsonable(self.witness),
                "notes": self.notes}


def static_checks(book: Rulebook, as_of: dt.date | None = None) -> list[Finding]:
    """Every static finding for one version, in document order."""
    when = as_of or book.doc.header.effective_from or dt.date.today()
    out: list[Finding] = []
    with fresh_context():
        space = FactSpace([book])
        enc = Encoder(space, book, when)
        prog = program_of(book)
        for g in prog.grounds.values():
            if g.via is not None:
                continue  # 準用: the imported ground is checked where it stands
            out += _dead_or_always(book, space, enc, g, when)
        out += _overlaps(book, space, enc, when)
        out += _double_charges(book, space, enc, when)
        out += _gaps(book, space, enc, when)
        out += _conflicts(book, space, enc, when)
    order = {pid: i for i, pid in enumerate(book.order)}
    seen: set[tuple[str, tuple[str, ...], str]] = set()
    unique = []
    for f in out:  # two rules of one provision: one finding
        if f.code != "static.overlap" and f.witness is not None \
                and broken_assumptions(book, f.witness, when):
            continue  # a case the document's assumptions rule out (one z3 could not express)
        if (f.code, tuple(f.pids), f.message) not in seen:
            seen.add((f.code, tuple(f.pids), f.message))
            unique.append(f)
    return sorted(unique, key=lambda f: (order.get(f.pids[0], 0), f.code))


def _solver(space: FactSpace, enc: Encoder, assumptions: bool = True) -> z3.Solver:
    """A solver over the fact space, respecting the encoder's guards and (unless asked not
    to) the document's assumptions: call it after encoding what it is to solve."""
    s = z3.Solver(ctx=ctx())
    s.set("timeout", TIMEOUT_MS)
    s.add(*space.constraints, *enc.guards, *(enc.assumptions if assumptions else ()))
    return s


def _has_condition(g: Ground) -> bool:
    return any(not (isinstance(w, I.Lit) and w.value is True) for w in g.when) or \
        bool(g.unless) or (g.force == "requirement" and g.requires is not None)


def _dead_or_always(book: Rulebook, space: FactSpace, enc: Encoder, g: Ground,
                    when: dt.date) -> list[Finding]:
    if not _has_condition(g):
        return []
    try:
        v = enc.applies(g)
    except Unsupported:
        return []
    s = _solver(space, enc)
    s.add(is_true(v))
    r = s.check()
    if r == z3.unsat:
        return [Finding("static.dead", f"{g.citation}: 条件が成り立つ事例がない（この規定が"
                        "適用される事例は一つもない）", [g.id], [g.citation])]
    s = _solver(space, enc)
    s.add(*space.complete())
    s.add(is_false(v))
    if s.check() == z3.unsat:
        return [Finding("static.always", f"{g.citation}: 事実がすべて分かっている事例では条件が"
                        "常に成り立つ（条件は何も区別していない）", [g.id], [g.citation],
                        severity="info")]
    return []


def _witness(space: FactSpace, s: z3.Solver, when: dt.date | None = None) -> \
        dict[str, Any] | None:
    """A readable case satisfying the solver's constraints: fewest facts stated, dates near
    the version's first day, numbers near zero (z3 Optimize over the same constraints)."""
    if s.check() != z3.sat:
        return None
    opt = z3.Optimize(ctx=ctx())
    opt.set("timeout", TIMEOUT_MS)
    opt.add(*s.assertions())
    opt.minimize(space.cost())
    if when is not None:
        opt.minimize(space.closeness(when))
    if opt.check() == z3.sat:
        return nest(space.decode(opt.model()))
    return nest(space.decode(s.model()))


def _both(space: FactSpace, enc: Encoder, when: dt.date, encode: Any,
          assumptions: bool = True) -> dict[str, Any] | None:
    """A witness case where both encoded conditions hold (`encode()` gives their SVs), or
    None when there is none or the encoder cannot express them."""
    try:
        va, vb = encode()
    except Unsupported:
        return None
    s = _solver(space, enc, assumptions)
    s.add(is_true(va), is_true(vb))
    return _witness(space, s, when)


def _overlaps(book: Rulebook, space: FactSpace, enc: Encoder, when: dt.date) -> list[Finding]:
    out: list[Finding] = []
    prog = program_of(book)
    for pid, names in prog.class_groups.items():
        uses = {n: {".".join(r.path) for r in I.walk(prog.definitions[n])
                    if isinstance(r, I.Ref) and r.resolved == "definition"} for n in names}
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                if a in uses[b] or b in uses[a]:
                    continue  # one is defined from the other (プラン4 is 「プラン2のうち」)
                # what the text does not exclude, whatever the encoding assumes
                w = _both(space, enc, when,
                          lambda a=a, b=b: (enc.definition(a), enc.definition(b)), False)
                if w is None:
                    continue
                r = evaluate(book, w, when)
                if not (r.definitions.get(a) is True and r.definitions.get(b) is True):
                    continue  # not confirmed by the interpreter: not reported
                la = book.definitions[a][0].label or a
                lb = book.definitions[b][0].label or b
                labels = {x.name: x.label for x in book.doc.assumptions}
                notes = [f"符号化の前提「{labels[n]}」（assume {n}）はこのような事例を"
                         "想定しない: 改正比較と他の検査はこの事例を示さない"
                         for n in broken_assumptions(book, w, when)]
                out.append(Finding(
                    "static.overlap", f"{book.cite(pid)}: 一つの事例が「{la}」と「{lb}」の両方に"
                    "当たりうる（本文は並べて示すが、互いに排他とはしていない）", [pid],
                    [book.cite(pid)], w, notes=notes))
    return out


def _conflicts(book: Rulebook, space: FactSpace, enc: Encoder, when: dt.date) -> \
        list[Finding]:
    out: list[Finding] = []
    prog = program_of(book)
    for name, d in prog.decisions.items():
        gs = [prog.grounds[k] for k in d.grounds if prog.grounds[k].via is None]
        stated = {frozenset(p) for p in d.overrides}
        for i, a in enumerate(gs):
            for b in gs[i + 1:]:
                if not _opposite(a.force, b.force) or frozenset((a.key, b.key)) in stated:
                    continue
                if a.rule_pid == b.rule_pid:
                    continue  # one provision states both (「次の場合を除いて、承認します」)
                w = _both(space, enc, when, lambda a=a, b=b: (enc.applies(a), enc.applies(b)))
                if w is None:
                    continue
                res = evaluate(book, w, when, outcomes=[name]).outcomes[name]
                applying = {r.ground.key for r in (*res.grounds, *res.base)}
                if not {a.key, b.key} <= applying | {r.ground.key for r in res.not_applicable
                                                     if r.applies is True}:
                    continue  # not confirmed by the interpreter
                out.append(Finding(
                    "static.conflict", f"{a.citation}（{FORCE_LABELS[a.force]}）と"
                    f"{b.citation}（{FORCE_LABELS[b.force]}）が同じ事例に適用されうるが、"
                    "どちらが優先するかを本文は定めていない（「"
                    f"{book.outcome_labels.get(name, name)}」はエンジンの効力の順で判断"
                    "している）", [a.id, b.id], [a.citation, b.citation], w))
    return out


def _opposite(f1: str, f2: str) -> bool:
    if any({f1, f2} == pair for pair in OPPOSITE):
        return True
    return (f1 in AGAINST and f2 in ("accept", "approve")) or \
        (f2 in AGAINST and f1 in ("accept", "approve"))


def _sum_over(e: I.Expr | None) -> I.Quant | None:
    """The first `sum(r in list: … where …)` in an amount."""
    if e is None:
        return None
    return next((n for n in I.walk(e) if isinstance(n, I.Quant) and n.q == "sum"), None)


def _renamed(e: I.Expr | None, old: str, new: str) -> I.Expr | None:
    """A copy of `e` whose bound variable `old` is called `new`."""
    if e is None:
        return None
    c = e.model_copy(deep=True)
    for n in I.walk(c):
        if isinstance(n, I.Ref) and n.path and n.path[0] == old and \
                n.resolved in ("var", None):
            n.path = [new, *n.path[1:]]
            n.resolved = "var"
    return c


def _double_charges(book: Rulebook, space: FactSpace, enc: Encoder, when: dt.date) -> \
        list[Finding]:
    from yakkan.engine.runtime.evaluate import Evaluator
    out: list[Finding] = []
    prog = program_of(book)
    items = [(pid, name, ch, _sum_over(ch.amount)) for (pid, name), ch in prog.charges.items()]
    items = [x for x in items if x[3] is not None]
    true = I.Lit(type="bool", value=True, ty="bool")
    for i, (p1, n1, c1, q1) in enumerate(items):
        for p2, n2, c2, q2 in items[i + 1:]:
            assert q1 is not None and q2 is not None
            if q1.source.path != q2.source.path or c1.payer != c2.payer:
                continue
            var = "__record"
            w1 = _renamed(q1.where, q1.var, var) or true
            w2 = _renamed(q2.where, q2.var, var) or true
            both = I.Quant(q="any", var=var, source=q1.source.model_copy(deep=True),
                           where=w1, body=w2, ty="bool")
            parts: list[I.Expr] = [both, *(x for x in (c1.when, c2.when) if x is not None)]
            # a witness worth reading prices the record at more than nothing on both rows
            for body, q in ((q1.body, q1), (q2.body, q2)):
                b = _renamed(body, q.var, var)
                if b is not None:
                    zero = I.Lit(type="money", value=Decimal(0), ty="money")
                    pos = I.Compare(op=">", left=b, right=zero, ty="bool")
                    parts.append(I.Quant(q="any", var=var, source=q.source.model_copy(deep=True),
                                         where=w1, body=I.BoolOp(op="and", operands=[w2, pos],
                                                                 ty="bool"), ty="bool"))
            try:
                vs = [enc.truth(enc.ev(x, {})) for x in parts]
            except Unsupported:
                continue
            s = _solver(space, enc)
            s.add(*[is_true(v) for v in vs])
            w = _witness(space, s, when)
            if w is None:
                continue
            ev = Evaluator(book, w, when)
            try:
                confirmed = all(ev.ev(x, {}) is True for x in parts)
            except Exception:
                confirmed = False
            if not confirmed:
                continue
            l1, l2 = c1.label or n1, c2.label or n2
            list_name = ".".join(q1.source.path)
            list_label = book.facts[list_name].label if list_name in book.facts else None
            out.append(Finding(
                "static.double-charge", f"{book.cite(p1)}「{l1}」と{book.cite(p2)}「{l2}」が、"
                f"一つの事例の同じ「{list_label or list_name}」の記録を両方とも料金に計上しうる"
                "（二重計上）",
                [p1, p2], [book.cite(p1), book.cite(p2)], w))
    return out


def _pricing(ch: Any, source: list[str]) -> I.Quant | None:
    """How a charge prices the records of the list `source`: the `sum` over it in the amount
    (its `where` selects the records), else a `count`/`any` over it in the `when` (a flat
    row such as 「かけ放題」 0円 that applies when such a record exists); None when the
    charge prices no record of that list."""
    for e in (ch.amount, ch.when):
        if e is None:
            continue
        for n in I.walk(e):
            if isinstance(n, I.Quant) and n.source.path == source and \
                    (e is ch.when or n.q == "sum"):
                return n
    return None


def _gaps(book: Rulebook, space: FactSpace, enc: Encoder, when: dt.date) -> list[Finding]:
    from yakkan.engine.runtime.evaluate import Evaluator
    out: list[Finding] = []
    prog = program_of(book)
    true = I.Lit(type="bool", value=True, ty="bool")
    var = "__record"
    for pid, domains in prog.coverages.items():
        under = {pid, *_subtree(book, pid)}
        for dom in domains:
            assert isinstance(dom, I.Quant)
            rows: list[tuple[str, str, Any, I.Expr]] = []
            for (cpid, name), ch in prog.charges.items():
                q = _pricing(ch, dom.source.path) if cpid in under else None
                if q is None:
                    continue
                priced = _renamed(q.where, q.var, var) or true
                rows.append((cpid, name, ch, I.BoolOp(op="and", operands=[
                    priced, *(x for x in (ch.when,) if x is not None)], ty="bool")))
            if not rows:
                continue  # the rows under it are not encoded (略): nothing to compare
            unpriced = I.BoolOp(op="and", operands=[
                I.Not(operand=r[3], ty="bool") for r in rows], ty="bool")
            gap = I.Quant(q="any", var=var, source=dom.source.model_copy(deep=True),
                          where=_renamed(dom.where, dom.var, var) or true, body=unpriced,
                          ty="bool")
            try:
                v = enc.truth(enc.ev(gap, {}))
            except Unsupported:
                continue
            s = _solver(space, enc)
            s.add(is_true(v))
            w = _witness(space, s, when)
            if w is None:
                continue
            try:
                confirmed = Evaluator(book, w, when).ev(gap, {}) is True
            except Exception:
                confirmed = False
            if not confirmed:
                continue  # not confirmed by the interpreter: not reported
            list_name = ".".join(dom.source.path)
            list_label = book.facts[list_name].label if list_name in book.facts else None
            labels = "、".join(f"{book.cite(r[0])}「{r[2].label or r[1]}」" for r in rows)
            out.append(Finding(
                "static.gap", f"{book.cite(pid)}: 表が対象とする（covers）「"
                f"{list_label or list_name}」の記録で、どの行も料金に計上しないものがある"
                f"（行: {labels}）",
                [pid, *dict.fromkeys(r[0] for r in rows)], [book.cite(pid)], w))
    return out


def _subtree(book: Rulebook, pid: str) -> list[str]:
    out: list[str] = []
    stack = list(book.provisions[pid].children)
    while stack:
        c = stack.pop()
        out.append(c)
        stack.extend(book.provisions[c].children)
    return out
