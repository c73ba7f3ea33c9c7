"""Every example case in examples/cases/ evaluates to the outcome its author derived from
the text, citing the provisions the author named. Cases are table-driven data: the
expectations live in the case files (`expect:`), read through a strict model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel, ConfigDict

from yakkan.engine.core.diagnostics import YakkanError
from yakkan.engine.features.explain import explain_case

CASES = sorted((Path(__file__).parent.parent / "examples" / "cases").glob("*.yaml"))


class Expect(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcomes: dict[str, str] = {}
    grounds: dict[str, list[str]] = {}
    missing: list[str] | dict[str, list[str]] = []
    error: str | None = None
    charges: dict[str, Any] | None = None
    not_applicable: dict[str, list[str]] = {}


def _expect(path: Path) -> Expect:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return Expect.model_validate(data.get("expect") or {})


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 40, f"only {len(CASES)} example cases"


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_example_case(path: Path) -> None:
    exp = _expect(path)
    assert exp.outcomes or exp.error or exp.charges, f"{path.name} expects nothing"
    if exp.error:
        with pytest.raises(YakkanError) as info:
            explain_case(str(path), with_counterfactuals=False)
        assert exp.error in [d.code for d in info.value.diagnostics]
        return
    data = explain_case(str(path), with_counterfactuals=False)
    outs = {o["name"]: o for o in data["outcomes"]}
    for name, value in exp.outcomes.items():
        assert name in outs, f"{path.name}: no outcome `{name}` (have {sorted(outs)})"
        assert outs[name]["value"] == value, (
            f"{path.name}: {name} is {outs[name]['value']}, expected {value}; grounds: "
            + ", ".join(g["citation"] for g in outs[name]["grounds"]))
    for name, cites in exp.grounds.items():
        got = [g["citation"] for g in outs[name]["grounds"]]
        for c in cites:
            assert any(g == c or g.startswith(c + "（") for g in got), \
                f"{path.name}: {name} does not cite {c}; cites {got}"
    for name, cites in exp.not_applicable.items():
        got = [g["citation"] for g in outs[name]["not_applicable"]]
        for c in cites:
            assert c in got, f"{path.name}: {c} is not among {name}'s non-applying grounds"
    missing = exp.missing
    if isinstance(missing, dict):
        for name, paths in missing.items():
            got_m = [m["path"] for m in outs[name]["missing_facts"]]
            assert set(paths) <= set(got_m), f"{path.name}: missing {got_m}, expected {paths}"
    elif missing:
        got_all = {m["path"] for o in outs.values() for m in o["missing_facts"]}
        assert set(missing) <= got_all, f"{path.name}: missing {got_all}, expected {missing}"
