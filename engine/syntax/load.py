"""Finding and reading `.yk` files: bundled documents by id, or paths the user gives.

A document id (`denwa`, `rakuten-miitel`) names a folder of `clauses/`; each `.yk` file in
it is one version. `select_version` picks the version in force on a date and refuses —
with a diagnostic, never silently — a date that no encoded version covers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from yakkan.engine.core.diagnostics import Diagnostic, YakkanError, did_you_mean
from yakkan.engine.core.numerals import format_date
from yakkan.engine.syntax import ast as A


@dataclass
class Source:
    """One file read: its path as given, its text, its parsed AST (None on errors)."""

    path: str
    text: str
    doc: A.Document | None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def package_dir(name: str) -> Path:
    """The folder of one of yakkan's packages (`yakkan.clauses`): they are installed as
    folders, never zipped, so this is the path `importlib.resources.files` gives — without
    importing importlib.resources (a few milliseconds of every run)."""
    file = importlib.import_module(name).__file__
    assert file is not None, f"{name} is not a folder"
    return Path(file).parent


def bundled_root() -> Path:
    return package_dir("yakkan.clauses")


def _ids_hint(lead: str) -> str:
    ids = bundled_ids()
    return f"{lead}: " + ", ".join(ids) if ids else f"{lead}: none are installed"


def bundled_ids() -> list[str]:
    root = bundled_root()
    return sorted(p.name for p in root.iterdir() if p.is_dir() and any(p.glob("*.yk")))


def _io_error(err: OSError, shown: str,
              missing_hint: Callable[[], str] | None = None) -> YakkanError:
    """The diagnostic for a file that cannot be opened (exit 2)."""
    if isinstance(err, FileNotFoundError):
        return YakkanError([Diagnostic(code="io.missing-file", message=f"no such file: `{shown}`",
                                       hint=missing_hint() if missing_hint else None)])
    if isinstance(err, IsADirectoryError):
        return YakkanError([Diagnostic(code="io.is-directory",
                                       message=f"`{shown}` is a directory")])
    return YakkanError([Diagnostic(code="io.unreadable",
                                   message=f"cannot read `{shown}`: {err.strerror}")])


def read_bytes(path: Path, shown: str,
               missing_hint: Callable[[], str] | None = None) -> bytes:
    """A file's bytes, or a YakkanError (exit 2) that says what is wrong."""
    try:
        return path.read_bytes()
    except OSError as e:
        raise _io_error(e, shown, missing_hint) from None


def check_readable(path: Path, shown: str) -> None:
    """That a file can be opened for reading (without reading it), or a YakkanError."""
    try:
        with path.open("rb"):
            pass
    except OSError as e:
        raise _io_error(e, shown) from None


def read_text(path: Path, shown: str) -> str:
    """Read a UTF-8 file or raise a YakkanError (exit 2) that says what is wrong."""
    data = read_bytes(path, shown, lambda: _ids_hint("check the path, or give a bundled "
                                                     "document id"))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise YakkanError([Diagnostic(code="io.not-utf8",
                                      message=f"`{shown}` is not UTF-8 text (byte {e.start}, "
                                      f"line {line})",
                                      hint="save the file as UTF-8 (Shift_JIS is not read)")]) \
            from None


def load_file(path: str | Path) -> Source:
    return source_of(str(path), read_text(Path(path), str(path)))


def source_of(path: str, text: str) -> Source:
    """Parse text read from `path` (a leading BOM is dropped)."""
    from yakkan.engine.syntax.parse import parse_document  # Lark: only when a file is parsed
    if text.startswith("\ufeff"):
        text = text[1:]
    doc, diags = parse_document(text, path)
    return Source(path, text, doc, diags)


def expand_paths(args: list[str]) -> list[Path]:
    """Files named, `.yk` files under folders named, and bundled documents named by id."""
    out: list[Path] = []
    for a in args:
        p = Path(a)
        if p.is_dir():
            found = sorted(p.rglob("*.yk"))
            if not found:
                raise YakkanError([Diagnostic(code="io.no-clauses",
                                              message=f"no `.yk` files under `{a}`")])
            out.extend(found)
        elif p.exists() or a.endswith(".yk") or "/" in a:
            out.append(p)
        else:
            out.extend(document_files(a))
    return out


def document_files(doc_id: str) -> list[Path]:
    root = bundled_root() / doc_id
    files = sorted(root.glob("*.yk")) if root.is_dir() else []
    if not files:
        ids = bundled_ids()
        raise YakkanError([Diagnostic(
            code="io.unknown-document", message=f"unknown document `{doc_id}`",
            hint=did_you_mean(doc_id, ids) or _ids_hint("bundled documents"))])
    return files


def load_document_versions(doc_id_or_path: str) -> list[Source]:
    """All versions of a document (bundled id, folder or single file), parsed."""
    return [load_file(p) for p in expand_paths([doc_id_or_path])]


def ensure_clean(sources: list[Source]) -> list[A.Document]:
    """The ASTs, or a YakkanError (exit 2) carrying every file's diagnostics."""
    bad = [d for s in sources for d in s.diagnostics if d.severity == "error"]
    if bad:
        raise YakkanError(bad)
    return [s.doc for s in sources if s.doc is not None]


def in_force(doc: A.Document, on: dt.date) -> bool:
    h = doc.header
    if h.effective_from is None or on < h.effective_from:
        return False
    return h.effective_until is None or on <= h.effective_until


def select_version(docs: list[A.Document], on: dt.date | None) -> A.Document:
    """The version in force on `on` (the newest when `on` is None)."""
    if not docs:
        raise YakkanError([Diagnostic(code="io.no-versions", message="no versions encoded")])
    ordered = sorted(docs, key=lambda d: d.header.effective_from or dt.date.min)
    if on is None:
        return ordered[-1]
    hits = [d for d in ordered if in_force(d, on)]
    if hits:
        return hits[-1]
    def period(d: A.Document) -> str:
        h = d.header
        start = format_date(h.effective_from) if h.effective_from else "?"
        return f"version {h.version or '?'}: " + (
            f"{start} – {format_date(h.effective_until)}" if h.effective_until
            else f"from {start}")
    periods = "; ".join(period(d) for d in ordered)
    raise YakkanError([Diagnostic(
        code="eval.no-version-in-force",
        message=f"no encoded version of `{ordered[0].header.id}` is in force on "
        f"{format_date(on)}",
        hint=f"encoded versions: {periods}. Other texts are not known to yakkan; use a date "
        "inside one of these periods (--as-of, the case's as_of, or diff's --from/--to)")])
