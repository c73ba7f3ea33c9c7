"""`yakkan export`: the version in force as an e-Gov 法令標準XML document (+ a logic sidecar)."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

from yakkan.engine.core.diagnostics import Diagnostic, YakkanError


def write_file(output: str, data: bytes) -> None:
    """Write `data` to `output`, or raise YakkanError (exit 2) saying why not."""
    try:
        Path(output).write_bytes(data)
    except OSError as e:
        raise YakkanError([Diagnostic(
            code="io.unwritable", message=f"cannot write `{output}`: "
            f"{e.strerror or type(e).__name__}",
            hint="check that the folder exists and that you may write there")]) from None


def run_export(doc: str, as_of: dt.date | None, fmt: str, output: str | None,
               sidecar_path: str | None) -> int:
    from yakkan.engine.features.egov_export import export_egov, sidecar
    from yakkan.engine.semantics.rulebooks import rulebook_for
    assert fmt == "egov-xml"
    book = rulebook_for(doc, as_of)
    xml = export_egov(book)
    if sidecar_path is not None:
        data = sidecar(book, Path(output).name if output else None)
        write_file(sidecar_path, (json.dumps(data, ensure_ascii=False, indent=2) + "\n")
                   .encode("utf-8"))
    if output:
        write_file(output, xml)
    else:
        sys.stdout.buffer.write(xml)
        sys.stdout.flush()
    return 0
