"""The typed trace: one evaluation emits events that name program nodes by stable ids."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from yakkan.cli.main import main
from yakkan.engine.features.explain import prepare
from yakkan.engine.runtime.evaluate import evaluate
from yakkan.engine.runtime.trace import EventKind
from yakkan.engine.semantics.program import program_of

CASES = Path(__file__).parent.parent / "examples" / "cases"


def test_events_follow_the_program() -> None:
    p = prepare(str(CASES / "denwa-plan4-no-duns.yaml"))
    result = evaluate(p.book, p.facts, p.as_of, trace=True)
    assert result.trace is not None
    prog = program_of(p.book)
    entered = [e.node for e in result.trace.of_kind(EventKind.ENTER)]
    # every ground of every outcome is evaluated once, by its stable key
    assert sorted(entered) == sorted(prog.grounds)
    grounds = {e.node: e.value for e in result.trace.of_kind(EventKind.GROUND)}
    for o in result.outcomes.values():
        for r in (*o.grounds, *o.not_applicable, *o.undetermined, *o.base):
            assert grounds[r.ground.key] == r.applies
    decided = {e.node: (e.detail, e.value) for e in result.trace.of_kind(EventKind.DECIDE)}
    for name, o in result.outcomes.items():
        assert decided[f"outcome:{name}"] == (o.value, tuple(o.possible))
    # a fact read is reported under the ground that first read it, with its value (第6号
    # reads it through the definition applicant_duns_issued, which 備考3 computed first)
    app = next(r for r in result.outcomes["application"].grounds)
    assert app.facts["applicant.duns_issued"] is False
    reads = [e for e in result.trace.of_kind(EventKind.FACT)
             if e.detail == "applicant.duns_issued"]
    assert [(e.value, e.parent in prog.grounds) for e in reads] == [(False, True)]


def test_node_ids_are_stable_across_compiles() -> None:
    p = prepare(str(CASES / "denwa-plan4-no-duns.yaml"))
    from yakkan.engine.semantics.program import compile_program
    a, b = compile_program(p.book), compile_program(p.book)
    assert list(a.grounds) == list(b.grounds)
    ids_a = [n.nid for g in a.grounds.values() for w in g.when for n in _walk(w)]
    ids_b = [n.nid for g in b.grounds.values() for w in g.when for n in _walk(w)]
    assert ids_a == ids_b and all(ids_a) and len(set(ids_a)) == len(ids_a)


def _walk(e: object) -> list[object]:
    from yakkan.engine.core.ir import walk
    return list(walk(e))


def test_cli_trace_json_round_trips() -> None:
    r = CliRunner().invoke(main, ["explain", str(CASES / "denwa-plan4-no-duns.yaml"),
                                  "--format", "json", "--trace"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    kinds = {e["kind"] for e in data["trace"]}
    assert {"enter", "fact", "ground", "decide"} <= kinds
    assert data["schema_version"] == 3 and len(data["rulebook"]["digest"]) == 64
    r = CliRunner().invoke(main, ["explain", str(CASES / "denwa-plan4-no-duns.yaml"),
                                  "--trace"])
    assert r.exit_code == 2 and "usage.trace-needs-json" in r.output


def test_charges_continue_the_case_evaluation_in_the_same_trace(monkeypatch: Any) -> None:
    """The charge lines are read by the case's own interpreter: no second Evaluator, and
    their steps are events of the one trace, under `charge:<provision>:<name>`."""
    from yakkan.engine.features import charges as C
    from yakkan.engine.features.explain import prepare
    from yakkan.engine.runtime import evaluate as E
    p = prepare(str(CASES / "charge-denwa-course2-calls-old.yaml"))
    result = E.evaluate(p.book, p.facts, p.as_of, trace=True)
    made = []
    real_init = E.Evaluator.__init__

    def counting(self: Any, *a: Any, **k: Any) -> None:
        made.append(1)
        real_init(self, *a, **k)

    monkeypatch.setattr(C.Evaluator, "__init__", counting)
    report = C.compute_charges(p.book, p.facts, p.as_of, result)
    assert made == []  # no second interpreter
    assert report.line("call_charge_b").amount == 80  # the same answer as ever
    assert result.trace is not None
    parents = {e.parent for e in result.trace.events if e.parent}
    assert any(x.startswith("charge:") and x.endswith(":call_charge_b") for x in parents)
