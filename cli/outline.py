"""`yakkan outline`: the units of the version in force."""

from __future__ import annotations

import datetime as dt
import json

import click

from yakkan.engine.features.outline import outline_rows
from yakkan.renderers.terminal import json_safe, safe_data


def run_outline(doc: str, as_of: dt.date | None, fmt: str) -> int:
    head, rows = outline_rows(doc, as_of)
    if fmt == "json":
        click.echo(json_safe(json.dumps({**head, "units": rows}, ensure_ascii=False,
                                        indent=2)))
        return 0
    until = head["effective_until"] or ""
    head, rows = safe_data(head), safe_data(rows)
    click.echo(f"{head['title']} ({head['document']} version {head['version']}, in force "
               f"{head['effective_from']} – {until})")
    for r in rows:
        pad = "  " * r["depth"]
        cap = f"（{r['caption']}）" if r["caption"] else ""
        status = {"deleted": " [削除]", "omitted": " [（略）: not encoded]"}.get(r["status"], "")
        text = r["text"].replace("\n", " ")
        text = text if len(text) <= 60 else text[:59] + "…"
        click.echo(f"{pad}{r['citation']}{cap}{status}  {text}".rstrip())
    return 0
