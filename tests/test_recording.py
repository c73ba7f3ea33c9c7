"""The recording functions (`runtime/recording.py`) against the interpreter they stand in for.

* Differential: on cases hypothesis generates from each bundled version's fact declarations
  (`test_compiled.cases`), an evaluation that runs the recording functions leaves exactly
  what the interpreter leaves, in the same order: every outcome (value, grounds and their
  records: node values, facts, definitions, provisions relied on, the comparisons of each
  record of a list), every definition with its own record, the evaluator's tables that the
  charges continue from — and the charges priced from it; an evaluation error is the same
  error.
* Tiering: a rulebook's first evaluation in a process interprets; later ones run the
  functions; a traced evaluation always interprets.
* Safety: the generated source holds no text from a rule file (tokenised: no string
  literal, only our own names).
"""

from __future__ import annotations

import datetime as dt
import io
import keyword
import re
import tokenize
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from test_compiled import BOOKS, IDS, cases

import yakkan.engine.runtime.recording as recording
from yakkan.engine.features.charges import compute_charges, report_json
from yakkan.engine.runtime.evaluate import (
    Evaluator,
    GroundResult,
    OutcomeResult,
    Record,
    evaluate,
)
from yakkan.engine.runtime.recording import Recording
from yakkan.engine.semantics.program import program_of
from yakkan.engine.semantics.resolve import Rulebook


def _record(r: Record) -> Any:
    return (list(r.values.items()), list(r.facts.items()), list(r.definitions.items()),
            list(r.relied))


def _ground(g: GroundResult) -> Any:
    return (g.ground.key, g.applies, g.when_value, g.requires_value, g.unless_values,
            list(g.values.items()), list(g.facts.items()), list(g.definitions.items()),
            list(g.relied_on))


def _outcome(o: OutcomeResult) -> Any:
    return (o.name, o.value, o.kind, *([_ground(g) for g in gs] for gs in (
        o.grounds, o.not_applicable, o.undetermined, o.base)),
        o.missing_facts, o.overrides, o.possible, o.open)


def _everything(book: Rulebook, facts: dict[str, Any], as_of: dt.date,
                with_functions: Recording | None, monkeypatch: pytest.MonkeyPatch) -> Any:
    """What one evaluation leaves, in order; or the error it raises."""
    monkeypatch.setattr(recording, "recording_of", lambda b: with_functions)
    try:
        r = evaluate(book, facts, as_of)
        ev = r.evaluator
        assert ev is not None
        assert ev.recording is with_functions
        tables = (list(ev.defs.items()), [(n, _record(x)) for n, x in ev.def_reads.items()],
                  list(ev.def_lists.items()), list(ev.applies_memo.items()),
                  [(k, _record(x)) for k, x in ev.ground_recs.items()],
                  _record(ev.unkept))
        outcomes = [_outcome(o) for o in r.outcomes.values()]
        charges = report_json(compute_charges(book, facts, as_of, r))
        return outcomes, list(r.definitions.items()), tables, charges
    except Exception as err:
        return type(err), str(err)


@pytest.mark.parametrize("book", BOOKS, ids=IDS)
def test_the_functions_record_what_the_interpreter_records(
        book: Rulebook, monkeypatch: pytest.MonkeyPatch) -> None:
    functions = Recording(book)
    as_of = book.doc.header.effective_from or dt.date(2024, 1, 1)
    seen = {"undetermined": 0, "lists": 0}

    @settings(max_examples=60, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.function_scoped_fixture])
    @given(cases(book))
    def check(facts: dict[str, Any]) -> None:
        interpreted = _everything(book, facts, as_of, None, monkeypatch)
        recorded = _everything(book, facts, as_of, functions, monkeypatch)
        assert recorded == interpreted
        if isinstance(interpreted[0], list):
            outcomes = interpreted[0]
            seen["undetermined"] += any(o[1] == "undetermined" for o in outcomes)
            # a list compared record by record (`all`/`any`), in a ground's record
            seen["lists"] += any(k.endswith("#records") for o in outcomes for gs in o[3:7]
                                 for g in gs for k, _v in g[5])

    check()
    assert len(functions.grounds) > 20 and functions.fns  # the functions ran
    assert seen["undetermined"] > 0
    if book.doc.header.id == "denwa":
        assert seen["lists"] > 0


def _expressions(book: Rulebook) -> list[Any]:
    """Every top-level expression the functions stand in for."""
    p = program_of(book)
    out: list[Any] = list(p.definitions.values())
    for g in p.grounds.values():
        out += [*g.when, *([g.requires] if g.requires is not None else []), *g.unless]
    for d in p.decisions.values():
        out += [b.cond for b in d.rule.branches]
    return out


def _one(ev: Evaluator, e: Any, run: Any) -> Any:
    """An expression's value, its record and the comparisons it showed for a record of a
    list it is evaluated within (`Evaluator.sink`); or the error."""
    rec = ev.fresh()
    ev.sink = []
    try:
        v = run(e)
    except Exception as err:
        v = (type(err), str(err))
    return v, _record(rec), [(id(c.node), c.values, c.value) for c in ev.sink]


@pytest.mark.parametrize("book", BOOKS, ids=IDS)
def test_each_expression_records_as_interpreted(book: Rulebook) -> None:
    """Expression by expression, within a record of a list (where comparisons are shown
    one by one): the same value, record and comparisons."""
    functions = Recording(book)
    exprs = _expressions(book)
    as_of = book.doc.header.effective_from or dt.date(2024, 1, 1)
    shown = {"n": 0}

    @settings(max_examples=25, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(cases(book))
    def check(facts: dict[str, Any]) -> None:
        a = Evaluator(book, facts, as_of)
        b = Evaluator(book, facts, as_of, recording=functions)
        for e in exprs:
            want = _one(a, e, lambda x: a.ev(x, {}))
            assert _one(b, e, b.part) == want
            shown["n"] += bool(want[2])

    check()
    assert shown["n"] > 0


def test_a_rulebook_evaluated_again_runs_the_functions(monkeypatch: pytest.MonkeyPatch) -> None:
    from yakkan.engine.semantics.rulebooks import rulebook_for
    book = rulebook_for("denwa", dt.date(2024, 4, 1))
    monkeypatch.setattr(book.derived, "recording", None)
    first = evaluate(book, {}, dt.date(2024, 4, 1))
    again = evaluate(book, {}, dt.date(2024, 4, 1))
    traced = evaluate(book, {}, dt.date(2024, 4, 1), trace=True)
    assert first.evaluator is not None and first.evaluator.recording is None
    assert again.evaluator is not None and isinstance(again.evaluator.recording, Recording)
    assert traced.evaluator is not None and traced.evaluator.recording is None
    assert again.evaluator.recording.fns  # made as they were needed


_OUR_NAMES = re.compile(r"^(?:t\d+|K|V|F|ev|env|rec|facts|expr|values|get|append|"
                        r"sink|applies|definition|as_of|None|True|False|"
                        + "|".join(recording._RUNTIME) + ")$")


@pytest.mark.parametrize("book", BOOKS, ids=IDS)
def test_the_functions_hold_no_rule_text(book: Rulebook) -> None:
    functions = Recording(book)
    for e in _expressions(book):
        functions.fn(e)
    assert len(functions.sources) > 50
    for src in functions.sources:
        for tok in tokenize.generate_tokens(io.StringIO(src).readline):
            assert tok.type != tokenize.STRING, tok
            if tok.type == tokenize.NAME and not keyword.iskeyword(tok.string):
                assert _OUR_NAMES.match(tok.string), tok.string
            assert tok.type != tokenize.ERRORTOKEN, tok
