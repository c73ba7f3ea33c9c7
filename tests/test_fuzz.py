"""Mutated clause files: the parser and `yakkan check` only ever answer with diagnostics.

Real clause files (or, before any exists, the fmt fixtures) are mutated by hypothesis —
byte flips, deletions, duplications, token swaps, truncations, inserted unicode (full-width,
combining, line and paragraph separators, BOM, NUL) — and then:

* `parse_document` returns a document or diagnostics and never raises;
* `yakkan check FILE` exits 0, 1 or 2 — never 70 (internal error), never a traceback;
* each input is done within `BOUND` seconds (hypothesis' own deadline is off: the first
  parse builds the Lark tables).

`YAKKAN_FUZZ_EXAMPLES=2000 pytest tests/test_fuzz.py` fuzzes longer than the default run.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import write_summary
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yakkan.cli.main import main
from yakkan.engine.syntax.parse import parse_document

ROOT = Path(__file__).parent.parent
BOUND = 5.0  # seconds per input, parse or check
SOURCES = sorted(ROOT.glob("clauses/**/*.yk")) or sorted(
    (Path(__file__).parent / "golden" / "fmt").glob("*.yk"))
TEXTS = [p.read_bytes().decode("utf-8") for p in SOURCES]

FUZZ = settings(
    max_examples=int(os.environ.get("YAKKAN_FUZZ_EXAMPLES", "50")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Characters that stress a lexer of Japanese text: full-width ASCII, combining marks, kana
# and kanji, the grammar's own brackets and quotes, and line breaks Python counts but Lark
# does not.
TRICKY = st.one_of(
    st.characters(min_codepoint=0xFF01, max_codepoint=0xFF5E),     # full-width ASCII
    st.characters(min_codepoint=0x0300, max_codepoint=0x036F),     # combining marks
    st.characters(min_codepoint=0x3040, max_codepoint=0x30FF),     # kana
    st.characters(min_codepoint=0x4E00, max_codepoint=0x4FFF),     # kanji
    st.sampled_from(list('「」"\\{}()[]#.,:=<>!+-*/_０１２３４５６７８９円日%')),
    st.sampled_from(["\n", "\r", "\t", "\ufeff", "\x00", "\u2028", "\x0c", "\x1c", "\u3000"]),
    st.characters(exclude_categories=["Cs"]),
)
TOKEN = re.compile(r"\s+|[{}()\[\],:]|「[^」\n]*」|\"(?:\\.|[^\"\\\n])*\"|[^\s{}()\[\],:]+")


def _at(n: int, size: int) -> int:
    return n % (size + 1)


@st.composite
def mutation(draw: st.DrawFn, text: str) -> str:
    kind = draw(st.sampled_from(["flip", "delete", "duplicate", "swap", "truncate", "insert"]))
    i = _at(draw(st.integers(0, 10**9)), len(text))
    span = draw(st.integers(1, 200))
    if kind == "flip" and text:
        i = min(i, len(text) - 1)
        return text[:i] + chr(ord(text[i]) ^ (1 << draw(st.integers(0, 7)))) + text[i + 1:]
    if kind == "delete":
        return text[:i] + text[i + span:]
    if kind == "duplicate":
        return text[:i] + text[i:i + span] + text[i:]
    if kind == "swap":
        tokens = TOKEN.findall(text)
        if len(tokens) > 1:
            a, b = (_at(draw(st.integers(0, 10**9)), len(tokens) - 1) for _ in range(2))
            tokens[a], tokens[b] = tokens[b], tokens[a]
            return "".join(tokens)
        return text
    if kind == "truncate":
        return text[:i]
    return text[:i] + draw(st.text(TRICKY, min_size=1, max_size=8)) + text[i:]


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(TEXTS))
    for _ in range(draw(st.integers(1, 4))):
        text = draw(mutation(text))
    return text


@st.composite
def mutated_bytes(draw: st.DrawFn) -> bytes:
    """Mostly UTF-8 text; sometimes a raw byte flipped (not UTF-8 any more: exit 2)."""
    data = bytearray(draw(mutated()).encode("utf-8", "surrogatepass"))
    if data and draw(st.integers(0, 3)) == 0:
        i = _at(draw(st.integers(0, 10**9)), len(data) - 1)
        data[i] ^= 1 << draw(st.integers(0, 7))
    return bytes(data)


STATS: dict[str, int] = {"parsed": 0, "checked": 0, "crashes": 0, "slow": 0}


@pytest.fixture(scope="module", autouse=True)
def _report(request: pytest.FixtureRequest) -> Iterator[None]:
    """One summary line at the end (shown without -s): inputs tried, crashes, slow inputs."""
    yield
    line = (f"clause fuzz: {STATS['parsed'] + STATS['checked']} inputs tried "
            f"({STATS['parsed']} parsed, {STATS['checked']} checked): "
            f"{STATS['crashes']} crashes, {STATS['slow']} over {BOUND:.0f} s")
    write_summary(request, line)


def _tally(ok: bool, elapsed: float) -> None:
    STATS["crashes"] += not ok
    STATS["slow"] += elapsed >= BOUND


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="yakkan-fuzz-") as d:
        yield Path(d)


def test_sources_present() -> None:
    assert TEXTS, "no clause files and no fixtures to mutate"
    for text, path in zip(TEXTS, SOURCES, strict=True):
        doc, _ = parse_document(text, str(path))   # warms the parser up, too
        assert doc is not None or path.is_relative_to(ROOT / "clauses")


@FUZZ
@given(mutated())
def test_parse_never_raises(text: str) -> None:
    STATS["parsed"] += 1
    start = time.perf_counter()
    try:
        doc, diags = parse_document(text, "fuzz.yk")
    except BaseException:
        _tally(False, time.perf_counter() - start)
        raise
    elapsed = time.perf_counter() - start
    _tally(True, elapsed)
    assert elapsed < BOUND, f"{elapsed:.1f}s"
    assert doc is not None or diags
    for d in diags:
        assert d.code and d.message
        if d.span is not None:
            assert d.span.line >= 1 and d.span.column >= 1


@FUZZ
@given(mutated_bytes())
def test_check_never_crashes(workdir: Path, data: bytes) -> None:
    path = workdir / "fuzz.yk"
    path.write_bytes(data)
    start = time.perf_counter()
    # the static checks (z3, each query under its own timeout; tests/test_static.py) are left
    # out: their time follows the solver and the machine's load, not a pathology of the input
    result: Any = CliRunner().invoke(main, ["check", "--no-static", str(path)])
    elapsed = time.perf_counter() - start
    STATS["checked"] += 1
    _tally(result.exit_code in (0, 1, 2) and "Traceback" not in result.output
           and "internal error" not in result.stderr
           and (result.exception is None or isinstance(result.exception, SystemExit)), elapsed)
    assert elapsed < BOUND, f"{elapsed:.1f}s"
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        repr(result.exception)
    assert result.exit_code in (0, 1, 2), result.stderr
    assert "Traceback" not in result.output
    assert "internal error" not in result.stderr
