"""diff: two versions of a document compared, provision by provision — the 新旧対照表, the
list of provisions added / deleted / renumbered / changed, and (semantic pass, `smt`) the
concrete cases the two versions decide differently.

Structural pass
  1. Units are aligned by provision id (kind + key path, e.g. `article:14_65/paragraph:2/
     item:6`), top down: a child is expected under its parent's partner. Among siblings, a
     unit whose text reappears (difflib ratio ≥ RENUMBER_RATIO) under another key is
     *renumbered* (第14条の65第2項第6号 → 第8号) when that beats the same-key pairing; units
     left over at a level that match elsewhere (ratio ≥ MOVE_RATIO) are *moved*.
  2. Each aligned unit is classified: `added` (（新設）), `deleted` (（削る）), `renumbered`,
     `moved`, `text_changed`, `logic_changed`, `wording_only`, `unchanged`, `omitted`
     (（略） on either side: not encoded, so not compared).
  3. Changed characters come from `difflib.SequenceMatcher` (autojunk off), as runs
     (equal / delete on the old side, equal / insert on the new side).

Semantic pass (`yakkan.engine.analysis.smt`)
  * A unit whose text changed and whose encoded logic (conditions, rules, definitions,
    charges: `model_dump()`) differs is `wording_only` only when every paired expression is
    *proved* equivalent (z3, or an exhaustive search over a finite domain); otherwise it is
    `logic_changed`, with a case on which the two encodings differ. Without the semantic pass
    it stays `text_changed`. A text change with no logic encoded on either side is
    `text_changed` too: nothing proves it is wording only.
  * Every outcome whose grounds differ is searched for witness cases, re-verified by the
    interpreter on both rulebooks.

JSON (`--format json`, stable): `document`, `title`, `number`, `from` / `to` (`version`,
`date`, `date_wareki`, `effective_from[_wareki]`, `effective_until[_wareki]`), `enactment`
(the new 附則: `citation`, `caption`, `text`), `counts` (per kind), `changes` (every unit
not `unchanged`/`omitted`, in table order: `id`, `citation_old`, `citation_new`, `kind`,
`kind_label`, `flags`, `old_text`, `new_text`, `runs` {`old`, `new`, `old_head`, `new_head`,
`old_caption`, `new_caption`: lists of {`op`: equal|delete|insert, `text`}}, `basis`,
`method`, `counterexample`, `affected_by`), `witnesses` (`outcome`, `kind`: decision|grounds,
`facts` (path → value), `fact_labels`, `old` / `new` {`value`, `grounds`: [{`id`,
`citation`}], `undetermined`, `missing_facts`}, `verified`: true, `method`: z3|exhaustive),
`equivalent` (`kind`: provision|definition|outcome, `id`, `citation`, `method`, `scope`:
all_cases|known_facts, `note`), `outcomes` (per outcome: `status` identical|equivalent|
grounds_differ|differs_partial|differs|undecided, `method`, `witnesses`), `semantic`, `notes`
(English) and `notes_ja` (the same notes as the pages print them under 注).
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import json
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from yakkan.engine.analysis import smt
from yakkan.engine.analysis.charge_diff import ChargeCheck, ChargeWitness, compare_charges
from yakkan.engine.core import ir as I
from yakkan.engine.core.diagnostics import Diagnostic, YakkanError
from yakkan.engine.core.numerals import to_wareki
from yakkan.engine.runtime.evaluate import grounds_of
from yakkan.engine.semantics.citations import article_label, key_tuple
from yakkan.engine.semantics.resolve import Provision, Rulebook
from yakkan.engine.semantics.rulebooks import rulebook_for
from yakkan.engine.syntax import ast as A

RENUMBER_RATIO = 0.85
MOVE_RATIO = 0.9
SAME_KEY_BONUS = 0.2
TRIVIAL_TEXTS = {"", "削除", "（略）", "(略)"}
CONTAINERS = ("article", "appendix", "table", "section", "chapter", "suppl")

KINDS = ("added", "deleted", "renumbered", "moved", "logic_changed", "text_changed",
         "wording_only", "unchanged", "omitted")
KIND_LABELS = {
    "added": "新設", "deleted": "削る", "renumbered": "番号の繰下げ・繰上げ", "moved": "移動",
    "logic_changed": "規定内容の変更", "text_changed": "文言の変更（論理は未比較）",
    "wording_only": "文言のみの変更", "unchanged": "変更なし", "omitted": "略",
}
CHANGE_KINDS = tuple(k for k in KINDS if k not in ("unchanged", "omitted"))


# ---- data ---------------------------------------------------------------------------------

@dataclass
class Run:
    op: str  # "equal" | "insert" | "delete"
    text: str

    def as_json(self) -> dict[str, str]:
        return {"op": self.op, "text": self.text}


@dataclass
class UnitView:
    """One side of an aligned unit, as the 新旧対照表 shows it."""

    id: str
    citation: str
    kind: str
    key: str | None
    head: str
    caption: str | None
    text: str
    status: str
    depth: int


@dataclass
class Change:
    id: str
    old: UnitView | None
    new: UnitView | None
    kind: str
    flags: list[str] = field(default_factory=list)
    ratio: float = 1.0
    old_runs: list[Run] = field(default_factory=list)
    new_runs: list[Run] = field(default_factory=list)
    old_head_runs: list[Run] = field(default_factory=list)
    new_head_runs: list[Run] = field(default_factory=list)
    old_caption_runs: list[Run] = field(default_factory=list)
    new_caption_runs: list[Run] = field(default_factory=list)
    basis: str | None = None  # why it is classified so (English: the JSON's `basis`)
    basis_ja: str | None = None  # the same, for the pages a drafting team reads
    method: str | None = None
    counterexample: dict[str, Any] | None = None
    affected_by: list[str] = field(default_factory=list)
    children: list[Change] = field(default_factory=list)

    @property
    def citation_old(self) -> str | None:
        return self.old.citation if self.old else None

    @property
    def citation_new(self) -> str | None:
        return self.new.citation if self.new else None

    @property
    def citation(self) -> str:
        return (self.new or self.old).citation  # type: ignore[union-attr]

    def subtree_changed(self) -> bool:
        return self.kind not in ("unchanged", "omitted") or \
            any(c.subtree_changed() for c in self.children)

    def say(self, basis: str, basis_ja: str) -> None:
        """Why the change is classified so, in English (JSON) and Japanese (pages)."""
        self.basis, self.basis_ja = basis, basis_ja


@dataclass
class VersionInfo:
    version: str | None
    requested: dt.date
    effective_from: dt.date | None
    effective_until: dt.date | None
    seed: str | None
    seed_column: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "date": self.requested.isoformat(),
            "date_wareki": to_wareki(self.requested),
            "effective_from": _iso(self.effective_from),
            "effective_from_wareki": _wareki(self.effective_from),
            "effective_until": _iso(self.effective_until),
            "effective_until_wareki": _wareki(self.effective_until),
            "seed": self.seed, "seed_column": self.seed_column,
        }


@dataclass
class Row:
    """One row of the 新旧対照表: both sides of one unit, or a （略） row."""

    change: Change
    depth: int
    collapsed: bool = False


@dataclass
class Diff:
    document: str
    title: str
    number: str | None
    old_info: VersionInfo
    new_info: VersionInfo
    enactment: list[dict[str, Any]]
    roots: list[Change]
    semantic: bool
    outcomes: list[smt.OutcomeCheck] = field(default_factory=list)
    charges: list[ChargeCheck] = field(default_factory=list)
    equivalences: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    notes_ja: list[str] = field(default_factory=list)  # the same notes, for the pages
    timings: dict[str, float] = field(default_factory=dict)
    old_book: Rulebook | None = None
    new_book: Rulebook | None = None

    def note(self, en: str, ja: str) -> None:
        """A note on the comparison: English for the JSON, Japanese for the pages."""
        self.notes.append(en)
        self.notes_ja.append(ja)

    def outcome_label(self, name: str) -> str:
        """An outcome by its Japanese name (`outcome NAME "label"`, either version's)."""
        for b in (self.new_book, self.old_book):
            if b is not None and name in b.outcome_labels:
                return b.outcome_labels[name]
        return name

    def walk(self) -> Iterator[Change]:
        stack = list(reversed(self.roots))
        while stack:
            c = stack.pop()
            yield c
            stack.extend(reversed(c.children))

    def changes(self) -> list[Change]:
        return [c for c in self.walk() if c.kind in CHANGE_KINDS]

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(KINDS, 0)
        for c in self.walk():
            out[c.kind] += 1
        return out

    def rows(self) -> list[Row]:
        """The rows of the 新旧対照表: containers with no change collapse to （略）."""
        out: list[Row] = []

        def visit(c: Change, depth: int) -> None:
            unit_kind = (c.new or c.old).kind  # type: ignore[union-attr]
            if unit_kind in CONTAINERS and not c.subtree_changed():
                out.append(Row(c, depth, collapsed=True))
                return
            out.append(Row(c, depth))
            for ch in c.children:
                visit(ch, depth + 1)
        for r in self.roots:
            visit(r, 0)
        return out

    def witnesses(self) -> list[smt.Witness]:
        return [w for o in self.outcomes for w in o.witnesses]

    def charge_witnesses(self) -> list[ChargeWitness]:
        return [w for c in self.charges for w in c.witnesses]

    def as_json(self) -> dict[str, Any]:
        return diff_json(self)


# ---- helpers ----------------------------------------------------------------------------------

def _iso(d: dt.date | None) -> str | None:
    return d.isoformat() if d else None


def _wareki(d: dt.date | None) -> str | None:
    return to_wareki(d) if d else None


def char_runs(a: str, b: str) -> tuple[list[Run], list[Run], float]:
    """Character-level changes: runs for the old side (equal/delete) and the new side
    (equal/insert), and the similarity ratio."""
    sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
    old: list[Run] = []
    new: list[Run] = []
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            _push(old, "equal", a[i1:i2])
            _push(new, "equal", b[j1:j2])
        else:
            _push(old, "delete", a[i1:i2])
            _push(new, "insert", b[j1:j2])
    return _absorb(old, "delete"), _absorb(new, "insert"), sm.ratio()


def _push(runs: list[Run], op: str, text: str) -> None:
    if not text:
        return
    if runs and runs[-1].op == op:
        runs[-1].text += text
    else:
        runs.append(Run(op, text))


def _absorb(runs: list[Run], op: str) -> list[Run]:
    """A single unchanged character between two changes is shown as changed (「プラン2」→
    「プラン1又はプラン3」 underlines a phrase, not scattered characters); the texts are
    unchanged, only where the underline stops."""
    out: list[Run] = []
    i = 0
    while i < len(runs):
        r = runs[i]
        if r.op == "equal" and len(r.text) == 1 and 0 < i < len(runs) - 1 and \
                runs[i - 1].op == op and runs[i + 1].op == op and out:
            out[-1].text += r.text + runs[i + 1].text
            i += 2
            continue
        out.append(Run(r.op, r.text))
        i += 1
    return out


def _whole(text: str, op: str) -> list[Run]:
    return [Run(op, text)] if text else []


def _depth(book: Rulebook, pid: str) -> int:
    d = 0
    p = book.provisions[pid].parent
    while p is not None:
        d += 1
        p = book.provisions[p].parent
    return d


def unit_head(book: Rulebook, prov: Provision) -> str:
    """The number of a unit as the table prints it: 第14条の65, ２, (6), 備考, （注1）, ア."""
    u = prov.unit
    k = u.key or ""
    if u.kind == "article":
        return article_label(k) if u.range_end is None else \
            f"{article_label(k)}～{article_label(u.range_end)}"
    if u.label:
        return u.label
    if u.kind == "paragraph":
        return "" if k == "1" else k
    if u.kind == "item":
        parent = book.provisions[prov.parent].unit if prov.parent else None
        return k if parent is not None and parent.kind == "remarks" else f"({k})"
    if u.kind == "remarks":
        return "備考"
    if u.kind == "note":
        return f"（注{k}）"
    if u.kind == "table":
        if u.range_end is not None:
            return f"第{k}表～第{u.range_end}表"
        return f"第{k}表" if k else "表"
    if u.kind == "suppl":
        return "附則"
    if u.kind == "section":
        return k
    if u.kind == "chapter":
        return f"第{k}章"
    if u.kind == "appendix":
        return k or "別表"
    if u.range_end is not None:
        return f"{k}～{u.range_end}"
    return k


def view(book: Rulebook, pid: str) -> UnitView:
    prov = book.provisions[pid]
    u = prov.unit
    return UnitView(pid, prov.citation, u.kind, u.key, unit_head(book, prov), u.caption,
                    u.full_text, u.status, _depth(book, pid))


def _part(pid: str) -> str:
    return pid.rsplit("/", 1)[-1]


def _signature(book: Rulebook, pid: str) -> str:
    """The text a unit is recognised by: caption and text, or its children's when it has
    none of its own (an article's sentences are its paragraphs')."""
    prov = book.provisions[pid]
    own = (prov.unit.caption or "") + prov.unit.full_text
    if prov.unit.full_text:
        return own
    return own + "".join(_signature(book, c) for c in prov.children)


def _trivial(book: Rulebook, pid: str) -> bool:
    u = book.provisions[pid].unit
    return u.status != "encoded" or _signature(book, pid).strip() in TRIVIAL_TEXTS


# ---- alignment ---------------------------------------------------------------------------------

def align(old: Rulebook, new: Rulebook) -> dict[str, str]:
    """Old provision id → new provision id, top down (see the module docstring)."""
    pairs: dict[str, str] = {}
    used_new: set[str] = set()
    sig_old = {p: _signature(old, p) for p in old.order}
    sig_new = {p: _signature(new, p) for p in new.order}
    ratio_cache: dict[tuple[str, str], float] = {}

    def ratio(o: str, n: str) -> float:
        key = (o, n)
        if key not in ratio_cache:
            a, b = sig_old[o], sig_new[n]
            ratio_cache[key] = 1.0 if a == b else \
                difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()
        return ratio_cache[key]

    depth_old: dict[int, list[str]] = {}
    for p in old.order:
        depth_old.setdefault(_depth(old, p), []).append(p)
    depth_new: dict[int, list[str]] = {}
    for p in new.order:
        depth_new.setdefault(_depth(new, p), []).append(p)
    for d in sorted(set(depth_old) | set(depth_new)):
        olds = depth_old.get(d, [])
        news = depth_new.get(d, [])
        cands: list[tuple[float, int, str, str]] = []
        for o in olds:
            op = old.provisions[o]
            parent_new = pairs.get(op.parent) if op.parent else None
            if op.parent and parent_new is None:
                continue  # its parent is gone: deleted with it (or moved, below)
            expected = f"{parent_new}/{_part(o)}" if parent_new else _part(o)
            for n in news:
                np_ = new.provisions[n]
                if np_.unit.kind != op.unit.kind or np_.parent != parent_new:
                    continue
                if n == expected:
                    if op.unit.status != "encoded" or np_.unit.status != "encoded":
                        cands.append((2.0, 0, o, n))
                        continue
                    cands.append((ratio(o, n) + SAME_KEY_BONUS, 0, o, n))
                elif not _trivial(old, o) and not _trivial(new, n):
                    r = ratio(o, n)
                    if r >= RENUMBER_RATIO:
                        cands.append((r, 1, o, n))
        cands.sort(key=lambda c: (-c[0], c[1], old.order.index(c[2]), new.order.index(c[3])))
        used_old: set[str] = set()
        for _, _, o, n in cands:
            if o in used_old or n in used_new:
                continue
            pairs[o] = n
            used_old.add(o)
            used_new.add(n)
        # moved: left over at this depth, matching elsewhere
        left_o = [o for o in olds if o not in pairs and not _trivial(old, o)]
        left_n = [n for n in news if n not in used_new and not _trivial(new, n)]
        moves = sorted(((ratio(o, n), o, n) for o in left_o for n in left_n
                        if old.provisions[o].unit.kind == new.provisions[n].unit.kind),
                       key=lambda c: -c[0])
        for r, o, n in moves:
            if r < MOVE_RATIO or o in pairs or n in used_new:
                continue
            pairs[o] = n
            used_new.add(n)
    return pairs


def _in_omitted_range(book: Rulebook, other: Rulebook, pid: str,
                      pairs_parent: str | None) -> bool:
    """Whether the unit `pid` of `book` falls inside a range the other version omits."""
    u = book.provisions[pid].unit
    if u.key is None:
        return False
    try:
        want = key_tuple(u.key)
    except (ValueError, TypeError):
        return False
    pool = other.provisions[pairs_parent].children if pairs_parent else \
        [p for p in other.order if other.provisions[p].parent is None]
    for p in pool:
        r = other.provisions[p].unit
        if r.kind == u.kind and r.status == "omitted" and r.key is not None:
            try:
                lo = key_tuple(r.key)
                hi = key_tuple(r.range_end) if r.range_end else lo
            except (ValueError, TypeError):
                continue
            if lo <= want <= hi:
                return True
    return False


# ---- logic of a unit ------------------------------------------------------------------------

def logic_parts(u: A.Unit) -> list[tuple[Any, list[Any]]]:
    """The encoded logic of a unit as (shape, expressions) parts: equal shapes can be
    compared expression by expression."""
    parts: list[tuple[Any, list[Any]]] = []
    if u.condition is not None:
        parts.append((("condition",), [u.condition]))
    for r in u.rules:
        src = r.source.model_dump(mode="json") if r.source is not None else None
        parts.append((("rule", r.outcome, r.force, json.dumps(src, sort_keys=True),
                       r.when is not None, r.requires is not None, len(r.unless)),
                      [x for x in (r.when, r.requires, *r.unless) if x is not None]))
    for d in sorted(u.definitions, key=lambda d: d.name):
        parts.append((("define", d.name), [d.expr]))
    for c in sorted(u.charges, key=lambda c: c.name):
        shape = ("charge", c.name, c.tax, c.per, c.lower_bound,
                 c.row.raw if c.row else None, c.amount is not None, c.when is not None,
                 c.quote_when is not None)
        parts.append((shape, [x for x in (c.amount, c.when, c.quote_when) if x is not None]))
    for p in sorted(u.periods, key=lambda p: p.name):
        parts.append((("period", p.name), [p.expr]))
    for group in (u.refs, u.readings, u.precedences):
        for x in group:
            parts.append((("static", json.dumps(x.model_dump(mode="json"), sort_keys=True,
                                                ensure_ascii=False)), []))
    return parts


def logic_dump(u: A.Unit) -> str:
    return json.dumps({
        "condition": u.condition.model_dump(mode="json") if u.condition else None,
        "rules": [r.model_dump(mode="json") for r in u.rules],
        "definitions": [d.model_dump(mode="json") for d in u.definitions],
        "charges": [c.model_dump(mode="json") for c in u.charges],
        "periods": [p.model_dump(mode="json") for p in u.periods],
        "refs": [r.model_dump(mode="json") for r in u.refs],
        "readings": [r.model_dump(mode="json") for r in u.readings],
        "precedences": [p.model_dump(mode="json") for p in u.precedences],
    }, sort_keys=True, ensure_ascii=False, default=str)


def _has_logic(u: A.Unit) -> bool:
    return bool(u.condition is not None or u.rules or u.definitions or u.charges or u.periods
                or u.refs or u.readings or u.precedences)


# ---- the diff -------------------------------------------------------------------------------

def compute_diff(old: Rulebook, old_date: dt.date, new: Rulebook, new_date: dt.date,
                 semantic: bool = True, progress: bool = False, reuse: bool = True) -> Diff:
    """The diff of `old` (as of `old_date`) and `new` (as of `new_date`): the structural pass,
    then (`semantic`) the semantic one; `progress` draws a bar on a terminal.

    A semantic diff takes tens of seconds (the bundled denwa amendment ~25 s), and it is asked
    for again within one process: the console's amendment view, its table, its DOCX and
    `/api/diff` on every request, and a second request is served in milliseconds when the diff
    is kept. So with `reuse` (the default) the last `MEMO_SIZE` diffs computed are kept
    (`_memo_key`: the two versions' contents, the dates and `semantic`), and a request for one
    of them gets a copy (`_copy`): each caller owns what it is given and may change it (add a
    note) without changing what the next one gets. `progress` only reports, so it is not part
    of the key (a diff kept draws no bar); the copy's `timings` are the computation's.
    `reuse=False` computes afresh and keeps nothing (`bench/bench_diff.py` times the
    computation, not the memo)."""
    key = _memo_key(old, old_date, new, new_date, semantic) if reuse else None
    if key is None:
        return _compute(old, old_date, new, new_date, semantic, progress)
    kept = _MEMO.get(key)
    if kept is None:
        kept = _compute(old, old_date, new, new_date, semantic, progress)
        _MEMO.put(key, kept)  # kept private: every caller, the first too, gets a copy
    return _copy(kept, old, new)


def _compute(old: Rulebook, old_date: dt.date, new: Rulebook, new_date: dt.date,
             semantic: bool, progress: bool) -> Diff:
    """The diff itself, computed (`compute_diff` keeps it)."""
    import time
    t0 = time.perf_counter()
    pairs = align(old, new)
    back = {n: o for o, n in pairs.items()}
    changes: dict[tuple[str | None, str | None], Change] = {}

    def make(o: str | None, n: str | None) -> Change:
        key = (o, n)
        if key in changes:
            return changes[key]
        c = _classify(old, new, o, n, pairs)
        changes[key] = c
        return c

    roots = _merge(old, new, None, None, pairs, back, make)
    _omit_under_omitted(roots, False)
    hdr_old, hdr_new = old.doc.header, new.doc.header
    d = Diff(
        document=hdr_new.id, title=hdr_new.title, number=hdr_new.number or hdr_old.number,
        old_info=VersionInfo(hdr_old.version, old_date, hdr_old.effective_from,
                             hdr_old.effective_until, hdr_old.seed, hdr_old.seed_column),
        new_info=VersionInfo(hdr_new.version, new_date, hdr_new.effective_from,
                             hdr_new.effective_until, hdr_new.seed, hdr_new.seed_column),
        enactment=_enactment(old, new, pairs), roots=roots, semantic=semantic,
        old_book=old, new_book=new)
    d.timings["structural"] = time.perf_counter() - t0
    if semantic:
        t1 = time.perf_counter()
        _semantic_pass(d, old, old_date, new, new_date, progress)
        d.timings["semantic"] = time.perf_counter() - t1
    else:
        d.note("semantic pass skipped (--no-semantic): text changes with changed "
               "logic are `text_changed`, no witness cases are searched",
               "意味の比較は省略した（--no-semantic）: 符号化された論理が変わった文言の変更は"
               "「文言の変更」とし、判断が変わる事例は探していない")
    return d


def _merge(old: Rulebook, new: Rulebook, o_parent: str | None, n_parent: str | None,
           pairs: dict[str, str], back: dict[str, str],
           make: Callable[[str | None, str | None], Change]) -> list[Change]:
    """The aligned children of (o_parent, n_parent), in the new order, deleted old units
    after the old sibling they followed."""
    if n_parent is not None:
        nc = list(new.provisions[n_parent].children)
    elif o_parent is None:
        nc = [p for p in new.order if new.provisions[p].parent is None]
    else:
        nc = []
    if o_parent is not None:
        oc = list(old.provisions[o_parent].children)
    elif n_parent is None:
        oc = [p for p in old.order if old.provisions[p].parent is None]
    else:
        oc = []
    out: list[Change] = []
    emitted: set[str] = set()

    def flush_deleted(upto: int) -> None:
        for o in oc[:upto]:
            if o not in emitted and o not in pairs:
                emitted.add(o)
                c = make(o, None)
                c.children = _merge(old, new, o, None, pairs, back, make)
                out.append(c)
    for n in nc:
        o = back.get(n)
        if o is not None and o in oc:
            flush_deleted(oc.index(o))
            emitted.add(o)
        c = make(o, n)
        c.children = _merge(old, new, o, n, pairs, back, make)
        out.append(c)
    flush_deleted(len(oc))
    return out


def _omit_under_omitted(cs: list[Change], inside: bool) -> None:
    """A unit one side shows under a unit the other side omits (（略）) is not compared."""
    for c in cs:
        if inside and (c.old is None or c.new is None):
            c.kind = "omitted"
            c.old_runs = _whole(c.old.text, "equal") if c.old else []
            c.new_runs = _whole(c.new.text, "equal") if c.new else []
            c.old_head_runs = _whole(c.old.head, "equal") if c.old else []
            c.new_head_runs = _whole(c.new.head, "equal") if c.new else []
            c.old_caption_runs = _whole(c.old.caption or "", "equal") if c.old else []
            c.new_caption_runs = _whole(c.new.caption or "", "equal") if c.new else []
        _omit_under_omitted(c.children, inside or c.kind == "omitted")


def _classify(old: Rulebook, new: Rulebook, o: str | None, n: str | None,
              pairs: dict[str, str]) -> Change:
    ov = view(old, o) if o else None
    nv = view(new, n) if n else None
    cid = n or o
    assert cid is not None
    if ov is None:
        assert n is not None
        parent = new.provisions[n].parent
        back_parent = next((k for k, v in pairs.items() if v == parent), None)
        if (nv is not None and nv.status == "omitted") or \
                _in_omitted_range(new, old, n, back_parent):
            return Change(cid, None, nv, "omitted", new_runs=_whole(nv.text, "equal")
                          if nv else [])
        assert nv is not None
        return Change(cid, None, nv, "added", new_runs=_whole(nv.text, "insert"),
                      new_head_runs=_whole(nv.head, "insert"),
                      new_caption_runs=_whole(nv.caption or "", "insert"), ratio=0.0)
    if nv is None:
        assert o is not None
        parent = old.provisions[o].parent
        if ov.status == "omitted" or _in_omitted_range(old, new, o, pairs.get(parent or "")):
            return Change(cid, ov, None, "omitted", old_runs=_whole(ov.text, "equal"))
        return Change(cid, ov, None, "deleted", old_runs=_whole(ov.text, "delete"),
                      old_head_runs=_whole(ov.head, "delete"),
                      old_caption_runs=_whole(ov.caption or "", "delete"), ratio=0.0)
    assert o is not None and n is not None
    old_runs, new_runs, ratio = char_runs(ov.text, nv.text)
    oh, nh, _ = char_runs(ov.head, nv.head)
    ocap, ncap, _ = char_runs(ov.caption or "", nv.caption or "")
    c = Change(cid, ov, nv, "unchanged", ratio=ratio, old_runs=old_runs, new_runs=new_runs,
               old_head_runs=oh, new_head_runs=nh, old_caption_runs=ocap,
               new_caption_runs=ncap)
    if ov.status == "omitted" or nv.status == "omitted":
        c.kind = "omitted"
        if ov.status != nv.status:
            c.flags.append("omitted_on_one_side")
        return c
    ou, nu = old.provisions[o].unit, new.provisions[n].unit
    text_changed = ov.text != nv.text or (ov.caption or "") != (nv.caption or "")
    logic_changed = logic_dump(ou) != logic_dump(nu)
    if ov.status != nv.status:
        c.flags.append(f"status:{ov.status}→{nv.status}")
    if text_changed:
        c.flags.append("text_changed")
    if logic_changed:
        c.flags.append("encoding_differs")
    if _part(o) != _part(n):
        c.kind = "renumbered" if _same_parent(old, new, o, n, pairs) else "moved"
        c.flags.insert(0, c.kind)
        return c
    if old.provisions[o].parent and not _same_parent(old, new, o, n, pairs):
        c.kind = "moved"
        c.flags.insert(0, "moved")
        return c
    if not text_changed and not logic_changed:
        return c
    if not text_changed:
        c.kind = "logic_changed"
        c.say("the text is unchanged; the encoding differs", "本文は同じで、符号化が異なる")
        return c
    if not logic_changed:
        if _has_logic(ou):
            c.kind = "wording_only"
            c.say("identical encoded logic", "符号化された論理は同一")
            c.method = "syntactic"
        else:
            c.kind = "text_changed"
            c.say("no logic encoded on either side: not compared",
                  "どちらの版にも論理の符号化がなく、比較していない")
        return c
    c.kind = "text_changed"
    c.say("the encoded logic differs; equivalence not checked",
          "符号化された論理が異なる（同値性は未検査）")
    return c


def _same_parent(old: Rulebook, new: Rulebook, o: str, n: str, pairs: dict[str, str]) -> bool:
    po, pn = old.provisions[o].parent, new.provisions[n].parent
    if po is None or pn is None:
        return po is None and pn is None
    return pairs.get(po) == pn


def _enactment(old: Rulebook, new: Rulebook, pairs: dict[str, str]) -> list[dict[str, Any]]:
    """The 附則 of the new version that the old one does not have (the amendment's own)."""
    back = {n: o for o, n in pairs.items()}
    out = []
    for pid in new.order:
        prov = new.provisions[pid]
        if prov.unit.kind != "suppl":
            continue
        o = back.get(pid)
        if o is not None and _signature(old, o) == _signature(new, pid):
            continue  # an older 附則, unchanged
        texts = [new.provisions[c].unit.full_text for c in prov.children
                 if new.provisions[c].unit.full_text]
        if prov.unit.full_text:
            texts.insert(0, prov.unit.full_text)
        out.append({"id": pid, "citation": prov.citation, "caption": prov.unit.caption,
                    "text": "".join(texts)})
    return out


# ---- semantic pass ----------------------------------------------------------------------------

@contextmanager
def _progress(enabled: bool, total: int) -> Iterator[Callable[[str], None]]:
    if not enabled or total == 0 or not sys.stderr.isatty():
        yield lambda _label: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    console = Console(stderr=True)
    with Progress(TextColumn("semantic diff"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.description}"), console=console, transient=True) as bar:
        task = bar.add_task("", total=total)

        def step(label: str) -> None:
            bar.update(task, advance=1, description=label)
        yield step


def _semantic_pass(d: Diff, old: Rulebook, old_date: dt.date, new: Rulebook,
                   new_date: dt.date, progress: bool) -> None:
    units = [c for c in d.walk() if c.old and c.new and c.kind != "omitted"
             and "encoding_differs" in c.flags and c.old.status == c.new.status == "encoded"]
    names = list(dict.fromkeys([*grounds_of(old), *grounds_of(new)]))
    defs = [n for n in new.definitions if n in old.definitions]
    with _progress(progress, len(units) + len(names) + len(defs)) as step:
        changed_defs: dict[str, smt.Equivalence] = {}
        for name in defs:
            step(f"definition {name}")
            eq = smt.expressions_equivalent(old, old_date, [old.definitions[name][0].expr],
                                            new, new_date, [new.definitions[name][0].expr])
            if eq.method != "syntactic":
                changed_defs[name] = eq
        for c in units:
            assert c.old is not None and c.new is not None
            step(c.citation)
            _unit_semantics(c, old, old_date, new, new_date)
        id_map = {c.old.id: c.new.id for c in d.walk() if c.old and c.new}
        for name in names:
            step(f"outcome {name}")
            d.outcomes.append(smt.compare_outcome(old, old_date, new, new_date, name,
                                                  id_map=id_map))
        step("charges")
        d.charges = compare_charges(old, old_date, new, new_date)
    for name, eq in changed_defs.items():
        where = new.definitions[name][1]
        label = new.definitions[name][0].label or name
        if eq.equal:
            d.equivalences.append({
                "kind": "definition", "id": name, "label": label,
                "citation": new.cite(where) if where else None, "method": eq.method,
                "scope": "all_cases",
                "note": "definition rewritten; proved to classify every case alike",
                "note_ja": "定義を書き改めた（どの事例も同じに分類することを証明）"})
    not_equal = {n for n, eq in changed_defs.items() if eq.equal is not True}
    for c in d.walk():
        if c.new is None or c.kind not in ("unchanged", "wording_only", "renumbered", "moved"):
            continue
        unit = new.provisions[c.new.id].unit
        used = _definitions_used(unit)
        c.affected_by = sorted(used & not_equal)
    for c in d.walk():
        if c.kind == "wording_only" and c.method == "syntactic" and c.affected_by:
            c.kind = "logic_changed"
            c.say("the encoded logic is unchanged, but the definitions it uses changed "
                  "meaning: " + ", ".join(c.affected_by),
                  "論理は同じだが、用いる定義の意味が変わった: " + "、".join(c.affected_by))
    for c in d.walk():
        if c.kind == "wording_only" and c.method in ("z3", "exhaustive", "syntactic"):
            partial = "differs_while_unknown" in c.flags
            d.equivalences.append({
                "kind": "provision", "id": c.id, "citation": c.citation,
                "citation_old": c.citation_old, "method": c.method,
                "scope": "known_facts" if partial else "all_cases",
                "note": "wording only (proved for every case whose facts are known; differs "
                "while facts are unknown)" if partial else
                "wording only (proved: no case decides differently)"
                if c.method != "syntactic" else "wording only (identical encoded logic)",
                "note_ja": "文言のみ（事実がすべて分かる事例について証明。事実が不明なときは"
                "異なりうる）" if partial else "文言のみの変更（どの事例の判断も変わらないことを"
                "証明）" if c.method != "syntactic" else "文言のみ（符号化された論理は同一）"})
    notes = {  # (English for the JSON, Japanese for the pages)
        "equivalent": ("grounds rewritten; proved: no case decides differently",
                       "根拠を書き改めた（どの事例の判断も変わらないことを証明）"),
        "grounds_differ": ("proved: no case decides differently, but some cases are decided "
                           "on different grounds (see the witnesses)",
                           "どの事例の判断も変わらない（証明済み）が、異なる根拠で判断される事例が"
                           "ある（事例を参照）"),
        "differs_partial": ("every case both versions decide is decided alike (proved); they "
                            "differ only in what they leave undetermined",
                            "両方の版が判断する事例はすべて同じ判断（証明済み）。違いは未確定とする"
                            "範囲だけ"),
    }
    for o in d.outcomes:
        if o.status in notes:
            d.equivalences.append({
                "kind": "outcome", "id": o.outcome, "citation": None, "method": o.method,
                "scope": "known_facts" if o.status == "differs_partial" else "all_cases",
                "note": notes[o.status][0], "note_ja": notes[o.status][1]})
        for r in o.rejected:
            d.note(f"BUG: z3 witness for `{o.outcome}` not confirmed by the "
                   f"interpreter: {json.dumps(r, ensure_ascii=False)}",
                   f"不具合: ソルバーが見つけた「{d.outcome_label(o.outcome)}」の事例をインタプリタ"
                   f"が確認しない（符号化の誤り）: {json.dumps(r, ensure_ascii=False)}")
    for ch in d.charges:
        for r in ch.rejected:
            d.note(f"BUG: z3 witness for the charge `{ch.charge}` not confirmed by "
                   f"the interpreter: {json.dumps(r, ensure_ascii=False)}",
                   f"不具合: ソルバーが見つけた料金「{ch.label}」の事例をインタプリタが確認しない"
                   f"（符号化の誤り）: {json.dumps(r, ensure_ascii=False)}")
    assumed = list(dict.fromkeys(f"`{a.name}` ({a.label})" for b in (old, new)
                                 for a in b.doc.assumptions))
    if assumed:
        # every proof above holds under these; every witness respects them
        names = sorted({a.name for b in (old, new) for a in b.doc.assumptions})
        for e in d.equivalences:
            e["assumptions"] = names
        d.note("the solver respects the documents' assumptions — no witness breaks "
               "one, and the equivalences are proved under them: " + "; ".join(assumed),
               "ソルバーは約款の前提を守る — どの事例も前提に反せず、同値の証明も前提の下で"
               "行った: " + "／".join(dict.fromkeys(
                   a.label for b in (old, new) for a in b.doc.assumptions)))
    d.note("semantics of the solver: " + smt.SEMANTICS_NOTE, smt.SEMANTICS_NOTE_JA)


def _definitions_used(u: A.Unit) -> set[str]:
    out: set[str] = set()
    exprs: list[Any] = [u.condition]
    for r in u.rules:
        exprs += [r.when, r.requires, *r.unless]
    for ch in u.charges:
        exprs += [ch.amount, ch.when, ch.quote_when]
    for e in exprs:
        if e is None:
            continue
        for n in I.walk(e):
            if isinstance(n, I.Ref) and n.resolved == "definition":
                out.add(".".join(n.path))
    return out


def _unit_semantics(c: Change, old: Rulebook, old_date: dt.date, new: Rulebook,
                    new_date: dt.date) -> None:
    assert c.old is not None and c.new is not None
    ou, nu = old.provisions[c.old.id].unit, new.provisions[c.new.id].unit
    po, pn = logic_parts(ou), logic_parts(nu)
    text_changed = "text_changed" in c.flags
    structural = c.kind in ("renumbered", "moved")
    # references (cites, notwithstanding, 読み替え, precedence) are compared apart from the
    # logic, so a changed reference does not hide a z3 comparison of the conditions
    static_o = [sh for sh, _ in po if sh[0] == "static"]
    static_n = [sh for sh, _ in pn if sh[0] == "static"]
    po = [(sh, es) for sh, es in po if sh[0] != "static"]
    pn = [(sh, es) for sh, es in pn if sh[0] != "static"]
    if static_o != static_n and "references_changed" not in c.flags:
        c.flags.append("references_changed")
    if [s for s, _ in po] != [s for s, _ in pn]:
        if not structural:
            c.kind = "logic_changed"
        c.say("the encoded logic differs in structure (rules, definitions or charges "
              "added, removed or changed in force)",
              "符号化された論理の構成が異なる（規定・定義・料金の追加、削除又は法的効力の変更）")
        return
    eo = [e for _, es in po for e in es]
    en = [e for _, es in pn for e in es]
    eq = smt.expressions_equivalent(old, old_date, eo, new, new_date, en)
    c.method = eq.method
    if eq.equal is True:
        if not structural:
            c.kind = "wording_only" if text_changed else "unchanged"
        c.say(("wording only (proved: no case decides differently)" if text_changed else
               "re-encoded; proved equivalent") + f" [{eq.method}]",
              "文言のみの変更（どの事例の判断も変わらないことを証明）" if text_changed else
              "符号化を改めた（同値であることを証明）")
        if "encoding_differs" in c.flags:
            c.flags.append("proved_equivalent")
    elif eq.equal is False and eq.equal_when_known:
        # alike on every fully known case; apart only in what unknown facts leave open
        if not structural:
            c.kind = "wording_only" if text_changed else "unchanged"
        c.flags.append("differs_while_unknown")
        c.say("wording only for every case whose facts are known (proved); with facts "
              "unknown, one version can leave undetermined what the other decides "
              f"[{eq.method}]",
              "事実がすべて分かる事例では文言のみの変更（証明済み）。事実が不明なときは、一方の"
              "版が判断し他方が未確定とすることがある")
        c.counterexample = {"facts": smt.jsonable(eq.counterexample or {}),
                            "old": smt.jsonable(eq.old_value), "new": smt.jsonable(eq.new_value)}
    elif eq.equal is False:
        if not structural:
            c.kind = "logic_changed"
        c.say(f"the encoded conditions differ [{eq.method}]", "符号化された条件が異なる")
        c.counterexample = {"facts": smt.jsonable(eq.counterexample or {}),
                            "old": smt.jsonable(eq.old_value), "new": smt.jsonable(eq.new_value)}
    else:
        c.say(f"equivalence undecided: {eq.note}", f"同値かどうか決められなかった: {eq.note}")


# ---- JSON ------------------------------------------------------------------------------------

def _runs(rs: list[Run]) -> list[dict[str, str]]:
    return [r.as_json() for r in rs]


def change_json(c: Change) -> dict[str, Any]:
    return {
        "id": c.id,
        "citation_old": c.citation_old,
        "citation_new": c.citation_new,
        "kind": c.kind,
        "kind_label": KIND_LABELS[c.kind],
        "flags": list(c.flags),
        "old_id": c.old.id if c.old else None,
        "new_id": c.new.id if c.new else None,
        "old_head": c.old.head if c.old else None,
        "new_head": c.new.head if c.new else None,
        "old_caption": c.old.caption if c.old else None,
        "new_caption": c.new.caption if c.new else None,
        "old_text": c.old.text if c.old else None,
        "new_text": c.new.text if c.new else None,
        "ratio": round(c.ratio, 4),
        "runs": {"old": _runs(c.old_runs), "new": _runs(c.new_runs),
                 "old_head": _runs(c.old_head_runs), "new_head": _runs(c.new_head_runs),
                 "old_caption": _runs(c.old_caption_runs),
                 "new_caption": _runs(c.new_caption_runs)},
        "basis": c.basis,
        "method": c.method,
        "counterexample": c.counterexample,
        "affected_by": c.affected_by,
    }


def fact_labels(d: Diff) -> dict[str, tuple[str | None, bool]]:
    out: dict[str, tuple[str | None, bool]] = {}
    for b in (d.old_book, d.new_book):
        if b is None:
            continue
        for p, f in b.facts.items():
            out.setdefault(p, (f.label, f.judgment))
    return out


def witness_json(d: Diff, w: smt.Witness) -> dict[str, Any]:
    labels = fact_labels(d)

    def side(s: smt.Side) -> dict[str, Any]:
        return {"value": s.value,
                "grounds": [{"id": i, "citation": c} for i, c in s.grounds],
                "undetermined": [{"id": i, "citation": c} for i, c in s.undetermined],
                "missing_facts": s.missing}
    return {
        "outcome": w.outcome,
        "facts": smt.jsonable(w.facts),
        "fact_labels": {p: {"label": labels.get(p, (None, False))[0],
                            "judgment": labels.get(p, (None, False))[1]} for p in w.facts},
        "old": side(w.old),
        "new": side(w.new),
        "verified": w.verified,
        "method": w.method,
        "kind": w.kind,
    }


def charge_witness_json(d: Diff, w: ChargeWitness) -> dict[str, Any]:
    labels = fact_labels(d)
    return {**w.as_json(),
            "fact_labels": {p: {"label": labels.get(p, (None, False))[0],
                                "judgment": labels.get(p, (None, False))[1]}
                            for p in w.facts}}


def diff_json(d: Diff) -> dict[str, Any]:
    return {
        "document": d.document,
        "title": d.title,
        "number": d.number,
        "from": d.old_info.as_json(),
        "to": d.new_info.as_json(),
        "enactment": d.enactment,
        "counts": d.counts(),
        "changes": [change_json(c) for c in d.changes()],
        "witnesses": [witness_json(d, w) for w in d.witnesses()],
        "charge_witnesses": [charge_witness_json(d, w) for w in d.charge_witnesses()],
        "charges": [c.as_json() for c in d.charges],
        "equivalent": d.equivalences,
        "outcomes": [{"outcome": o.outcome, "status": o.status, "method": o.method,
                      "witnesses": len(o.witnesses), "note": o.note,
                      "in_old": o.in_old, "in_new": o.in_new} for o in d.outcomes],
        "semantic": d.semantic,
        "notes": d.notes,
        "notes_ja": d.notes_ja,
    }


# ---- diffs kept (compute_diff's memo) -------------------------------------------------------

MEMO_SIZE = 8  # diffs kept per process: a few amendments viewed in turn (denwa's: ~0.4 MB)

MemoKey = tuple[str, dt.date, str, dt.date, bool]


def _memo_key(old: Rulebook, old_date: dt.date, new: Rulebook, new_date: dt.date,
              semantic: bool) -> MemoKey | None:
    """What a diff is computed from: each version's content, its `source_digest` (the hash of
    the rule file it was compiled from; the engine that compiled it is this process's, and
    spans, the only trace of the file's path, are left out of what is compared), each date
    (the semantic pass decides as of them, the pages print them) and the semantic flag. None
    for a rulebook that has no digest (built in memory, not read from a file): it is
    compared afresh every time."""
    if old.source_digest is None or new.source_digest is None:
        return None
    return (old.source_digest, old_date, new.source_digest, new_date, semantic)


def _copy(kept: Diff, old: Rulebook, new: Rulebook) -> Diff:
    """A copy of a kept diff for one caller: everything in it copied (a change made to it
    stays in it; 10–20 ms for the denwa amendment, against ~25 s to compute it) but the two
    rulebooks, which are the caller's — the ones a computation would have referred to. A diff
    refers to its rulebooks, it does not own them: every user of a version shares them (what
    is added to one later, `derived`, is a cache), and copying one would cost more than the
    diff."""
    books = {id(kept.old_book): old, id(kept.new_book): new}
    d = copy.deepcopy(kept, books)
    d.old_book, d.new_book = old, new
    return d


class _Memo:
    """The last `size` diffs computed, the least recently used dropped first. A lock guards
    the table (the console computes diffs in worker threads); a diff is computed outside it,
    so two first requests for one diff at once both compute it."""

    def __init__(self, size: int):
        self.size = size
        self.kept: OrderedDict[MemoKey, Diff] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: MemoKey) -> Diff | None:
        with self.lock:
            d = self.kept.get(key)
            if d is not None:
                self.kept.move_to_end(key)
            return d

    def put(self, key: MemoKey, d: Diff) -> None:
        with self.lock:
            self.kept[key] = d
            self.kept.move_to_end(key)
            while len(self.kept) > self.size:
                self.kept.popitem(last=False)


_MEMO = _Memo(MEMO_SIZE)


# ---- entry points ----------------------------------------------------------------------------

def diff_versions(doc: str, from_: dt.date, to: dt.date, semantic: bool = True,
                  progress: bool = False) -> Diff:
    old = rulebook_for(doc, from_)
    new = rulebook_for(doc, to)
    if old is new:
        h = old.doc.header
        raise YakkanError([Diagnostic(
            code="diff.same-version",
            message=f"{from_.isoformat()} and {to.isoformat()} select the same version of "
            f"`{h.id}` ({h.version})",
            hint="give --from and --to dates that fall in two different versions")])
    return compute_diff(old, from_, new, to, semantic=semantic, progress=progress)


