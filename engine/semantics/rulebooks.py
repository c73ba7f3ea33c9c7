"""Rulebooks on demand: load a document's versions, pick the one in force, resolve it.

Resolution errors in a rule file make it unusable for evaluation (exit 2 with the
diagnostics); warnings (drafting slips) do not.

The disk cache keeps the compiled rulebooks of a document's files as checked JSON data
(`cache.py`: nothing in it can run code); an entry that is missing, foreign, altered or does
not validate is ignored, rebuilt and overwritten, so it never changes an answer.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import os
import re
from pathlib import Path

from yakkan.engine.core.diagnostics import Diagnostic, YakkanError
from yakkan.engine.semantics import cache
from yakkan.engine.semantics.resolve import Derived, Rulebook
from yakkan.engine.syntax import ast as A
from yakkan.engine.syntax.load import (
    Source,
    ensure_clean,
    expand_paths,
    package_dir,
    read_text,
    select_version,
    source_of,
)

CACHE_FORMAT = "2"  # 1: pickled rulebooks (never read: a pickle can run code)


def cache_dir() -> Path | None:
    """Where the rulebook cache is kept (`YAKKAN_CACHE`, else ~/.cache/yakkan); `YAKKAN_CACHE=off`
    disables the cache. Entries are keyed by the content hash of the grammar, the engine's
    code and every rule file, so an edited file is never served stale."""
    env = os.environ.get("YAKKAN_CACHE")
    if env is not None and env.strip().lower() == "off":  # OFF, Off: off too
        return None
    try:  # a folder we may not enter or write (or no home): run without the cache
        where = Path(env) if env else Path.home() / ".cache" / "yakkan"
        if where.exists() and not os.access(where, os.R_OK | os.W_OK | os.X_OK):
            return None
    except (OSError, RuntimeError):
        return None
    return where


DEFAULT_CACHE_MAX = 100 * 1024 * 1024  # bytes of entries kept (an entry is about 0.5 MB)
_SIZE = re.compile(r"\s*([0-9]+)\s*([kmg]?)i?b?\s*", re.I)


def cache_limit() -> int:
    """How many bytes of entries the cache folder keeps (`YAKKAN_CACHE_MAX`: bytes, or with
    a unit — `200MB`, `1GB`, `500k`; default 100 MB): past it, the least recently used entries
    are removed after a new one is written."""
    env = os.environ.get("YAKKAN_CACHE_MAX")
    if env is None or not env.strip():
        return DEFAULT_CACHE_MAX
    m = _SIZE.fullmatch(env)
    if m is None or len(env) > 40:
        raise YakkanError([Diagnostic(
            code="usage.bad-cache-max",
            message=f"YAKKAN_CACHE_MAX={env[:40]!r} is not a size",
            hint="a number of bytes, or with a unit: YAKKAN_CACHE_MAX=200MB (default 100MB)")])
    return int(m.group(1)) * 1024 ** " kmg".index((m.group(2) or " ").lower())


def _key(files: list[tuple[str, str]]) -> str:
    from yakkan import __version__
    h = hashlib.sha256(f"{CACHE_FORMAT}\0{__version__}\0".encode())
    h.update((package_dir("yakkan.grammar") / "yakkan.lark").read_bytes())
    for mod in _engine_sources():  # the engine's own code
        h.update(mod.read_bytes())
    for path, text in files:
        h.update(path.encode() + b"\0" + text.encode() + b"\0")
    return h.hexdigest()


def _engine_sources() -> list[Path]:
    """Every `.py` file of the engine, in a fixed order (`os.scandir`: `Path.rglob` took a
    few milliseconds of every run)."""
    out: list[Path] = []
    todo = [Path(__file__).parents[1]]
    while todo:
        for e in os.scandir(todo.pop()):
            if e.is_dir(follow_symlinks=False):
                todo.append(Path(e.path))
            elif e.name.endswith(".py"):
                out.append(Path(e.path))
    return sorted(out)


def entry_path(where: Path, files: list[tuple[str, str]]) -> Path:
    """The cache entry for these rule files ((path, text) pairs) in the cache folder `where`."""
    return where / f"{_key(files)}{cache.SUFFIX}"


class _Versions:
    """The versions of one document, in file order: their headers, and each version's
    rulebook once it is asked for — compiled (a cold run), or read from the cache entry.

    When the entry cannot be read, or a version in it does not decode, it is set aside: every
    version is compiled from the files (an error there is the cold run's error) and the entry
    overwritten. Versions already handed out stay as they are: they are the same rulebooks,
    built from the same texts."""

    def __init__(self, texts: list[tuple[str, str]], entry: Path | None, key: str,
                 limit: int = DEFAULT_CACHE_MAX):
        self.texts, self.entry, self.key, self.limit = texts, entry, key, limit
        self.books: list[Rulebook | None] = [None] * len(texts)
        self.stored = _stored(entry, key, texts) if entry is not None else None
        if self.stored is not None:
            self.headers = list(self.stored.headers)
        else:
            self._rebuild()

    def book(self, i: int) -> Rulebook:
        b = self.books[i]
        if b is None and self.stored is not None:
            try:
                b = self.books[i] = self.stored.rulebook(i)
            except Exception:  # anything a foreign entry provokes: rebuild, below
                b = None
        if b is None:
            self._rebuild()
            b = self.books[i]
            assert b is not None
        return b

    def all(self) -> list[Rulebook]:
        return [self.book(i) for i in range(len(self.books))]

    def _rebuild(self) -> None:
        books = _compile([source_of(p, t) for p, t in self.texts])
        self.books = [o if o is not None else b for o, b in zip(self.books, books, strict=True)]
        self.headers = [b.doc.header for b in books]
        self.stored = None
        if self.entry is not None:
            try:
                cache.write_entry(self.entry, self.key, cache.dump_rulebooks(books))
            except (OSError, TypeError, ValueError, RecursionError):
                return  # a read-only home (or a rulebook the cache cannot hold): no entry
            cache.evict(self.entry.parent, self.entry, self.limit)


@functools.cache
def _resolved_versions(doc: str) -> _Versions:
    paths = expand_paths([doc])
    texts = [(str(p), read_text(p, str(p))) for p in paths]
    where = cache_dir()
    if where is None:
        return _Versions(texts, None, "")
    key = _key(texts)
    return _Versions(texts, where / f"{key}{cache.SUFFIX}", key, cache_limit())


def _stored(entry: Path, key: str, texts: list[tuple[str, str]]) -> cache.Stored | None:
    """The entry's versions, or None when it is missing or not sound: one per rule file, in
    order, each compiled from that file's text as it is now."""
    payload = cache.read_entry(entry, key)
    if payload is None:
        return None
    try:
        stored = cache.Stored(payload)
    except Exception:  # anything a foreign entry provokes: ignore it, rebuild
        return None
    if stored.digests != [_digest(t) for _, t in texts]:
        return None
    try:  # used now: the last entry the size limit removes (`cache.evict`)
        os.utime(entry, follow_symlinks=False)
    except (OSError, NotImplementedError):
        pass
    return stored


def _digest(text: str) -> str:
    """The content hash `Source.digest` gives the text `source_of` reads (BOM dropped)."""
    return Source("", text[1:] if text.startswith("\ufeff") else text, None).digest


def _compile(sources: list[Source]) -> tuple[Rulebook, ...]:
    from yakkan.engine.semantics.pipeline import COMPILE, analyse
    analysed = [analyse(d, upto=COMPILE[-1]) for d in ensure_clean(sources)]
    bad = [d for _, diags in analysed for d in diags if d.severity == "error"]
    if bad:
        raise YakkanError(bad, sources={s.path: s.text for s in sources})
    books = tuple(b for b, _ in analysed)
    digests = [s.digest for s in sources if s.doc is not None]  # in the order of `books`
    for b, digest in zip(books, digests, strict=True):
        b.source_digest = digest  # the rule file's content hash
        b.derived = Derived()  # derived forms (the graph) are rebuilt on demand; the program
        # (the `program` pass) is kept with the rulebook and cached with it
    return books


def versions(doc: str) -> list[Rulebook]:
    """Every encoded version of `doc` (id, folder or file), resolved, oldest first."""
    cache_limit()  # a malformed YAKKAN_CACHE_MAX is an error on every run, not a cold one only
    return sorted(_resolved_versions(doc).all(),
                  key=lambda b: b.doc.header.effective_from or dt.date.min)


def rulebook_for(doc: str, as_of: dt.date | None) -> Rulebook:
    """The version in force on `as_of` (the newest when None); an error if none is. Only that
    version is read from the cache."""
    cache_limit()
    v = _resolved_versions(doc)
    order = sorted(range(len(v.headers)),
                   key=lambda i: v.headers[i].effective_from or dt.date.min)
    # `select_version` reads only the headers: it is given them without the rest
    shown = [A.Document(header=v.headers[i]) for i in order]
    chosen = select_version(shown, as_of)
    return v.book(next(i for i, d in zip(order, shown, strict=True) if d is chosen))
