"""The tree shows the pipeline: imports go one way, from a higher layer to a lower one.

Layers, lowest first (README, "Layout and pipeline"):
core → syntax → semantics → runtime → analysis | features → renderers → console → cli.
A module may import its own layer and any lower one; `analysis` and `features` are siblings
and do not import each other; the engine never imports `renderers` or `cli`. Every import
counts, including those inside functions (a lazy import is still a dependency).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RANK = {"core": 0, "syntax": 1, "semantics": 2, "runtime": 3, "analysis": 4, "features": 4,
        "renderers": 5, "console": 6, "cli": 7}


def layer_of(module: str) -> str | None:
    """`yakkan.engine.runtime.evaluate` → `runtime`; `yakkan.renderers.env` → `renderers`."""
    parts = module.split(".")
    if parts[0] != "yakkan" or len(parts) < 2:
        return None
    if parts[1] == "engine":
        return parts[2] if len(parts) > 2 and parts[2] in RANK else "engine-root"
    return parts[1] if parts[1] in RANK else None


def modules() -> list[tuple[str, Path]]:
    out = []
    for folder, pkg in (("engine", "yakkan.engine"), ("renderers", "yakkan.renderers"),
                        ("console", "yakkan.console"), ("cli", "yakkan.cli")):
        for f in sorted((ROOT / folder).rglob("*.py")):
            rel = f.relative_to(ROOT / folder).with_suffix("")
            name = ".".join([pkg, *[p for p in rel.parts if p != "__init__"]])
            out.append((name, f))
    return out


def imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            for a in node.names:  # `from yakkan.engine.core import ir`
                found.append((node.lineno, f"{node.module}.{a.name}"))
        elif isinstance(node, ast.Import):
            found.extend((node.lineno, a.name) for a in node.names)
    return [(n, m) for n, m in found if m.startswith("yakkan.")]


def test_every_engine_module_sits_in_a_layer() -> None:
    loose = [name for name, _ in modules()
             if layer_of(name) == "engine-root" and name != "yakkan.engine"]
    assert loose == [], f"modules outside a layer folder: {loose}"


@pytest.mark.parametrize("name,path", modules(), ids=[m for m, _ in modules()])
def test_imports_go_down_the_layers(name: str, path: Path) -> None:
    mine = layer_of(name)
    assert mine is not None
    if mine == "engine-root":
        return
    bad = []
    for line, target in imports(path):
        theirs = layer_of(target)
        if theirs is None or theirs == "engine-root" or theirs == mine:
            continue
        if RANK[theirs] > RANK[mine] or (RANK[theirs] == RANK[mine]):
            bad.append(f"{path.relative_to(ROOT)}:{line}: {mine} imports {target} ({theirs})")
    assert bad == []


def test_the_check_itself_catches_an_upward_import(tmp_path: Path) -> None:
    """The rule is not vacuous: an engine module importing a renderer is reported."""
    f = tmp_path / "bad.py"
    f.write_text("def f():\n    from yakkan.renderers.env import render\n", encoding="utf-8")
    got = [(layer_of(m)) for _, m in imports(f)]
    assert "renderers" in got and RANK["renderers"] > RANK["runtime"]


# ---- the package is the owner's folders, mapped in pyproject.toml (no links) ---------------


def test_the_package_maps_every_folder_without_links() -> None:
    """`[tool.setuptools]` lists every package under the folders `package-dir` maps, and
    nothing in the tree is a symbolic link (editors, coverage tools and Windows checkouts
    do not follow them); the type check reads the same table (tools/typecheck.py)."""
    import subprocess
    import tomllib

    tool = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]
    mapping: dict[str, str] = tool["setuptools"]["package-dir"]
    found = set()
    for package, folder in mapping.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder)
            found.add(".".join([package, *rel.parts]))
    assert set(tool["setuptools"]["packages"]) == found
    tracked = subprocess.run(["git", "ls-files", "-s"], cwd=ROOT, capture_output=True,
                             text=True, check=False).stdout.splitlines()
    assert not [t for t in tracked if t.startswith("120000")], "a symbolic link is tracked"
    from typecheck import package_sources  # tools/ is on the path (conftest.py)

    sources = {s.module: s.path for s in package_sources()}
    assert sources["yakkan.engine.core.ir"] == str(ROOT / "engine" / "core" / "ir.py")
    assert found <= set(sources)  # every package (its __init__.py) is type-checked


def test_the_readme_lists_every_declared_pass_on_its_own_line() -> None:
    from yakkan.engine.semantics.pipeline import COMPILE, PASSES

    readme = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    for p in PASSES:
        assert f"{p.name:<10} {p.turns}" in readme, f"README lacks the line of pass {p.name}"
    assert COMPILE[-1] == "program" and "drafting" not in COMPILE
