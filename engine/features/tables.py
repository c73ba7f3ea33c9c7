"""tables: what the batch paths share — the file formats and the counts of a run."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from yakkan.engine.core.diagnostics import Diagnostic, YakkanError
from yakkan.engine.core.kinds import VALUES_AGAINST
from yakkan.engine.semantics.program import UNDETERMINED

FORMATS = ("parquet", "csv", "jsonl")
# values that go against the case: their grounds are the summary's "refusal grounds"
AGAINST = VALUES_AGAINST  # the values a summary counts as refusals


def format_of(path: str) -> str:
    suffix = Path(path).suffix.lower()
    if suffix in (".parquet", ".pq"):
        return "parquet"
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    raise YakkanError([Diagnostic(
        code="batch.format", message=f"cannot tell the format of {path}",
        hint="name it .parquet, .csv or .jsonl")])


def ranked(counts: Counter[Any], top: int | None = None) -> list[tuple[Any, int]]:
    """The most frequent first, ties in the order of their keys — the same list whichever
    order the counts were made in (row by row, or by an engine's GROUP BY)."""
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]


@dataclass
class Summary:
    """The counts of a run — rows in = decided + undetermined + rejected — and what decided
    them: each outcome's values, the grounds that applied where an outcome went against the
    case, and the facts most often missing."""

    rows: int = 0
    decided: int = 0
    undetermined: int = 0
    rejected: int = 0
    values: Counter[tuple[str, str]] = field(default_factory=Counter)
    grounds: Counter[tuple[str, str]] = field(default_factory=Counter)
    missing: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)

    def add(self, rec: dict[str, Any], names: list[str]) -> None:
        self.rows += 1
        if rec["error_code"] is not None:
            self.rejected += 1
            self.errors[rec["error_code"]] += 1
            return
        open_ = False
        for o in names:
            v = rec.get(f"{o}.value")
            if v is None:  # not an outcome of this row's version
                continue
            self.values[(o, v)] += 1
            open_ = open_ or v == UNDETERMINED
            if v in AGAINST:
                for c in rec.get(f"{o}.grounds") or []:
                    self.grounds[(o, c)] += 1
            for m in rec.get(f"{o}.missing") or []:
                self.missing[m] += 1
        if open_:
            self.undetermined += 1
        else:
            self.decided += 1
