"""mypy over the package as it is installed: `yakkan.engine.x` checked from `engine/x.py`.

The package maps the owner's top-level folders onto `yakkan.*` in pyproject.toml
(`[tool.setuptools.package-dir]`). mypy has no such mapping (python/mypy#10564): given
`engine/x.py` it would call the module `engine.x`. This runner reads the same table from
pyproject.toml, names every source file by the module it is installed as, and hands mypy
that list (mypy's own build API; the options are `[tool.mypy]` as usual).

    python tools/typecheck.py            # the whole package (the README's test command)
    python tools/typecheck.py extra.py   # the package and extra modules that import it
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

from mypy import build
from mypy.main import process_options
from mypy.modulefinder import BuildSource

ROOT = Path(__file__).resolve().parents[1]


def package_sources(root: Path = ROOT) -> list[BuildSource]:
    """Every .py file of the package, named by the module it is installed as."""
    tool = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["tool"]
    mapping: dict[str, str] = tool["setuptools"]["package-dir"]
    out: list[BuildSource] = []
    for package in tool["setuptools"]["packages"]:
        # the folder of a package: its own entry, or its nearest mapped parent's + the rest
        parts = package.split(".")
        for n in range(len(parts), 0, -1):
            if ".".join(parts[:n]) in mapping:
                folder = root / mapping[".".join(parts[:n])] / Path(*parts[n:])
                break
        else:
            raise SystemExit(f"typecheck: no package-dir entry covers {package}")
        for f in sorted(folder.glob("*.py")):
            module = package if f.stem == "__init__" else f"{package}.{f.stem}"
            out.append(BuildSource(str(f), module, None))
    return out


def main(argv: list[str]) -> int:
    extra = [a for a in argv if not a.startswith("-")]
    flags = [a for a in argv if a.startswith("-")]
    sources, options = process_options(
        ["--config-file", str(ROOT / "pyproject.toml"), *flags, *extra] if extra else
        ["--config-file", str(ROOT / "pyproject.toml"), *flags, "-c", "pass"])
    if not extra:
        sources = []
    sources = package_sources() + sources
    messages: list[str] = []
    try:
        build.build(sources, options, None,
                    lambda _file, new, _serious: messages.extend(new), None, sys.stdout,
                    sys.stderr)
    except build.CompileError as err:  # a syntax error in a source file: mypy stops there
        messages.extend(m for m in err.messages if m not in messages)
    for m in messages:
        print(m)
    errors = [m for m in messages if ": error:" in m]
    if errors:
        files = len({m.split(":", 1)[0] for m in errors})
        print(f"Found {len(errors)} errors in {files} files "
              f"(checked {len(sources)} source files)")
        return 1
    print(f"Success: no issues found in {len(sources)} source files")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
