"""`yakkan batch`: decide every row of a table (Parquet, CSV, JSON Lines) — or compare two versions."""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Callable
from pathlib import Path

import click

from yakkan.cli.output import write_output
from yakkan.engine.core.diagnostics import Diagnostic, YakkanError


def _progress() -> Callable[[int], None] | None:
    """Rows/s on a terminal (stderr), nothing otherwise."""
    if not sys.stderr.isatty():
        return None
    start = time.perf_counter()

    def show(n: int) -> None:
        rate = n / max(time.perf_counter() - start, 1e-9)
        click.echo(f"\r{n:,}行 · {rate:,.0f}行/秒", err=True, nl=False)
    return show


def run_batch_cmd(doc: str, input_path: str | None, output: str | None, as_of: dt.date | None,
                  outcomes: list[str], engine: str, errors: str | None,
                  template: str | None, compare: tuple[dt.date, dt.date] | None,
                  top: int, summary_path: str | None = None) -> int:
    from yakkan.engine.features import batch
    if summary_path is not None:
        _check_summary_path(summary_path)
    if template is not None:
        cols = batch.template(doc, template)
        click.echo(f"{template} を書き出しました（{len(cols)}列：列名と型）")
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
        from yakkan.renderers.batch_render import comparison_html, comparison_text
        labels = batch.summary_labels(doc)
        click.echo(comparison_text(report, labels, top))
        if summary_path is not None:
            write_output(summary_path, comparison_html(report, labels, source=input_path,
                                                       top=top))
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
    from yakkan.renderers.batch_render import summary_html, summary_text
    labels = batch.summary_labels(doc)
    click.echo(summary_text(summary, labels, top))
    if summary_path is not None:
        write_output(summary_path, summary_html(
            summary, labels, source=input_path, top=top,
            as_of=(as_of or dt.date.today()).isoformat()))
    return 0


def _check_summary_path(path: str) -> None:
    """`--summary` names an HTML file in a folder that exists (checked before the run)."""
    p = Path(path)
    if p.suffix.lower() not in (".html", ".htm"):
        raise YakkanError([Diagnostic(code="batch.format",
                                      message=f"--summary writes HTML, not {p.suffix or path}",
                                      hint="name it FILE.html")])
    if not p.resolve().parent.is_dir():
        raise YakkanError([Diagnostic(code="io.unwritable",
                                      message=f"cannot write `{path}`: no such folder",
                                      hint="check that the folder exists")])
