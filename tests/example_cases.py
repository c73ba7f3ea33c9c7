"""The bundled example cases, and which of them are input errors by design.

An example that must fail says so in its own `expect: {error: CODE}`; tests that need an
explanation leave exactly those out, after checking that they do fail with that code — so
no other failure can hide behind a skip.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from yakkan.engine.core.diagnostics import YakkanError

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "cases"


def expected_error(case: Path) -> str | None:
    """The diagnostic code the example's `expect:` says it fails with, if any."""
    data = yaml.safe_load(case.read_text(encoding="utf-8"))
    expect = data.get("expect") if isinstance(data, dict) else None
    code = expect.get("error") if isinstance(expect, dict) else None
    return code if isinstance(code, str) else None


def skip_if_error_by_design(case: Path, run: object) -> None:
    """Skip an example that is an input error by design — once `run()` has raised the
    very error its `expect:` names; any other example is left to the test."""
    code = expected_error(case)
    if code is None:
        return
    assert callable(run)
    with pytest.raises(YakkanError) as err:
        run()
    assert code in {d.code for d in err.value.diagnostics}, err.value
    pytest.skip(f"an input error by design ({code})")
