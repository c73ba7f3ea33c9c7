"""check: every diagnostic the passes find — parse, lower, resolve, types, lint.

`yakkan check PATH…|DOC` exits 0 when no errors are found, 1 for findings (errors in the
rule files), 2 for unusable input (missing file, not UTF-8, unknown document id).
"""

from __future__ import annotations

import json

import click

from yakkan.engine.diagnostics import (
    EXIT_FINDINGS,
    EXIT_OK,
    Diagnostic,
    has_errors,
    render_all,
)
from yakkan.engine.load import Source, expand_paths, load_file


def check_sources(sources: list[Source]) -> list[Diagnostic]:
    """All diagnostics of the given files: syntax and lowering, then semantic passes."""
    diags: list[Diagnostic] = [d for s in sources for d in s.diagnostics]
    parsed = [s for s in sources if s.doc is not None and not has_errors(s.diagnostics)]
    if parsed:
        from yakkan.engine.pipeline import semantic_diagnostics
        diags.extend(semantic_diagnostics(parsed))
    return sorted(diags, key=Diagnostic.sort_key)


def cli_check(paths: list[str], fmt: str) -> int:
    files = expand_paths(paths)
    sources = [load_file(p) for p in files]
    diags = check_sources(sources)
    if fmt == "json":
        click.echo(json.dumps({
            "files": [s.path for s in sources],
            "diagnostics": [d.model_dump(mode="json") for d in diags],
        }, ensure_ascii=False, indent=2))
    else:
        if diags:
            click.echo(render_all(diags, {s.path: s.text for s in sources}), err=True)
        errors = sum(d.severity == "error" for d in diags)
        warnings = sum(d.severity == "warning" for d in diags)
        click.echo(f"checked {len(sources)} file(s): {errors} error(s), {warnings} warning(s)",
                   err=True)
    return EXIT_FINDINGS if has_errors(diags) else EXIT_OK
