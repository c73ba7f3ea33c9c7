"""`yakkan report`: the whole document as HTML or Markdown."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from yakkan.renderers.report import render_report


def run_report(doc: str, as_of: dt.date | None, fmt: str, output: str | None) -> int:
    from yakkan.engine.semantics.rulebooks import rulebook_for
    book = rulebook_for(doc, as_of)
    out = render_report(book, fmt)
    if output:
        Path(output).write_text(out, encoding="utf-8")
    else:
        click.echo(out, nl=False)
    return 0
