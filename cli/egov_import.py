"""`yakkan import`: an e-Gov 法令標準XML document → a skeleton clause file."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from yakkan.engine.core.diagnostics import (
    EXIT_FINDINGS,
    EXIT_OK,
    Diagnostic,
    YakkanError,
    has_errors,
    render_all,
)
from yakkan.engine.syntax.load import read_bytes


def _read(path: str) -> bytes:
    return read_bytes(Path(path), path)


def _sidecar(path: str) -> dict[str, Any]:
    try:
        data = json.loads(_read(path).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise YakkanError([Diagnostic(code="import.sidecar",
                                      message=f"`{path}` is not JSON: {e}")]) from None
    if not isinstance(data, dict):
        raise YakkanError([Diagnostic(code="import.sidecar",
                                      message=f"`{path}` is not a yakkan sidecar object")])
    return data


def run_import(file: str, output: str | None, doc_id: str | None, version: str | None,
               sidecar: str | None) -> int:
    from yakkan.engine.semantics.check import check_sources
    from yakkan.engine.syntax.egov_import import apply_sidecar, import_law
    from yakkan.engine.syntax.format import format_document
    from yakkan.engine.syntax.load import source_of

    if output is None and doc_id is None:
        raise YakkanError([Diagnostic(
            code="usage", message="say where the clause file goes: -o clauses/<doc>/<version>.yk "
            "(or --id DOC to print it)")])
    out = Path(output) if output else None
    doc_id = doc_id or (out.parent.name if out else None)
    version = version or (out.stem if out else None)
    assert doc_id is not None
    doc, diags = import_law(_read(file), file, doc_id=doc_id, version=version)
    if sidecar is not None:
        diags.extend(apply_sidecar(doc, _sidecar(sidecar), sidecar))
    text = format_document(doc)
    shown = output or f"<{doc_id}>.yk"
    src = source_of(shown, text)
    if src.doc is None or has_errors(src.diagnostics):  # a bug of the importer, never written
        raise YakkanError(src.diagnostics, exit_code=70, sources={shown: text})
    if diags:
        click.echo(render_all(diags, {file: _read(file).decode("utf-8", "replace")}), err=True)
    if out is None:
        click.echo(text, nl=False)
        return EXIT_OK
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as e:
        raise YakkanError([Diagnostic(
            code="io.unwritable", message=f"cannot write `{output}`: {e.strerror}",
            hint="create the folder clauses/<doc>/ first")]) from None
    found = check_sources([src])
    errors = sum(d.severity == "error" for d in found)
    warnings = sum(d.severity == "warning" for d in found)
    units = sum(1 for _ in doc.iter_units())
    click.echo(f"wrote {output}: {units} unit(s); yakkan check: {errors} error(s), "
               f"{warnings} warning(s)", err=True)
    if found:
        click.echo(render_all(found, {shown: text}), err=True)
    sys.stdout.flush()
    return EXIT_FINDINGS if has_errors(found) else EXIT_OK
