"""`yakkan diff`: compare two versions."""

from __future__ import annotations

import datetime as dt

from yakkan.cli.output import emit, write_output
from yakkan.engine.analysis.diff import diff_versions
from yakkan.engine.core.diagnostics import Diagnostic, YakkanError


def run_diff(doc: str, from_: dt.date, to: dt.date, fmt: str, old_side: str,
             output: str | None, semantic: bool) -> int:
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
    d = diff_versions(doc, from_, to, semantic=semantic, progress=True)
    from yakkan.renderers.diff_render import render_diff
    out = render_diff(d, fmt, old_side)
    if output:
        write_output(output, out if isinstance(out, bytes) or out.endswith("\n")
                     else out + "\n")
    else:
        assert isinstance(out, str)
        emit(out.rstrip("\n"), None, fmt)
    return 0
