"""`yakkan schema`: the JSON Schema of a case file."""

from __future__ import annotations

import datetime as dt
import json

import click

from yakkan.engine.runtime.case import json_schema
from yakkan.renderers.terminal import json_safe


def run_schema(doc: str, as_of: dt.date | None) -> int:
    from yakkan.engine.semantics.rulebooks import rulebook_for
    book = rulebook_for(doc, as_of)
    click.echo(json_safe(json.dumps(json_schema(book), ensure_ascii=False, indent=2,
                                    default=str)))
    return 0
