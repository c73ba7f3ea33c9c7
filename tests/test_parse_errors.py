"""Malformed input gives a located, worded diagnostic and exit 1 (or 2) — never a traceback.

Each `golden/parse_errors/NN-name.yk` is one kind of error; `NN-name.out` beside it is what
`yakkan check NN-name.yk` prints to stderr (run in that folder, so paths are relative) and,
on its last line, the exit code. Refresh with `pytest --update-golden` and review the diff:
a message must say in words what was expected, point at the right character and, where it
can, suggest the fix.
"""

from __future__ import annotations

import itertools
import re
import sys
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from yakkan.cli.main import main
from yakkan.engine.core.diagnostics import display_width
from yakkan.engine.syntax import load
from yakkan.engine.syntax.parse import parse_document, parser

Golden = Callable[[Path, str], None]

CASES = Path(__file__).parent / "golden" / "parse_errors"
FILES = sorted(CASES.glob("*.yk"))
MUST_PARSE = ("bom-at-start", "crlf-line-endings", "tabs-as-indentation")


def invoke(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args))
    # Bad input must never escape as an exception or an internal error (exit 70).
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        result.exception
    assert result.exit_code in (0, 1, 2), result.output
    assert "Traceback" not in result.output
    return result


def transcript(result: Result) -> str:
    return result.stderr + f"exit: {result.exit_code}\n"


def test_enough_cases() -> None:
    assert len(FILES) >= 30
    assert len({f.stem.split("-", 1)[1] for f in FILES}) == len(FILES), "one file per kind"


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_check_golden(path: Path, golden: Golden, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CASES)
    result = invoke("check", path.name)
    golden(path.with_suffix(".out"), transcript(result))
    if any(path.stem.endswith(name) for name in MUST_PARSE):
        assert result.exit_code == 0
    else:
        assert result.exit_code == 1
        assert f"{path.name}:" in result.stderr  # every finding is located


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_parse_document_never_raises(path: Path) -> None:
    text = path.read_bytes().decode("utf-8").removeprefix("\ufeff")
    doc, diags = parse_document(text, path.name)
    assert (doc is None) == any(d.code.startswith("parse.") for d in diags)
    terminals = {t.name for t in parser().terminals} | {"$END"}
    for d in diags:
        words = set(re.findall(r"[$\w]+", re.sub(r"\(U\+[^)]*\)", "", d.message)))
        assert d.message and not words & terminals, f"terminal name in: {d.message}"


def _caret_under(output: str) -> list[tuple[str, int]]:
    """(source line, caret display column) for each excerpt in rendered diagnostics."""
    lines = output.splitlines()
    found = []
    for src, caret in itertools.pairwise(lines):
        m = re.match(r"  +\d+ \| (.*)$", src)
        c = re.match(r" {7}\| ( *)\^", caret)
        if m and c:
            found.append((m.group(1), len(c.group(1))))
    return found


@pytest.mark.parametrize(("name", "char"), [
    ("fullwidth-before-error", "＆"),
    ("fullwidth-before-unexpected-token", "a"),
    ("duplicate-enum-member", "c"),
])
def test_caret_under_the_character_by_display_width(name: str, char: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    (path,) = CASES.glob(f"*-{name}.yk")
    monkeypatch.chdir(CASES)
    result = invoke("check", path.name)
    m = re.search(r":(\d+):(\d+): error", result.stderr)
    assert m
    (src, caret), *_ = _caret_under(result.stderr)
    column = int(m.group(2))
    assert src[column - 1] == char
    assert caret == display_width(src[: column - 1])
    assert any(ord(ch) > 0x2E80 for ch in src[: column - 1])  # wide characters precede


def _caret_display_column(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                          line: str) -> tuple[int, int]:
    """Where a terminal shows the error character and the caret (tabs at 8 columns)."""
    (tmp_path / "t.yk").write_text(f'document x "t" {{}}\n{line}\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = invoke("check", "t.yk")
    out = result.stderr.splitlines()
    i = next(i for i, s in enumerate(out) if re.match(r"  +2 \| ", s))
    src, caret = out[i].expandtabs(8), out[i + 1].expandtabs(8)
    return _terminal_columns(src[: src.index("@")]), caret.index("^")


def _terminal_columns(s: str) -> int:
    """Columns a terminal gives `s`: wide characters two, combining marks none."""
    return sum(0 if unicodedata.combining(c) else
               2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


def test_caret_after_tabs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    where, caret = _caret_display_column(tmp_path, monkeypatch, "\tdefine\tx = 1 @")
    assert caret == where


def test_caret_after_combining_mark(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    where, caret = _caret_display_column(tmp_path, monkeypatch,
                                         'define x "cafe\u0301" = 1 @')
    assert caret == where


def test_several_errors_one_per_declaration() -> None:
    (path,) = CASES.glob("*-several-errors.yk")
    _, diags = parse_document(path.read_text(encoding="utf-8"), path.name)
    assert [d.span.line for d in diags if d.span] == [7, 11, 20]


@pytest.mark.parametrize("expr", [
    "(" * 5000 + "a" + ")" * 5000,                    # parentheses alone add no depth
    "not " * 5000 + "a",
    "-" * 5000 + "1",
    "f(" * 5000 + ")" * 5000,
    " or ".join(["a"] * 5000),
])
def test_deep_input_never_overflows(expr: str) -> None:
    limit = sys.getrecursionlimit()
    doc, diags = parse_document(f'document x "t" {{}}\ndefine d = {expr}\n', "deep.yk")
    assert sys.getrecursionlimit() == limit
    assert doc is not None or [d.code for d in diags] == ["parse.too-deep"]


# ---- unusable input: exit 2 -------------------------------------------------------------


@pytest.fixture
def bundled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two fixed bundled documents, whatever `clauses/` holds today."""
    for doc_id in ("denwa", "rakuten-miitel"):
        (tmp_path / "bundled" / doc_id).mkdir(parents=True)
        (tmp_path / "bundled" / doc_id / "v1.yk").write_text('document x "t" {}\n')
    monkeypatch.setattr(load, "bundled_root", lambda: tmp_path / "bundled")


def test_missing_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, golden: Golden,
                      bundled: None) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke("check", "no-such-file.yk")
    assert result.exit_code == 2
    assert "io.missing-file" in result.stderr
    golden(CASES / "cli-missing-file.out", transcript(result))


def test_not_utf8(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, golden: Golden) -> None:
    (tmp_path / "sjis.yk").write_bytes(
        'document denwa "電話等サービス契約約款" {}\n'.encode("shift_jis"))
    monkeypatch.chdir(tmp_path)
    result = invoke("check", "sjis.yk")
    assert result.exit_code == 2
    assert "io.not-utf8" in result.stderr
    golden(CASES / "cli-not-utf8.out", transcript(result))


def test_unknown_document_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                             golden: Golden, bundled: None) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke("check", "denwaa")
    assert result.exit_code == 2
    assert "did you mean `denwa`?" in result.stderr
    golden(CASES / "cli-unknown-document.out", transcript(result))


def test_directory_without_clause_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        golden: Golden) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("not a clause file\n")
    monkeypatch.chdir(tmp_path)
    result = invoke("check", "empty")
    assert result.exit_code == 2
    golden(CASES / "cli-no-clause-files.out", transcript(result))
