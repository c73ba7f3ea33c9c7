"""Rulebooks on demand: load a document's versions, pick the one in force, resolve it.

Resolution errors in a rule file make it unusable for evaluation (exit 2 with the
diagnostics); warnings (drafting slips) do not.
"""

from __future__ import annotations

import datetime as dt
import functools

from yakkan.engine.diagnostics import YakkanError, has_errors
from yakkan.engine.load import ensure_clean, load_document_versions, select_version
from yakkan.engine.resolve import Rulebook, resolve
from yakkan.engine.types import check_types


@functools.cache
def _resolved_versions(doc: str) -> tuple[Rulebook, ...]:
    sources = load_document_versions(doc)
    docs = ensure_clean(sources)
    books = tuple(resolve(d) for d in docs)
    bad = [d for b in books for d in (*b.diagnostics, *check_types(b)) if d.severity == "error"]
    if bad:
        err = YakkanError(bad)
        err.sources = {s.path: s.text for s in sources}  # type: ignore[attr-defined]
        raise err
    return books


def versions(doc: str) -> list[Rulebook]:
    """Every encoded version of `doc` (id, folder or file), resolved, oldest first."""
    return sorted(_resolved_versions(doc),
                  key=lambda b: b.doc.header.effective_from or dt.date.min)


def rulebook_for(doc: str, as_of: dt.date | None) -> Rulebook:
    """The version in force on `as_of` (the newest when None); an error if none is."""
    books = versions(doc)
    chosen = select_version([b.doc for b in books], as_of)
    return next(b for b in books if b.doc is chosen)


def is_clean(book: Rulebook) -> bool:
    return not has_errors(book.diagnostics)
