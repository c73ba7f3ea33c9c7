"""Every example case in examples/cases/ evaluates to the outcome its author derived from
the text, citing the provisions the author named. Cases are table-driven data: the
expectations live in the case files (`expect:`), read through a strict model and checked
by the runner of `yakkan test` (`yakkan.engine.features.testing`): outcomes, applying
grounds (a citation may omit its caption), grounds that do not apply, facts still needed,
charges, and the error a case must give. A failure shows the runner's diff of expected and
actual citations and values."""

from __future__ import annotations

from pathlib import Path

import pytest

from yakkan.engine.features.testing import read_case, run_case
from yakkan.renderers.coverage_render import case_failure_text

CASES = sorted((Path(__file__).parent.parent / "examples" / "cases").glob("*.yaml"))


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 40, f"only {len(CASES)} example cases"


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_example_case(path: Path) -> None:
    case = read_case(str(path))
    assert case is not None, f"{path.name} has no expect: block"
    exp = case.expect
    assert exp.outcomes or exp.error or exp.charges, f"{path.name} expects nothing"
    result = run_case(case)
    assert result.checks > 0
    assert result.passed, case_failure_text(result)
