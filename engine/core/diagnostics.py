"""One diagnostic shape for every pass: `path:line:col: severity[code]: message`.

Like OPA's `Error{Code, Message, Location}` and Cedar's messages: a stable code, one
sentence, the source line with a caret (placed by display width, so full-width characters
count two columns), and a hint ("did you mean `paragraph`?") where one exists.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from typing import Literal

from yakkan.engine.core.datamodel import Data, Span

Severity = Literal["error", "warning", "info"]

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
MAX_SHOWN = 160  # characters of a source line shown under a diagnostic


class Diagnostic(Data):
    code: str
    message: str
    span: Span | None = None
    hint: str | None = None
    severity: Severity = "error"
    related: list[tuple[Span, str]] = []

    def sort_key(self) -> tuple[str, int, int, str]:
        if self.span is None:
            return ("", 0, 0, self.code)
        return (self.span.file, self.span.line, self.span.column, self.code)


class YakkanError(Exception):
    """Raised for input that cannot be used at all (exit 2): carries its diagnostics."""

    def __init__(self, diagnostics: Sequence[Diagnostic], exit_code: int = EXIT_USAGE,
                 sources: dict[str, str] | None = None):
        super().__init__("; ".join(d.message for d in diagnostics))
        self.diagnostics = list(diagnostics)
        self.exit_code = exit_code
        self.sources = sources


def char_width(c: str) -> int:
    """Columns one character takes: combining marks none, East Asian wide/full-width two."""
    if unicodedata.combining(c):
        return 0
    return 2 if unicodedata.east_asian_width(c) in ("W", "F") else 1


def display_width(s: str) -> int:
    """Columns `s` takes on a terminal."""
    return sum(char_width(c) for c in s)


def caret_line(line: str, column: int, end_column: int | None = None) -> str:
    """The caret line under `line`, for 1-based character columns [column, end_column).
    Tabs of the source line are copied, so the caret lands where the terminal puts the
    character whatever its tab stops."""
    pad = "".join("\t" if c == "\t" else " " * char_width(c) for c in line[: max(column - 1, 0)])
    if end_column is None or end_column <= column:
        width = 1
    else:
        width = max(display_width(line[column - 1 : end_column - 1]), 1)
    return pad + "^" + "~" * (width - 1)


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """A `did you mean` hint for a misspelt name, or None."""
    import difflib  # only when a hint is wanted

    cands = sorted(set(candidates))
    close = difflib.get_close_matches(word, cands, n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else None


def render(d: Diagnostic, sources: dict[str, str] | None = None) -> str:
    """A diagnostic as text: location, code, message, source line with caret, hint."""
    loc = f"{d.span}: " if d.span else ""
    out = [f"{loc}{d.severity}[{d.code}]: {d.message}"]
    if d.span and sources is not None and d.span.file in sources:
        lines = sources[d.span.file].splitlines()
        if 1 <= d.span.line <= len(lines):
            src = lines[d.span.line - 1]
            end = d.span.end_column if d.span.end_line == d.span.line else None
            col = d.span.column
            if len(src) > MAX_SHOWN:  # a window around the column: bounded output
                start = max(col - 1 - MAX_SHOWN // 2, 0)
                src = src[start : start + MAX_SHOWN]
                col -= start
                end = None if end is None else min(end - start, len(src) + 1)
            out.append(f"  {d.span.line:>4} | {src}")
            out.append("       | " + caret_line(src, col, end))
    for span, msg in d.related:
        out.append(f"  note: {span}: {msg}")
    if d.hint:
        out.append(f"  hint: {d.hint}")
    return "\n".join(out)


def render_all(diags: Iterable[Diagnostic], sources: dict[str, str] | None = None) -> str:
    return "\n".join(render(d, sources) for d in sorted(diags, key=Diagnostic.sort_key))


def has_errors(diags: Iterable[Diagnostic]) -> bool:
    return any(d.severity == "error" for d in diags)
