"""charges: a Rulebook and a case → priced lines, subtotals, tax and total, each explained.

Every `charge` of the version in force is evaluated with the interpreter of
`yakkan.engine.runtime.evaluate` (the case's own `Evaluator` when its evaluated `Result` is given —
so the charge lines' steps join the same typed trace, under `charge:<provision>:<name>` — its
records reset per line, as for a ground): what
it recorded (`values`, `read_facts`, `read_defs`) is the line's justification, never a second
computation.

A line's status (Kleene three-valued logic, DESIGN.md "Evaluation semantics"):

* `charged` — its `when` is true (no `when`: always), its `quote when` is false (or absent)
  and its amount is known. Only charged lines count in subtotals and the total.
* `quote` — its `when` and `quote when` are true: 別途お見積り, no amount. The total is then not
  final (`final: false`): it is never presented as what the case costs.
* `undetermined` — its `when` or `quote when` is unknown, or its amount cannot be computed
  from what the case says: listed with the facts still needed, left out of the total, and the
  total flagged incomplete (`complete: false`, hence `final: false`).
* `not_applicable` — its `when` is false ("why not": listed with the condition that failed).
* `error` — the rule cannot be evaluated (a rule bug such as comparing a date with text):
  left out like an undetermined line, with the message.

A `lower_bound` line (a "from" price, 6,980円～) makes its amount and the total lower bounds
(`total_is_lower_bound: true`).

Money (DESIGN.md "Money and time"): amounts are `Decimal` yen as the row states them (sen
allowed: 8.49円/3分). Tax by category (`yakkan.engine.core.money`): 税別 amounts get 10% consumption
tax, the tax cut to the yen (`tax_of`; the base keeps its sen); 税込 amounts contain it (the tax shown is the part
contained, cut to the yen); 不課税 has none. Conventions the documents do not state are stated
on every line that used them, and once more for the report:

* 「消費税10%、1円未満切捨て」 on every 税別 line (and where `tax_included` is called);
* 「365日・1円未満切捨て」 where `interest` is called (延滞利息);
* 「1円未満の端数は税抜額・税込額とも端数のまま（消費税額のみ1円未満切捨て）」 on a 税別 line
  whose amount has sen — as the figures apply it;
* a convention the line's own `assume "…"` notes already state is not repeated (`STATED_BY`);
* the tax of the report is computed once per tax category on that category's sum (the rule
  of the 適格請求書: one rounding per rate and invoice), so it can differ by a yen from the sum
  of the lines' own tax.

JSON (`charges_json`, stable; Decimals as strings): `document`, `version`, `as_of`, `lines`
(charged and quote lines), `undetermined` (undetermined and error lines), `not_applicable`,
`company_pays` (amounts 当社 pays, `payer company`, e.g. the 第17条 cap: never in the total),
`subtotals` (`monthly`, `one_time`, `usage`, `other`), `tax` (per category: `base`, `tax`,
`with_tax`), `warnings` (records priced by two lines), `total` (sum of the charged lines before tax: 税込 lines count without the tax they
contain), `total_with_tax`, `final`, `complete`, `total_is_lower_bound`, `assumptions`.
Each line: `name`, `label`, `id`, `citation`, `caption`, `row`, `row_id`, `row_text`, `text`,
`per`, `period`, `tax`, `tax_code`, `status`, `amount` (as the tariff states it: 税込 for a
税込 line), `tax_amount`, `amount_with_tax`, `amount_before_tax`,
`formula`, `condition`, `condition_ja` (the condition in Japanese words with the case's
values), `quote_condition`, `facts`, `judgments`, `definitions`,
`missing_facts`, `assumptions`, `memos`, `flags`, `error`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from yakkan.engine.core import ir as I
from yakkan.engine.core.kinds import LINE_STATUSES, LineStatus
from yakkan.engine.core.memo import per_object
from yakkan.engine.core.money import (
    CONSUMPTION_TAX_RATE,
    MoneyError,
    TaxCategory,
    tax_of,
)
from yakkan.engine.core.numerals import to_wareki
from yakkan.engine.core.periods import Duration, PeriodError
from yakkan.engine.core.values import PLAIN, jsonable
from yakkan.engine.features.jatext import Vocabulary, ja_text, vocabulary
from yakkan.engine.runtime.evaluate import (
    SKIP,
    STOP,
    EvalError,
    Evaluator,
    Result,
    breakdown,
    missing_fields,
    outer_quantifiers,
    records_in,
)
from yakkan.engine.semantics.program import DecisionProgram
from yakkan.engine.semantics.resolve import Rulebook
from yakkan.engine.syntax import ast as A
from yakkan.engine.syntax.exprtext import show_value, to_text

__all__ = [
    "ChargeLine",
    "ChargeReport",
    "charges_json",
    "compute_charges",
    "report_json",
]

# `per` of a charge → the subtotal it belongs to
PERIOD_OF: dict[str, str] = {
    "month": "monthly",
    "once": "one_time",
    "use": "usage",
    "call": "usage",
}
PERIODS = ("monthly", "one_time", "usage", "other")
PERIOD_LABELS = {"monthly": "月額", "one_time": "一時金", "usage": "従量", "other": "その他"}
PER_LABELS = {"month": "月額", "once": "一回", "use": "利用ごと", "call": "通話ごと",
              "line": "回線ごと", "year": "年額"}

TAX_ASSUMPTION = "消費税10%、1円未満切捨て"
INTEREST_ASSUMPTION = "365日・1円未満切捨て"
TOTAL_TAX_ASSUMPTION = ("消費税額は税区分ごとの合計額に10%を乗じ1円未満切捨て"
                        "（適格請求書の端数処理: 1請求・1税率ごとに1回）; "
                        "各行の税額は行ごとの切捨てで、合計と1円程度異なることがある")
NO_TAX_ASSUMPTION = "税区分の記載なし（税額を計算していない）"
# what the figures do with sen: the tax is cut to the yen, the base and the sum keep theirs
SEN_ASSUMPTION = "1円未満の端数は税抜額・税込額とも端数のまま（消費税額のみ1円未満切捨て）"

# the words by which a line's own note states the same convention (then it is not repeated)
STATED_BY = {TAX_ASSUMPTION: ("10%", "1円未満"), SEN_ASSUMPTION: ("1円未満",),
             INTEREST_ASSUMPTION: ("365日",)}

# conventions yakkan applies inside builtins, stated where a line used them
_BUILTIN_ASSUMPTIONS = {
    "interest": INTEREST_ASSUMPTION,
    "late_interest": INTEREST_ASSUMPTION,
    "tax_included": TAX_ASSUMPTION,
}

STATUSES = LINE_STATUSES


@dataclass
class ChargeLine:
    """One `charge` evaluated for one case, with what it read."""

    name: str
    label: str | None
    id: str
    citation: str
    caption: str | None
    text: str
    row: str | None
    row_id: str | None
    row_text: str | None
    per: str | None
    period: str
    tax: TaxCategory | None
    status: LineStatus
    amount: Decimal | None
    tax_amount: Decimal | None
    amount_with_tax: Decimal | None
    condition: str
    # the charge as the program has it, the condition's parts and the values to show in
    # them: what `formula`, `quote_condition` and `condition_ja` are written from
    charge: A.Charge
    conds: tuple[I.Expr, ...]
    shown: dict[str, Any]
    vocab: Vocabulary
    facts: dict[str, Any]
    judgments: list[str]
    definitions: list[dict[str, Any]]
    missing_facts: list[str]
    assumptions: list[str]
    memos: list[str]
    flags: list[str]
    error: str | None = None
    breakdown: list[dict[str, Any]] = field(default_factory=list)

    @property
    def formula(self) -> str | None:
        """The amount with the case's values — written only for the lines an output shows
        it for (not for every line a case does not apply)."""
        e = self.charge.amount
        return to_text(e, self.shown) if e is not None else None

    @property
    def quote_condition(self) -> str | None:
        """The `quote when` with the case's values (written as `formula` is)."""
        e = self.charge.quote_when
        return to_text(e, self.shown) if e is not None else None

    @property
    def condition_ja(self) -> str:
        """The condition in Japanese words with the case's values — written only for the
        lines an output shows (not for every line of a tariff on every pricing)."""
        return " かつ ".join(ja_text(c, self.shown, self.vocab) for c in self.conds) \
            or "（無条件）"

    @property
    def base(self) -> Decimal:
        """The amount before tax (a 税込 amount less the tax it contains)."""
        assert self.amount is not None
        if self.tax is TaxCategory.INCLUDED and self.tax_amount is not None:
            return self.amount - self.tax_amount
        return self.amount


@dataclass
class ChargeReport:
    """Every charge of one case: the lines, subtotals, tax and total, and their flags."""

    book: Rulebook
    as_of: dt.date
    lines: list[ChargeLine] = field(default_factory=list)

    def by_status(self, *statuses: str) -> list[ChargeLine]:
        return [ln for ln in self.lines if ln.status in statuses]

    @property
    def charged(self) -> list[ChargeLine]:
        return self.by_status("charged")

    @property
    def quotes(self) -> list[ChargeLine]:
        return self.by_status("quote")

    @property
    def undetermined(self) -> list[ChargeLine]:
        return self.by_status("undetermined", "error")

    @property
    def not_applicable(self) -> list[ChargeLine]:
        return self.by_status("not_applicable")

    def line(self, name: str) -> ChargeLine:
        """The line of the charge `name` (KeyError if the version has no such charge)."""
        for ln in self.lines:
            if ln.name == name:
                return ln
        raise KeyError(name)

    @property
    def subtotals(self) -> dict[str, Decimal]:
        return _subtotals(self.charged)

    @property
    def tax(self) -> dict[str, dict[str, Decimal]]:
        """Per tax category present: `base`, `tax`, `with_tax` (tax on the category's sum)."""
        return _tax(self.charged)

    @property
    def total(self) -> Decimal:
        return _sum(self.tax, "base")

    @property
    def total_tax(self) -> Decimal:
        return _sum(self.tax, "tax")

    @property
    def total_with_tax(self) -> Decimal:
        return _sum(self.tax, "with_tax")

    @property
    def complete(self) -> bool:
        """No line is undetermined (or failed): the total covers every charge."""
        return not self.undetermined

    @property
    def final(self) -> bool:
        """The total is what the case costs: complete and no separate quote."""
        return self.complete and not self.quotes

    @property
    def total_is_lower_bound(self) -> bool:
        return any("lower_bound" in ln.flags for ln in self.charged)

    @property
    def warnings(self) -> list[dict[str, Any]]:
        """Records (a call, a line) that two or more charged lines both price: where the
        text's classes overlap (プラン4 is a kind of プラン2, so a プラン4 on コース1 is literally
        both 「プラン2のコース1」 and 「プラン4」), the total sums both."""
        return _warnings(self.charged)

    @property
    def assumptions(self) -> list[str]:
        return _assumptions(self.lines, self.charged)


def _subtotals(charged: list[ChargeLine]) -> dict[str, Decimal]:
    out = {p: Decimal(0) for p in PERIODS}
    for ln in charged:
        out[ln.period] += ln.base
    return out


# the tax categories in the order the report lists them ("不明": a line without one)
_CATEGORIES = (*(c.value for c in TaxCategory), "不明")


def _tax(charged: list[ChargeLine]) -> dict[str, dict[str, Decimal]]:
    out: dict[str, dict[str, Decimal]] = {}
    groups: dict[str, list[ChargeLine]] = {}
    for ln in charged:
        groups.setdefault(ln.tax.value if ln.tax else "不明", []).append(ln)
    for cat in _CATEGORIES:
        lines = groups.get(cat)
        if not lines:
            continue
        stated = sum((ln.amount for ln in lines if ln.amount is not None), Decimal(0))
        if cat == TaxCategory.EXCLUDED.value:
            # the tax itself is truncated to whole yen (1円未満切捨て); sen of the base
            # (通話料 8.49円/3分) stay as the tariff states them
            tax = tax_of(stated, TaxCategory.EXCLUDED)
            with_tax = stated + tax
            base = stated
        elif cat == TaxCategory.INCLUDED.value:
            tax = tax_of(stated, TaxCategory.INCLUDED)
            base, with_tax = stated - tax, stated
        else:
            base, tax, with_tax = stated, Decimal(0), stated
        out[cat] = {"base": base, "tax": tax, "with_tax": with_tax}
    return out


def _sum(tax: dict[str, dict[str, Decimal]], key: str) -> Decimal:
    """The total of `base`, `tax` or `with_tax` over the tax categories."""
    return sum((t[key] for t in tax.values()), Decimal(0))


def _warnings(charged: list[ChargeLine]) -> list[dict[str, Any]]:
    by_record: dict[str, list[str]] = {}
    for ln in charged:
        for b in ln.breakdown:
            v = b["value"]
            if b.get("q") == "sum" and b["included"] is True and v is not None \
                    and v is not False and v != 0:
                names = by_record.setdefault(b["path"], [])
                if ln.name not in names:
                    names.append(ln.name)
    out = []
    for path, names in by_record.items():
        if len(names) > 1:
            out.append({"kind": "overlap", "record": path, "lines": names,
                        "message": f"{path} is priced by {len(names)} lines: "
                        + ", ".join(names)})
    return out


def _assumptions(lines: list[ChargeLine], charged: list[ChargeLine]) -> list[str]:
    out: list[str] = []
    for ln in lines:
        if ln.status in ("not_applicable",):
            continue
        for a in ln.assumptions:
            if a not in out:
                out.append(a)
    if charged and any(ln.tax is not TaxCategory.NOT_TAXABLE for ln in charged):
        out.append(TOTAL_TAX_ASSUMPTION)
    return out


# ---- evaluation -----------------------------------------------------------------------------

@dataclass(frozen=True)
class _Static:
    """What a charge line is whatever the case: where it stands, its tax category and period,
    the conventions it states when it applies — worked out once per rulebook (`_statics`),
    not on every pricing."""

    ch: A.Charge  # the program's copy (its nodes carry stable ids)
    parent: str  # the trace's parent of its steps
    tax: TaxCategory | None
    # the `ChargeLine` fields every case gives it alike (name, place, text, row, period,
    # tax), as keyword arguments
    fixed: dict[str, Any]
    # its own notes and the conventions of the builtins it uses (`_builtin_assumptions`),
    # as an applying line states them
    assumptions: tuple[str, ...]
    # the amount's own outermost `sum`/`count` over a fact (`_counted`): the records its
    # breakdown shows, kept as the amount is evaluated (`_amount_and_records`)
    counted: tuple[I.Quant, ...]
    # its parts (when, quote when, amount) that go through the records of a list fact, and
    # whether its amount sums or counts any (it has a breakdown): `missing_fields` and
    # `breakdown` find nothing in the others
    listing: tuple[I.Expr, ...]
    itemised: bool


@dataclass
class _BookStatic:
    """A rulebook's charge lines in order (`_Static`), and what its definitions and facts
    are called, for every case priced against it."""

    program: DecisionProgram  # the program whose charges `lines` are
    lines: tuple[_Static, ...]
    judgment_facts: frozenset[str]
    # (definition, where it is defined) → `_definition`; filled as used
    definitions: dict[tuple[str, str | None], dict[str, Any]]


def _statics(book: Rulebook, program: DecisionProgram) -> _BookStatic:
    """The rulebook's `_BookStatic`, kept with it (`book.derived.charge_statics`)."""
    hit = book.derived.charge_statics
    if isinstance(hit, _BookStatic) and hit.program is program:
        return hit
    lines: list[_Static] = []
    for pid in book.order:
        prov = book.provisions[pid]
        if prov.unit.status != "encoded":
            continue
        for c in prov.unit.charges:
            ch = program.charges[(pid, c.name)]
            tax = TaxCategory(ch.tax) if ch.tax else None
            assumptions = list(ch.assumptions)
            for a in _builtin_assumptions(book, ch):
                _assume(assumptions, ch, a)
            row, row_id, row_text = _row(book, ch)
            lines.append(_Static(
                ch=ch, parent=f"charge:{pid}:{ch.name}", tax=tax, fixed={
                    "name": ch.name, "label": ch.label, "id": pid,
                    "citation": book.cite(pid), "caption": book.caption_of(pid),
                    "text": prov.text or _inherited_text(book, pid),
                    "row": row, "row_id": row_id, "row_text": row_text, "per": ch.per,
                    "period": PERIOD_OF.get(ch.per or "", "other"), "tax": tax},
                assumptions=tuple(assumptions), counted=_counted(book, ch),
                listing=tuple(x for x in (ch.when, ch.quote_when, ch.amount)
                              if x is not None and _over_facts(book, x)),
                itemised=ch.amount is not None
                and _over_facts(book, ch.amount, ("sum", "count"))))
    static = _BookStatic(
        program=program,
        lines=tuple(lines),
        judgment_facts=frozenset(p for p, f in book.facts.items() if f.judgment),
        definitions={})
    book.derived.charge_statics = static
    return static


def _over_facts(book: Rulebook, e: I.Expr, kinds: tuple[str, ...] | None = None) -> bool:
    """Whether `e` has an outermost quantifier (of `kinds`: any) over a fact — the only ones
    `records_in` gives records of."""
    return any(q.source.resolved == "fact" and (kinds is None or q.q in kinds)
               for q in outer_quantifiers(book, e))


def _counted(book: Rulebook, ch: A.Charge) -> tuple[I.Quant, ...]:
    """The quantifiers a line's breakdown lists record by record (`breakdown`: the outermost
    `sum`/`count` of its amount over a fact) that the amount itself holds — one in a
    definition it reads is evaluated once per case, maybe before the line, so its records
    are not there to keep."""
    if ch.amount is None:
        return ()
    own = {id(n) for n in I.walk(ch.amount)}
    return tuple(q for q in outer_quantifiers(book, ch.amount)
                 if q.q in ("sum", "count") and q.source.resolved == "fact" and id(q) in own)


def _definition(book: Rulebook, static: _BookStatic, name: str, where: str | None
                ) -> dict[str, Any]:
    """A definition a line read as its JSON shows it, but for its value: `name`, `label`,
    the `citation` of `where` it is defined (kept per rulebook; a line copies it)."""
    hit = static.definitions.get((name, where))
    if hit is None:
        hit = static.definitions[(name, where)] = {
            "name": name, "label": book.definitions[name][0].label,
            "citation": book.cite(where) if where else None}
    return hit


def compute_charges(book: Rulebook, facts: dict[str, Any], as_of: dt.date,
                    result: Result | None = None) -> ChargeReport:
    """Evaluate every charge of `book` (the version in force) for one case.

    `result`, when given, is the case's evaluated outcomes; it must be of the same rulebook
    and date (charges read facts and `holds` through the same interpreter, not the result).
    """
    if result is not None and (result.book is not book or result.as_of != as_of):
        raise ValueError("the result is of another rulebook or date than the charges")
    restored = restore_durations(facts)
    if result is not None and result.evaluator is not None and \
            (restored is result.facts or restored == result.facts):
        ev = result.evaluator  # continue the case's evaluation: one trace, nothing twice
    else:
        ev = Evaluator(book, restored, as_of)
    report = ChargeReport(book, as_of)
    static = _statics(book, ev.program)
    outer = ev.parent
    try:
        for s in static.lines:
            ev.parent = s.parent  # its steps, under the charge line
            report.lines.append(_line(book, static, ev, s))
    finally:
        ev.parent = outer
    return report


def _builtin_assumptions(book: Rulebook, ch: A.Charge) -> list[str]:
    """The conventions the builtins a charge line uses stand on (`_BUILTIN_ASSUMPTIONS`),
    in the order the line uses them; kept with the rulebook."""
    return per_object(book.derived.charge_builtins, ch, lambda: [
        _BUILTIN_ASSUMPTIONS[n.fn] for x in (ch.when, ch.quote_when, ch.amount)
        if x is not None for n in I.walk(x)
        if isinstance(n, I.Call) and n.fn in _BUILTIN_ASSUMPTIONS])


def _assume(assumptions: list[str], ch: A.Charge, a: str) -> None:
    """Add the convention `a` to a line's `assumptions` — unless the line's own notes
    (`assume "…"` in the clause file) already state it: then it is stated once, theirs."""
    said = STATED_BY.get(a, ())
    if a not in assumptions and not (said and any(all(w in own for w in said)
                                                  for own in ch.assumptions)):
        assumptions.append(a)


_ERRORS = (EvalError, MoneyError, PeriodError, ArithmeticError, TypeError, ValueError)
_PRICED = ("charged", "undetermined", "company_pays")  # lines that show an amount


def _line(book: Rulebook, static: _BookStatic, ev: Evaluator, s: _Static) -> ChargeLine:
    ch = s.ch
    ev.fresh()
    tax = s.tax
    error: str | None = None
    when_v: bool | None = True
    quote_v: bool | None = False
    amount: Decimal | None = None
    kept: dict[int, list[Any]] = {}
    try:
        if ch.when is not None:
            when_v = _truth(ev.part(ch.when))
        if ch.quote_when is not None and when_v is not False:
            quote_v = _truth(ev.part(ch.quote_when))
        if ch.amount is not None and when_v is not False and quote_v is not True:
            value, kept = _amount_and_records(ev, ch.amount, s.counted)
            amount = _money(value)
    except _ERRORS as err:
        error = f"{type(err).__name__}: {err}"

    flags: list[str] = []
    status: LineStatus
    if error is not None:
        status = "error"
        flags.append("error")
    elif when_v is False:
        status = "not_applicable"
    elif when_v is None or quote_v is None:
        status = "undetermined"
    elif quote_v:
        status = "quote"
        flags.append("quote")
    elif ch.amount is None:
        status = "undetermined"
        flags.append("no_amount")
        error = "the charge has no `amount`"
    elif amount is None:
        status = "undetermined"
    elif ch.payer == "company":
        status = "company_pays"  # 当社が支払う (e.g. 第17条の賠償の上限): never in the total
    else:
        status = "charged"
    if status == "undetermined":
        flags.append("undetermined")
    if ch.lower_bound and status in ("charged", "undetermined"):
        flags.append("lower_bound")

    tax_amount: Decimal | None = None
    with_tax: Decimal | None = None
    if amount is not None and tax is not None:
        if tax is TaxCategory.EXCLUDED:
            tax_amount = tax_of(amount, TaxCategory.EXCLUDED)
            with_tax = amount + tax_amount
        elif tax is TaxCategory.INCLUDED:
            tax_amount = tax_of(amount, TaxCategory.INCLUDED)
            with_tax = amount
        else:
            tax_amount, with_tax = Decimal(0), amount
    elif amount is not None:
        flags.append("tax_unstated")

    if status == "not_applicable":
        assumptions = list(ch.assumptions)
    else:
        assumptions = list(s.assumptions)
        if tax is TaxCategory.EXCLUDED and amount is not None:
            _assume(assumptions, ch, TAX_ASSUMPTION)
            if amount != amount.to_integral_value():
                _assume(assumptions, ch, SEN_ASSUMPTION)
        if tax is None and amount is not None:
            _assume(assumptions, ch, NO_TAX_ASSUMPTION)

    rec = ev.rec
    values = rec.values
    missing: list[str] = []
    # only an undetermined (or failed) line lists the facts it still needs; with a trace,
    # the search for them is run anyway, as its steps are part of the trace
    if status in ("undetermined", "error") or ev.trace is not None:
        missing = [p for p, v in rec.facts.items() if v is None]
        for y in s.listing:
            for m in missing_fields(ev, y):
                if m not in missing:
                    missing.append(m)
    priced = status in _PRICED
    per_record = _breakdown(ev, ch.amount, kept) if priced and s.itemised else []
    shown = display_values(values)
    conds = (ch.when,) if ch.when is not None else ()
    judged = static.judgment_facts
    return ChargeLine(
        **s.fixed,
        status=status,
        amount=amount if priced else None,
        tax_amount=tax_amount if priced else None,
        amount_with_tax=with_tax if priced else None,
        condition=(to_text(ch.when, shown) if ch.when is not None else "") or "true",
        charge=ch, conds=conds, shown=shown, vocab=vocabulary(book),
        facts=dict(rec.facts),
        judgments=[p for p in rec.facts if p in judged]
        if not judged.isdisjoint(rec.facts) else [],
        definitions=[{**_definition(book, static, n, w), "value": values.get(n)}
                     for n, w in rec.definitions.items()],
        missing_facts=missing if status in ("undetermined", "error") else [],
        assumptions=assumptions,
        memos=list(ch.memos),
        flags=flags,
        error=error,
        breakdown=per_record,
    )


def _amount_and_records(ev: Evaluator, amount: I.Expr, counted: tuple[I.Quant, ...]
                        ) -> tuple[Any, dict[int, list[Any]]]:
    """A line's amount, and what each record of its `counted` quantifiers gave as it was
    evaluated (a value, `SKIP` or `STOP`: `Evaluator.kept`), by quantifier id — so the
    breakdown reads the records the amount went through instead of evaluating each again
    (`_breakdown`). A line that counts no list the case gives is evaluated as it is."""
    if not any(isinstance(ev.fact(q.source.path), list) for q in counted):
        return ev.part(amount), {}
    kept: dict[int, list[Any]] = {id(q): [] for q in counted}
    ev.kept = kept
    try:
        return ev.part(amount), kept
    finally:
        ev.kept = None


def _breakdown(ev: Evaluator, amount: I.Expr | None,
               kept: dict[int, list[Any]]) -> list[dict[str, Any]]:
    """The amount's per-record breakdown (`breakdown`), from the records its evaluation kept
    (`_amount_and_records`) when it went through every record of every quantifier listed —
    as it does unless an unknown `where` stopped it. Otherwise, and with a trace (the breakdown's
    own steps are part of it), `breakdown` evaluates the records again."""
    if ev.trace is not None:
        return breakdown(ev, amount)
    out: list[dict[str, Any]] = []
    for q, name, src in records_in(ev, amount):
        if q.q not in ("sum", "count"):
            continue
        got = kept.get(id(q))
        if got is None or len(got) != len(src) or any(r is STOP for r in got):
            return breakdown(ev, amount)
        for i, (rec, r) in enumerate(zip(src, got, strict=True)):
            if r is SKIP:
                w, b = False, None
            else:
                w, b = True, (1 if q.body is None else r)
            out.append({"path": f"{name}[{i}]", "record": rec, "included": w,
                        "value": b, "q": q.q})
    return out


def _truth(v: Any) -> bool | None:
    if v is None or isinstance(v, bool):
        return v
    raise EvalError(f"a condition gave {show_value(v)}, not true/false")


def _money(v: Any) -> Decimal | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int | Decimal):
        raise EvalError(f"an amount gave {show_value(v)}, not a sum of money")
    return Decimal(v)


def display_values(values: dict[str, Any]) -> dict[str, Any]:
    """Values for showing in a condition: whole-yen Decimals as integers (90, not 9E+1)."""
    return {k: _display(v) if isinstance(v, Decimal) else v for k, v in values.items()}


def _display(v: Any) -> Any:
    """A value for showing (`display_values`)."""
    if isinstance(v, Decimal) and v.is_finite() and v == v.to_integral_value():
        return int(v)
    return v


def restore_durations(v: Any) -> Any:
    """Facts as pydantic dumps them, with durations put back: `model_dump` turns a
    `Duration` (a dataclass) into `{"seconds": …, "days": …, "months": …}`, which no builtin
    can count. Anything else is returned as it is — a dict or list too, when nothing in it
    is such a duration (facts read from a case file have none: they are not copied, and the
    case's evaluation is recognised as of the same facts without comparing them)."""
    items: Iterable[tuple[Any, Any]]
    if isinstance(v, dict):
        if len(v) == 3 and set(v) == {"seconds", "days", "months"} and \
                all(type(x) is int for x in v.values()):
            return Duration(**v)
        items = v.items()
    elif isinstance(v, list):
        items = enumerate(v)
    else:
        return v
    out: Any = None  # a copy of `v`, from the first thing put back
    for k, x in items:
        if not isinstance(x, dict | list):
            continue  # a plain value (most facts): nothing to look into
        y = restore_durations(x)
        if y is not x:
            if out is None:
                out = dict(v) if isinstance(v, dict) else list(v)
            out[k] = y
    return v if out is None else out


def _row(book: Rulebook, ch: A.Charge) -> tuple[str | None, str | None, str | None]:
    if ch.row is None:
        return None, None, None
    if ch.row.targets:
        ids = list(ch.row.targets)
        return ("、".join(book.cite(t) for t in ids), ids[0],
                book.provisions[ids[0]].text or None)
    return ch.row.raw, None, None


def _inherited_text(book: Rulebook, pid: str) -> str:
    """The text of the nearest unit up the tree that has one (a row without text of its own)."""
    p = book.provisions[pid].parent
    while p is not None:
        if book.provisions[p].text:
            return book.provisions[p].text
        p = book.provisions[p].parent
    return ""


# ---- JSON -------------------------------------------------------------------------------------

def _dec(v: Decimal | None) -> str | None:
    """A Decimal as a plain string: 1500, 16.98 (no exponent, no trailing zeros)."""
    if v is None:
        return None
    if v == v.to_integral_value():
        return str(int(v))
    return format(v.normalize(), "f")


# a tax category → its `tax` and `tax_code` in JSON
_TAX_JSON = {c: (c.value, c.name.lower()) for c in TaxCategory}
_NO_TAX_JSON = (None, None)
_TAX_RATE = str(CONSUMPTION_TAX_RATE)


class _Records:
    """`jsonable` for the lines of one report: the records of a list (each call, each line)
    that several lines show — in their facts and their breakdowns — are converted once, not
    once per place. Each place gets a copy of its own (a record holding a list or a mapping
    is converted anew), so no two places of the JSON share an object. Made per report:
    nothing is kept from one pricing to the next."""

    def __init__(self) -> None:
        # id(record) → (it, its JSON if every value of it is plain, else None)
        self.done: dict[int, tuple[Any, dict[str, Any] | None]] = {}

    def facts(self, facts: dict[str, Any]) -> dict[str, Any]:
        """A line's facts as JSON, a list record by record (`record`)."""
        return {p: v if type(v) in PLAIN else
                [self.record(x) for x in v] if type(v) is list else jsonable(v)
                for p, v in facts.items()}

    def record(self, r: Any) -> Any:
        """One record as JSON, a copy of the one made for its first place."""
        if type(r) is not dict:
            return jsonable(r)
        flat = per_object(self.done, r, lambda: _flat_json(r))
        return dict(flat) if flat is not None else jsonable(r)


def _flat_json(r: dict[str, Any]) -> dict[str, Any] | None:
    """A record's JSON when all its values are plain (a shallow copy of it is a whole one)."""
    j = jsonable(r)
    return j if all(type(x) in PLAIN for x in j.values()) else None


def line_json(ln: ChargeLine, records: _Records | None = None) -> dict[str, Any]:
    """A line's JSON (`records`: the report's, to convert a record shown again once)."""
    if records is None:
        records = _Records()
    tax, tax_code = _TAX_JSON[ln.tax] if ln.tax else _NO_TAX_JSON
    return {
        "name": ln.name,
        "label": ln.label,
        "id": ln.id,
        "citation": ln.citation,
        "caption": ln.caption,
        "row": ln.row,
        "row_id": ln.row_id,
        "row_text": ln.row_text,
        "text": ln.text,
        "per": ln.per,
        "period": ln.period,
        "tax": tax,
        "tax_code": tax_code,
        "status": ln.status,
        "amount": _dec(ln.amount),
        "tax_amount": _dec(ln.tax_amount),
        "amount_with_tax": _dec(ln.amount_with_tax),
        "amount_before_tax": _dec(ln.base) if ln.amount is not None else None,
        "formula": ln.formula,
        "condition": ln.condition,
        "condition_ja": ln.condition_ja,
        "quote_condition": ln.quote_condition,
        "facts": records.facts(ln.facts),
        "judgments": list(ln.judgments),
        "definitions": [{**d, "value": jsonable(v)} if type(v := d["value"]) not in PLAIN
                        else d.copy() for d in ln.definitions],
        "missing_facts": list(ln.missing_facts),
        "assumptions": list(ln.assumptions),
        "memos": list(ln.memos),
        "flags": list(ln.flags),
        "error": ln.error,
        "breakdown": [
            {"path": b["path"], "record": records.record(b["record"]), "included": b["included"],
             "value": jsonable(_display(b["value"]))}
            for b in ln.breakdown],
    }


def report_json(r: ChargeReport) -> dict[str, Any]:
    """The stable JSON of a charge report (see the module docstring)."""
    h = r.book.doc.header
    # the charged lines and their tax, found once (each of the report's properties that
    # reads them would find them again)
    charged = r.charged
    tax = _tax(charged)
    records = _Records()
    return {
        "document": h.id,
        "title": h.title,
        "version": h.version,
        "as_of": r.as_of.isoformat(),
        "as_of_wareki": to_wareki(r.as_of),
        "tax_rate": _TAX_RATE,
        "lines": [line_json(ln, records) for ln in r.by_status("charged", "quote")],
        "undetermined": [line_json(ln, records) for ln in r.undetermined],
        "company_pays": [line_json(ln, records) for ln in r.by_status("company_pays")],
        "not_applicable": [
            {"name": ln.name, "label": ln.label, "citation": ln.citation, "row": ln.row,
             "condition": ln.condition,
             "facts": records.facts(ln.facts)}
            for ln in r.not_applicable],
        "subtotals": {k: _dec(v) for k, v in _subtotals(charged).items()},
        "tax": {k: {kk: _dec(vv) for kk, vv in v.items()} for k, v in tax.items()},
        "total": _dec(_sum(tax, "base")),
        "total_tax": _dec(_sum(tax, "tax")),
        "total_with_tax": _dec(_sum(tax, "with_tax")),
        "final": r.final,
        "complete": r.complete,
        "total_is_lower_bound": r.total_is_lower_bound,
        "assumptions": _assumptions(r.lines, charged),
        "warnings": _warnings(charged),
    }


def charges_json(p: Any, result: Result) -> dict[str, Any]:
    """The charges of a prepared case (`yakkan.engine.features.explain.Prepared`), as stable JSON."""
    return report_json(compute_charges(p.book, p.facts, p.as_of, result))


# ---- rendering --------------------------------------------------------------------------------




