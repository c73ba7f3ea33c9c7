"""`yakkan diff`: compare two versions."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from urllib.parse import quote

import click

from yakkan.cli.output import emit, write_files, write_output
from yakkan.engine.analysis.diff import diff_versions
from yakkan.engine.analysis.witness_cases import SIDE_JA
from yakkan.engine.core.diagnostics import Diagnostic, YakkanError


def run_diff(doc: str, from_: dt.date, to: dt.date, fmt: str, old_side: str,
             output: str | None, semantic: bool, witness_dir: str | None = None) -> int:
    if fmt == "docx" and not output:
        raise YakkanError([Diagnostic(
            code="usage.output-required",
            message="--format docx writes a Word file: give it a path with -o PATH",
            hint="e.g. yakkan diff denwa --from 2023-04-16 --to 2023-04-17 --format docx "
            "-o 新旧対照表.docx")])
    if to < from_:
        raise YakkanError([Diagnostic(
            code="usage.reversed-dates",
            message=f"--from {from_} is after --to {to}: the old version would be labelled "
            "改正後 and the new one 改正前",
            hint=f"swap them: --from {to} --to {from_} (the old version's date comes first)")])
    if witness_dir is not None and not semantic:
        raise YakkanError([Diagnostic(
            code="usage.witness-needs-semantic",
            message="--witness-dir writes the witness cases of the semantic diff, which "
            "--no-semantic skips", hint="drop --no-semantic (or --witness-dir)")])
    d = diff_versions(doc, from_, to, semantic=semantic, progress=True)
    from yakkan.renderers.diff_render import WitnessLinks, render_diff
    links: WitnessLinks = {}
    if witness_dir is not None:
        from yakkan.engine.analysis.witness_cases import diff_witness_files
        files = diff_witness_files(d)
        paths = write_files(witness_dir, [(f.name, f.text()) for f in files])
        base = os.path.dirname(os.path.abspath(output)) if output else os.getcwd()
        for f, p in zip(files, paths, strict=True):
            kind, n, side = f.ref
            href = quote(Path(os.path.relpath(p, base)).as_posix(), safe="/._-~")
            links.setdefault((kind, n), []).append((SIDE_JA[side], href))
        click.echo(f"wrote {len(files)} witness case file(s) to {witness_dir}", err=True)
    out = render_diff(d, fmt, old_side, links)
    if output:
        write_output(output, out if isinstance(out, bytes) or out.endswith("\n")
                     else out + "\n")
    else:
        assert isinstance(out, str)
        emit(out.rstrip("\n"), None, fmt)
    return 0
