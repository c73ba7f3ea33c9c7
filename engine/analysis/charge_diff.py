"""charge_diff: the cases whose charges an amendment changes — one search per charge line.

For every charge (tariff line) both versions carry under one name, and for one only one of
them carries, z3 searches the shared fact space (`smt.FactSpace`) for a case in which the
line prices differently: charged in one version and not in the other, or charged in both at
different amounts. Each witness is re-priced by the interpreter (`runtime.evaluate`) on both
versions and kept only if the amounts it reports differ there too — the solver proposes, the
interpreter confirms (the condition and the amount before tax, as the tariff states it) —
with the records that make the difference (the per-record breakdown:
「通話 61秒: 改正前 60円 → 改正後 30円」). A line whose amount or condition the encoder cannot
express is reported as not compared, with why; never silently dropped.
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
    breaks_assumption,
    ctx,
    is_true,
    isolated,
    jsonable,
    nest,
    new_solver,
    readable_model,
)
from yakkan.engine.runtime.evaluate import EvalError, Evaluator, breakdown
from yakkan.engine.semantics.program import program_of
from yakkan.engine.semantics.resolve import Rulebook
from yakkan.engine.syntax import ast as A

MAX_PER_LINE = 2


@dataclass
class Priced:
    """One version's pricing of the line for the witness case (the interpreter's)."""

    status: str  # charged / not_charged / undetermined / error
    amount: Decimal | None  # before tax, as the tariff states it
    citation: str | None
    breakdown: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"status": self.status,
                "amount": None if self.amount is None else str(self.amount),
                "citation": self.citation, "breakdown": self.breakdown}


@dataclass
class ChargeWitness:
    charge: str
    label: str
    facts: dict[str, Any]
    old: Priced
    new: Priced
    verified: bool = True
    method: str = "z3"

    def as_json(self) -> dict[str, Any]:
        return {"charge": self.charge, "label": self.label,
                "facts": jsonable(self.facts), "old": self.old.as_json(),
                "new": self.new.as_json(), "verified": self.verified, "method": self.method}


@dataclass
class ChargeCheck:
    """The comparison of one charge line: `differs` (with witnesses), `same` (proved: no
    case prices it differently), `not_compared` (with why) or `undecided`."""

    charge: str
    label: str
    status: str
    note: str = ""
    note_ja: str = ""  # the note for the pages a person reads
    witnesses: list[ChargeWitness] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"charge": self.charge, "label": self.label, "status": self.status,
                "note": self.note, "witnesses": len(self.witnesses)}


Line = tuple[str, A.Charge]  # a charge line: its provision id and its charge


def _charges(book: Rulebook) -> dict[str, Line]:
    """Charge name → its line (a name used twice in one version: the first)."""
    out: dict[str, Line] = {}
    for (pid, name), ch in program_of(book).charges.items():
        out.setdefault(name, (pid, ch))
    return out


def compare_charges(old: Rulebook, old_as_of: dt.date, new: Rulebook,
                    new_as_of: dt.date) -> list[ChargeCheck]:
    """Every charge line of either version compared (module docstring)."""
    co, cn = _charges(old), _charges(new)
    out = []
    for name in dict.fromkeys([*co, *cn]):
        a, b = co.get(name), cn.get(name)
        label = (b or a)[1].label or name  # type: ignore[index]
        if a is not None and b is not None and old_as_of == new_as_of and \
                a[1].model_dump(exclude={"span"}) == b[1].model_dump(exclude={"span"}):
            out.append(ChargeCheck(name, label, "same", "identical encoding", "符号化が同一"))
            continue
        try:
            out.append(_z3_charge(old, old_as_of, new, new_as_of, name, label, a, b))
        except (Unsupported, z3.Z3Exception) as e:
            out.append(ChargeCheck(name, label, "not_compared",
                                   f"the solver cannot express this line ({e})",
                                   "ソルバーで表せない式を含む（理由は JSON の note）"))
    return out


def _line_terms(enc: Encoder, line: Line | None) -> tuple[Any, Any, Any]:
    """(charged, amount, known) of a line as z3 terms; a line the version lacks is never
    charged."""
    if line is None:
        return z3.BoolVal(False, ctx=ctx()), z3.RealVal(0, ctx=ctx()), z3.BoolVal(True, ctx=ctx())
    ch = line[1]
    when = enc.truth(enc.ev(ch.when, {})) if ch.when is not None else None
    if ch.amount is None:
        raise Unsupported("a line without an amount")
    amt = enc.ev(ch.amount, {})
    if amt.t not in ("int", "real"):
        raise Unsupported(f"an amount of type {amt.t}")
    charged = is_true(when) if when is not None else z3.BoolVal(True, ctx=ctx())
    known = when.known if when is not None else z3.BoolVal(True, ctx=ctx())
    val = z3.ToReal(amt.val) if amt.val.sort() == z3.IntSort(ctx=ctx()) else amt.val
    return charged, val, z3.And(known, z3.Implies(charged, amt.known))


@isolated
def _z3_charge(old: Rulebook, old_as_of: dt.date, new: Rulebook, new_as_of: dt.date,
               name: str, label: str, a: Line | None, b: Line | None) -> ChargeCheck:
    space = FactSpace([old, new])
    eo, en = Encoder(space, old, old_as_of), Encoder(space, new, new_as_of)
    on_o, amt_o, known_o = _line_terms(eo, a)
    on_n, amt_n, known_n = _line_terms(en, b)
    # the amounts differ (a line not charged counts as 0円: 0円 charged is no difference)
    zero = z3.RealVal(0, ctx=ctx())
    differs = z3.If(on_o, amt_o, zero) != z3.If(on_n, amt_n, zero)
    chk = ChargeCheck(name, label, "same", "proved: no case whose facts are known is priced "
                      "differently by this line")
    blocked: list[Any] = []
    # a second witness shows the other way the line changes (charged ↔ not, or the amount)
    for _ in range(4 * MAX_PER_LINE):
        if len(chk.witnesses) >= MAX_PER_LINE:
            break
        opt = new_solver(space, eo, en)
        opt.add(known_o, known_n, differs, *blocked)
        m = readable_model(opt, space, new_as_of)
        if m is None:
            break
        facts = space.decode(m)
        pattern = [t == m.eval(t, model_completion=True) for t in (on_o, on_n)]
        blocked.append(z3.Not(z3.And(*pattern)))
        po, pn = _priced(old, facts, old_as_of, a), _priced(new, facts, new_as_of, b)
        if (po.amount or 0) == (pn.amount or 0) or "error" in (po.status, pn.status) \
                or breaks_assumption(old, new, facts, old_as_of, new_as_of):
            chk.rejected.append({"facts": jsonable(facts), "old": po.as_json(),
                                 "new": pn.as_json()})
            continue
        chk.witnesses.append(ChargeWitness(name, label, facts, po, pn))
    if chk.witnesses:
        chk.status, chk.note = "differs", "cases priced differently, confirmed by the interpreter"
        chk.note_ja = "料金が異なる事例がある（インタプリタで確認済み）"
    elif chk.rejected:
        chk.status = "undecided"
        chk.note = "z3 found cases the interpreter does not confirm (an encoding bug)"
        chk.note_ja = "ソルバーが見つけた事例をインタプリタが確認しない（符号化の誤り）"
    return chk


def _priced(book: Rulebook, facts: dict[str, Any], as_of: dt.date, line: Line | None) -> Priced:
    """The line as the interpreter prices it for flat `facts`: charged when its condition
    holds and its amount is known (before tax: the comparison is of the tariff's figures),
    with the records its amount sums over."""
    if line is None:
        return Priced("not_charged", None, None)
    pid, ch = line
    ev = Evaluator(book, nest(facts, book.facts), as_of)
    try:
        when = ev.ev(ch.when, {}) if ch.when is not None else True
        if when is False:
            return Priced("not_charged", None, book.cite(pid))
        amount = ev.ev(ch.amount, {}) if ch.amount is not None else None
    except (EvalError, ArithmeticError, TypeError, ValueError) as e:
        return Priced("error", None, book.cite(pid), [{"error": str(e)}])
    if when is not True or amount is None:
        return Priced("undetermined", None, book.cite(pid))
    return Priced("charged", Decimal(str(amount)), book.cite(pid),
                  [jsonable(r) for r in breakdown(ev, ch.amount) if r.get("included") is True])
