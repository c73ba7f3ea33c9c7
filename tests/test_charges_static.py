"""Charges: what a rulebook's charge lines always give is worked out once per rulebook
(`charges._statics`) and leaves every pricing as it was."""

from __future__ import annotations

import copy
from pathlib import Path

from yakkan.engine.features import charges
from yakkan.engine.features.charges import charges_json, compute_charges, report_json
from yakkan.engine.features.explain import prepare
from yakkan.engine.runtime.evaluate import evaluate

CASES = Path(__file__).parent.parent / "examples" / "cases"
CALLS = CASES / "charge-denwa-course2-calls-old.yaml"
PLAN4 = CASES / "denwa-plan4-no-duns.yaml"


def test_a_case_priced_again_or_by_itself_gives_the_same_json() -> None:
    for path in (CALLS, PLAN4):
        p = prepare(str(path))
        result = evaluate(p.book, p.facts, p.as_of)
        first = charges_json(p, result)
        assert charges_json(p, result) == first  # the case's evaluator continued again
        # a fresh interpreter (no result), and facts with durations as pydantic dumps them
        assert report_json(compute_charges(p.book, p.facts, p.as_of)) == first
        dumped = copy.deepcopy(p.facts)
        for c in dumped.get("calls") or []:
            d = c["duration"]
            c["duration"] = {"seconds": d.seconds, "days": d.days, "months": d.months}
        assert report_json(compute_charges(p.book, dumped, p.as_of)) == first


def test_a_rulebooks_charge_lines_are_worked_out_once_and_kept_with_it() -> None:
    p = prepare(str(CALLS))
    book = copy.deepcopy(p.book)
    book.derived.charge_statics = None
    want = report_json(compute_charges(p.book, p.facts, p.as_of))
    assert report_json(compute_charges(book, p.facts, p.as_of)) == want
    kept = book.derived.charge_statics
    assert isinstance(kept, charges._BookStatic)
    assert report_json(compute_charges(book, p.facts, p.as_of)) == want
    assert book.derived.charge_statics is kept  # the second pricing used it
