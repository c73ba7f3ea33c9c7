"""Shared pytest fixtures: golden files refreshed only on request.

`golden(path, actual)` compares `actual` with the file at `path` and fails with a unified
diff; `pytest --update-golden` writes `actual` there instead (then review it with
`git diff` — goldens are reviewed artefacts, not snapshots to reset blindly).
"""

from __future__ import annotations

import difflib
import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import settings

# In CI, property and fuzz tests are derandomised: the same examples every run, so a red
# run is reproducible (and a green one is not luck). Locally they explore new examples.
settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

Golden = Callable[[Path, str], None]

# tools/typecheck.py reads the package's folder mapping (pyproject.toml); tests that list the
# package's files use it too (`from typecheck import package_sources`)
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="write golden files from the actual output instead of comparing")


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Golden:
    update = bool(request.config.getoption("--update-golden"))

    def check(path: Path, actual: str) -> None:
        if update:
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists() or path.read_bytes() != actual.encode("utf-8"):
                path.write_bytes(actual.encode("utf-8"))
            return
        if not path.exists():
            pytest.fail(f"golden file {path} is missing; run pytest with --update-golden "
                        "and review it", pytrace=False)
        expected = path.read_bytes().decode("utf-8")
        if expected != actual:
            diff = "".join(difflib.unified_diff(
                expected.splitlines(keepends=True), actual.splitlines(keepends=True),
                fromfile=f"{path} (golden)", tofile=f"{path} (actual)"))
            pytest.fail(f"output differs from the golden file "
                        f"(pytest --update-golden rewrites it):\n{diff}", pytrace=False)

    return check


def write_summary(request: pytest.FixtureRequest, line: str) -> None:
    """One line on the terminal at the end of a module, shown without -s (the fuzz suites'
    counts of inputs tried, crashes and fail-open results)."""
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(line)
