"""Every diagnostic code the engine and the CLI can emit has a reviewed golden.

`golden/diagnostics/` extends the scheme of `golden/parse_errors/` (see test_parse_errors.py)
to every code, one case per code, named by the code:

* `<code>.yk`  — a clause file; `<code>.out` is what `yakkan check <code>.yk` prints to stderr,
  then the exit code (run in that folder, so paths are relative);
* `<code>.cmd` — one `yakkan` command line (leading `NAME=value` words set environment
  variables, and `WITHOUT=module,…` makes importing those modules fail, as when an optional
  dependency is not installed); `<code>.out` is its stderr and exit code. It runs in a copy of the folder, so a
  command never writes into it. Its inputs stand beside it: `demo/` (a document in two
  versions, and a valid case), `import/`, `batch/` and folders named by the code.

The codes come from the source (`test_every_code_has_a_golden`): a code added without a golden
fails that test. Refresh with `pytest --update-golden` and review the diff: a diagnostic must
say in words what is wrong, point at the place (file:line:col) where there is one, and, where
it can, suggest the fix.
"""

from __future__ import annotations

import ast
import re
import shlex
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from typecheck import package_sources  # tools/typecheck.py (on the path: conftest.py)

from yakkan.cli.main import main
from yakkan.engine.syntax import load

Golden = Callable[[Path, str], None]

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).parent / "golden"
CASES = GOLDEN / "diagnostics"
CHECKED = sorted(CASES.glob("*.yk"))
COMMANDS = sorted(CASES.glob("*.cmd"))
# the other folder of reviewed diagnostic goldens (test_parse_errors.py compares them)
OTHER_GOLDENS = sorted((GOLDEN / "parse_errors").glob("*.out"))

# Codes no input can produce: each is a guard for a bug, kept on purpose. (A code listed here
# must still occur in the source; remove it from here when it goes, or when a case is found.)
UNREACHABLE = {
    "internal": "an exception the engine did not expect (exit 70): a bug, not an input",
    "parse.syntax": "a Lark error that is none of UnexpectedCharacters/Token/EOF",
    "lower.invalid": "an exception in lowering other than LowerError (a lowering bug)",
    "lower.bad-money": "MONEY only matches digits, `_` and one `.`: Decimal() never refuses it",
    "io.no-versions": "every caller has already refused a document without `.yk` files "
                      "(io.no-clauses, io.unknown-document)",
    "serve.missing-dependency": "starlette and uvicorn are dependencies of the package",
}
# Codes only the console (`yakkan serve`) gives, in answers to requests: tests/test_console.py
# holds each to its request (they are JSON diagnostics or shown on a page, not CLI output).
CONSOLE_ONLY = {
    "usage.bad-date": "a date in a query or a form (`?as_of=`)",
    "usage.bad-action": "a download the case form does not offer",
    "usage.bad-format": "`?format=` of /api/explain, the output of /batch",
    "usage.no-file": "an upload without a file",
    "diff.one-version": "the amendment view of a document with one version",
    "batch.bad-input": "a batch upload that is no table",
}
# Codes that are values in a command's output data, not rendered diagnostics.
NOT_RENDERED = {
    "case.overlapping-classes": "an explanation's warning (test_bundled.py)",
    "case.breaks-assumption": "an explanation's warning, printed as 注意 by explain, never as "
                              "a located diagnostic (test_assumptions.py)",
    "case.invalid-fact": "the error_code of a rejected batch row (test_batch.py)",
    "batch.not-in-version": "the error_code of a rejected batch row (test_batch.py)",
    "batch.bad-date": "the error_code of a rejected batch row",
    "batch.malformed-row": "the error_code of a rejected batch row",
}
# Codes whose diagnostics carry no file position, and why.
UNLOCATED = {
    "io.": "about a path given on the command line",
    "usage": "about the command line",
    "diff.same-version": "about --from/--to",
    "graph.unknown-citation": "about --impact",
    "batch.": "about a table named on the command line (no line numbers in Parquet)",
    "import.document-id": "about --id or -o",
    "import.sidecar": "a JSON sidecar is read without positions",
    "import.sidecar-unit": "a JSON sidecar is read without positions",
    "eval.no-version-in-force": "about the date asked for (the case's as_of or --as-of)",
    "case.missing-field": "a field that is not there (the file has no place for it)",
    "export.unsupported": "located, but `yakkan export` renders it without the source line",
}

_CODE = re.compile(r"[a-z]+(\.[a-z]+(-[a-z]+)*)?")
_HEADER = re.compile(r"^(?:(?P<loc>\S+:\d+:\d+): )?(?:error|warning|info)\[(?P<code>[^\]]+)\]: ",
                     re.M)


# ---- the codes in the source -------------------------------------------------------------


def _sources() -> list[Path]:
    """Every .py file of the package (its folders as pyproject.toml maps them)."""
    return sorted(Path(s.path) for s in package_sources())


def _codes_in_source() -> dict[str, set[str]]:
    """code → where it is written. A code is the `code=` of a call (Diagnostic, …), the code
    argument of the helpers that build diagnostics (`err`, `warn`, `_InputError`), or any
    string literal of a family those use (`resolve.…`, `case.…`), wherever it stands."""
    found: dict[str, set[str]] = {}
    literals: list[tuple[str, str]] = []
    for f in _sources():
        rel = f.relative_to(ROOT)
        tree = ast.parse(f.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                literals.append((node.value, f"{rel}:{node.lineno}"))
            if not isinstance(node, ast.Call):
                continue
            fn = node.func
            name = fn.attr if isinstance(fn, ast.Attribute) else \
                fn.id if isinstance(fn, ast.Name) else ""
            args = [kw.value for kw in node.keywords if kw.arg == "code"]
            pos = {"err": 0, "_InputError": 0, "warn": 1}.get(name)
            if pos is not None and len(node.args) > pos:
                args.append(node.args[pos])
            for a in args:
                if isinstance(a, ast.Constant) and isinstance(a.value, str):
                    found.setdefault(a.value, set()).add(f"{rel}:{node.lineno}")
                else:
                    # only forwarding is allowed: `code=code` in a helper, `code=e.code`
                    assert isinstance(a, ast.Name | ast.Attribute) and \
                        (getattr(a, "id", None) or getattr(a, "attr", None)) == "code", \
                        f"{rel}:{node.lineno}: a computed diagnostic code ({ast.unparse(a)}) " \
                        "that this test cannot see"
    families = {c.split(".")[0] for c in found if "." in c}
    for s, where in literals:
        if "." in s and s.split(".")[0] in families and _CODE.fullmatch(s):
            found.setdefault(s, set()).add(where)
    return found


def _codes_in_goldens() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for p in sorted(CASES.glob("*.out")) + OTHER_GOLDENS:
        for m in _HEADER.finditer(p.read_text(encoding="utf-8")):
            out.setdefault(m.group("code"), []).append(p.name)
    return out


def test_code_scan_finds_the_known_families() -> None:
    codes = _codes_in_source()
    families = {c.split(".")[0] for c in codes}
    assert {"parse", "lower", "resolve", "type", "lint", "check", "case", "eval",
            "io"} <= families
    assert len(codes) > 60


def test_every_code_has_a_golden() -> None:
    codes = _codes_in_source()
    covered = _codes_in_goldens()
    missing = {c: w for c, w in codes.items()
               if c not in covered and c not in UNREACHABLE and c not in NOT_RENDERED
               and c not in CONSOLE_ONLY}
    assert not missing, (
        "diagnostic codes without a golden (add tests/golden/diagnostics/<code>.yk or "
        f"<code>.cmd, run pytest --update-golden and review the .out): {missing}")
    stale = sorted((set(UNREACHABLE) | set(NOT_RENDERED) | set(CONSOLE_ONLY)) - set(codes))
    assert not stale, f"codes listed here that the source no longer has: {stale}"
    unknown = sorted(set(covered) - set(codes))
    assert not unknown, f"goldens show codes the source does not have: {unknown}"


def test_one_case_per_code() -> None:
    codes = _codes_in_source()
    stems = [p.stem for p in CHECKED + COMMANDS]
    assert len(stems) == len(set(stems)), "a code has both a .yk and a .cmd case"
    assert sorted(set(stems) - set(codes)) == [], "a case named by no code of the source"
    outs = {p.stem for p in CASES.glob("*.out")}
    assert outs == set(stems), "an .out without its case, or a case without its .out"


# ---- the cases --------------------------------------------------------------------------


@pytest.fixture
def bundled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two fixed bundled documents, whatever `clauses/` holds today (hints list them)."""
    for doc_id in ("denwa", "rakuten-miitel"):
        (tmp_path / "bundled" / doc_id).mkdir(parents=True)
        (tmp_path / "bundled" / doc_id / "v1.yk").write_text('document x "t" {}\n')
    monkeypatch.setattr(load, "bundled_root", lambda: tmp_path / "bundled")


def _invoke(args: list[str], env: dict[str, str | None] | None = None) -> Result:
    result = CliRunner().invoke(main, args, env=env)
    # bad input never escapes as an exception or as an internal error (exit 70)
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        result.exception
    assert result.exit_code in (0, 1, 2), result.output
    assert "Traceback" not in result.stderr
    return result


def _transcript(result: Result) -> str:
    return result.stderr + f"exit: {result.exit_code}\n"


def _check_shown(code: str, result: Result) -> None:
    """The case shows its code, and its diagnostics are located unless UNLOCATED says why."""
    shown = [(m.group("loc"), m.group("code")) for m in _HEADER.finditer(result.stderr)]
    assert code in [c for _, c in shown], f"`{code}` not among {shown}"
    if not any(code == k or code.startswith(k if k.endswith(".") else k + ".")
               for k in UNLOCATED):
        assert all(loc for loc, c in shown if c == code), f"`{code}` without a location"


@pytest.mark.parametrize("path", CHECKED, ids=[p.stem for p in CHECKED])
def test_check_golden(path: Path, golden: Golden, bundled: None,
                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CASES)
    result = _invoke(["check", path.name])
    golden(path.with_suffix(".out"), _transcript(result))
    _check_shown(path.stem, result)


@pytest.mark.parametrize("path", COMMANDS, ids=[p.stem for p in COMMANDS])
def test_command_golden(path: Path, golden: Golden, bundled: None, tmp_path: Path,
                        monkeypatch: pytest.MonkeyPatch) -> None:
    words = shlex.split(path.read_text(encoding="utf-8"))
    env: dict[str, str | None] = {}
    while words and re.fullmatch(r"[A-Z_]+=.*", words[0]):
        name, _, value = words.pop(0).partition("=")
        env[name] = value
    for module in (env.pop("WITHOUT", None) or "").split(","):
        if module:  # an optional dependency taken away: `import` of it fails
            for name in [m for m in sys.modules if m == module or
                         m.startswith(module + ".")] + [module]:
                monkeypatch.setitem(sys.modules, name, None)
    work = tmp_path / "cases"
    shutil.copytree(CASES, work, symlinks=True)  # copy2 keeps the fake `dot` executable
    monkeypatch.chdir(work)
    result = _invoke(words, env)
    golden(path.with_suffix(".out"), _transcript(result))
    _check_shown(path.stem, result)
