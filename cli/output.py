"""Where a command's output goes: a file named with `-o` (an unwritable path is a diagnostic,
exit 2) or the terminal (control characters from clause text and case values escaped)."""

from __future__ import annotations

from pathlib import Path

import click

from yakkan.engine.core.diagnostics import Diagnostic, YakkanError
from yakkan.renderers.terminal import json_safe, term_safe


def write_output(output: str, data: str | bytes) -> None:
    """Write `data` to the file `output`, or raise YakkanError (exit 2) saying why not."""
    path = Path(output)
    try:
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data, encoding="utf-8")
    except OSError as e:
        reason = e.strerror or type(e).__name__
        raise YakkanError([Diagnostic(
            code="io.unwritable", message=f"cannot write `{term_safe(output)}`: {reason}",
            hint="check that the folder exists and that you may write there")]) from None
    except UnicodeEncodeError as e:
        raise YakkanError([Diagnostic(
            code="io.unwritable", message=f"cannot write `{term_safe(output)}`: the output "
            f"holds a character UTF-8 cannot encode ({e.reason})")]) from None


def write_files(folder: str, files: list[tuple[str, str]]) -> list[Path]:
    """Write each (name, text) into `folder`, made if missing; the paths written. A folder
    that cannot be made or written is `io.unwritable` (exit 2)."""
    where = Path(folder)
    try:
        where.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise YakkanError([Diagnostic(
            code="io.unwritable", message=f"cannot make the folder `{term_safe(folder)}`: "
            f"{e.strerror or type(e).__name__}",
            hint="give a folder you may write in")]) from None
    out = []
    for name, text in files:
        write_output(str(where / name), text)
        out.append(where / name)
    return out


def emit(out: str, output: str | None, fmt: str = "text", *, styled: bool = False,
         newline: bool = True) -> None:
    """Write `out` to `output` (a file) or echo it. On the terminal, JSON keeps its escapes
    and other text has its control characters shown escaped, unless `styled` (the renderer
    escaped the values itself before adding colour)."""
    if output:
        write_output(output, out + "\n" if newline and not out.endswith("\n") else out)
        return
    shown = out if styled else json_safe(out) if fmt == "json" else term_safe(out)
    click.echo(shown, nl=newline)
