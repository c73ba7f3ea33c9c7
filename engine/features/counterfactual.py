"""Counterfactuals: the smallest fact changes that turn an outcome into the one wanted.

A bounded search over the facts the deciding grounds read: booleans flipped (or set, when
unknown), enum members swapped, numbers and dates moved to the boundaries the rules compare
them with. Each candidate is a copy of the case that shares everything but the dicts on the
changed paths, decided by the compiled program (`runtime/compiled.py`): a single change
afresh, a candidate of more changes re-running only the grounds that read a changed fact;
a change that turns the outcome is reported only when the changed case, decided afresh,
confirms it (the compiled backend is held equal to the interpreter by a differential
test). Sets of facts that cannot turn it are counted, not decided one candidate at a
time. Changes of one fact are tried first, then of two, and the search stops after the
first size that finds one, so each one reported is minimal.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from yakkan.engine.core.kinds import Value
from yakkan.engine.runtime.compiled import NotCompilable, broken_assumptions, compiled_of
from yakkan.engine.runtime.evaluate import (
    OutcomeResult,
    compared_facts,
    compared_literals,
    evaluate,
)
from yakkan.engine.runtime.ops import EvalError, fact_at
from yakkan.engine.semantics.resolve import Rulebook

GOOD = ("accept", "approve", "not_applicable")


@dataclass
class Change:
    path: str
    before: Any
    after: Any
    judgment: bool = False  # a change of 当社の判断, not of a fact the applicant controls


@dataclass
class Counterfactual:
    changes: list[Change]
    value: Value
    verified: bool = True


def set_path(facts: dict[str, Any], path: str, value: Any) -> None:
    node = facts
    parts = path.split(".")
    for p in parts[:-1]:
        nxt = node.get(p)
        if not isinstance(nxt, dict):
            nxt = {}
            node[p] = nxt
        node = nxt
    node[parts[-1]] = value


def with_changes(facts: dict[str, Any], changes: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
    """A copy of `facts` with the changes made: only the dicts on the changed paths are
    copied; everything else is shared with `facts` (which is not changed)."""
    out = dict(facts)
    for path, value in changes:
        node = out
        parts = path.split(".")
        for p in parts[:-1]:
            nxt = node.get(p)
            nxt = dict(nxt) if isinstance(nxt, dict) else {}
            node[p] = nxt
            node = nxt
        node[parts[-1]] = value
    return out


def get_path(facts: dict[str, Any], path: str) -> Any:
    return fact_at(facts, path.split("."))


def _boundaries(book: Rulebook, path: str) -> list[Any]:
    """Literal values the rules compare this fact with, and their neighbours."""
    out: list[Any] = []
    for v in compared_literals(book, path):
        if isinstance(v, int | Decimal):
            out += [v - 1, v, v + 1]
        elif isinstance(v, dt.date):
            out += [v - dt.timedelta(days=1), v, v + dt.timedelta(days=1)]
    return out


def _options(book: Rulebook, path: str, current: Any, facts: dict[str, Any]) -> list[Any]:
    decl = book.facts.get(path)
    if decl is None:
        return []
    t = decl.type
    if t.base == "bool":
        return [True, False] if current is None else [not current]
    if t.base == "enum":
        return [m.name for m in t.members if m.name != current]
    if t.base in ("int", "decimal", "money", "date"):
        vals = _boundaries(book, path)
        for other in compared_facts(book, path):  # the other side's value, and neighbours
            v = get_path(facts, other)
            if isinstance(v, int | Decimal) and not isinstance(v, bool):
                vals += [v - 1, v, v + 1]
            elif isinstance(v, dt.date):
                vals += [v - dt.timedelta(days=1), v, v + dt.timedelta(days=1)]
        # counts and amounts do not go below zero unless they already are
        floor_ok = not isinstance(current, int | Decimal) or current >= 0
        lo, hi = t.value_bounds()  # and stay in a declared `range`
        return [v for v in dict.fromkeys(vals) if v != current and
                not (floor_ok and isinstance(v, int | Decimal) and v < 0) and
                not (isinstance(v, int | Decimal) and ((lo is not None and v < lo) or
                                                       (hi is not None and v > hi)))]
    return []


@dataclass
class Search:
    """What the search found and how it ended: `found` (minimal changes, each verified),
    `status` — "found", "none" (no change of at most `max_changes` facts turns it: every
    combination was tried), "budget" (stopped after `budget` evaluations without finding
    one), "nothing_to_change" (the deciding grounds read no fact that can be varied) — and
    how many candidate cases were evaluated."""

    found: list[Counterfactual]
    status: str
    tried: int
    max_changes: int
    budget: int
    budget_reached: bool = False  # stopped at the budget (with "found": there may be more)


def counterfactuals(book: Rulebook, facts: dict[str, Any], as_of: dt.date,
                    result: OutcomeResult, want: tuple[str, ...] = GOOD,
                    max_changes: int = 2, budget: int = 300) -> list[Counterfactual]:
    """Minimal fact changes under which `result.name` evaluates to a value in `want`."""
    return search(book, facts, as_of, result, want, max_changes, budget).found


def search(book: Rulebook, facts: dict[str, Any], as_of: dt.date, result: OutcomeResult,
           want: tuple[str, ...] = GOOD, max_changes: int = 2, budget: int = 300,
           known: dict[str, bool | None] | None = None) -> Search:
    """The bounded search for minimal changes, with how it ended. `known`: the case's ground
    values as an evaluation of it found them (`Evaluator.applies_memo`), if at hand: the
    search starts from them instead of deciding the case again."""
    return Searcher(book, facts, as_of, known).search(result, want, max_changes, budget)


class Searcher:
    """The counterfactual searches of one case (`search`, an outcome at a time): what they
    share — each fact's choices, the changed cases and the ground values decided for them,
    whether a changed case breaks an assumption, the changes reported — is worked out once
    for all of them. `known` as for `search`."""

    def __init__(self, book: Rulebook, facts: dict[str, Any], as_of: dt.date,
                 known: dict[str, bool | None] | None = None) -> None:
        self.book, self.facts, self.as_of, self.known = book, facts, as_of, known
        self._options: dict[str, list[Any]] = {}  # fact → the values tried for it
        self._breaker = _breaker(book, facts, as_of)
        self._broken: dict[frozenset[tuple[str, Any]], bool] = {}  # changes → `breaks`
        self._cases: dict[tuple[tuple[str, Any], ...],
                          tuple[dict[str, Any], dict[str, bool | None]]] = {}  # `case`
        self._changes: dict[tuple[str, Any], Change] = {}  # `change`

    def options(self, path: str) -> list[Any]:
        """The values tried for the fact at `path` (`_options`)."""
        got = self._options.get(path)
        if got is None:
            got = self._options[path] = _options(self.book, path,
                                                 get_path(self.facts, path), self.facts)
        return got

    def case(self, changes: tuple[tuple[str, Any], ...]) -> \
            tuple[dict[str, Any], dict[str, bool | None]]:
        """The case with `changes` made, and the values of its grounds decided so far: the
        searches of different outcomes try the same changes, and a ground's value depends
        on the facts alone, so what one search decided another does not decide again."""
        got = self._cases.get(changes)
        if got is None:
            got = self._cases[changes] = (with_changes(self.facts, changes), {})
        return got

    def change(self, path: str, value: Any) -> Change:
        """The change of the fact at `path` to `value`, as the searches report it."""
        got = self._changes.get((path, value))
        if got is None:
            facts = self.book.facts
            got = self._changes[(path, value)] = Change(
                path, get_path(self.facts, path), value,
                bool(path in facts and facts[path].judgment))
        return got

    def breaks(self, changes: tuple[tuple[str, Any], ...], changed: dict[str, Any]) -> bool:
        """Whether the case `changed` (the case with `changes` made) breaks an assumption
        the case does not (`_breaker`)."""
        key = frozenset(changes)
        hit = self._broken.get(key)
        if hit is None:
            hit = self._broken[key] = self._breaker(changed, {p for p, _v in changes})
        return hit

    def search(self, result: OutcomeResult, want: tuple[str, ...] = GOOD,
               max_changes: int = 2, budget: int = 300) -> Search:
        """The bounded search for minimal changes of `result`'s outcome (`search`)."""
        if result.value in want:
            return Search([], "not_asked", 0, max_changes, budget)
        book, facts = self.book, self.facts
        read: dict[str, Any] = {}  # the facts the grounds read, each where first read
        for r in (*result.grounds, *result.undetermined, *result.base):
            read.update(r.facts)
        choices = [(p, v) for p in read for v in self.options(p)]
        if not choices:
            return Search([], "nothing_to_change", 0, max_changes, budget)
        spans = _spans([p for p, _v in choices])
        turns, confirm, reachable, blocked, afresh = _decider(
            book, facts, self.as_of, result.name, choices, want, self.known, spans, self.case)
        found: list[Counterfactual] = []
        tried = 0
        # sizes in turn, stopping after the first that finds one: every change reported is
        # minimal (no found change of a smaller size is part of it)
        for size in range(1, max_changes + 1):
            # where no `size` facts change what every turning change must, the size's
            # candidates come as one number
            blocks: Iterable[tuple[int, ...] | int] = \
                (_count([len(r) for r in spans], size),) if blocked(size) else \
                _candidates(spans, size, reachable)
            for combo in blocks:
                # a number: that many candidates that cannot turn it, counted undecided
                many = combo if isinstance(combo, int) else 1
                if tried + many > budget:
                    return Search(found, "found" if found else "budget", budget,
                                  max_changes, budget, budget_reached=True)
                tried += many
                if isinstance(combo, int):
                    continue
                decided = afresh(combo)  # a single change: decided afresh
                if decided is None and turns(combo):
                    changed = with_changes(facts, tuple([choices[i] for i in combo]))
                    decided = changed, confirm(changed)  # the changed case decided afresh
                if decided is None or decided[1] not in want:
                    continue
                changed, value = decided
                changes = tuple([choices[i] for i in combo])
                if not self.breaks(changes, changed):
                    found.append(Counterfactual([self.change(p, v) for p, v in changes], value))
            if found:
                break
        return Search(found, "found" if found else "none", tried, max_changes, budget)


def _spans(path_of: list[str]) -> list[range]:
    """Each fact's choices as a range of indices into `choices`, in order (a fact's
    choices are next to each other: `search` lists them fact by fact)."""
    spans: list[range] = []
    start = 0
    for i in range(1, len(path_of) + 1):
        if i == len(path_of) or path_of[i] != path_of[start]:
            spans.append(range(start, i))
            start = i
    return spans


def _count(counts: list[int], size: int) -> int:
    """The number of candidates of `size` changes, each of a different fact (`counts`:
    each fact's choices): what `_candidates` gives for that size, in all."""
    e = [1] + [0] * size
    for c in counts:
        for j in range(size, 0, -1):
            e[j] += e[j - 1] * c
    return e[size]


def _candidates(spans: list[range], size: int, reachable: Callable[[tuple[int, ...]], bool]) \
        -> Iterator[tuple[int, ...] | int]:
    """The candidates of `size` changes, each of a different fact, in the order
    `itertools.combinations` gives them over the choices (`spans`: each fact's choices).
    Where changes of a set of facts cannot turn the outcome together (`reachable`: asked
    once per set of facts), the candidates changing them come as their number instead, a
    fact's choices at a time: counted against the budget in the same order, without
    deciding each."""
    return _extend(spans, size, reachable, (), (), 0)


def _extend(spans: list[range], size: int, reachable: Callable[[tuple[int, ...]], bool],
            combo: tuple[int, ...], key: tuple[int, ...], after: int) \
        -> Iterator[tuple[int, ...] | int]:
    """`_candidates` extending `combo` (changes of the facts `key`) by a change of each fact
    from `after` on: the last two changes by loops (whether each set of facts is reachable
    asked once, before the candidates changing its first fact), the others by recursion. (A
    function of the module: a generator that is its own closure would make each search's
    functions a reference cycle, left for the garbage collector.)"""
    n = len(spans)
    left = size - len(combo)
    if left == 1:
        for q in range(after, n):
            if reachable((*key, q)):
                for j in spans[q]:
                    yield (*combo, j)
            else:
                yield len(spans[q])
    elif left == 2:
        for q in range(after, n):
            facts = (*key, q)
            then = [(spans[r], reachable((*facts, r))) for r in range(q + 1, n)]
            for j in spans[q]:
                first = (*combo, j)
                for span, ok in then:
                    if ok:
                        for i in span:
                            yield (*first, i)
                    else:
                        yield len(span)
    else:
        for q in range(after, n):
            for j in spans[q]:
                yield from _extend(spans, size, reachable, (*combo, j), (*key, q), q + 1)


def _breaker(book: Rulebook, facts: dict[str, Any], as_of: dt.date) -> \
        Callable[[dict[str, Any], set[str]], bool]:
    """Whether a changed case breaks one of the document's assumptions (`assume`: two
    records that contradict each other) that the case itself does not: such a change
    describes no case that can arise, and is not offered. Only the assumptions that read a
    changed fact can be broken anew (`Compiled.assumptions_reading`): each is evaluated for
    the changed case, and for the case itself once. Where the program does not compile or
    a compiled assumption fails, the interpreter decides (`broken_assumptions`: an
    assumption it cannot evaluate counts as broken)."""
    before: set[str] | None = None
    was: dict[int, bool] = {}  # assumption → whether the case itself breaks it

    def interpreted(changed: dict[str, Any]) -> bool:
        nonlocal before
        if before is None:
            before = set(broken_assumptions(book, facts, as_of))
        return bool(set(broken_assumptions(book, changed, as_of)) - before)

    def breaks(changed: dict[str, Any], paths: set[str]) -> bool:
        try:
            c = compiled_of(book)
            for i in c.assumptions_reading(paths):
                if c.assumption_broken(i, changed, as_of):
                    if i not in was:
                        was[i] = c.assumption_broken(i, facts, as_of)
                    if not was[i]:
                        return True
            return False
        except (NotCompilable, EvalError):
            return interpreted(changed)

    return breaks


def _decider(book: Rulebook, facts: dict[str, Any], as_of: dt.date, outcome: str,
             choices: list[tuple[str, Any]], want: tuple[str, ...],
             known: dict[str, bool | None] | None = None,
             spans: list[range] | None = None,
             case: Callable[[tuple[tuple[str, Any], ...]],
                            tuple[dict[str, Any], dict[str, bool | None]]] | None = None) -> \
        tuple[Callable[[tuple[int, ...]], bool], Callable[[dict[str, Any]], Value],
              Callable[[tuple[int, ...]], bool], Callable[[int], bool],
              Callable[[tuple[int, ...]], tuple[dict[str, Any], Value] | None]]:
    """For a search over `choices` (`spans`: each fact's, as `search` groups them):
    `turns`, whether a candidate (indices into `choices`) decides the outcome to a wanted
    value; `confirm`, how a hit is confirmed (the changed case decided from scratch:
    compiled, or the interpreter where the program does not compile); `reachable`, whether
    changes of a set of facts (indices into `spans`) can give a wanted value at all, so
    that their candidates need not be decided one by one; `blocked`, whether no candidate
    of a size can; `afresh`, a single change decided from scratch (the changed case and
    its value; None for a candidate of more changes, except where the program does not
    compile: then the interpreter decides every candidate, once, by `afresh`).

    A candidate is decided by the compiled program over the ground values of the unchanged
    case, re-running only what its changes can change:

    * the grounds a change affects are those reading the changed fact and those citing
      them; no other ground's value can differ;
    * a single change is decided afresh (`afresh`: that is its confirmation too), and
      keeps the values it changed (`delta`; or re-runs the grounds it affects, where a
      candidate of two changes needs them first);
    * a candidate of several changes re-runs only the grounds affected by more than one of
      them: a ground affected by one change alone reads no other changed fact and cites no
      ground another change affects, so it has the value that change alone gave it;
    * where no ground is affected by more than one change (and the rule reads no fact), the
      rule's value depends on the ground values the changes give alone: candidates giving
      the same ones share one run of the rule;
    * before re-running any: if no values of the grounds the changes affect (true or false
      each) make the decision rule give one wanted value, the candidate cannot turn the
      outcome, and nothing is re-run — the rule is Kleene-exact, so a ground left unknown
      only widens what it may give. Kept per set of changed facts; `search` asks it (as
      `reachable`) before a fact's choices, for all of them at once. Asked only where the
      2^n values cost less than deciding the candidates (`plan`);
    * the grounds every turning candidate must change (`must`): a ground u any change may
      affect such that the rule gives one value, not a wanted one, with u as it is (or, u
      unknown, with u true or with u false) and every other ground a change may affect
      unknown. A candidate leaving u as it is would refine those values, and the rule is
      Kleene-exact (a value it gives with grounds unknown it gives whatever they are), so
      it cannot give a wanted value. A set of facts whose changes do not affect all of
      them cannot turn the outcome (`reachable`), nor can any `size` facts where no `size`
      of them do (`blocked`): that size's candidates are counted, not decided. One run of
      the rule per ground (two for an unknown one), asked where the rule reads nothing
      but grounds."""
    def interpreted(changed: dict[str, Any]) -> Value:  # (where the program does not compile)
        return evaluate(book, changed, as_of, outcomes=[outcome]).outcomes[outcome].value

    try:
        c = compiled_of(book)
        # the unchanged case's ground values: those an evaluation of it found (the
        # interpreter's and the compiled program's are held equal), else decided here
        needed = c.closure(outcome)
        try:
            base = {k: known[k] for k in needed} if known is not None else None
        except KeyError:
            base = None
        if base is None:
            base = c.ground_values(facts, as_of, outcome)
    except NotCompilable:
        def each(combo: tuple[int, ...]) -> tuple[dict[str, Any], Value]:
            """Every candidate decided by the interpreter, once (deciding it is confirming
            it)."""
            changed = with_changes(facts, tuple(choices[i] for i in combo))
            return changed, interpreted(changed)
        return (lambda combo: each(combo)[1] in want, interpreted, lambda key: True,
                lambda size: False, each)
    order = c.index
    # the changes are grouped by the fact they change (`search`'s choices): what a change
    # affects depends on its fact alone
    if spans is None:
        spans = _spans([p for p, _v in choices])
    paths = tuple([choices[r.start][0] for r in spans])
    by_path = c.affected_each(outcome, paths)
    # change → the fact it changes, and the grounds it affects: made for the first
    # candidate of two changes (most searches end with single ones)
    pidx: list[int] = []
    affects: list[list[str]] = []
    deltas: dict[int, int] = {}  # change → the number of the ground values it gives
    fresh: dict[int, dict[str, bool | None]] = {}  # change → its case's ground values
    if case is None:
        def case(changes: tuple[tuple[str, Any], ...]) -> \
                tuple[dict[str, Any], dict[str, bool | None]]:
            return with_changes(facts, changes), {}
    numbered: dict[frozenset[tuple[str, bool | None]], int] = {}
    sets: list[frozenset[tuple[str, bool | None]]] = []
    by_delta: dict[tuple[int, ...], bool] = {}  # numbers of disjoint ground values → `wanted`
    rule_facts = c.rule_reads_facts(outcome)
    plans: dict[tuple[int, ...], tuple[list[str], bool]] = {}  # facts changed together
    turnable: dict[frozenset[str], bool] = {}  # grounds → `can_turn`

    rule = c.rule_value(outcome, as_of)

    def wanted(g: dict[str, bool | None], changed: dict[str, Any] | None) -> bool:
        return rule(g, changed) in want

    def can_turn(grounds: frozenset[str]) -> bool:
        """Whether some values of `grounds` give a wanted value (the rest as they are).
        Kept per set of grounds: changes of different facts often affect the same ones."""
        if grounds not in turnable:
            keys = sorted(grounds, key=order.__getitem__)
            g = dict(base)
            turnable[grounds] = False
            for vals in itertools.product((True, False), repeat=len(keys)):
                g.update(zip(keys, vals, strict=True))
                if wanted(g, None):
                    turnable[grounds] = True
                    break
        return turnable[grounds]

    def plan(key: tuple[int, ...]) -> tuple[list[str], bool]:
        """For changes of the facts `key` (indices into `paths`) made together: the grounds
        more than one of them affects (re-run for each candidate, dependency order:
        `Compiled.shared_in`), and whether the grounds they affect can give a wanted value
        at all (`can_turn`, where the rule reads nothing but grounds)."""
        shared, grounds = c.shared_in(outcome, tuple([paths[n] for n in key]))
        # the 2^n values of the grounds against deciding the candidates: past 12 grounds
        # where each candidate re-runs grounds; where none is re-run, a candidate costs one
        # run of the rule at most, so past as many values as the facts have candidates
        many = len(grounds) > 12 if shared else \
            1 << len(grounds) > math.prod([len(spans[n]) for n in key])
        ok = rule_facts or many or can_turn(grounds)
        plans[key] = out = (shared, ok)
        return out

    def must_change(universe: dict[str, None]) -> tuple[list[int], int]:
        """Each fact's bits of the grounds every turning candidate must change (`must`),
        and all their bits (`universe`: the grounds changes affect)."""
        g: dict[str, bool | None] = {**base, **dict.fromkeys(universe)}
        bits: dict[str, int] = {}
        for u in universe:
            for v in (True, False) if base[u] is None else (base[u],):
                g[u] = v
                try:
                    hit = rule(g, None)
                except EvalError:
                    hit = None
                if hit is not None and hit not in want:
                    bits[u] = 1 << len(bits)
                    break
            g[u] = None
        masks = [sum(bits.get(k, 0) for k in ks) for ks in by_path]
        return masks, (1 << len(bits)) - 1

    masks: list[int] = []
    full = 0  # 0: `must` not known (not asked yet, or the rule reads facts), or empty

    def reachable(key: tuple[int, ...]) -> bool:
        if full:
            got = 0
            for n in key:
                got |= masks[n]
            if got != full:
                return False
        return (plans.get(key) or plan(key))[1]

    def blocked(size: int) -> bool:
        """Whether no `size` facts' changes affect every ground a turning candidate must
        change. `must` is asked before the first size that costs more to decide than it
        (a run or two of the rule per ground a change affects): single changes rarely do,
        and a search that reaches two has found none."""
        nonlocal masks, full
        if size > len(paths) or rule_facts:
            return False
        if not masks:
            universe = dict.fromkeys(k for ks in by_path for k in ks)
            if size == 1 and len(choices) <= 2 * len(universe):
                return False
            masks, full = must_change(universe)
        if not full:
            return False
        reach, each = {0}, set(masks)
        for _ in range(size):
            reach = {r | m for r in reach for m in each}
        return full not in reach

    def delta(i: int) -> int:
        """The ground values change `i` alone changes: the number of their set of (ground,
        value) pairs in `sets` (candidates that change the same grounds alike share it)."""
        n = deltas.get(i)
        if n is None:
            g = fresh.get(i)  # (decided afresh: `afresh`)
            if g is None:
                g = dict(base)
                c.rerun(g, with_changes(facts, (choices[i],)), as_of, affects[i])
            n = keep(i, g)
        return n

    def keep(i: int, g: dict[str, bool | None]) -> int:
        """`delta` of change `i`, from the ground values `g` of the case it changes."""
        d = frozenset([(k, g[k]) for k in affects[i] if g[k] is not base[k]])
        n = deltas[i] = numbered.setdefault(d, len(numbered))
        if n == len(sets):
            sets.append(d)
        return n

    def afresh(combo: tuple[int, ...]) -> tuple[dict[str, Any], Value] | None:
        """A single change decided afresh: the changed case and its value (None for a
        candidate of more changes: `turns`, then `confirm`). Deciding it incrementally and
        then confirming a hit costs more over the example cases' searches (re-running the
        grounds a change affects saves little where one change is made), and this is what
        confirms it. Its ground values are kept as its `delta`: candidates of two changes are
        built from them."""
        if len(combo) != 1:
            return None
        i = combo[0]
        changed, g = case((choices[i],))
        value = c.value(changed, as_of, outcome, g)
        fresh[i] = g
        return changed, value

    def disjoint(ns: tuple[int, ...]) -> bool:
        """Whether the ground values the changes numbered `ns` give (each its own grounds)
        give a wanted value; kept per tuple of numbers."""
        hit = by_delta.get(ns)
        if hit is None:
            g = dict(base)
            for n in ns:
                g.update(sets[n])
            hit = by_delta[ns] = wanted(g, None)
        return hit

    def turns(combo: tuple[int, ...]) -> bool:
        if not pidx:
            pidx.extend([n for n, r in enumerate(spans) for _i in r])
            affects.extend([by_path[n] for n in pidx])
        shared: list[str] = []
        if len(combo) > 1:
            key = tuple([pidx[i] for i in combo])
            shared = (plans.get(key) or plan(key))[0]
        if not shared and not rule_facts:
            # the changes' ground values are disjoint: the rule's value depends on them
            # alone
            return disjoint(tuple([delta(i) for i in combo]))
        g = dict(base)
        for i in combo:
            g.update(sets[delta(i)])  # (a shared ground's value is re-run below)
        changed = with_changes(facts, tuple(choices[i] for i in combo))
        if shared:
            c.rerun(g, changed, as_of, shared)
        return wanted(g, changed)

    def confirm(changed: dict[str, Any]) -> Value:
        return c.value(changed, as_of, outcome)

    return turns, confirm, reachable, blocked, afresh
