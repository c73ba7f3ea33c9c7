"""Evaluation semantics: Kleene logic, decisions, overrides, 準用, ただし書, counterfactuals."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yakkan.engine.features.counterfactual import counterfactuals, set_path
from yakkan.engine.runtime.evaluate import evaluate
from yakkan.engine.semantics.resolve import Rulebook, resolve
from yakkan.engine.syntax.load import load_file

FIXTURE = Path(__file__).parent / "fixtures" / "resolve.yk"
DAY = dt.date(2021, 1, 1)


@pytest.fixture(scope="module")
def book() -> Rulebook:
    src = load_file(FIXTURE)
    assert src.doc is not None
    return resolve(src.doc)


def decide(book: Rulebook, facts: dict[str, Any], outcome: str) -> str:
    return evaluate(book, facts, DAY).outcomes[outcome].value


def test_accept_when_no_ground_applies(book: Rulebook) -> None:
    assert decide(book, {"a": False, "b": False, "j": False}, "application") == "accept"


def test_missing_fact_is_unknown_not_false(book: Rulebook) -> None:
    r = evaluate(book, {"a": False, "b": False}, DAY).outcomes["application"]
    assert r.value == "undetermined"
    assert r.missing_facts == ["j"]  # the judgment, still needed


def test_every_applying_ground_is_reported(book: Rulebook) -> None:
    r = evaluate(book, {"a": True, "b": True}, DAY).outcomes["application"]
    assert r.value == "may_refuse"
    assert [g.ground.citation for g in r.grounds] == ["第1条第2項第1号", "第1条第2項第3号"]
    # 「前項の規定にかかわらず」: 第2項 overrides 第1項, and says so
    assert [(book.cite(a), book.cite(b)) for a, b in r.overrides] == [("第1条第2項", "第1条第1項")]


def test_true_ground_decides_despite_unknowns(book: Rulebook) -> None:
    # Kleene: b or j is true when b is true, whatever j is
    assert decide(book, {"a": False, "b": True}, "application") == "may_refuse"


def test_holds_and_proviso(book: Rulebook) -> None:
    # 第2条第1号 holds 「第1条第2項第1号」; 第3条 holds 「利用停止に関する条第1項各号」 unless k2
    assert decide(book, {"a": True, "n": 0}, "suspension") == "may"
    assert decide(book, {"a": True, "n": 0, "kind": "k1"}, "termination") == "may"
    assert decide(book, {"a": True, "n": 0, "kind": "k2"}, "termination") == "not_applicable"
    assert decide(book, {"a": False, "n": 11}, "termination") == "undetermined"  # kind unknown
    assert decide(book, {"a": False, "n": 3, "kind": "k1"}, "termination") == "not_applicable"


def test_mutatis_imports_the_grounds(book: Rulebook) -> None:
    r = evaluate(book, {"a": True, "b": False, "j": False}, DAY).outcomes["change"]
    assert r.value == "may_refuse"
    assert r.grounds[0].ground.citation == "第1条第2項第1号（第4条第1項により準用）"


def test_counterfactuals_are_minimal_and_verified(book: Rulebook) -> None:
    facts: dict[str, Any] = {"a": True, "b": False, "j": False}
    r = evaluate(book, facts, DAY).outcomes["application"]
    cfs = counterfactuals(book, facts, DAY, r)
    assert [[(c.path, c.after) for c in cf.changes] for cf in cfs] == [[("a", False)]]


FACT_VALUES = st.fixed_dictionaries({}, optional={
    "a": st.booleans(), "b": st.booleans(), "j": st.booleans(),
    "n": st.integers(-5, 20), "kind": st.sampled_from(["k1", "k2"]),
})


@settings(max_examples=150, deadline=None)
@given(FACT_VALUES)
def test_property_counterfactual_reevaluates(facts: dict[str, Any]) -> None:
    book = _book()
    for name, r in evaluate(book, facts, DAY).outcomes.items():
        for cf in counterfactuals(book, facts, DAY, r):
            changed = dict(facts)
            for c in cf.changes:
                set_path(changed, c.path, c.after)
            assert evaluate(book, changed, DAY).outcomes[name].value == cf.value


@settings(max_examples=150, deadline=None)
@given(FACT_VALUES, st.sampled_from(["a", "b", "j", "n", "kind"]), st.data())
def test_property_knowing_more_never_undetermines(facts: dict[str, Any], extra: str,
                                                  data: st.DataObject) -> None:
    book = _book()
    if extra in facts:
        return
    value = data.draw({"n": st.integers(-5, 20), "kind": st.sampled_from(["k1", "k2"])}
                      .get(extra, st.booleans()))
    before = evaluate(book, facts, DAY).outcomes
    after = evaluate(book, {**facts, extra: value}, DAY).outcomes
    for name, r in before.items():
        if r.value != "undetermined":
            assert after[name].value == r.value, (name, facts, extra, value)


_CACHE: dict[str, Rulebook] = {}


def _book() -> Rulebook:
    if "b" not in _CACHE:
        src = load_file(FIXTURE)
        assert src.doc is not None
        _CACHE["b"] = resolve(src.doc)
    return _CACHE["b"]


def test_the_grounds_a_decision_rules_branches_cite_are_found_once() -> None:
    """What the interpreter finds once per rulebook (the grounds each branch of a decision
    rule cites, for an undetermined outcome's open values) is kept with it and found again
    by the next evaluation."""
    src = load_file(FIXTURE)
    assert src.doc is not None
    fresh = resolve(src.doc)
    first = evaluate(fresh, {"a": False, "b": False}, DAY)  # undetermined: `_open` runs
    assert first.outcomes["application"].value == "undetermined"
    kept = dict(fresh.derived.branch_grounds)
    assert kept
    again = evaluate(fresh, {"a": False, "b": False}, DAY)
    assert again.outcomes["application"].open == first.outcomes["application"].open
    assert all(fresh.derived.branch_grounds[k][1] is v[1] for k, v in kept.items())
