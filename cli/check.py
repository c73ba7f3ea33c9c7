"""`yakkan check`: every diagnostic of clause files."""

from __future__ import annotations

import json
from typing import Any

import click

from yakkan.engine.core.diagnostics import (
    EXIT_FINDINGS,
    EXIT_OK,
    Diagnostic,
    has_errors,
    render_all,
)
from yakkan.engine.semantics.check import check_sources
from yakkan.engine.syntax.load import Source, expand_paths, load_file
from yakkan.renderers.terminal import json_safe, term_safe


def run_check(paths: list[str], fmt: str, static: bool = True) -> int:
    files = expand_paths(paths)
    sources = [load_file(p) for p in files]
    diags = check_sources(sources)
    findings: list[dict[str, Any]] = []
    if static and not has_errors(diags):
        extra, findings = static_diagnostics(sources)
        diags = sorted([*diags, *extra], key=Diagnostic.sort_key)
    if fmt == "json":
        click.echo(json_safe(json.dumps({
            "files": [s.path for s in sources],
            "diagnostics": [d.model_dump(mode="json") for d in diags],
            "static": findings,
        }, ensure_ascii=False, indent=2)))
    else:
        if diags:
            click.echo(term_safe(render_all(diags, {s.path: s.text for s in sources})),
                       err=True)
        errors = sum(d.severity == "error" for d in diags)
        warnings = sum(d.severity == "warning" for d in diags)
        click.echo(f"checked {len(sources)} file(s): {errors} error(s), {warnings} warning(s)",
                   err=True)
    return EXIT_FINDINGS if has_errors(diags) else EXIT_OK


def static_diagnostics(sources: list[Source]) -> tuple[list[Diagnostic], list[dict[str, Any]]]:
    """The static checks (`engine/analysis/static.py`) of each clean version: diagnostics
    at the provisions, and the findings with their witness cases (for --format json)."""
    from yakkan.engine.analysis.static import static_checks
    from yakkan.engine.semantics.pipeline import analyse
    from yakkan.engine.semantics.program import program_of
    diags: list[Diagnostic] = []
    found: list[dict[str, Any]] = []
    for s in sources:
        if s.doc is None:
            continue
        book = analyse(s.doc)[0]
        program_of(book)
        when = book.doc.header.effective_from
        for f in static_checks(book):
            span = book.provisions[f.pids[0]].unit.span
            hint = None
            if f.witness is not None:
                hint = ("a case that shows it — facts: " +
                        json.dumps(f.as_json()["witness"], ensure_ascii=False) +
                        (f", as_of: {when.isoformat()}" if when else ""))
            if f.notes:
                hint = "; ".join([*f.notes, *([hint] if hint else [])])
            diags.append(Diagnostic(code=f.code, message=f.message, span=span, hint=hint,
                                    severity="info" if f.severity == "info" else "warning"))
            found.append({**f.as_json(), "file": s.path,
                          "as_of": when.isoformat() if when else None})
    return diags, found
