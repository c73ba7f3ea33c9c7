"""The rulebook cache (issue 16): data, not code, and never a changed answer.

The cache was a pickle read from a folder anyone with write access could fill: a planted
file ran code in the next `yakkan` run, and a one-byte edit of a cached file changed a charge
total with exit 0. Entries are now JSON data with their sha256 (`engine/semantics/cache.py`);
whatever is found where an entry should be — a pickle, an edited, truncated, empty or foreign
file — is set aside, the rulebooks are compiled from the files and the entry overwritten,
and the answer is the one `YAKKAN_CACHE=off` gives.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import pickle
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import yakkan.engine.semantics.rulebooks as rb
from yakkan.cli.main import main
from yakkan.engine.core import ir as I
from yakkan.engine.core.datamodel import Data
from yakkan.engine.semantics import cache
from yakkan.engine.syntax.load import bundled_ids, expand_paths, read_text

CASE = "examples/cases/denwa-plan4-no-duns.yaml"  # denwa: two versions, 2023-04-17 in force
CHARGE_CASE = "examples/cases/charge-denwa-special-number-new.yaml"  # total 90円


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    """Rulebooks are kept in-process too: each run here starts from the disk (or nothing)."""
    rb._resolved_versions.cache_clear()
    yield
    rb._resolved_versions.cache_clear()


@pytest.fixture
def where(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "cache"
    monkeypatch.setenv("YAKKAN_CACHE", str(d))
    return d


def run(*args: str) -> Any:
    rb._resolved_versions.cache_clear()  # every run is a new process, as far as the cache goes
    return CliRunner().invoke(main, list(args))


def cache_off(monkeypatch: pytest.MonkeyPatch, *args: str) -> Any:
    with monkeypatch.context() as m:
        m.setenv("YAKKAN_CACHE", "off")
        return run(*args)


def same_answer(r: Any, cold: Any) -> None:
    assert r.exit_code == 0 == cold.exit_code, (r.output, r.stderr)
    assert r.stdout == cold.stdout and r.stderr == cold.stderr


def denwa_texts() -> list[tuple[str, str]]:
    return [(str(p), read_text(p, str(p))) for p in expand_paths(["denwa"])]


def entry(where: Path) -> Path:
    """denwa's entry: the one there after a run (the key hashes the engine's code, which may
    be edited while tests run), else where it will be."""
    found = sorted(where.glob(f"*{cache.SUFFIX}")) if where.is_dir() else []
    return found[0] if len(found) == 1 else rb.entry_path(where, denwa_texts())


def rewrite(path: Path, payload: bytes, key: str | None = None) -> None:
    """An entry for `payload` with a correct header (size, sha256): what only a deliberate
    edit makes — here, to reach the checks behind the digest."""
    header = {"format": cache.FORMAT, "key": key or path.name.removesuffix(cache.SUFFIX),
              "size": len(payload), "sha256": hashlib.sha256(payload).hexdigest()}
    path.write_bytes(json.dumps(header).encode() + b"\n" + payload)


def sound(path: Path) -> bool:
    """An intact entry of ours whose every version decodes."""
    payload = cache.read_entry(path, path.name.removesuffix(cache.SUFFIX))
    return payload is not None and len(cache.load_rulebooks(payload)) >= 1


# ---- (a) a planted pickle never runs -------------------------------------------------------

class Plant:
    """A pickle that, when loaded, creates the folder `marker` (any code could run there)."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.mkdir, (str(self.marker),))


def test_planted_pickle_is_never_run(where: Path, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    control = tmp_path / "control"
    pickle.loads(pickle.dumps(Plant(control)))  # the payload is live: loading it runs code
    assert control.is_dir()
    marker = tmp_path / "pwned"
    planted = pickle.dumps(Plant(marker))
    where.mkdir()
    texts = denwa_texts()
    new_key = rb._key(texts)
    with monkeypatch.context() as m:
        m.setattr(rb, "CACHE_FORMAT", "1")  # the key of format 1, the pickle cache
        old_key = rb._key(texts)
    assert old_key != new_key
    for name in (f"{old_key}.pickle", f"{new_key}.pickle", f"{new_key}{cache.SUFFIX}",
                 f"{new_key}.tmp"):
        (where / name).write_bytes(planted)
    r = run("explain", CASE)
    assert not marker.exists()
    same_answer(r, cache_off(monkeypatch, "explain", CASE))
    assert sound(where / f"{new_key}{cache.SUFFIX}")  # overwritten with a real entry
    r = run("explain", CASE)  # and that one is read
    assert not marker.exists()
    same_answer(r, cache_off(monkeypatch, "explain", CASE))


def test_an_entry_holds_no_pickle_and_names_no_callable(where: Path) -> None:
    assert run("explain", CASE).exit_code == 0
    data = entry(where).read_bytes()
    head, _, payload = data.partition(b"\n")
    assert set(json.loads(head)) == {"format", "key", "size", "sha256"}
    for line in payload.split(b"\n"):
        json.loads(line)  # every line is plain JSON
    assert b"\x80" not in data[:2]  # no pickle protocol header
    names = {n.decode() for n in re.findall(rb'\{"([^"$]+)":\[', payload)}  # every class named
    assert names and names <= set(cache.models()) | set(cache.CLASSES)


# ---- (b) a one-byte edit changes nothing --------------------------------------------------

def test_one_byte_edit_of_an_amount_is_rebuilt(where: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    cold = cache_off(monkeypatch, "charge", CHARGE_CASE, "--format", "json")
    assert json.loads(cold.stdout)["total"] == "90"
    assert run("charge", CHARGE_CASE, "--format", "json").exit_code == 0
    path = entry(where)
    data = path.read_bytes()
    # the 30円 of call_charge_e as the compiled program holds it, in the version in force
    hits = list(re.finditer(rb'call_charge_e/\d+"[^\[\]{}]*\{"\$d":"(3)0"\}', data))
    assert hits
    at = hits[-1].start(1)
    edited = data[:at] + b"9" + data[at + 1:]  # 30円 → 90円: one byte
    assert len(edited) == len(data)
    assert sum(a != b for a, b in zip(edited, data, strict=True)) == 1
    # were the edit read, call_charge_e would be priced at 90円 a unit
    books = cache.load_rulebooks(_payload(edited))
    amounts = [n.value for b in books for (_, name), ch in b.program.charges.items()
               if name == "call_charge_e" and ch.amount is not None
               for n in I.walk(ch.amount) if isinstance(n, I.Lit) and n.type == "money"]
    assert 90 in amounts
    path.write_bytes(edited)
    r = run("charge", CHARGE_CASE, "--format", "json")
    same_answer(r, cold)
    assert json.loads(r.stdout)["total"] == "90"
    assert path.read_bytes() == data  # rebuilt and overwritten: the entry a cold run writes
    same_answer(run("charge", CHARGE_CASE), cache_off(monkeypatch, "charge", CHARGE_CASE))


def test_one_byte_edit_in_the_header_is_rebuilt(where: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    assert run("explain", CASE).exit_code == 0
    path = entry(where)
    data = bytearray(path.read_bytes())
    at = data.index(b'"sha256": "') + len(b'"sha256": "')
    data[at] = ord("0") if data[at] != ord("0") else ord("1")
    path.write_bytes(bytes(data))
    same_answer(run("explain", CASE), cache_off(monkeypatch, "explain", CASE))
    assert sound(path)


# ---- (c) the entry is what a warm run uses ------------------------------------------------

def test_warm_run_reads_the_entry_and_parses_nothing(where: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    cold = cache_off(monkeypatch, "explain", CASE)
    assert run("explain", CASE).exit_code == 0
    assert entry(where).is_file()
    from yakkan.engine.syntax import parse

    def no_parse(*a: Any, **k: Any) -> Any:
        raise AssertionError("a rule file was parsed on a warm run")

    read: list[int] = []
    real = cache.Stored.rulebook

    def spy(self: cache.Stored, i: int) -> Any:
        read.append(i)
        return real(self, i)

    monkeypatch.setattr(parse, "syntax_tree", no_parse)
    monkeypatch.setattr(parse, "parser", no_parse)
    monkeypatch.setattr(cache.Stored, "rulebook", spy)
    r = run("explain", CASE)
    same_answer(r, cold)
    assert read == [1]  # only the version in force (2023-04-17, the second file) is read


def test_every_version_is_read_when_all_are_asked_for(where: Path) -> None:
    books = rb.versions("denwa")
    rb._resolved_versions.cache_clear()
    again = rb.versions("denwa")
    assert [b.doc.header.version for b in again] == [b.doc.header.version for b in books]
    assert rb.rulebook_for("denwa", None) is again[-1]  # one object per version in a run


# ---- (d) whatever else is found there is rebuilt -------------------------------------------

def _payload(data: bytes) -> bytes:
    return data.partition(b"\n")[2]


def _changed(before: bytes, after: bytes) -> bytes:
    assert after != before
    return after


def _in_force(data: bytes, pattern: bytes, by: bytes) -> bytes:
    """The payload with the last match of `pattern` (in the version in force, the last one)
    replaced by `by`, padded with blanks: every version keeps its size, so the entry is
    found out only when that version is read."""
    p = _payload(data)
    m = list(re.finditer(pattern, p))[-1]
    assert len(by) <= len(m.group(0))
    return _changed(p, p[:m.start()] + by.ljust(len(m.group(0))) + p[m.end():])


def _one_version(data: bytes) -> bytes:  # the index and text of the first version only
    index, _, rest = _payload(data).partition(b"\n")
    first = json.loads(index)[:1]
    return json.dumps(first).encode() + b"\n" + rest[: first[0][2]]


# what is found there: (the damage, whether its header is right, whether it is found out only
# when the version in force is read — its index and sizes intact)
DAMAGE: dict[str, tuple[Any, bool, bool]] = {
    "empty": (lambda d: b"", False, False),
    "truncated": (lambda d: d[: len(d) // 2], False, False),
    "garbage": (lambda d: bytes(range(256)) * 40, False, False),
    "header-only": (lambda d: d.partition(b"\n")[0] + b"\n", False, False),
    "appended": (lambda d: d + b" ", False, False),
    "resigned-garbage": (lambda d: b"\x00not json at all" * 100, True, False),
    "resigned-sizes": (lambda d: _payload(d)[:-1], True, False),
    "resigned-one-version": (_one_version, True, False),
    "resigned-unknown-class": (lambda d: _in_force(d, rb'\{"Lit":\[', b'{"Lix":['), True, True),
    "resigned-field-missing": (lambda d: _in_force(d, rb',\d+\]\}', b"]}"), True, True),
    "resigned-float": (lambda d: _in_force(d, rb'\{"\$d":"30"\}', b"30.0"), True, True),
    "resigned-no-rulebook": (lambda d: _in_force(d, rb'\{"Rulebook":\[', b'{"$t":['),
                             True, True),
}


@pytest.mark.parametrize("name", DAMAGE)
def test_damaged_entry_is_rebuilt(where: Path, monkeypatch: pytest.MonkeyPatch,
                                  name: str) -> None:
    damage, resigned, when_read = DAMAGE[name]
    cold = cache_off(monkeypatch, "explain", CASE)
    assert run("explain", CASE).exit_code == 0
    path = entry(where)
    intact = path.read_bytes()
    damaged = damage(intact)
    if when_read:  # the entry opens; the version in force does not decode
        stored = cache.Stored(damaged)
        with pytest.raises(Exception):  # noqa: B017 (any exception: it is set aside)
            stored.rulebook(len(stored.headers) - 1)
    if resigned:
        rewrite(path, damaged)
    else:
        path.write_bytes(damaged)
    same_answer(run("explain", CASE), cold)
    assert path.read_bytes() == intact  # rebuilt and overwritten: the entry a cold run writes


def test_damage_in_a_version_not_used_is_found_when_it_is(where: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          ) -> None:
    cold = cache_off(monkeypatch, "explain", CASE)
    assert run("explain", CASE).exit_code == 0
    path = entry(where)
    intact = path.read_bytes()
    p = _payload(intact)
    first = re.search(rb'\{"Lit":\[', p)  # in 2023-04-01, which the case does not use
    assert first is not None
    rewrite(path, p[:first.start()] + b'{"Lix":[' + p[first.end():])
    damaged = path.read_bytes()
    same_answer(run("explain", CASE), cold)
    assert path.read_bytes() == damaged  # not read, so not found out: the answer is right
    with monkeypatch.context() as m:
        m.setenv("YAKKAN_CACHE", "off")
        expected = [b.doc.header.version for b in rb.versions("denwa")]
    rb._resolved_versions.cache_clear()
    assert [b.doc.header.version for b in rb.versions("denwa")] == expected  # every version
    assert path.read_bytes() == intact  # and now it is rebuilt


def test_foreign_entry_is_not_read(where: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another document's entry (intact, with its digest) under this document's name."""
    assert run("outline", "rakuten-miitel").exit_code == 0
    other = next(p for p in where.iterdir() if p.suffix == cache.SUFFIX)
    path = rb.entry_path(where, denwa_texts())
    rewrite(path, cache.read_entry(other, other.stem) or b"", key=path.stem)  # its own key
    same_answer(run("explain", CASE), cache_off(monkeypatch, "explain", CASE))
    other.rename(path)  # and with the other key in its header
    same_answer(run("explain", CASE), cache_off(monkeypatch, "explain", CASE))
    assert sound(path)


def test_a_planted_symlink_is_replaced_not_written_through(where: Path,
                                                           tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me", encoding="utf-8")
    where.mkdir()
    path = entry(where)
    path.symlink_to(victim)
    assert run("explain", CASE).exit_code == 0
    assert victim.read_text(encoding="utf-8") == "keep me"
    assert not path.is_symlink() and sound(path)
    assert [p.name for p in where.iterdir()] == [path.name]  # no temporary file left


def test_a_fifo_where_the_entry_should_be_is_not_waited_on(where: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          ) -> None:
    where.mkdir()
    os.mkfifo(entry(where))  # reading it would block until someone writes
    same_answer(run("explain", CASE), cache_off(monkeypatch, "explain", CASE))
    assert sound(entry(where))


# ---- the round trip is exact ---------------------------------------------------------------

def same(a: Any, b: Any, pairs: dict[int, Any], path: str = "") -> None:
    """`b` is `a`: the same types and values in every field (those dumps leave out too), and
    nodes and records shared exactly where they are shared in `a`."""
    assert type(a) is type(b), path
    if isinstance(a, Data) or dataclasses.is_dataclass(a):
        if id(a) in pairs:
            assert pairs[id(a)] is b, f"{path}: not shared as built"
            return
        pairs[id(a)] = b
        fa, fb = dict(vars(a)), dict(vars(b))
        if isinstance(a, rb.Rulebook):
            assert fb.pop("derived") == rb.Derived()  # never written: rebuilt on demand
            fa.pop("derived")
        assert fa.keys() == fb.keys(), path
        for k in fa:
            same(fa[k], fb[k], pairs, f"{path}.{k}")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, pairs, f"{path}[{i}]")
    elif isinstance(a, dict):
        assert list(a) == list(b), path
        for k in a:
            same(a[k], b[k], pairs, f"{path}[{k!r}]")
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


@pytest.mark.parametrize("doc", bundled_ids())
def test_round_trip_is_the_compiled_rulebook(doc: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YAKKAN_CACHE", "off")
    books = rb._resolved_versions(doc).all()
    back = cache.load_rulebooks(cache.dump_rulebooks(books))
    same(books, back, {})
    same(back, books, {})  # and nothing shared that was not
    for a, b in zip(books, back, strict=True):  # working nodes, not look-alikes
        assert b.doc.model_dump(mode="json") == a.doc.model_dump(mode="json")
        assert b.doc.model_copy(deep=True) == a.doc
        assert repr(b.doc.units[0]) == repr(a.doc.units[0])


def test_deeply_nested_rule_file_runs_with_the_cache(where: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    depth = 60
    expr = "(" * depth + "n > 0" + ")" * depth
    (tmp_path / "deep.yk").write_text(
        'document deep "深い" {\n  version "1"\n  effective 2024-01-01\n}\n'
        'fact n: int "数"\n'
        f'article 1 "見出し" {{\n  text "本文"\n  rule application: refuse when {expr}\n}}\n',
        encoding="utf-8")
    (tmp_path / "case.yaml").write_text("document: deep.yk\nas_of: 2024-02-01\nfacts:\n  n: 1\n",
                                        encoding="utf-8")
    cold = cache_off(monkeypatch, "explain", str(tmp_path / "case.yaml"))
    for _ in range(2):
        same_answer(run("explain", str(tmp_path / "case.yaml")), cold)


# ---- eviction: bounded, and only the cache's own files --------------------------------------

def _doc(folder: Path, body: str = "本文") -> Path:
    """A one-version document of its own (so its entry can be superseded or orphaned)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "2024-01-01.yk").write_text(
        f'document {folder.name} "試験" {{\n  version "2024-01-01"\n  effective 2024-01-01\n}}\n'
        f'fact n: int "数"\narticle 1 {{\n  text "{body}"\n  rule r: refuse when n > 0\n}}\n',
        encoding="utf-8")
    return folder


def entries(where: Path) -> set[str]:
    return {p.name for p in where.iterdir() if cache.ENTRY_NAME.fullmatch(p.name)}


def test_an_old_pickle_entry_is_removed_unread(where: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    where.mkdir()
    old = where / f"{'ab' * 32}.pickle"
    old.write_bytes(pickle.dumps(Plant(marker)))
    assert run("outline", "denwa").exit_code == 0
    assert not old.exists() and not marker.exists()
    assert len(entries(where)) == 1


def test_foreign_files_and_symlinks_are_never_removed(where: Path, tmp_path: Path) -> None:
    where.mkdir()
    victim = tmp_path / "victim.ykc"
    victim.write_text("not yours", encoding="utf-8")
    foreign = {"notes.txt": b"mine", "keep.pickle": b"x", f"{'cd' * 32}.ykc.bak": b"x",
               f"{'EF' * 32}.ykc": b"x"}  # names the cache does not give
    for name, data in foreign.items():
        (where / name).write_bytes(data)
    (where / f"{'01' * 32}.ykc").symlink_to(victim)  # a symlink with an entry's name
    (where / f"{'02' * 32}.pickle").symlink_to(victim)
    (where / f"{'03' * 32}.ykc").mkdir()  # a folder with an entry's name
    with pytest.MonkeyPatch.context() as m:
        m.setenv("YAKKAN_CACHE_MAX", "1")  # the limit cannot be met by removing foreign files
        assert run("outline", "denwa").exit_code == 0
    for name, data in foreign.items():
        assert (where / name).read_bytes() == data
    assert (where / f"{'01' * 32}.ykc").is_symlink()
    assert (where / f"{'02' * 32}.pickle").is_symlink()
    assert (where / f"{'03' * 32}.ykc").is_dir()
    assert victim.read_text(encoding="utf-8") == "not yours"


def test_a_superseded_entry_is_removed(where: Path, tmp_path: Path) -> None:
    doc = _doc(tmp_path / "docs" / "mine")
    assert run("outline", str(doc)).exit_code == 0
    (first,) = entries(where)
    _doc(doc, "本文を改めた")  # the same file, edited: its old entry is of no more use
    assert run("outline", str(doc)).exit_code == 0
    (second,) = entries(where)
    assert second != first
    assert run("outline", "denwa").exit_code == 0  # another document's entry: not superseded
    assert second in entries(where) and len(entries(where)) == 2


def test_an_entry_whose_rule_files_are_gone_is_removed(where: Path, tmp_path: Path) -> None:
    doc = _doc(tmp_path / "docs" / "gone")
    assert run("outline", str(doc)).exit_code == 0
    (orphan,) = entries(where)
    assert cache.entry_inputs(where / orphan) == {str(doc / "2024-01-01.yk")}
    (doc / "2024-01-01.yk").unlink()
    assert run("outline", "denwa").exit_code == 0
    assert orphan not in entries(where) and len(entries(where)) == 1


def test_the_size_limit_removes_the_least_recently_used(where: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    docs = [_doc(tmp_path / "docs" / f"d{i}") for i in range(3)]
    names = []
    for i, d in enumerate(docs[:2]):
        assert run("outline", str(d)).exit_code == 0
        (new,) = entries(where) - set(names)
        names.append(new)
        os.utime(where / new, (1000.0 + i, 1000.0 + i))  # d0 older than d1
    assert run("outline", str(docs[0])).exit_code == 0  # d0 read again: now the newest
    assert os.stat(where / names[0]).st_mtime > 1001
    size = max(os.stat(where / n).st_size for n in names)
    monkeypatch.setenv("YAKKAN_CACHE_MAX", str(2 * size + size // 2))  # room for two
    assert run("outline", str(docs[2])).exit_code == 0
    assert names[0] in entries(where) and names[1] not in entries(where)
    assert len(entries(where)) == 2
    monkeypatch.setenv("YAKKAN_CACHE_MAX", "0")  # the entry just written always stays
    _doc(docs[1], "改めた")
    assert run("outline", str(docs[1])).exit_code == 0
    assert len(entries(where)) == 1


def test_stale_temporary_files_go_and_fresh_ones_stay(tmp_path: Path) -> None:
    where = tmp_path / "c"
    where.mkdir()
    keep = where / f"{'aa' * 32}.ykc"
    keep.write_bytes(b"x")
    stale, fresh = where / ".abcd_123.tmp", where / ".efgh_456.tmp"
    for p in (stale, fresh):
        p.write_bytes(b"half an entry")
    os.utime(stale, (0, 0))
    removed = cache.evict(where, keep, 10**9)
    assert removed == [stale] and fresh.exists() and keep.exists()


@pytest.mark.parametrize("value", ["lots", "-1", "1.5GB", "10TB", "9" * 50])
def test_a_bad_size_limit_is_a_usage_error(where: Path, value: str,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YAKKAN_CACHE_MAX", value)
    r = run("outline", "denwa")
    assert r.exit_code == 2 and "usage.bad-cache-max" in r.output


@pytest.mark.parametrize(("value", "size"), [("200MB", 200 * 1024 ** 2), ("1g", 1024 ** 3),
                                             ("500k", 500 * 1024), ("12345", 12345), ("", None)])
def test_the_size_limit_is_read_with_its_unit(value: str, size: int | None,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YAKKAN_CACHE_MAX", value)
    assert rb.cache_limit() == (size if size is not None else rb.DEFAULT_CACHE_MAX)
