"""`yakkan report`: the whole document as HTML or Markdown."""

from __future__ import annotations

import datetime as dt

from yakkan.cli.output import emit
from yakkan.renderers.report import render_report


def run_report(doc: str, as_of: dt.date | None, fmt: str, output: str | None) -> int:
    from yakkan.engine.semantics.rulebooks import rulebook_for
    book = rulebook_for(doc, as_of)
    out = render_report(book, fmt)
    emit(out, output, fmt, newline=False)
    return 0
