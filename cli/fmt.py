"""`yakkan fmt`: rewrite clause files in the canonical layout."""

from __future__ import annotations

from pathlib import Path

import click

from yakkan.cli.output import write_output
from yakkan.engine.core.diagnostics import EXIT_FINDINGS, EXIT_OK, has_errors, render_all
from yakkan.engine.syntax.format import _formatted
from yakkan.engine.syntax.load import Source, expand_paths, load_file
from yakkan.renderers.terminal import line_safe, term_safe


def run_fmt(paths: list[str], check_only: bool) -> int:
    """`yakkan fmt [--check] PATH…`: rewrite files in the canonical layout (only those that
    change), or with `check_only` list them and exit 1. Files with errors are reported and
    left untouched (exit 1). Unreadable paths raise `YakkanError` (exit 2) before anything is
    written."""
    sources = [load_file(p) for p in expand_paths(paths)]
    broken: list[Source] = []
    changed: list[str] = []
    for s in sources:
        if s.doc is None or has_errors(s.diagnostics):
            broken.append(s)
            continue
        new = _formatted(s).encode("utf-8")
        path = Path(s.path)
        if path.read_bytes() != new:
            changed.append(s.path)
            if not check_only:
                write_output(s.path, new)
    if broken:
        click.echo(term_safe(render_all([d for s in broken for d in s.diagnostics],
                                        {s.path: s.text for s in broken})), err=True)
    for c in changed:
        click.echo(f"{'would reformat' if check_only else 'reformatted'} {line_safe(c)}")
    verb = "would be reformatted" if check_only else "reformatted"
    click.echo(f"{len(changed)} file(s) {verb}, {len(sources) - len(changed) - len(broken)} "
               f"unchanged, {len(broken)} with errors", err=True)
    return EXIT_FINDINGS if broken or (check_only and changed) else EXIT_OK
