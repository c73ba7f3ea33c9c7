"""outline: the units of the version in force — id, citation, caption, kind, status, text."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import click

from yakkan.engine.rulebooks import rulebook_for


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


def cli_outline(doc: str, as_of: dt.date | None, fmt: str) -> int:
    head, rows = outline_rows(doc, as_of)
    if fmt == "json":
        click.echo(json.dumps({**head, "units": rows}, ensure_ascii=False, indent=2))
        return 0
    until = head["effective_until"] or ""
    click.echo(f"{head['title']} ({head['document']} version {head['version']}, in force "
               f"{head['effective_from']} – {until})")
    for r in rows:
        pad = "  " * r["depth"]
        cap = f"（{r['caption']}）" if r["caption"] else ""
        status = {"deleted": " [削除]", "omitted": " [（略）: not encoded]"}.get(r["status"], "")
        text = r["text"] if len(r["text"]) <= 60 else r["text"][:59] + "…"
        click.echo(f"{pad}{r['citation']}{cap}{status}  {text}".rstrip())
    return 0
