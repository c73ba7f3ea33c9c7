"""outline: the units of the version in force — id, citation, caption, kind, status, text."""

from __future__ import annotations

import datetime as dt
from typing import Any

from yakkan.engine.semantics.rulebooks import rulebook_for


def outline_rows(doc: str, as_of: dt.date | None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    book = rulebook_for(doc, as_of)
    h = book.doc.header
    head = {"document": h.id, "title": h.title, "version": h.version,
            "effective_from": h.effective_from.isoformat() if h.effective_from else None,
            "effective_until": h.effective_until.isoformat() if h.effective_until else None}
    rows = []
    for pid in book.order:
        p = book.provisions[pid]
        u = p.unit
        rows.append({"id": pid, "citation": p.citation, "caption": u.caption, "kind": u.kind,
                     "status": u.status, "unit_kind": u.unit_kind, "text": u.full_text,
                     "depth": pid.count("/")})
    return head, rows


