"""`yakkan check`: every diagnostic of clause files."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from yakkan.cli.output import write_files
from yakkan.engine.core.diagnostics import (
    EXIT_FINDINGS,
    EXIT_OK,
    Diagnostic,
    YakkanError,
    has_errors,
    render_all,
)
from yakkan.engine.semantics.check import check_sources
from yakkan.engine.syntax.load import Source, expand_paths, load_file
from yakkan.renderers.terminal import json_safe, term_safe


def run_check(paths: list[str], fmt: str, static: bool = True,
              witness_dir: str | None = None) -> int:
    if witness_dir is not None and not static:
        raise YakkanError([Diagnostic(
            code="usage.witness-needs-static",
            message="--witness-dir writes the witness cases of the static checks, which "
            "--no-static skips", hint="drop --no-static (or --witness-dir)")])
    files = expand_paths(paths)
    sources = [load_file(p) for p in files]
    diags = check_sources(sources)
    findings: list[dict[str, Any]] = []
    if static and not has_errors(diags):
        extra, findings = static_diagnostics(sources, witness_dir)
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


def static_diagnostics(sources: list[Source], witness_dir: str | None = None) -> \
        tuple[list[Diagnostic], list[dict[str, Any]]]:
    """The static checks (`engine/analysis/static.py`) of each clean version: diagnostics
    at the provisions, and the findings with their witness cases (for --format json); with
    `witness_dir`, each witness is written there as a case file (`case_file` in the JSON)."""
    from yakkan.engine.analysis.static import static_checks
    from yakkan.engine.analysis.witness_cases import WitnessFile, static_witness_files
    from yakkan.engine.semantics.pipeline import analyse
    from yakkan.engine.semantics.program import program_of
    diags: list[Diagnostic] = []
    found: list[dict[str, Any]] = []
    to_write: list[WitnessFile] = []
    for s in sources:
        if s.doc is None:
            continue
        book = analyse(s.doc)[0]
        program_of(book)
        when = book.doc.header.effective_from
        checked = static_checks(book)
        written: dict[int, str] = {}
        if witness_dir is not None:
            cases = static_witness_files(book, checked, _document_ref(s, witness_dir),
                                         len(to_write) + 1)
            with_witness = [f for f in checked if f.witness is not None]
            for f, wf in zip(with_witness, cases, strict=True):
                written[id(f)] = str(Path(witness_dir) / wf.name)
            to_write += cases
        for f in checked:
            span = book.provisions[f.pids[0]].unit.span
            hint = None
            if f.witness is not None:
                hint = ("これを示す事例 — 事実: " +
                        json.dumps(f.as_json()["witness"], ensure_ascii=False) +
                        (f", as_of: {when.isoformat()}" if when else ""))
            if f.notes:
                hint = "; ".join([*f.notes, *([hint] if hint else [])])
            diags.append(Diagnostic(code=f.code, message=f.message, span=span, hint=hint,
                                    severity="info" if f.severity == "info" else "warning"))
            if id(f) in written:
                hint = (hint + "; " if hint else "") + f"case file: {written[id(f)]}"
                diags[-1].hint = hint
            found.append({**f.as_json(), "file": s.path,
                          "as_of": when.isoformat() if when else None,
                          **({"case_file": written[id(f)]} if id(f) in written else {})})
    if witness_dir is not None:
        write_files(witness_dir, [(f.name, f.text()) for f in to_write])
        click.echo(f"wrote {len(to_write)} witness case file(s) to {witness_dir}", err=True)
    return diags, found


def _document_ref(s: Source, witness_dir: str) -> str:
    """How a case file in `witness_dir` names the checked document: its id when the file is
    the bundled document's, else the path of the clause file from that folder."""
    from yakkan.engine.syntax.load import bundled_root
    assert s.doc is not None
    path = Path(s.path).resolve()
    doc_id = s.doc.header.id
    if path.parent == (bundled_root() / doc_id).resolve():
        return doc_id
    return Path(os.path.relpath(path, Path(witness_dir).resolve())).as_posix()
