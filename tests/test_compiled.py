"""The compiled backend (`runtime/compiled.py`) against the reference interpreter.

* Differential: hypothesis generates cases from each bundled version's fact declarations —
  every fact unknown, observed absent (where the type allows) or a value near the
  boundaries the rules compare it with; lists of records of every length up to three — and
  every outcome must agree on value, possible values, applying grounds, undetermined
  grounds, missing facts and the open branches; every ground's applicability too.
* Incremental: re-deciding a changed case by re-running only the affected grounds gives
  what deciding it from scratch gives.
* Safety: the generated source holds no text from a rule file (tokenised: no string
  literal, only our own names).
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import keyword
import re
import tokenize
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yakkan.engine.core import ir as I
from yakkan.engine.core.periods import Duration
from yakkan.engine.core.values import ABSENT
from yakkan.engine.features.counterfactual import (
    GOOD,
    Search,
    Searcher,
    _breaker,
    _candidates,
    _decider,
    _options,
    get_path,
    search,
    with_changes,
)
from yakkan.engine.features.explain import (
    Prepared,
    changed_requirement_state,
    requirement_state,
)
from yakkan.engine.runtime.case import ABSENT_OK
from yakkan.engine.runtime.compiled import Compiled, compiled_of
from yakkan.engine.runtime.evaluate import broken_assumptions as interpreted_assumptions
from yakkan.engine.runtime.evaluate import compared_literals, evaluate
from yakkan.engine.semantics.resolve import Rulebook
from yakkan.engine.semantics.rulebooks import versions

BOOKS = [b for doc in ("denwa", "rakuten-miitel") for b in versions(doc)]
IDS = [f"{b.doc.header.id}@{b.doc.header.effective_from}" for b in BOOKS]
EXAMPLES = 150  # per version; the long run is `pytest -m fuzz_long`


def _near(book: Rulebook, path: str, t: I.YType, as_of: dt.date) -> st.SearchStrategy[Any]:
    lits = compared_literals(book, path)
    if t.base == "bool":
        return st.booleans()
    if t.base == "enum":
        return st.sampled_from([m.name for m in t.members] or ["x"])
    if t.base in ("int", "decimal", "money", "percent"):
        pts = [int(v) for v in lits if isinstance(v, int | Decimal) and not isinstance(v, bool)]
        near = sorted({max(0, p + d) for p in pts for d in (-1, 0, 1)} | {0, 1, 2})
        ints = st.sampled_from(near) | st.integers(0, 5000)
        return ints if t.base == "int" else ints.map(Decimal)
    if t.base == "date":
        days = [as_of] + [v for v in lits if isinstance(v, dt.date)]
        return st.builds(lambda d, k: d + dt.timedelta(days=k), st.sampled_from(days),
                         st.integers(-400, 400))
    if t.base == "duration":
        return st.builds(lambda s: Duration(seconds=s), st.integers(0, 7200))
    if t.ident == "duns":
        return st.sampled_from(["12-345-6789", "98-765-4321"])
    if t.base == "text":
        return st.sampled_from(["", "株式会社甲", "株式会社乙", "㈱甲", "a"])
    return st.none()


def _value(book: Rulebook, path: str, t: I.YType, as_of: dt.date) -> st.SearchStrategy[Any]:
    """A fact's value: unknown (None: left out), observed absence, or a value."""
    if t.base == "list":
        rec = st.fixed_dictionaries({}, optional={
            f.name: _value(book, f"{path}.{f.name}", f.type, as_of) for f in t.fields})
        return st.none() | st.lists(rec, max_size=3)
    options = [st.none(), _near(book, path, t, as_of)]
    if t.base in ABSENT_OK:
        options.append(st.just(ABSENT))
    return st.one_of(options)


def cases(book: Rulebook) -> st.SearchStrategy[dict[str, Any]]:
    as_of = book.doc.header.effective_from or dt.date(2024, 1, 1)
    paths = {p: d.type for p, d in book.facts.items()}

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        facts: dict[str, Any] = {}
        for path, t in paths.items():
            v = draw(_value(book, path, t, as_of))
            if v is None:
                continue  # unknown: left out of the case
            node = facts
            parts = path.split(".")
            for p in parts[:-1]:
                node = node.setdefault(p, {})
            node[parts[-1]] = [{k: x for k, x in r.items() if x is not None} for r in v] \
                if isinstance(v, list) else v
        return facts

    return build()


def _interpreted(book: Rulebook, facts: dict[str, Any], as_of: dt.date) -> dict[str, Any]:
    r = evaluate(book, facts, as_of)
    return {n: (o.value, tuple(o.possible), tuple(g.ground.key for g in o.grounds),
                tuple(g.ground.key for g in o.undetermined), tuple(o.missing_facts),
                tuple((v, tuple(ks)) for v, ks in o.open))
            for n, o in r.outcomes.items()}


def _compiled(c: Compiled, facts: dict[str, Any], as_of: dt.date) -> dict[str, Any]:
    return {n: (d.value, d.possible, d.applying, d.undetermined, d.missing, d.open)
            for n, d in c.decide(facts, as_of).items()}


@pytest.mark.parametrize("book", BOOKS, ids=IDS)
def test_the_compiled_backend_decides_as_the_interpreter(book: Rulebook) -> None:
    c = compiled_of(book)
    as_of = book.doc.header.effective_from or dt.date(2024, 1, 1)
    seen = {"undetermined": 0, "cases": 0}

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(cases(book))
    def check(facts: dict[str, Any]) -> None:
        want = _interpreted(book, facts, as_of)
        got = _compiled(c, facts, as_of)
        assert got == want
        ev = evaluate(book, facts, as_of)
        interp_grounds = {k: r.applies for o in ev.outcomes.values()
                          for r in (*o.grounds, *o.not_applicable, *o.undetermined, *o.base)
                          for k in [r.ground.key]}
        assert c.ground_values(facts, as_of) == {
            k: interp_grounds[k] for k in c.ground_values(facts, as_of)}
        for name in c.outcomes:  # the one-outcome functions too, and the value alone
            assert _compiled_one(c, facts, as_of, name) == want[name]
            assert c.value(facts, as_of, name) == want[name][0]
            # with `g`: the straight-line function fills it with every ground it needs;
            # where it holds more than half of them, only the others run, one by one
            g: dict[str, bool | None] = {}
            assert c.value(facts, as_of, name, g) == want[name][0]
            assert g == {k: interp_grounds[k] for k in c.closure(name)}
            held = dict(list(g.items())[:len(g) // 2 + 1])
            assert c.value(facts, as_of, name, held) == want[name][0]
            assert held == g
        seen["cases"] += 1
        seen["undetermined"] += sum(1 for v in want.values() if v[0] == "undetermined")

    check()
    assert seen["cases"] >= EXAMPLES // 2
    assert seen["undetermined"] > 0  # unknown facts were exercised


@pytest.mark.parametrize("book", [b for b in BOOKS if b.doc.assumptions],
                         ids=[i for b, i in zip(BOOKS, IDS, strict=True) if b.doc.assumptions])
def test_compiled_assumptions_break_as_the_interpreter_finds(book: Rulebook) -> None:
    c = compiled_of(book)
    as_of = book.doc.header.effective_from or dt.date(2024, 1, 1)
    seen: dict[str, int] = {"cases": 0, "broken": 0, "kept": 0}

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(cases(book))
    def check(facts: dict[str, Any]) -> None:
        want = interpreted_assumptions(book, facts, as_of)
        assert c.broken_assumptions(facts, as_of) == want
        seen["cases"] += 1
        seen["broken" if want else "kept"] += 1

    check()
    assert seen["broken"] > 0 and seen["kept"] > 0  # both sides were exercised


def _requirement_outcomes(book: Rulebook) -> list[str]:
    prog = compiled_of(book).program
    return [n for n, d in prog.decisions.items()
            if d.grounds and all(prog.grounds[k].force == "requirement" for k in d.grounds)]


@pytest.mark.parametrize("book", BOOKS, ids=IDS)
def test_compiled_requirement_state_is_the_interpreters(book: Rulebook) -> None:
    """A counterfactual's changed case is read as a requirement (met / not concerned /
    unmet / unknown) by the compiled backend; the interpreter's reading is the reference."""
    names = _requirement_outcomes(book)
    if not names:
        pytest.skip("no outcome made of requirements only")
    as_of = book.doc.header.effective_from or dt.date(2024, 1, 1)
    states: set[str | None] = set()

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(cases(book))
    def check(facts: dict[str, Any]) -> None:
        r = evaluate(book, facts, as_of)
        for n in names:
            want = requirement_state(r.outcomes[n])
            assert changed_requirement_state(book, facts, as_of, n) == want, n
            states.add(want)

    check()
    assert {"met", "not_concerned"} <= states  # the two readings of not applicable


def _compiled_one(c: Compiled, facts: dict[str, Any], as_of: dt.date, name: str) -> Any:
    d = c.decide(facts, as_of, [name])[name]
    return (d.value, d.possible, d.applying, d.undetermined, d.missing, d.open)


def _draw_changes(data: st.DataObject, book: Rulebook, as_of: dt.date
                  ) -> tuple[tuple[str, Any], ...]:
    """One or two yes/no or enum facts, each given another value (a counterfactual's
    candidate)."""
    scalars = [(p, d.type) for p, d in book.facts.items() if d.type.base in ("bool", "enum")]
    picks = data.draw(st.lists(st.sampled_from(scalars), min_size=1, max_size=2,
                               unique_by=lambda x: x[0]))
    return tuple((p, data.draw(_near(book, p, t, as_of))) for p, t in picks)


@pytest.mark.parametrize("book", BOOKS, ids=IDS)
def test_incremental_redecision_matches_a_fresh_one(book: Rulebook) -> None:
    c = compiled_of(book)
    as_of = book.doc.header.effective_from or dt.date(2024, 1, 1)
    checked = {"n": 0}

    @settings(max_examples=60, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(cases(book), st.data())
    def check(facts: dict[str, Any], data: st.DataObject) -> None:
        combo = _draw_changes(data, book, as_of)
        changed = with_changes(facts, combo)
        for p, v in combo:
            assert get_path(changed, p) == v
        for name in c.outcomes:
            base = c.ground_values(facts, as_of, name)
            g = dict(base)
            c.rerun(g, changed, as_of, c.affected({p for p, _ in combo}))
            redone = c.rule_values(name, g, changed, as_of)
            assert redone == c.decide(changed, as_of, [name])[name].possible
        checked["n"] += 1

    check()
    assert checked["n"] > 0


@pytest.mark.parametrize("book", BOOKS, ids=IDS)
def test_the_search_decides_each_candidate_as_a_fresh_evaluation(book: Rulebook) -> None:
    """The counterfactual search decides a candidate without re-running what its changes
    cannot change: a candidate whose affected grounds cannot give a wanted value is set
    aside, and a pair takes each change's own ground values where only one change reaches a
    ground. Every candidate of one or two changes is decided as the interpreter decides the
    changed case afresh, both ways (turned, not turned) reached; and where the search is told
    that changes of a set of facts cannot turn the outcome (`reachable`: their candidates are
    then counted without being decided), none of their candidates does — both answers
    reached; and where it is told that no candidate of a size can turn it (`blocked`: every
    turning candidate must change grounds that no candidate of that size changes all of),
    none does — both answers reached. A single change is decided afresh (`afresh`) to the
    interpreter's value, and pairs are then decided incrementally from the ground values it
    kept — both ways reached."""
    as_of = book.doc.header.effective_from or dt.date(2024, 1, 1)
    seen: set[bool] = set()
    told: set[bool] = set()
    closed: set[bool] = set()  # whether a whole size was ruled out (`blocked`)
    ways: set[bool] = set()  # whether a candidate was left to `turns` (a pair), not `afresh`

    @settings(max_examples=25, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(cases(book))
    def check(facts: dict[str, Any]) -> None:
        r = evaluate(book, facts, as_of)
        for name, o in r.outcomes.items():
            if o.value in GOOD:
                continue
            paths = list(dict.fromkeys(p for g in (*o.grounds, *o.undetermined, *o.base)
                                       for p in g.facts))
            choices = [(p, v) for p in paths
                       for v in _options(book, p, get_path(facts, p), facts)][:14]
            turns, _confirm, reachable, blocked, afresh = _decider(
                book, facts, as_of, name, choices, GOOD)
            facts_of = list(dict.fromkeys(p for p, _ in choices))
            # two first: it works out the grounds a turning candidate must change, which
            # `reachable` then checks too
            shut = {2: blocked(2), 1: blocked(1)}
            for size in (1, 2):
                for combo in itertools.combinations(range(len(choices)), size):
                    changes = tuple(choices[i] for i in combo)
                    if len({p for p, _ in changes}) < size:
                        continue
                    fresh = evaluate(book, with_changes(facts, changes), as_of,
                                     outcomes=[name]).outcomes[name].value
                    # a single change decided afresh: its value, and its ground values kept
                    # for the pairs below
                    direct = afresh(combo)
                    assert direct is None or direct[1] == fresh, (name, changes)
                    assert turns(combo) == (fresh in GOOD), (name, changes)
                    seen.add(fresh in GOOD)
                    ways.add(direct is None)
                    can = reachable(tuple(facts_of.index(p) for p, _ in changes))
                    assert can or fresh not in GOOD, (name, changes)
                    told.add(can)
                    assert not shut[size] or fresh not in GOOD, (name, changes, size)
                    closed.add(shut[size])

    check()
    assert seen == {True, False}
    assert told == {True, False}
    assert closed == {True, False}
    assert ways == {True, False}


@settings(max_examples=150, deadline=None, derandomize=True)
@given(st.lists(st.integers(1, 3), min_size=1, max_size=6), st.integers(1, 3), st.data())
def test_the_candidates_come_in_combinations_order(counts: list[int], size: int,
                                                   data: st.DataObject) -> None:
    """`_candidates` gives the candidates of `size` changes, each of a different fact, in
    `itertools.combinations` order over the choices, a set of facts that cannot turn the
    outcome (`reachable` false) as the number of its candidates in their place: expanded,
    they are every candidate in turn (sizes 1 to 3: the loops for the last two changes and
    the recursion before them)."""
    spans: list[range] = []
    for c in counts:
        start = spans[-1].stop if spans else 0
        spans.append(range(start, start + c))
    fact = {i: n for n, r in enumerate(spans) for i in r}
    keys = [k for m in range(1, size + 1) for k in itertools.combinations(range(len(spans)), m)]
    shut = set(data.draw(st.lists(st.sampled_from(keys), max_size=len(keys))))
    asked: list[tuple[int, ...]] = []

    def reachable(key: tuple[int, ...]) -> bool:
        asked.append(key)
        return key not in shut

    want = [c if tuple(fact[i] for i in c) not in shut else None
            for c in itertools.combinations(range(len(fact)), size)
            if len({fact[i] for i in c}) == size]
    got: list[tuple[int, ...] | None] = []
    for b in _candidates(spans, size, reachable):
        got += [None] * b if isinstance(b, int) else [b]
    assert got == want
    if size <= 2:  # each set of facts asked once (of three: once per choice of the first)
        assert len(set(asked)) == len(asked)


def _reference_search(book: Rulebook, facts: dict[str, Any], as_of: dt.date, name: str,
                      grounds: list[Any], budget: int) -> tuple[Any, ...]:
    """The search as its definition states it: every candidate of one change, then of two
    (each of different facts), in `itertools.combinations` order, each counted against the
    budget and decided by the interpreter afresh; a hit kept unless the changed case breaks
    an assumption the case does not; stopping after the first size that finds one."""
    paths = list(dict.fromkeys(p for r in grounds for p in r.facts))
    choices = [(p, v) for p in paths for v in _options(book, p, get_path(facts, p), facts)]
    if not choices:
        return [], "nothing_to_change", 0, False
    before = set(interpreted_assumptions(book, facts, as_of))
    found: list[tuple[tuple[tuple[str, Any], ...], str]] = []
    tried = 0
    for size in (1, 2):
        for combo in itertools.combinations(choices, size):
            if len({p for p, _ in combo}) < size:
                continue
            tried += 1
            if tried > budget:
                return found, "found" if found else "budget", tried - 1, True
            changed = with_changes(facts, combo)
            value = evaluate(book, changed, as_of, outcomes=[name]).outcomes[name].value
            if value in GOOD and not set(interpreted_assumptions(book, changed, as_of)) - before:
                found.append((combo, value))
        if found:
            break
    return found, "found" if found else "none", tried, False


def ended(s: Search) -> tuple[Any, ...]:
    """How a search ended: the changes found (each with the value it gives), in order, the
    status, the candidates tried, whether the budget stopped it."""
    return ([(tuple((c.path, c.after) for c in cf.changes), cf.value) for cf in s.found],
            s.status, s.tried, s.budget_reached)


@pytest.mark.parametrize("book", BOOKS, ids=IDS)
def test_the_search_ends_as_trying_every_candidate_in_turn(book: Rulebook) -> None:
    """Whatever the search skips (candidates it counts a fact's choices at a time, ground
    values it reuses), it ends as trying every candidate in turn would: the same changes
    found, in the same order, the same status, the same number of candidates tried and the
    same budget note — with budgets that stop it anywhere, inside a skipped block too. Both
    a search that finds one and one stopped at its budget are reached for every version (one
    that tries every candidate and finds none, for the denwa versions). The searches of one
    case made by one `Searcher` end as each made alone."""
    as_of = book.doc.header.effective_from or dt.date(2024, 1, 1)
    statuses: set[str] = set()

    @settings(max_examples=30, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(cases(book), st.data())
    def check(facts: dict[str, Any], data: st.DataObject) -> None:
        r = evaluate(book, facts, as_of)
        asked = [o for o in r.outcomes.values() if o.value not in GOOD]
        if not asked:
            return
        o = data.draw(st.sampled_from(asked))
        budget = data.draw(st.sampled_from([1, 2, 3, 5, 8, 13, 21, 60, 300]))
        got = search(book, facts, as_of, o, budget=budget)
        want = _reference_search(book, facts, as_of, o.name,
                                 [*o.grounds, *o.undetermined, *o.base], budget)
        assert ended(got) == want, (o.name, budget)
        statuses.add(got.status)
        # one case's searches sharing what they can (`Searcher`: each fact's choices, the
        # assumption checks, the changed cases and the ground values decided for them), in
        # any order, end as each searched alone
        shared = Searcher(book, facts, as_of)
        case = shared.case

        def spied(changes: tuple[tuple[str, Any], ...]) -> tuple[dict[str, Any], dict[str, Any]]:
            got = case(changes)
            reused[0] += bool(got[1])  # ground values another search decided
            return got
        shared.case = spied  # type: ignore[method-assign]
        for x in data.draw(st.permutations(asked)):
            alone = search(book, facts, as_of, x, budget=budget)
            assert ended(shared.search(x, budget=budget)) == ended(alone), (x.name, budget)

    reused = [0]
    check()
    assert statuses >= ({"found", "none", "budget"} if book.doc.header.id == "denwa"
                        else {"found", "budget"})
    assert reused[0], "no search reused the ground values another decided"


@pytest.mark.parametrize("book", BOOKS, ids=IDS)
def test_a_change_no_assumption_reads_breaks_none(book: Rulebook) -> None:
    """The search checks the document's assumptions only for a change of a fact some
    assumption reads (`Compiled.assumptions_read`); the answer is the interpreter's: the
    changed case breaks an assumption the case does not. Changes no assumption reads are
    reached, and a change that breaks one."""
    as_of = book.doc.header.effective_from or dt.date(2024, 1, 1)
    seen: set[tuple[bool, bool]] = set()

    @settings(max_examples=80, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(cases(book), st.data())
    def check(facts: dict[str, Any], data: st.DataObject) -> None:
        combo = _draw_changes(data, book, as_of)
        changed = with_changes(facts, combo)
        paths = {p for p, _ in combo}
        want = bool(set(interpreted_assumptions(book, changed, as_of))
                    - set(interpreted_assumptions(book, facts, as_of)))
        assert _breaker(book, facts, as_of)(changed, paths) == want
        seen.add((compiled_of(book).assumptions_read(paths), want))

    check()
    if book.doc.assumptions:
        assert (False, False) in seen
    if any(a.name == "applicant_duns_record" for a in book.doc.assumptions):
        # a D-U-N-S® Number on file, its issue then recorded as not made: a contradiction
        facts = {"applicant": {"duns": "12-345-6789", "duns_issued": True}}
        changed = with_changes(facts, (("applicant.duns_issued", False),))
        assert "applicant_duns_record" in interpreted_assumptions(book, changed, as_of)
        assert _breaker(book, facts, as_of)(changed, {"applicant.duns_issued"})
        # a case that breaks it already, changed so that it still does: nothing new
        broken = {"applicant": {"duns": "12-345-6789", "duns_issued": False}}
        again = with_changes(broken, (("applicant.duns", "98-765-4321"),))
        assert "applicant_duns_record" in interpreted_assumptions(book, broken, as_of)
        assert "applicant_duns_record" in interpreted_assumptions(book, again, as_of)
        assert not _breaker(book, broken, as_of)(again, {"applicant.duns"})


@pytest.mark.parametrize("book", BOOKS, ids=IDS)
def test_the_one_value_a_rule_takes_is_its_only_possible_value(book: Rulebook) -> None:
    """`Compiled.rule_value` (what the search asks of a candidate: the one value a decision
    rule takes, or None) is `rule_values`' value where it has one, and None where the rule
    may take several — for every outcome, over ground values of every kind."""
    c = compiled_of(book)
    as_of = book.doc.header.effective_from or dt.date(2024, 1, 1)
    seen: set[bool] = set()

    @settings(max_examples=40, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(cases(book), st.data())
    def check(facts: dict[str, Any], data: st.DataObject) -> None:
        for name in c.outcomes:
            g = {k: data.draw(st.sampled_from([True, False, None]))
                 for k in c.program.decisions[name].grounds}
            several = c.rule_values(name, g, facts, as_of)
            one = c.rule_value(name, as_of)(g, facts)
            assert one == (several[0] if len(several) == 1 else None), name
            seen.add(one is None)

    check()
    assert seen == {True, False}


def test_with_changes_leaves_the_case_alone() -> None:
    facts = {"applicant": {"a": True, "b": 1}, "lines": [{"x": 1}]}
    changed = with_changes(facts, (("applicant.a", False), ("company.c", True)))
    assert facts == {"applicant": {"a": True, "b": 1}, "lines": [{"x": 1}]}
    assert changed["applicant"] == {"a": False, "b": 1}
    assert changed["company"] == {"c": True}
    assert changed["lines"] is facts["lines"]  # unchanged parts are shared, not copied


_OUR_NAMES = re.compile(r"^(?:[tfdgqsrxo]\d+|K|F|A|G|ABSENT|_cmp|_arith|_call|_fold|_truth|"
                        r"isinstance|dict|get|append|o|decide_all|decide_\d+|ground_\d+|conds_\d+|parts_\d+|"
                        r"assumptions|assumption_\d+|value_\d+|fresh_\d+|None|True|False)$")


@pytest.mark.parametrize("book", BOOKS, ids=IDS)
def test_generated_source_holds_no_rule_text(book: Rulebook) -> None:
    c = compiled_of(book)
    c.function(None)
    for name in c.outcomes:
        c.function(name)
        c.rule_value(name, book.doc.header.effective_from or dt.date(2024, 1, 1))
        c.value({}, book.doc.header.effective_from or dt.date(2024, 1, 1), name)
    for k in c.order:
        c.ground_fn(k)
    c.broken_assumptions({}, book.doc.header.effective_from or dt.date(2024, 1, 1))
    for i in range(len(book.doc.assumptions)):
        c.assumption_broken(i, {}, book.doc.header.effective_from or dt.date(2024, 1, 1))
    for n in _requirement_outcomes(book):
        c.requirement_parts(n, {}, book.doc.header.effective_from or dt.date(2024, 1, 1))
    assert any(n.startswith("parts_") for n in c.sources) == bool(_requirement_outcomes(book))
    assert ("assumptions" in c.sources) == bool(book.doc.assumptions)
    assert sum(n.startswith("assumption_") for n in c.sources) == len(book.doc.assumptions)
    assert sum(n.startswith("value_") for n in c.sources) == len(c.outcomes)
    assert sum(n.startswith("fresh_") for n in c.sources) == len(c.outcomes)
    assert len(c.sources) >= len(c.order)
    for name, src in c.sources.items():
        for tok in tokenize.generate_tokens(io.StringIO(src).readline):
            assert tok.type != tokenize.STRING, (name, tok)
            if tok.type == tokenize.NAME and not keyword.iskeyword(tok.string):
                assert _OUR_NAMES.match(tok.string), (name, tok.string)
            if tok.type == tokenize.ERRORTOKEN:
                raise AssertionError((name, tok))


def _deciding_examples() -> Iterator[Prepared]:
    """Every example case that decides, read (not the examples that are input errors by
    design)."""
    from pathlib import Path

    from yakkan.engine.core.diagnostics import YakkanError
    from yakkan.engine.features.explain import prepare

    for path in sorted((Path(__file__).resolve().parents[1] / "examples" / "cases")
                       .glob("*.yaml")):
        try:
            yield prepare(str(path))
        except YakkanError:
            continue


def test_the_search_starts_from_the_evaluations_ground_values() -> None:
    """`explain` hands the search the ground values its evaluation found (`known`) instead of
    deciding the case again: on every example case that decides, each search ends as it
    does from the compiled program's own values (found, status, candidates tried)."""
    from yakkan.engine.features.explain import CF_EFFECTS

    searched = 0
    for p in _deciding_examples():
        r = evaluate(p.book, p.facts, p.as_of)
        assert r.evaluator is not None
        known = r.evaluator.applies_memo
        for o in r.outcomes.values():
            if o.kind != "application" and o.value not in CF_EFFECTS:
                continue
            a = search(p.book, p.facts, p.as_of, o, known=known)
            b = search(p.book, p.facts, p.as_of, o)
            assert (a.found, a.status, a.tried) == (b.found, b.status, b.tried), p.path
            searched += a.tried > 0
    assert searched > 100


def test_an_explanation_leaves_no_reference_cycle() -> None:
    """A warm explanation of every example case that decides frees what it made as it goes
    (reference counting): nothing is left for the garbage collector, whose passes over a
    long-lived process's heap would otherwise be part of every explanation's time (a
    search's functions once made a cycle through a generator that was its own closure)."""
    import gc

    from yakkan.engine.features.explain import explain_result

    explained = 0
    gc.collect()
    # the collector turned off: what an explanation makes stays in the young generation,
    # and collecting that generation alone finds whatever of it is left in a cycle (a
    # full collection per case would walk the whole test process)
    gc.disable()
    try:
        for p in _deciding_examples():
            explain_result(p, evaluate(p.book, p.facts, p.as_of))  # the first: caches filled
            gc.collect(0)
            gc.set_debug(gc.DEBUG_SAVEALL)
            try:
                explain_result(p, evaluate(p.book, p.facts, p.as_of))
                gc.collect(0)
                left = [type(x).__name__ for x in gc.garbage]
            finally:
                gc.set_debug(0)
                gc.garbage.clear()
            assert not left, (p.path, left[:10])
            explained += 1
    finally:
        gc.enable()
    assert explained > 100


def test_where_the_program_does_not_compile_the_interpreter_decides_each_candidate_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A rulebook whose program does not compile (`NotCompilable`: grounds citing each
    other in a cycle) is searched by the interpreter: every candidate decided afresh once,
    the search ending as trying every candidate in turn does (`_reference_search`), on
    example cases of both documents — ones that find a change and one that finds none."""
    from pathlib import Path

    from yakkan.engine.features import counterfactual as cf
    from yakkan.engine.features.explain import CF_EFFECTS, prepare
    from yakkan.engine.runtime.compiled import NotCompilable

    def refused(book: Rulebook) -> Compiled:
        raise NotCompilable("(a test: no compiled program)")

    examples = Path(__file__).resolve().parents[1] / "examples" / "cases"
    decided: list[int] = []
    interpret = cf.evaluate

    def counted(*a: Any, **k: Any) -> Any:
        decided.append(1)
        return interpret(*a, **k)

    statuses: set[str] = set()
    for name in ("denwa-plan4-no-duns", "rakuten-app-refuse-01-identity",
                 "rakuten-app-accept"):
        p = prepare(str(examples / f"{name}.yaml"))
        r = evaluate(p.book, p.facts, p.as_of)
        for o in r.outcomes.values():
            if (o.kind != "application" and o.value not in CF_EFFECTS) or o.value in GOOD:
                continue
            want = _reference_search(p.book, p.facts, p.as_of, o.name,
                                     [*o.grounds, *o.undetermined, *o.base], 300)
            with monkeypatch.context() as m:
                m.setattr(cf, "compiled_of", refused)
                m.setattr(cf, "evaluate", counted)
                decided.clear()
                got = search(p.book, p.facts, p.as_of, o)
            assert ended(got) == want, (name, o.name)
            # each candidate tried once (none counted whole: nothing is known to block)
            assert len(decided) == got.tried, (name, o.name, len(decided), got.tried)
            statuses.add(got.status)
    assert statuses >= {"found", "none"}, statuses
