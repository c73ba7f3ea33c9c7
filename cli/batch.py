"""`yakkan batch`: decide every row of a table (Parquet, CSV, JSON Lines) — or compare two versions."""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Callable

import click

from yakkan.engine.core.diagnostics import Diagnostic, YakkanError


def _progress() -> Callable[[int], None] | None:
    """Rows/s on a terminal (stderr), nothing otherwise."""
    if not sys.stderr.isatty():
        return None
    start = time.perf_counter()

    def show(n: int) -> None:
        rate = n / max(time.perf_counter() - start, 1e-9)
        click.echo(f"\r{n:,} rows · {rate:,.0f} rows/s", err=True, nl=False)
    return show


def run_batch_cmd(doc: str, input_path: str | None, output: str | None, as_of: dt.date | None,
                  outcomes: list[str], engine: str, errors: str | None,
                  template: str | None, compare: tuple[dt.date, dt.date] | None,
                  top: int) -> int:
    from yakkan.engine.features import batch
    if template is not None:
        cols = batch.template(doc, template)
        click.echo(f"wrote {template}: {len(cols)} columns")
        for name, ty in batch.column_types(doc):
            click.echo(f"  {name}  {ty}")
        return 0
    if input_path is None:
        raise YakkanError([Diagnostic(code="usage", message="batch needs an INPUT table",
                                      hint="yakkan batch DOC INPUT -o OUTPUT, or "
                                           "yakkan batch --template FILE DOC")])
    show = _progress()
    if compare is not None:
        report = batch.compare_batch(doc, input_path, output, compare[0], compare[1],
                                     outcomes or None, progress=show)
        if show is not None:
            click.echo("", err=True)
        click.echo(report.text(top))
        return 0
    if output is None:
        raise YakkanError([Diagnostic(code="usage", message="batch needs -o OUTPUT",
                                      hint="the output format follows its extension: "
                                           ".parquet, .csv or .jsonl")])
    summary = batch.run_batch(doc, input_path, output, as_of=as_of,
                              outcomes=outcomes or None, engine=engine, errors_path=errors,
                              progress=show)
    if show is not None:
        click.echo("", err=True)
    click.echo(summary.text(top))
    return 0
