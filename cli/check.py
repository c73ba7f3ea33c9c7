"""`yakkan check`: every diagnostic of clause files."""

from __future__ import annotations

import json

import click

from yakkan.engine.core.diagnostics import EXIT_FINDINGS, EXIT_OK, has_errors, render_all
from yakkan.engine.semantics.check import check_sources
from yakkan.engine.syntax.load import expand_paths, load_file
from yakkan.renderers.terminal import json_safe, term_safe


def run_check(paths: list[str], fmt: str) -> int:
    files = expand_paths(paths)
    sources = [load_file(p) for p in files]
    diags = check_sources(sources)
    if fmt == "json":
        click.echo(json_safe(json.dumps({
            "files": [s.path for s in sources],
            "diagnostics": [d.model_dump(mode="json") for d in diags],
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
