"""Charges evaluate nothing twice: a line's per-record breakdown is read from the records its
amount's evaluation went through (`charges._amount_and_records`), and is the very breakdown the
interpreter gives when it evaluates the records again (`evaluate.breakdown`)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from yakkan.engine.core.diagnostics import YakkanError
from yakkan.engine.features import charges
from yakkan.engine.features.charges import compute_charges
from yakkan.engine.features.explain import Prepared, prepare
from yakkan.engine.runtime.evaluate import Evaluator, breakdown, evaluate

CASES = Path(__file__).parent.parent / "examples" / "cases"
CALLS = CASES / "charge-denwa-course2-calls-old.yaml"


def _breakdowns_as_evaluated_again(p: Prepared) -> list[list[dict[str, Any]]]:
    """Each line's breakdown as the interpreter gives it, by a fresh evaluation of the case,
    next to the one `compute_charges` gave, for each line that shows one."""
    report = compute_charges(p.book, p.facts, p.as_of, evaluate(p.book, p.facts, p.as_of))
    static = charges._statics(p.book, Evaluator(p.book, p.facts, p.as_of).program)
    amounts = {(s.fixed["id"], s.ch.name): s.ch.amount for s in static.lines}
    out = []
    for ln in report.lines:
        if ln.status in charges._PRICED:
            again = breakdown(Evaluator(p.book, p.facts, p.as_of), amounts[(ln.id, ln.name)])
            out.append([ln.breakdown, again])
    return out


def test_the_breakdown_is_read_from_the_amounts_evaluation(
        monkeypatch: pytest.MonkeyPatch) -> None:
    p = prepare(str(CALLS))
    want = compute_charges(p.book, p.facts, p.as_of).line("call_charge_b").breakdown

    def again(*_: object) -> None:
        raise AssertionError("the records were evaluated again")

    monkeypatch.setattr(charges, "breakdown", again)
    got = compute_charges(p.book, p.facts, p.as_of).line("call_charge_b").breakdown
    assert got == want and len(got) == 4


def test_a_breakdown_the_amount_did_not_go_through_is_evaluated_again() -> None:
    """An unknown `where` stops a sum (its amount is unknown): the records after it are
    still listed, as the interpreter evaluates them."""
    p = prepare(str(CALLS))
    facts = copy.deepcopy(p.facts)
    facts["calls"][1]["domestic"] = None
    q = Prepared(**{**p.__dict__, "facts": facts})
    pairs = _breakdowns_as_evaluated_again(q)
    assert pairs and any(len(kept) == 4 for kept, _ in pairs)
    for kept, again in pairs:
        assert kept == again


@pytest.mark.parametrize("case", sorted(CASES.glob("*.yaml")), ids=lambda c: c.stem)
def test_every_examples_breakdown_is_the_interpreters(case: Path) -> None:
    try:
        p = prepare(str(case))
    except YakkanError:
        pytest.skip("an input error by design")
    for kept, again in _breakdowns_as_evaluated_again(p):
        assert kept == again
