"""Import discipline of the hot path: `yakkan explain CASE --format json` on a warm rulebook
cache imports only what it needs (#14, "Cold start"; its speed is measured by
bench/bench_speed.py, not here).

A fresh interpreter runs the command in-process and reports which modules it imported and how
many pydantic models it built. On a warm cache it parses nothing, draws no graph, renders no
template and builds no pydantic model: none of Lark, networkx, jinja2, z3, DuckDB, pyarrow,
rich, pydantic, importlib.metadata or importlib.resources is imported. The same probe on an
empty cache (which parses the rule files) and on `yakkan schema` (which builds the case
model) sees them, so a regression is caught rather than missed by a probe that sees nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from yakkan.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
CASE = ROOT / "examples" / "cases" / "denwa-plan4-no-duns.yaml"
# what `yakkan explain --format json` has no use for on a warm cache, each costing milliseconds
# of every run to import (pydantic: tens, with its model machinery)
HEAVY = ("lark", "networkx", "jinja2", "z3", "duckdb", "pyarrow", "rich", "pydantic",
         "importlib.metadata", "importlib.resources")
# the engine's modules for what such a run does not do: parse, graph, check, render
COLD_ONLY = ("yakkan.engine.syntax.parse", "yakkan.engine.semantics.graph",
             "yakkan.engine.semantics.pipeline", "yakkan.engine.runtime.case_model",
             "yakkan.renderers.env")

PROBE = """
import json, sys
from yakkan.cli.main import main
try:
    main(args=sys.argv[2:], prog_name="yakkan")
except SystemExit as e:
    code = e.code
models = []
if "pydantic.main" in sys.modules:
    from pydantic import BaseModel
    todo = list(BaseModel.__subclasses__())
    while todo:
        c = todo.pop()
        todo.extend(c.__subclasses__())
        if not c.__module__.startswith("pydantic"):
            models.append(c.__name__)
with open(sys.argv[1], "w", encoding="utf-8") as f:
    json.dump({"code": code, "modules": sorted(sys.modules), "models": models}, f)
"""


def probe(tmp_path: Path, cache: Path, *args: str) -> dict[str, Any]:
    """Run `yakkan ARGS` in a fresh interpreter: its exit code, the modules it imported and
    the pydantic models it built."""
    out = tmp_path / "probe.json"
    env = {**os.environ, "YAKKAN_CACHE": str(cache)}
    r = subprocess.run([sys.executable, "-c", PROBE, str(out), *args], env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    data: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return data


def heavy(found: dict[str, Any]) -> list[str]:
    return [m for m in (*HEAVY, *COLD_ONLY) if m in found["modules"]]


@pytest.fixture(scope="module")
def cold(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The probe's first run, on an empty cache (it compiles the rule files, filling it)."""
    tmp = tmp_path_factory.mktemp("cold")
    cache = tmp / "cache"
    return cache, probe(tmp, cache, "explain", str(CASE), "--format", "json")


def test_explain_json_on_a_warm_cache_imports_only_what_it_needs(
        cold: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    cache, _ = cold
    warm = probe(tmp_path, cache, "explain", str(CASE), "--format", "json")
    assert warm["code"] == 0
    assert heavy(warm) == []
    assert warm["models"] == []


def test_the_probe_sees_heavy_imports_and_models(cold: tuple[Path, dict[str, Any]],
                                                 tmp_path: Path) -> None:
    """On an empty cache the same command parses (Lark) and checks (networkx); `yakkan
    schema` builds the pydantic case model: the probe reports them."""
    cache, first = cold
    assert first["code"] == 0
    assert {"lark", "networkx", "yakkan.engine.syntax.parse"} <= set(heavy(first))
    schema = probe(tmp_path, cache, "schema", "denwa")
    assert schema["code"] == 0
    assert "pydantic" in heavy(schema) and "Facts" in schema["models"]


def test_version_is_the_installed_one_without_reading_metadata() -> None:
    """`--version` prints `yakkan.__version__` (no metadata lookup at run time): it is the
    version pyproject.toml gives the installed package."""
    r = CliRunner().invoke(main, ["--version"], prog_name="yakkan")
    assert r.exit_code == 0
    assert r.output.strip() == f"yakkan, version {metadata.version('yakkan')}"


def test_a_command_runs_the_young_collection_less_often() -> None:
    """The program (`entry`, then a command's body in `run`) runs the collector's
    young-generation pass every `collector.YOUNG` new containers (`core/collector.py`); a
    program that raised it further or turned the collector off keeps its setting."""
    src = ("import gc, sys\n"
           "from yakkan.cli import main as m\n"
           "m._PROGRAM = True\n"
           "before = gc.get_threshold()\n"
           "if sys.argv[1] == 'higher': gc.set_threshold(50_000, 10, 10)\n"
           "if sys.argv[1] == 'off': gc.set_threshold(0, 10, 10)\n"
           "try:\n"
           "    m.run(lambda: print(before[0], gc.get_threshold()[0]) or 0)\n"
           "except SystemExit:\n"
           "    pass\n")
    from yakkan.engine.core.collector import YOUNG
    got = {how: subprocess.run([sys.executable, "-c", src, how], capture_output=True,
                               text=True, check=True).stdout.split()
           for how in ("default", "higher", "off")}
    assert got == {"default": ["700", str(YOUNG)], "higher": ["700", "50000"],
                   "off": ["700", "0"]}, got
