"""Rulebooks on demand: load a document's versions, pick the one in force, resolve it.

Resolution errors in a rule file make it unusable for evaluation (exit 2 with the
diagnostics); warnings (drafting slips) do not.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import os
import pickle
from importlib import resources
from pathlib import Path

from yakkan.engine.core.diagnostics import YakkanError
from yakkan.engine.semantics.program import program_of
from yakkan.engine.semantics.resolve import Rulebook
from yakkan.engine.syntax.load import (
    Source,
    ensure_clean,
    expand_paths,
    read_text,
    select_version,
    source_of,
)

CACHE_FORMAT = "1"


def cache_dir() -> Path | None:
    """Where compiled rulebooks are kept (`YAKKAN_CACHE`, else ~/.cache/yakkan); `YAKKAN_CACHE=off`
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


def _key(files: list[tuple[str, str]]) -> str:
    from yakkan import __version__
    h = hashlib.sha256(f"{CACHE_FORMAT}\0{__version__}\0".encode())
    h.update(resources.files("yakkan.grammar").joinpath("yakkan.lark").read_bytes())
    for mod in sorted(Path(__file__).parents[1].rglob("*.py")):  # the engine's own code
        h.update(mod.read_bytes())
    for path, text in files:
        h.update(path.encode() + b"\0" + text.encode() + b"\0")
    return h.hexdigest()


@functools.cache
def _resolved_versions(doc: str) -> tuple[Rulebook, ...]:
    paths = expand_paths([doc])
    texts = [(str(p), read_text(p, str(p))) for p in paths]
    where = cache_dir()
    entry = where / f"{_key(texts)}.pickle" if where else None
    if entry is not None and entry.exists():
        try:
            with entry.open("rb") as f:
                books = pickle.load(f)
            if isinstance(books, tuple):
                return books
        except Exception:  # a damaged or foreign entry: rebuild it
            pass
    books = _compile([source_of(p, t) for p, t in texts])
    if entry is not None:
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            tmp = entry.with_suffix(".tmp")
            with tmp.open("wb") as f:
                pickle.dump(books, f, protocol=pickle.HIGHEST_PROTOCOL)
            tmp.replace(entry)
        except OSError:  # a read-only home: run without the cache
            pass
    return books


def _compile(sources: list[Source]) -> tuple[Rulebook, ...]:
    from yakkan.engine.semantics.pipeline import analyse
    analysed = [analyse(d) for d in ensure_clean(sources)]
    bad = [d for _, diags in analysed for d in diags if d.severity == "error"]
    if bad:
        raise YakkanError(bad, sources={s.path: s.text for s in sources})
    books = tuple(b for b, _ in analysed)
    digests = [s.digest for s in sources if s.doc is not None]  # in the order of `books`
    for b, digest in zip(books, digests, strict=True):
        b.source_digest = digest  # the rule file's content hash
        b.cache.clear()  # derived forms (the graph) are rebuilt on demand, never pickled
        program_of(b)  # the decision program is kept with the rulebook
    return books


def versions(doc: str) -> list[Rulebook]:
    """Every encoded version of `doc` (id, folder or file), resolved, oldest first."""
    return sorted(_resolved_versions(doc),
                  key=lambda b: b.doc.header.effective_from or dt.date.min)


def rulebook_for(doc: str, as_of: dt.date | None) -> Rulebook:
    """The version in force on `as_of` (the newest when None); an error if none is."""
    books = versions(doc)
    chosen = select_version([b.doc for b in books], as_of)
    return next(b for b in books if b.doc is chosen)
