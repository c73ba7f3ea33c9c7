"""The `yakkan` command. Each subcommand is a thin wrapper over one engine module.

Exit codes: 0 clean, 1 findings (diagnostics, a refused or undetermined check), 2 unusable
input (usage, missing file, not UTF-8, unknown document, malformed case), 70 internal error.
Bad input never produces a Python traceback.
"""

from __future__ import annotations

import datetime as dt
import gc
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from yakkan import __version__
from yakkan.engine.core.collector import tune
from yakkan.engine.core.diagnostics import Diagnostic, YakkanError, render_all
from yakkan.renderers.terminal import term_safe

F = TypeVar("F", bound=Callable[..., Any])
EXIT_INTERNAL = 70
_PROGRAM = False  # run as the `yakkan` program (`entry`), not called in a test's process


def use_color(no_color: bool) -> bool:
    return not no_color and "NO_COLOR" not in os.environ and sys.stdout.isatty()


class DateParam(click.ParamType):
    """A date given as 2023-04-17, 2023年4月17日 or 令和5年4月17日."""

    name = "date"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> dt.date:
        if isinstance(value, dt.date):
            return value
        from yakkan.engine.core.numerals import parse_date
        from yakkan.engine.runtime.case import DATE_MAX, DATE_MIN
        from yakkan.renderers.terminal import line_safe
        shown = line_safe(str(value)[:80])
        try:
            d = parse_date(str(value)[:200])
        except (ValueError, ArithmeticError, OverflowError) as e:
            self.fail(f"`{shown}` is not a date ({line_safe(str(e)[:200])}); write "
                      "2023-04-17 or 令和5年4月17日", param, ctx)
        if not DATE_MIN <= d <= DATE_MAX:
            self.fail(f"`{shown}` is out of range: yakkan reads dates from "
                      f"{DATE_MIN.isoformat()} to {DATE_MAX.isoformat()}", param, ctx)
        return d


DATE = DateParam()


def run(fn: Callable[[], int]) -> None:
    """Run a command body; turn YakkanError into diagnostics and exit 2, never a traceback."""
    if _PROGRAM:  # the command's modules are imported: their objects stay, need no collecting
        gc.freeze()
        tune()  # (`core/collector.py`: fewer passes over what the command builds)
        gc.enable()  # (off since `entry`: importing makes no garbage worth a collection)
    try:
        code = fn()
    except YakkanError as e:
        click.echo(term_safe(render_all(e.diagnostics, e.sources)), err=True)
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
    except Exception as e:  # an engine bug, not the user's input
        d = Diagnostic(code="internal",
                       message=f"internal error: {type(e).__name__}: {str(e)[:500]}",
                       hint="this is a bug in yakkan; please report it with the command line")
        click.echo(term_safe(render_all([d])), err=True)
        if os.environ.get("YAKKAN_DEBUG"):
            raise
        sys.exit(EXIT_INTERNAL)
    sys.exit(code)


def format_option(*choices: str, default: str = "text") -> Callable[[F], F]:
    return click.option("--format", "fmt", type=click.Choice(choices), default=default,
                        show_default=True, help="output format")


def _no_color(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        os.environ["NO_COLOR"] = "1"  # read by every command, rich included


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, package_name="yakkan")  # no metadata lookup
@click.option("--no-color", is_flag=True, expose_value=False, is_eager=True,
              callback=_no_color, help="no colour on any command (as NO_COLOR=1)")
def main() -> None:
    """yakkan — rules-as-code for Japanese terms of service and tariffs (約款・利用規約)."""


@main.command()
@click.argument("paths", nargs=-1, required=True)
@format_option("text", "json")
@click.option("--static/--no-static", default=True, show_default=True,
              help="also run the static checks (z3): dead or always-true conditions, "
                   "overlapping alternatives, conflicting rules — each with a witness case")
@click.option("--witness-dir", default=None, metavar="DIR",
              help="write each static finding's witness as a case file (YAML) into DIR")
def check(paths: tuple[str, ...], fmt: str, static: bool, witness_dir: str | None) -> None:
    """Parse, resolve and check clause files, folders or bundled documents (e.g. `clauses`)."""
    from yakkan.cli.check import run_check
    run(lambda: run_check(list(paths), fmt, static, witness_dir))


@main.command(name="fmt")
@click.argument("paths", nargs=-1, required=True)
@click.option("--check", "check_only", is_flag=True, help="only report files not formatted")
def fmt_cmd(paths: tuple[str, ...], check_only: bool) -> None:
    """Rewrite clause files in the one canonical layout (idempotent)."""
    from yakkan.cli.fmt import run_fmt
    run(lambda: run_fmt(list(paths), check_only))


@main.command()
@click.argument("doc")
@click.option("--as-of", type=DATE, default=None, help="date that selects the version")
@format_option("text", "json")
def outline(doc: str, as_of: dt.date | None, fmt: str) -> None:
    """List the units of the version in force: id, citation, caption, kind, text."""
    from yakkan.cli.outline import run_outline
    run(lambda: run_outline(doc, as_of, fmt))


@main.command()
@click.argument("case")
@click.option("--doc", default=None, help="document id or path (default: the case's)")
@click.option("--as-of", type=DATE, default=None, help="evaluate as of this date")
@format_option("text", "json", "md", "html")
@click.option("-o", "--output", default=None, help="write to this file")
@click.option("--no-color", is_flag=True, help="no colour even on a terminal")
@click.option("--outcome", "outcomes", multiple=True, help="only this outcome (repeatable)")
@click.option("--trace", is_flag=True, help="with --format json: the typed trace events too")
def explain(case: str, doc: str | None, as_of: dt.date | None, fmt: str,
            output: str | None, no_color: bool, outcomes: tuple[str, ...], trace: bool) -> None:
    """Evaluate a case and explain every outcome: grounds, why-not, unknowns, counterfactuals."""
    from yakkan.cli.explain import run_explain
    run(lambda: run_explain(case, doc, as_of, fmt, output, use_color(no_color), outcomes,
                            trace))


@main.command()
@click.argument("case")
@click.option("--doc", default=None, help="document id or path (default: the case's)")
@click.option("--as-of", type=DATE, default=None, help="evaluate as of this date")
@format_option("text", "json", "md", "html")
@click.option("-o", "--output", default=None, help="write to this file")
def charge(case: str, doc: str | None, as_of: dt.date | None, fmt: str,
           output: str | None) -> None:
    """Price a case: monthly, one-time and usage lines with their rows, tax and total."""
    from yakkan.cli.charge import run_charge
    run(lambda: run_charge(case, doc, as_of, fmt, output))


@main.command()
@click.argument("doc")
@click.option("--from", "from_", type=DATE, required=True, help="date of the old version")
@click.option("--to", type=DATE, required=True, help="date of the new version")
@format_option("text", "md", "html", "json", "docx", default="md")
@click.option("--old-side", type=click.Choice(["left", "right"]), default="left",
              show_default=True, help="which column holds the old text")
@click.option("-o", "--output", default=None, help="write to this file (required for docx)")
@click.option("--no-semantic", is_flag=True, help="skip the semantic diff (witness cases)")
@click.option("--witness-dir", default=None, metavar="DIR",
              help="write each witness as a case file (YAML, old and new) into DIR; md and "
                   "html link to them")
def diff(doc: str, from_: dt.date, to: dt.date, fmt: str, old_side: str,
         output: str | None, no_semantic: bool, witness_dir: str | None) -> None:
    """Compare two versions: structural diff, 新旧対照表 and cases decided differently."""
    from yakkan.cli.diff import run_diff
    run(lambda: run_diff(doc, from_, to, fmt, old_side, output, not no_semantic,
                         witness_dir))


@main.command()
@click.argument("doc")
@click.option("--as-of", type=DATE, default=None, help="date that selects the version")
@format_option("html", "md", default="html")
@click.option("-o", "--output", default=None, help="write to this file")
def report(doc: str, as_of: dt.date | None, fmt: str, output: str | None) -> None:
    """Render the whole document: text, logic, references, dates and defects."""
    from yakkan.cli.report import run_report
    run(lambda: run_report(doc, as_of, fmt, output))


@main.command()
@click.argument("doc")
@click.option("--as-of", type=DATE, default=None, help="date that selects the version")
@format_option("dot", "mermaid", "json", "svg", default="dot")
@click.option("--impact", default=None, help="list what depends on this citation, transitively")
@click.option("-o", "--output", default=None, help="write to this file")
def graph(doc: str, as_of: dt.date | None, fmt: str, impact: str | None,
          output: str | None) -> None:
    """The dependency graph of provisions, definitions and facts (svg: the overview of
    references between articles, drawn without Graphviz)."""
    from yakkan.cli.graph import run_graph
    run(lambda: run_graph(doc, as_of, fmt, impact, output))


@main.command()
@click.argument("doc")
@click.option("--as-of", type=DATE, default=None, help="date that selects the version")
def schema(doc: str, as_of: dt.date | None) -> None:
    """Print the JSON Schema of the case file for a document."""
    from yakkan.cli.schema import run_schema
    run(lambda: run_schema(doc, as_of))


@main.command()
@click.argument("doc")
@click.option("--as-of", type=DATE, default=None, help="date that selects the version")
@format_option("egov-xml", default="egov-xml")
@click.option("-o", "--output", default=None, help="write the XML to this file")
@click.option("--sidecar", "sidecar", default=None,
              help="write the encoded logic (JSON, keyed by unit path) to this file")
def export(doc: str, as_of: dt.date | None, fmt: str, output: str | None,
           sidecar: str | None) -> None:
    """Export the version in force as an e-Gov 法令標準XML (v3) Law document."""
    from yakkan.cli.export import run_export
    run(lambda: run_export(doc, as_of, fmt, output, sidecar))


@main.command(name="import")
@click.argument("file")
@click.option("-o", "--output", default=None, help="the clause file: clauses/<doc>/<version>.yk")
@click.option("--id", "doc_id", default=None, help="document id (default: the folder of -o)")
@click.option("--version", "version", default=None, help="version (default: the name of -o)")
@click.option("--sidecar", "sidecar", default=None,
              help="the JSON `yakkan export --sidecar` wrote: puts the logic back")
def import_cmd(file: str, output: str | None, doc_id: str | None, version: str | None,
               sidecar: str | None) -> None:
    """Turn an e-Gov 法令XML document into a skeleton clause file (text and structure)."""
    from yakkan.cli.egov_import import run_import
    run(lambda: run_import(file, output, doc_id, version, sidecar))


@main.command(name="test")
@click.argument("paths", nargs=-1)
@format_option("text", "json")
@click.option("--junit", "junit", default=None, metavar="FILE", help="write JUnit XML here")
@click.option("--coverage", "want_coverage", is_flag=True,
              help="report which provisions the cases decide, per document version")
@click.option("--coverage-html", "coverage_html", default=None, metavar="FILE",
              help="write the coverage as an HTML page")
@click.option("--doc", "docs", multiple=True,
              help="include this document's versions in the coverage (repeatable)")
@click.option("--update", is_flag=True,
              help="rewrite the expect blocks of failing cases to the actual results")
@click.option("-v", "--verbose", is_flag=True, help="list the passing cases too")
@click.option("--no-color", is_flag=True, help="no colour even on a terminal")
def test_cmd(paths: tuple[str, ...], fmt: str, junit: str | None, want_coverage: bool,
             coverage_html: str | None, docs: tuple[str, ...], update: bool, verbose: bool,
             no_color: bool) -> None:
    """Run the expect blocks of case files (default: examples/cases); coverage; --update."""
    from yakkan.cli.test import run_test
    run(lambda: run_test(list(paths), fmt, junit, want_coverage, coverage_html, update,
                         verbose, use_color(no_color), list(docs)))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="address to listen on (the default is reachable from this machine only)")
@click.option("--port", default=8000, show_default=True, type=int, help="port to listen on")
@click.option("--clauses", default=None, metavar="DIR",
              help="serve the documents in DIR (one folder of .yk files per document) "
                   "instead of the bundled ones")
def serve(host: str, port: int, clauses: str | None) -> None:
    """Start the reviewer's console: case form, explanations, documents, amendments, API."""
    from yakkan.cli.serve import run_serve
    run(lambda: run_serve(host, port, clauses))


@main.command()
def lsp() -> None:
    """Serve the language server protocol on stdin/stdout (for editors)."""
    from yakkan.cli.lsp import run_lsp
    run(run_lsp)


@main.command()
@click.argument("doc")
@click.argument("input_path", metavar="INPUT", required=False)
@click.option("-o", "--output", default=None,
              help="the output table (.parquet, .csv or .jsonl); with --compare, the rows "
                   "whose outcome changes")
@click.option("--as-of", type=DATE, default=None,
              help="evaluation date of rows without an as_of column (default: today)")
@click.option("--outcome", "outcomes", multiple=True, help="only this outcome (repeatable)")
@click.option("--engine", type=click.Choice(["duckdb", "python", "spark"]), default="duckdb",
              show_default=True, help="DuckDB (SQL, embedded), the compiled Python backend, "
                                      "or Spark SQL (pip install 'yakkan[spark]')")
@click.option("--errors", default=None, metavar="FILE",
              help="also write the rejected rows (with their error) to this table")
@click.option("--template", default=None, metavar="FILE",
              help="write an empty input table with every column for DOC, and list them")
@click.option("--compare", nargs=2, type=DATE, default=None, metavar="FROM TO",
              help="decide each row under the versions in force on FROM and on TO; report "
                   "the rows whose outcome changes")
@click.option("--top", type=int, default=10, show_default=True,
              help="rows in the summary's tables of grounds and missing facts")
@click.option("--summary", "summary_path", default=None, metavar="FILE.html",
              help="also write the summary as a Japanese HTML page with bar charts")
def batch(doc: str, input_path: str | None, output: str | None, as_of: dt.date | None,
          outcomes: tuple[str, ...], engine: str, errors: str | None, template: str | None,
          compare: tuple[dt.date, dt.date] | None, top: int, summary_path: str | None) -> None:
    """Decide every row of a table (Parquet, CSV, JSON Lines): one output row per input row."""
    from yakkan.cli.batch import run_batch_cmd
    run(lambda: run_batch_cmd(doc, input_path, output, as_of, list(outcomes), engine, errors,
                              template, compare, top, summary_path))


def entry() -> None:
    """The `yakkan` program (pyproject's console script): `main`, with less garbage
    collection. The objects a run holds when it exits die with the process, so they are left
    out of the interpreter's final collection (`gc.freeze`): on `yakkan explain` it took ~15 ms,
    a tenth of the run; finalizers of objects left in reference cycles then do not run at
    exit — Python does not promise they would, and yakkan closes what it writes. Until `run`
    starts a command's body, only modules are imported and options parsed: the collector is
    off, then `run` freezes what the imports built (it lives as long as the process), so the
    collections during the run do not walk it again. (Tests call `main` through click's
    runner, in their own long-lived process: not through this.)"""
    global _PROGRAM
    _PROGRAM = True
    gc.disable()  # until `run`: collecting while importing took ~4 ms to free ~300 objects
    try:
        main()
    finally:
        gc.freeze()


if __name__ == "__main__":  # pragma: no cover
    entry()
