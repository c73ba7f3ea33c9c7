"""`yakkan test`: run the `expect:` blocks of case files; provision coverage; `--update`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from yakkan.cli.output import write_output
from yakkan.engine.core.diagnostics import EXIT_FINDINGS, EXIT_OK
from yakkan.engine.features.testing import (
    CaseResult,
    Suite,
    coverage,
    read_case,
    rewrite_expect,
    run_case,
    run_suite,
    suite_json,
    updated_expect,
)
from yakkan.renderers.coverage_render import (
    coverage_html,
    coverage_text,
    junit_xml,
    results_text,
)
from yakkan.renderers.terminal import json_safe, line_safe

DEFAULT_PATHS = ("examples/cases",)


def _update(suite: Suite) -> list[str]:
    """Rewrite the expect blocks of the failed cases to what the engine decides; each
    rewritten case is run again and replaces its result. Cases that do not evaluate (and
    expect no error) are left for the author: an input error is not an expectation."""
    lines: list[str] = []
    for i, r in enumerate(suite.results):
        if r.status != "failed":
            continue
        case = read_case(r.path)
        if case is None:
            continue
        new_text, notes = rewrite_expect(case, updated_expect(case, r))
        if new_text == case.text:
            continue
        write_output(r.path, new_text)
        again = read_case(r.path)
        suite.results[i] = run_case(again) if again is not None else r
        keys = ", ".join(dict.fromkeys("" if m.key == "expect" else m.key
                                       for m in r.mismatches)) or "…"
        state = "" if suite.results[i].passed else " (still failing)"
        lines.append(f"updated {line_safe(r.path)}: expect.{{{line_safe(keys)}}}{state}")
        lines.extend(f"  note: {line_safe(n)}" for n in notes)
    return lines


def run_test(paths: list[str], fmt: str, junit: str | None, want_coverage: bool,
             coverage_html_path: str | None, update: bool, verbose: bool, color: bool,
             docs: list[str]) -> int:
    chosen = paths or [p for p in DEFAULT_PATHS if Path(p).exists()] or ["."]
    suite = run_suite(chosen)
    updated = _update(suite) if update else []
    cov = coverage(suite.results, docs) if (want_coverage or coverage_html_path or docs) \
        else None
    if junit:
        write_output(junit, junit_xml(suite))
    if coverage_html_path and cov is not None:
        write_output(coverage_html_path, coverage_html(cov, suite))
    if fmt == "json":
        data = suite_json(suite, cov if want_coverage or docs else None)
        if updated:
            data["updated"] = updated
        click.echo(json_safe(json.dumps(data, ensure_ascii=False, indent=2)))
    else:
        if updated:
            click.echo("\n".join(updated))
        if cov is not None and (want_coverage or docs):
            click.echo(coverage_text(cov, color))
            click.echo("")
        click.echo(results_text(suite, color, verbose))
    return EXIT_OK if all(r.passed for r in suite.results) else EXIT_FINDINGS


def failure_report(r: CaseResult) -> str:
    """One failed case as text (the pytest suite shows it as the assertion message)."""
    from yakkan.renderers.coverage_render import case_failure_text
    return case_failure_text(r)
