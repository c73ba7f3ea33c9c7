"""z3 against the interpreter, ground by ground: on seeded random cases (unknown facts
included) every ground's applicability that the z3 encoding computes is the interpreter's
(true, false or unknown) — not only each outcome's value (tests/test_diff.py), so an
encoding that reaches the right value for a wrong reason is caught too.

Observed absence is not modelled by the z3 encoding (`smt.SEMANTICS_NOTE`), so these cases
state values or leave facts unknown.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest
import z3

from yakkan.engine.analysis import smt
from yakkan.engine.core.values import ABSENT
from yakkan.engine.runtime.evaluate import evaluate
from yakkan.engine.semantics.program import program_of
from yakkan.engine.semantics.resolve import Rulebook
from yakkan.engine.semantics.rulebooks import versions

BOOKS = [b for d in ("denwa", "rakuten-miitel") for b in versions(d)]
CASES = 120


def _no_absence(v: Any) -> bool:
    if v is ABSENT:
        return False
    if isinstance(v, dict):
        return all(_no_absence(x) for x in v.values())
    if isinstance(v, list):
        return all(_no_absence(x) for x in v)
    return True


@pytest.mark.parametrize("book", BOOKS, ids=[f"{b.doc.header.id}@{b.doc.header.version}"
                                            for b in BOOKS])
def test_every_ground_agrees_with_the_interpreter(book: Rulebook) -> None:
    from test_batch import _flat, random_facts  # the seeded generator of the batch tests
    rng = random.Random(f"grounds{book.doc.header.id}{book.doc.header.version}")
    when = book.doc.header.effective_from or dt.date(2024, 1, 1)
    prog = program_of(book)
    compared = {True: 0, False: 0, None: 0}
    mismatches: list[tuple[str, Any, Any]] = []
    with smt.fresh_context():
        space = smt.FactSpace([book])
        enc = smt.Encoder(space, book, when)
        terms = {}
        for k, g in prog.grounds.items():
            try:
                terms[k] = enc.applies(g)
            except smt.Unsupported:
                continue
        assert len(terms) > len(prog.grounds) // 2
        tried = 0
        while tried < CASES:
            facts = random_facts(rng, book, when)
            if not _no_absence(facts):
                continue
            tried += 1
            s = z3.Solver(ctx=smt.ctx())
            s.add(*space.constraints, *space.assignment(_flat(facts)))
            if s.check() != z3.sat:
                continue
            m = s.model()
            r = evaluate(book, facts, when)
            got = {g.ground.key: g.applies for o in r.outcomes.values()
                   for g in (*o.grounds, *o.not_applicable, *o.undetermined, *o.base)}
            for k, sv in terms.items():
                known = z3.is_true(m.eval(sv.known, model_completion=True))
                val = z3.is_true(m.eval(sv.val, model_completion=True)) if known else None
                compared[got[k]] += 1
                if val != got[k]:
                    mismatches.append((k, val, got[k]))
    assert mismatches == [], f"{len(mismatches)} mismatches, e.g. {mismatches[:3]}"
    assert all(n > 0 for n in compared.values()), compared  # true, false and unknown seen


def test_each_thread_has_its_own_z3_context_stack() -> None:
    """The console runs queries in worker threads: a context one thread enters is never
    another's, and leaving it does not pop another's (a shared stack did both)."""
    import threading

    entered, leave = threading.Event(), threading.Event()
    seen: dict[str, object] = {}

    def worker() -> None:
        with smt.fresh_context() as c:
            seen["worker"] = c
            entered.set()
            leave.wait(10)
            seen["worker-after"] = smt.ctx()

    t = threading.Thread(target=worker)
    t.start()
    assert entered.wait(10)
    assert smt.ctx() is z3.main_ctx()  # the worker's context is not this thread's
    with smt.fresh_context() as mine:
        leave.set()
        t.join(10)
        assert smt.ctx() is mine  # the worker leaving did not pop this thread's context
    assert seen["worker-after"] is seen["worker"]
    assert smt.ctx() is z3.main_ctx()
