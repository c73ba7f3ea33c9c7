"""Entries of the rulebook cache: compiled rulebooks as plain JSON data, checked before use.

A cold run spends most of its time parsing (Lark) and compiling; an entry keeps the result —
each version's `Rulebook` with its resolved document, provisions, diagnostics and
`DecisionProgram` — as data that cannot run code. `json` decodes it into strings, ints, lists
and one-key objects (a float, NaN or Infinity is refused); the key of an object says what
it is:

* a class name — ``{"Unit": [<every field, in declaration order>]}`` — one of the data
  classes (`core/datamodel.py`) of `core/ir.py`, `syntax/ast.py` and `core/diagnostics.py`
  (`models()`), or of the six dataclasses of a rulebook (`CLASSES`); a name is looked up in
  those tables only. A
  `Span` holds its file as an index into the version's table of files (one path, written
  once, instead of one per node);
* ``{"$t": […]}`` a tuple, ``{"$o": [[key, value], …]}`` a dict, ``{"$d": "1.10"}`` a
  Decimal, ``{"$date": "2024-04-01"}`` a date;
* ``{"$id": [n, <object>]}`` and ``{"$r": n}``: a node or dataclass object reached twice (a
  provision's unit is the document's; a ground's applicability shares its conditions) is
  written once and referred to after, so objects come back shared as they were built. Lists,
  tuples and dicts are values (a list two nodes share comes back as two equal lists).

A dataclass is built by calling it with its fields. A node is built as `Data.__copy__` builds
a copy: a new instance whose `__dict__` is its fields — exactly the class's fields, or the
entry is refused — without calling its `__init__`, so reading an entry costs about what
unpickling did. The types of the values are not checked: the digest keeps the bytes as they
were written. Every field is written, including those dumps leave out and later passes fill
(`span`, `nid`, `ty`, citation `targets`, `Ref.resolved`, `Holds.lowered`, …), so a loaded
rulebook is the one the cold run built; `Rulebook.derived` (derived forms, rebuilt on demand)
is not written.

An entry file is one header line, JSON ``{"format", "key", "size", "sha256"}``, then the
payload: an index line (each version's header without its span, the sha256 of the rule file
it was compiled from, the size of its text and its table of files), then one JSON text per
version — so a run reads only the versions it uses. `read_entry` gives the payload only when
the header names this format and the expected key and the payload has that size and sha256;
otherwise None, and the caller compiles the files and overwrites the entry (as it does when
the payload does not decode).
`write_entry` writes a fresh private temporary file and renames it over the entry: a reader
never sees half an entry, and a planted symlink is replaced, not followed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import gc
import hashlib
import json
import os
import re
import stat
import time
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from yakkan.engine.core import diagnostics as D
from yakkan.engine.core import ir as I
from yakkan.engine.core.datamodel import Data
from yakkan.engine.semantics import program as P
from yakkan.engine.semantics import resolve as R
from yakkan.engine.syntax import ast as A

FORMAT = "yakkan-rulebook-cache/json/1"
SUFFIX = ".ykc"
MAX_ENTRY_BYTES = 64 * 1024 * 1024  # far above any rulebook; a larger file is not ours
_HEADER_MAX = 1024
_SCALARS = (str, bool, int)
# fields not written: derived forms, rebuilt on demand (the constructor's default instead)
_SKIP: dict[type, frozenset[str]] = {R.Rulebook: frozenset({"derived"})}

CLASSES: dict[str, type] = {c.__name__: c for c in (
    R.Rulebook, R.Provision, R.CitationUse, P.DecisionProgram, P.Ground, P.Decision)}
# the fields of each an entry holds, in order
_RECORD_FIELDS: dict[type, tuple[str, ...]] = {
    c: tuple(f.name for f in dataclasses.fields(c) if f.name not in _SKIP.get(c, ()))
    for c in CLASSES.values()}


@functools.cache
def models() -> dict[str, type[Data]]:
    """Every data class an entry may hold, by class name: the nodes, spans, diagnostics."""
    out: dict[str, type[Data]] = {"Span": I.Span}
    for mod in (I, A, D):
        for name, c in vars(mod).items():
            if isinstance(c, type) and issubclass(c, Data) \
                    and c.__module__ == mod.__name__ and c.__name__ == name:
                if name in out:
                    raise TypeError(f"two models named {name}")
                out[name] = c
    return out


@dataclasses.dataclass(frozen=True)
class _Shape:
    """A node class and its fields, in order."""

    cls: type[Data]
    names: frozenset[str]
    order: tuple[str, ...]
    file_at: int | None  # a `Span`: where its file is, written as an index into a table


@functools.cache
def _shapes() -> dict[str, _Shape]:
    return {name: _Shape(cls, frozenset(cls.model_fields), tuple(cls.model_fields),
                         tuple(cls.model_fields).index("file") if cls is I.Span else None)
            for name, cls in models().items()}


# ---- encoding -----------------------------------------------------------------------------

class _Encoder:
    def __init__(self, root: object):
        self.reached, self.shared = _reach(root)
        self.files: dict[str, int] = {}  # a span's file, written once: its index in this table
        self.ids: dict[int, int] = {}
        self.open: set[int] = set()
        self.models = {c: n for n, c in models().items()}
        self.classes = {c: n for n, c in CLASSES.items()}

    def value(self, v: Any) -> Any:
        t = type(v)  # exact types: a subclass would not come back
        if v is None or t in _SCALARS:
            return v
        if t is list:
            return [self.value(x) for x in v]
        if t is tuple:
            return {"$t": [self.value(x) for x in v]}
        if t is Decimal:
            return {"$d": str(v)}
        if t is dt.date:
            return {"$date": v.isoformat()}
        if t is dict:
            return {"$o": [[self.value(k), self.value(x)] for k, x in v.items()]}
        k = id(v)
        if k in self.ids:
            return {"$r": self.ids[k]}
        if k in self.open:
            raise TypeError("a cycle")
        self.open.add(k)
        if t in self.models:
            out = self.node(v)
        elif t in self.classes:
            out = self.record(v)
        else:
            raise TypeError(f"not cacheable: {t.__name__}")  # never a lossy entry
        self.open.discard(k)
        if k not in self.shared:
            return out
        self.ids[k] = len(self.ids)
        return {"$id": [self.ids[k], out]}

    def node(self, m: Data) -> dict[str, Any]:
        name = self.models[type(m)]
        shape = _shapes()[name]
        if m.__dict__.keys() != shape.names:
            raise TypeError(f"{name} holds more than its fields")
        fields = [self.value(m.__dict__[n]) for n in shape.order]
        if shape.file_at is not None:
            at = shape.file_at
            fields[at] = self.files.setdefault(fields[at], len(self.files))
        return {name: fields}

    def record(self, o: Any) -> dict[str, Any]:
        name = self.classes[type(o)]
        fields = dataclasses.fields(o)
        if vars(o).keys() != {f.name for f in fields} or not all(f.init for f in fields):
            raise TypeError(f"{name} holds more than its fields")
        return {name: [self.value(getattr(o, n)) for n in _RECORD_FIELDS[type(o)]]}


def _reach(root: object) -> tuple[set[int], set[int]]:
    """The ids of the nodes and dataclass objects reachable from `root`, and of those reached
    more than once."""
    seen: set[int] = set()
    shared: set[int] = set()
    stack = [root]
    while stack:
        v = stack.pop()
        if isinstance(v, list | tuple):
            stack.extend(v)
        elif isinstance(v, dict):
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, Data) or dataclasses.is_dataclass(v):
            if id(v) in seen:
                shared.add(id(v))
                continue
            seen.add(id(v))
            stack.extend(vars(v).values())
    return seen, shared


def dump_rulebooks(books: Sequence[R.Rulebook]) -> bytes:
    """The payload of an entry: an index line — each version's header (for choosing the
    version; without its span), the sha256 of its rule file, the size of its text and the
    files its spans name — then each version's rulebook as one JSON text, so one version can
    be read without the others. TypeError for anything it could not write faithfully."""
    parts: list[bytes] = []
    index: list[Any] = []
    seen: set[int] = set()
    for b in books:
        enc = _Encoder(b)
        parts.append(_json(enc.value(b)))
        if seen & enc.reached:
            raise TypeError("versions that share an object")  # each is read on its own
        seen |= enc.reached
        header = b.doc.header.model_copy(update={"span": None})
        index.append([_Encoder(header).value(header), b.source_digest, len(parts[-1]),
                      list(enc.files)])
    return b"\n".join([_json(index), *parts])


def _json(v: Any) -> bytes:
    return json.dumps(v, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# ---- decoding -----------------------------------------------------------------------------

def _refuse(s: str) -> Any:
    raise ValueError(f"not in a cache entry: {s}")


def _decode(text: bytes, files: Sequence[str] = ()) -> Any:
    """One JSON text of an entry, its objects built (`files`: the table its spans index); an
    exception (ValueError, TypeError, KeyError, …) for anything `dump_rulebooks` does not
    write."""
    table: dict[int, Any] = {}
    shapes = _shapes()
    new = object.__new__

    def hook(pairs: list[tuple[str, Any]]) -> Any:
        ((tag, v),) = pairs  # one key: a class's name, or a tag of `$`
        s = shapes.get(tag)
        if s is not None:  # a node: its fields, all of them, in order
            if type(v) is not list or len(v) != len(s.order):
                raise ValueError(f"not the fields of {tag}")
            if s.file_at is not None:
                v[s.file_at] = files[v[s.file_at]]
            o = new(s.cls)  # as `Data.__copy__` builds one: the fields set, nothing run
            o.__dict__.update(zip(s.order, v, strict=False))  # its length is checked
            return o
        if tag == "$r":
            return table[v]
        if tag == "$t" and type(v) is list:
            return tuple(v)
        if tag == "$id" and type(v) is list and len(v) == 2:
            n, o = v
            if type(n) is not int or n in table:
                raise ValueError("a bad object id")
            table[n] = o
            return o
        if tag == "$d" and type(v) is str:
            return Decimal(v)
        if tag == "$date" and type(v) is str:
            return dt.date.fromisoformat(v)
        if tag == "$o" and type(v) is list:
            return {k: x for k, x in v}  # a tuple key was decoded as a tuple
        cls = CLASSES[tag]
        names = _RECORD_FIELDS[cls]
        if type(v) is not list or len(v) != len(names):
            raise ValueError(f"not the fields of {tag}")
        return cls(**dict(zip(names, v, strict=False)))  # its length is checked

    collecting = gc.isenabled()
    gc.disable()  # thousands of new containers, none garbage: no collections meanwhile
    try:
        return json.loads(text.decode("utf-8"), object_pairs_hook=hook, parse_float=_refuse,
                          parse_constant=_refuse)
    finally:
        if collecting:
            gc.enable()


class Stored:
    """The rulebooks of a payload, read one by one: `headers` and `digests` (of the rule files
    they were compiled from) at once, `rulebook(i)` when version `i` is asked for. Any
    exception means the payload is not one `dump_rulebooks` wrote."""

    def __init__(self, payload: bytes):
        head, _, rest = payload.partition(b"\n")
        index = _decode(head)
        if type(index) is not list or not all(
                type(x) is list and len(x) == 4 and type(x[0]) is A.Header
                and type(x[1]) is str and type(x[2]) is int and x[2] >= 0
                and type(x[3]) is list and all(type(f) is str for f in x[3]) for x in index):
            raise TypeError("not an index of versions")
        self.headers: list[A.Header] = [x[0] for x in index]
        self.digests: list[str] = [x[1] for x in index]
        self.files: list[list[str]] = [x[3] for x in index]
        sizes: list[int] = [x[2] for x in index]
        if not index or len(rest) != sum(sizes) + len(sizes) - 1:
            raise ValueError("the versions do not fill the payload")
        self.texts: list[bytes] = []
        at = 0
        for size in sizes:
            self.texts.append(rest[at:at + size])
            at += size + 1  # and the newline between two

    def rulebook(self, i: int) -> R.Rulebook:
        b = _decode(self.texts[i], self.files[i])
        if type(b) is not R.Rulebook or type(b.doc) is not A.Document \
                or type(b.program) is not P.DecisionProgram \
                or b.source_digest != self.digests[i]:
            raise TypeError("not the compiled rulebook of this version")
        return b


def load_rulebooks(payload: bytes) -> list[R.Rulebook]:
    """Every rulebook of a payload (an exception for anything `dump_rulebooks` does not
    write)."""
    stored = Stored(payload)
    return [stored.rulebook(i) for i in range(len(stored.headers))]


# ---- entry files --------------------------------------------------------------------------

def write_entry(path: Path, key: str, payload: bytes) -> None:
    """Write `payload` as the entry `path` for `key` (atomically; OSError when it cannot)."""
    import tempfile
    header = json.dumps({"format": FORMAT, "key": key, "size": len(payload),
                         "sha256": hashlib.sha256(payload).hexdigest()}, sort_keys=True)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(header.encode("ascii") + b"\n" + payload)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ---- eviction -----------------------------------------------------------------------------
# names the cache gives its own files; nothing else in the folder is ever touched
ENTRY_NAME = re.compile(r"[0-9a-f]{64}" + re.escape(SUFFIX))
PICKLE_NAME = re.compile(r"[0-9a-f]{64}\.pickle")  # format 1 (pickled): removed, never read
TEMP_NAME = re.compile(r"\.[A-Za-z0-9_]{8}\.tmp")  # `write_entry`'s temporary files
TEMP_AGE = 3600.0  # seconds after which a temporary file is an interrupted write's
_INDEX_MAX = 4 * 1024 * 1024  # bytes of an entry's index line read to learn its inputs


def entry_inputs(path: Path) -> frozenset[str] | None:
    """The rule files an entry was compiled from (the files of its index), or None when it is
    not an entry of this format named by its key. Reads the header and the index only; never
    follows a symlink, never waits on a FIFO."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
                     | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        with open(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                return None
            head = f.readline(_HEADER_MAX + 1)
            index = f.readline(_INDEX_MAX + 1)
    except OSError:
        return None
    try:
        meta = json.loads(head.decode("ascii"), parse_float=_refuse, parse_constant=_refuse)
        if not isinstance(meta, dict) or meta.get("format") != FORMAT or \
                f"{meta.get('key')}{SUFFIX}" != path.name or not index.endswith(b"\n"):
            return None
        versions = _decode(index[:-1])
        return frozenset(f for v in versions for f in v[3] if type(f) is str)
    except Exception:  # anything a foreign file provokes: not an entry we can place
        return None


def evict(where: Path, keep: Path, limit: int, now: float | None = None) -> list[Path]:
    """Remove what the cache folder `where` no longer needs, after `keep` was written: format-1
    pickles (never read), temporary files of interrupted writes, entries whose rule files are
    gone, entries `keep` supersedes (compiled from the same files, by other texts or another
    engine), then the least recently used entries until the folder's entries take at most
    `limit` bytes (`keep` always stays). Only regular files with the cache's own names are
    looked at (a symlink, a folder or any other name is left alone). Returns what it
    removed."""
    now = time.time() if now is None else now
    removed: list[Path] = []
    entries: list[tuple[float, int, Path]] = []
    try:
        listing = list(os.scandir(where))
    except OSError:
        return removed
    for e in listing:
        try:
            if not e.is_file(follow_symlinks=False):
                continue
            st = e.stat(follow_symlinks=False)
        except OSError:
            continue
        path = where / e.name
        if PICKLE_NAME.fullmatch(e.name) or \
                (TEMP_NAME.fullmatch(e.name) and now - st.st_mtime > TEMP_AGE):
            _remove(path, removed)
        elif ENTRY_NAME.fullmatch(e.name) and e.name != keep.name:
            entries.append((st.st_mtime, st.st_size, path))
    mine = entry_inputs(keep)
    kept: list[tuple[float, int, Path]] = []
    for mtime, size, path in entries:
        inputs = entry_inputs(path)
        gone = inputs is not None and any(os.path.isabs(f) and not os.path.exists(f)
                                          for f in inputs)
        if gone or (inputs is not None and inputs == mine):
            _remove(path, removed)
        else:
            kept.append((mtime, size, path))
    try:
        total = keep.stat().st_size
    except OSError:
        total = 0
    total += sum(size for _, size, _ in kept)
    for _, size, path in sorted(kept, key=lambda x: (x[0], x[2].name)):  # oldest first
        if total <= limit:
            break
        if _remove(path, removed):
            total -= size
    return removed


def _remove(path: Path, removed: list[Path]) -> bool:
    try:
        os.unlink(path)  # a name in the folder: never what a symlink points to
    except OSError:
        return False
    removed.append(path)
    return True


def read_entry(path: Path, key: str) -> bytes | None:
    """The payload of the entry `path` when it is an intact entry of this format for `key`;
    None when it is missing, unreadable, foreign, truncated or altered."""
    try:  # not blocking on a FIFO, not reading a device or a huge file
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        with open(fd, "rb") as f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_ENTRY_BYTES:
                return None
            data = f.read(MAX_ENTRY_BYTES + 1)
    except OSError:
        return None
    if len(data) > MAX_ENTRY_BYTES:
        return None
    head, sep, payload = data.partition(b"\n")
    if not sep or len(head) > _HEADER_MAX:
        return None
    try:
        meta = json.loads(head.decode("ascii"), parse_float=_refuse, parse_constant=_refuse)
    except ValueError:  # UnicodeDecodeError and JSONDecodeError too
        return None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT or meta.get("key") != key:
        return None
    if meta.get("size") != len(payload) or \
            meta.get("sha256") != hashlib.sha256(payload).hexdigest():
        return None
    return payload
