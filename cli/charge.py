"""`yakkan charge`: price a case."""

from __future__ import annotations

import datetime as dt
import json
import sys

from yakkan.cli.output import emit
from yakkan.renderers.charges_render import render_charges, rich_table, text_table


def run_charge(case: str, doc: str | None, as_of: dt.date | None, fmt: str,
               output: str | None) -> int:
    """`yakkan charge CASE`: price a case and print the lines, subtotals, tax and total.
    The JSON carries the document's `vocabulary` (fact labels, types, enum members' names),
    so every format shows names and values in Japanese."""
    from yakkan.engine.features.explain import charge_json, prepare

    d = charge_json(prepare(case, doc, as_of))
    if fmt == "json":
        out = json.dumps(d, ensure_ascii=False, indent=2)
    elif fmt == "text":
        out = rich_table(d) if output is None and sys.stdout.isatty() else text_table(d)
    else:
        out = render_charges(d, fmt)
    emit(out.rstrip("\n"), output, fmt, styled=fmt == "text")
    return 0
