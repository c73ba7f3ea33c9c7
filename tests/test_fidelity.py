"""Fidelity and coverage of the encoded documents (`clauses/<doc>/<version>.yk`) against the
seeds, as cut into units by `tests/seedtext.py`.

Comparison form: `seedtext.normalize` on both sides (markup removed, widths folded, no
whitespace).  "The seed" for a text is `printed_text(doc, version)`: the document as the seed
prints it — for denwa the version's own column only, extraction slips included (not
repaired).  Seed units (`seed_units`) are the repaired ones.

1. fidelity      every encoded text (text + proviso; for a row also its key cell as printed,
                 the `label`; and every caption), after its unit's corrections are undone
                 (each `correction "seed" -> "encoded"`: the encoded string must occur in the
                 unit, its seed side must occur in the seed), occurs in the seed.
2. coverage      every seed unit is encoded (omitted （略） units as omitted; 削除 as deleted
                 or as the text 削除) and every encoded unit corresponds to a seed unit, with
                 the same text and caption.  Matching, tried in this order for each seed unit,
                 below the encoded unit its seed parent matched:
                   path        same kind and key.  Keys compare after normalize(); for rows
                               and subitems "(7)" ≡ "7", "(1)～(6)" ≡ "1..6", "オ～カ" ≡
                               "オ..カ", and the printed key may stand in the `label` (`row 1 {
                               label "1のグループ…料金" }`); a section may be keyed by its
                               caption (【】 stripped).  Articles, paragraphs and items match
                               only this way.
                   elided-p1   an encoded article with no paragraph children stands for its
                               own paragraph 1 (its text is paragraph 1's text, its items are
                               paragraph 1's items).
                   marker      an omitted seed unit ≡ an omitted encoded unit of the same
                               parent whose marker text is the seed's label + （略） (目次（略） as
                               a `chapter`).
                   rekeyed     a row / note / 附則 keyed differently: the encoded sibling of the
                               same kind at the same position among its siblings, with the
                               same non-empty text (or, for a seed row without text, whose
                               key, label or caption is the printed key).
                   relocated   a note / row / 備考 elsewhere in the same article or appendix:
                               same kind, same key (rows: key or label) and same non-empty
                               text; a 備考 if it is the only unmatched 備考 there.
3. counts        rakuten's 27 articles with captions, denwa's article lists (with the omitted
                 ranges), the paragraphs of each article and the items of each paragraph, as
                 the tables below (which are themselves checked against the seed); the units
                 of NUMBERING_ANOMALIES keyed by position and labelled as printed.
4. corrections   each EXTRACTION_SLIP touching encoded text is recorded as a `correction` in
                 the unit (or the encoding keeps the seed's text: a disagreement, warned).
5. drafting      each DRAFTING_NOTE: the encoded text still has the printed words (where
                 the printed words are the unit's whole text, exactly them).

Corrections: a unit's `correction` may concern its text, proviso, label or caption; an
omitted unit cannot carry statements, so a correction on its parent may supply its marker
(`correction "" -> "ア(略)"`).  Warnings, not failures, for review: MatchNote (matches by a
rule other than path), SlipDisagreement (a listed slip kept as printed), CorrectionNote (a
correction that changes nothing under normalize()).
"""

from __future__ import annotations

import difflib
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest
from seedtext import (
    DENWA,
    DENWA_NEW,
    DENWA_OLD,
    DRAFTING_NOTES,
    EXTRACTION_SLIPS,
    NUMBERING_ANOMALIES,
    RAKUTEN,
    ExtractionSlip,
    SeedUnit,
    UnitPath,
    normalize,
    printed_text,
    seed_text,
    seed_units,
)

from yakkan.engine.semantics.resolve import resolve
from yakkan.engine.syntax import ast as A
from yakkan.engine.syntax.parse import parse_document

REPO = Path(__file__).resolve().parent.parent
CLAUSES = REPO / "clauses"
RV = "2025-04-01"
VERSIONS = [(RAKUTEN, RV), (DENWA, DENWA_OLD), (DENWA, DENWA_NEW)]
OTHER_COLUMN = {DENWA_OLD: DENWA_NEW, DENWA_NEW: DENWA_OLD}
COLUMN_NAME = {DENWA_OLD: "old", DENWA_NEW: "new"}
IDS = [f"{d}@{v}" for d, v in VERSIONS]


class SlipDisagreement(UserWarning):
    """The encoding keeps text that tests/seedtext.py lists as an extraction slip."""


class MatchNote(UserWarning):
    """Seed units matched by a rule other than path (listed for review, not a failure)."""


class CorrectionNote(UserWarning):
    """A correction that changes nothing under normalize() (whitespace or width only)."""


# --------------------------------------------------------------------------------------------
# the encoding


@dataclass(eq=False)
class Enc:
    """One encoded unit with its place: parent, children, citation, file:line."""

    unit: A.Unit
    parent: Enc | None
    citation: str
    where: str
    children: list[Enc] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return self.unit.kind

    @property
    def key(self) -> str:
        u = self.unit
        k = u.key or ""
        return f"{k}..{u.range_end}" if u.range_end is not None else k

    @property
    def ref(self) -> str:
        return f"{self.citation} [{self.kind} {self.key or '-'}] ({self.where})"

    def walk(self) -> Iterator[Enc]:
        yield self
        for c in self.children:
            yield from c.walk()


@dataclass
class Encoding:
    doc: str
    version: str
    file: str
    document: A.Document
    top: list[Enc]
    units: list[Enc]


class EncodingUnavailable(Exception):
    pass


@cache
def _load(doc: str, version: str) -> Encoding:
    path = CLAUSES / doc / f"{version}.yk"
    rel = str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)
    if not path.exists():
        raise EncodingUnavailable(f"{rel} does not exist (not encoded yet)")
    document, diags = parse_document(path.read_text(encoding="utf-8"), rel)
    errors = [d for d in diags if d.severity == "error"]
    if document is None or errors:
        lines = [f"  {d.span.line if d.span else '?'}: {d.code}: {d.message}" for d in errors]
        raise EncodingUnavailable(f"{rel} does not parse:\n" + "\n".join(lines))
    book = resolve(document)
    document = book.doc  # the rulebook's own copy, whose units carry their provision ids
    made: dict[int, Enc] = {}
    top: list[Enc] = []
    units: list[Enc] = []
    for parents, u in document.iter_units():
        parent = made[id(parents[-1])] if parents else None
        try:
            citation = book.provisions[book.id_of(u)].citation
        except KeyError:
            citation = "/".join(f"{p.kind}:{p.key}" for p in (*parents, u))
        e = Enc(u, parent, citation, f"{rel}:{u.span.line if u.span else '?'}")
        made[id(u)] = e
        (parent.children if parent else top).append(e)
        units.append(e)
    return Encoding(doc, version, rel, document, top, units)


def encoding(doc: str, version: str) -> Encoding:
    try:
        enc = _load(doc, version)
    except EncodingUnavailable as e:
        unavailable = str(e)
    else:
        unavailable = ""
    if unavailable:
        pytest.fail(unavailable, pytrace=False)
    h = enc.document.header
    problems = []
    if h.id not in (doc, doc.replace("-", "_")):  # a NAME cannot contain "-"
        problems.append(f"document id {h.id!r}, expected {doc.replace('-', '_')!r}")
    if h.version != version:
        problems.append(f"version {h.version!r}, expected {version!r}")
    if doc == DENWA and h.seed_column != COLUMN_NAME[version]:
        problems.append(f"seed column {h.seed_column!r}, expected {COLUMN_NAME[version]!r}")
    if problems:
        pytest.fail(f"{enc.file}: header: " + "; ".join(problems), pytrace=False)
    return enc


# --------------------------------------------------------------------------------------------
# texts


def n(text: str | None) -> str:
    return normalize(text or "")


@dataclass
class Restored:
    """An encoded unit's printed pieces with its corrections undone (normalised)."""

    text: str
    label: str
    caption: str
    problems: list[str]


def corrections_for(e: Enc) -> list[A.Correction]:
    """The unit's corrections; an omitted unit cannot carry statements, so its parent's
    corrections apply to its marker too."""
    out = list(e.unit.corrections)
    if e.unit.status == "omitted" and e.parent is not None:
        out += [c for c in e.parent.unit.corrections
                if n(c.encoded) and n(c.encoded) in n(e.unit.text)]
    return out


def restore(e: Enc, doc: str, version: str) -> Restored:
    u = e.unit
    pieces = {"text": n(u.full_text), "label": n(u.label), "caption": n(u.caption)}
    # a correction on a unit may concern the marker of one of its omitted children
    reach = " ".join(n(c.unit.text) for c in e.children if c.unit.status == "omitted")
    problems = []
    printed = printed_text(doc, version)
    for c in corrections_for(e):
        own = any(c is x for x in u.corrections)  # else: the parent's, reported there
        shown, encoded = n(c.seed), n(c.encoded)
        what = f"correction {c.seed!r} -> {c.encoded!r}"
        if own and shown not in printed:
            problems.append(f"{what}: its seed side does not occur in the seed"
                            + (f" ({COLUMN_NAME[version]} column)" if doc == DENWA else ""))
        if shown == encoded:
            if own:
                warnings.warn(f"{e.ref}: {what} changes nothing under normalize() "
                              "(whitespace or width only)", CorrectionNote, stacklevel=1)
            continue
        if not encoded:
            continue  # an extraction artefact dropped: nothing to put back
        hit = False
        for k, v in pieces.items():
            if encoded in v:
                pieces[k], hit = v.replace(encoded, shown), True
        if own and not hit and encoded not in reach:
            problems.append(f"{what}: its encoded side does not occur in the unit's text")
    return Restored(pieces["text"], pieces["label"], pieces["caption"], problems)


def first_difference(mine: str, theirs: str, width: int = 18) -> str:
    """Where `mine` first departs from `theirs` (difflib), with context."""
    ops = difflib.SequenceMatcher(None, mine, theirs, autojunk=False).get_opcodes()
    for tag, i1, i2, j1, j2 in ops:
        if tag == "equal":
            continue
        a = f"{mine[max(0, i1 - width):i1]}⟦{mine[i1:i2]}⟧{mine[i2:i2 + width]}"
        b = f"{theirs[max(0, j1 - width):j1]}⟦{theirs[j1:j2]}⟧{theirs[j2:j2 + width]}"
        return f"at position {i1} ({tag}): encoded …{a}…\n{'':>10}seed    …{b}…"
    return "identical"


def closest(text: str, units: list[SeedUnit], what: str = "text") -> SeedUnit | None:
    best, score = None, -1.0
    for s in units:
        t = n(getattr(s, what))
        if not t:
            continue
        sm = difflib.SequenceMatcher(None, text, t, autojunk=False)
        if sm.real_quick_ratio() <= score or sm.quick_ratio() <= score:
            continue
        r = sm.ratio()
        if r > score:
            best, score = s, r
    return best


def spath(path: UnitPath) -> str:
    return "/".join(f"{k}:{v}" for k, v in path)


def short(text: str, width: int = 50) -> str:
    t = text.replace("\t", "⇥")
    return t if len(t) <= width else t[:width] + "…"


# --------------------------------------------------------------------------------------------
# matching seed units to encoded units


_DIGIT_PAREN_RE = re.compile(r"\((\d+)\)")


def canon(kind: str, key: str | None) -> str:
    s = n(key).replace("〜", "~").replace("~", "..")
    if kind in ("row", "subitem"):
        s = _DIGIT_PAREN_RE.sub(r"\1", s)
    if kind == "section":
        s = s.strip("【】")
    return s


def names(e: Enc) -> set[str]:
    out = {canon(e.kind, e.key)}
    if e.kind in ("row", "subitem", "note", "section", "appendix", "table") and e.unit.label:
        out.add(canon(e.kind, e.unit.label))
    if e.kind == "section" and e.unit.caption:
        out.add(canon(e.kind, e.unit.caption))
    return out


def markers(s: SeedUnit) -> set[str]:
    cap = s.caption or ""
    return {n(s.text), n(s.label + s.text), n(s.label + cap + s.text), n(cap + s.text)}


@dataclass
class Matching:
    pairs: dict[UnitPath, tuple[Enc, str]]  # seed path -> (encoded unit, rule)
    missing: list[tuple[SeedUnit, str]]
    extra: list[Enc]
    seed_of: dict[int, SeedUnit]  # id(Enc) -> the seed unit it was matched to first

    def enc(self, path: UnitPath) -> Enc | None:
        hit = self.pairs.get(path)
        return hit[0] if hit else None


RELOCATABLE = ("note", "row", "remarks")
REKEYABLE = ("row", "note", "suppl")


def _text_equal(e: Enc, s: SeedUnit, doc: str, version: str) -> bool:
    t = n(s.text)
    return bool(t) and t in (n(e.unit.full_text), restore(e, doc, version).text)


@cache
def matching(doc: str, version: str) -> Matching:
    enc = _load(doc, version)
    units = seed_units(doc, version)
    pairs: dict[UnitPath, tuple[Enc, str]] = {}
    used: set[int] = set()
    missing: list[tuple[SeedUnit, str]] = []
    seed_of: dict[int, SeedUnit] = {}
    by_parent: dict[UnitPath, list[SeedUnit]] = {}
    for s in units:
        by_parent.setdefault(s.path[:-1], []).append(s)

    def take(s: SeedUnit, e: Enc, rule: str, mark: bool = True) -> None:
        pairs[s.path] = (e, rule)
        seed_of.setdefault(id(e), s)
        if mark:
            used.add(id(e))

    for s in units:
        ppath = s.path[:-1]
        if ppath:
            hit = pairs.get(ppath)
            if hit is None:
                missing.append((s, "its parent is not encoded"))
                continue
            parent: Enc | None = hit[0]
            siblings = hit[0].children
        else:
            parent, siblings = None, enc.top
        free = [c for c in siblings if id(c) not in used]
        key = canon(s.kind, s.key)
        # path
        found = next((c for c in free if c.kind == s.kind and key in names(c)), None)
        if found:
            take(s, found, "path")
            continue
        # elided-p1
        if (s.kind == "paragraph" and s.key == "1" and parent is not None
                and parent.kind == "article"
                and not any(c.kind == "paragraph" for c in parent.children)):
            take(s, parent, "elided-p1", mark=False)
            continue
        # marker
        if s.omitted:
            found = next((c for c in free if c.unit.status == "omitted"
                          and n(c.unit.text) in markers(s)), None)
            if found:
                take(s, found, "marker")
                continue
        # rekeyed
        if s.kind in REKEYABLE:
            ordinal = [x.path for x in by_parent[ppath] if x.kind == s.kind].index(s.path)
            same = [c for c in siblings if c.kind == s.kind]
            if ordinal < len(same) and id(same[ordinal]) not in used:
                c = same[ordinal]
                u = c.unit
                if _text_equal(c, s, doc, version) or (
                        not n(s.text) and n(s.key)
                        and n(s.key) in {n(u.key), n(u.label), n(u.caption), n(u.text)}):
                    take(s, c, "rekeyed")
                    continue
        # relocated
        if s.kind in RELOCATABLE and len(s.path) > 1:
            scope = pairs.get(s.path[:1])
            if scope is not None:
                pool = [c for c in scope[0].walk()
                        if c.kind == s.kind and id(c) not in used and c is not scope[0]]
                if s.kind == "remarks":
                    found = pool[0] if len(pool) == 1 else None
                else:
                    found = next((c for c in pool if key in names(c)
                                  and _text_equal(c, s, doc, version)), None)
                if found:
                    take(s, found, "relocated")
                    continue
        missing.append((s, "no encoded unit matches"))
    extra = [e for e in enc.units if id(e) not in used]
    return Matching(pairs, missing, extra, seed_of)


def compare(s: SeedUnit, e: Enc, rule: str, doc: str, version: str,
            has_children: bool) -> str | None:
    """Why the matched encoded unit does not carry the seed unit's status, text and caption."""
    u = e.unit
    if s.kind == "article" and not any(c.kind == "paragraph" for c in e.children) \
            and u.status == "encoded":
        text_ok: str | None = None  # elided paragraph 1: its text is compared there
    elif s.omitted:
        if u.status == "omitted":
            ok = u.text is None or n(u.text) in markers(s)
            text_ok = None if ok else f"omitted marker {u.text!r} is not the seed's " \
                f"{s.label + (s.caption or '') + s.text!r}"
        elif has_children and u.status == "encoded" and (
                not n(u.full_text) or n(u.full_text) in markers(s)):
            text_ok = None  # omitted, yet with children shown: a unit marked （略）
        else:
            text_ok = f"the seed omits it ({s.text}) but it is encoded as {u.status}"
    elif u.status == "omitted":
        text_ok = "encoded as omitted but the seed prints it"
    elif u.status == "deleted":
        text_ok = None if n(s.text) == "削除" else f"encoded as deleted; the seed prints " \
            f"{short(s.text)!r}"
    else:
        t = n(s.text)
        mine = n(u.full_text)
        # a slip the encoder did not take for one (test_slips_are_recorded warns about it)
        kept = {t.replace(x.fixed, x.printed) for x in text_slips(doc, version, s.path)}
        if t in (mine, restore(e, doc, version).text) or mine in kept:
            text_ok = None
        else:
            text_ok = "text differs from the seed unit:\n          " + first_difference(mine, t)
    if text_ok:
        return text_ok
    if s.caption and rule != "elided-p1":
        heads = {n(u.caption), n(u.label), n(u.caption).strip("【】"), n(u.label).strip("【】")}
        if n(s.caption) not in heads:
            return f"caption {u.caption!r} (label {u.label!r}); the seed has {s.caption!r}"
    return None


def case_id(doc: str, version: str) -> str:
    return f"{doc} {version}"


# --------------------------------------------------------------------------------------------
# 1. fidelity


@pytest.mark.parametrize(("doc", "version"), VERSIONS, ids=IDS)
def test_fidelity(doc: str, version: str) -> None:
    enc = encoding(doc, version)
    m = matching(doc, version)
    printed = printed_text(doc, version)
    repaired = seed_text(doc, version)
    other = OTHER_COLUMN.get(version) if doc == DENWA else None
    other_text = printed_text(doc, other) if other else ""
    units = seed_units(doc, version)
    failures: list[str] = []
    for e in enc.units:
        r = restore(e, doc, version)
        failures += [f"{e.ref}: {p}" for p in r.problems]
        pieces = [("text", r.text), ("label", r.label), ("caption", r.caption)]
        for what, s in pieces:
            if not s or s in printed:
                continue
            if s in repaired:
                why = "occurs only in the repaired seed: an extraction slip corrected " \
                    "without a `correction`"
            elif other and s in other_text:
                why = f"occurs only in the {COLUMN_NAME[other]} column ({other}), not in " \
                    f"this version's column"
            else:
                why = "does not occur in the seed"
            near = m.seed_of.get(id(e))
            if near is None or not n(getattr(near, what)):
                near = closest(s, units, what)
            detail = ""
            if near is not None:
                detail = (f"\n      closest seed unit {spath(near.path)} (seed line "
                          f"{near.seed_line}), its {what}:\n          "
                          + first_difference(s, n(getattr(near, what))))
            failures.append(f"{e.ref}: {what} {why}: {short(s, 60)!r}{detail}")
    for c in enc.document.corrections:
        if n(c.seed) not in printed:
            failures.append(f"{enc.file}: document-level correction {c.seed!r} -> "
                            f"{c.encoded!r}: its seed side does not occur in the seed")
    if failures:
        pytest.fail(f"{case_id(doc, version)}: {len(failures)} fidelity failure(s)\n"
                    + "\n".join(failures), pytrace=False)


# --------------------------------------------------------------------------------------------
# 2. coverage both ways


@pytest.mark.parametrize(("doc", "version"), VERSIONS, ids=IDS)
def test_coverage(doc: str, version: str) -> None:
    encoding(doc, version)
    m = matching(doc, version)
    units = seed_units(doc, version)
    parents = {s.path[:-1] for s in units}
    differences = []
    for s in units:
        hit = m.pairs.get(s.path)
        if hit is None:
            continue
        e, rule = hit
        why = compare(s, e, rule, doc, version, s.path in parents)
        if why:
            differences.append(f"  {spath(s.path)} (seed line {s.seed_line}) ≡ {e.ref} "
                               f"[{rule}]: {why}")
    rules = [f"  {spath(p)} ≡ {e.ref} [{rule}]" for p, (e, rule) in m.pairs.items()
             if rule != "path"]
    if rules:
        warnings.warn(f"{case_id(doc, version)}: {len(rules)} match(es) by a rule other "
                      "than path:\n" + "\n".join(rules), MatchNote, stacklevel=1)
    out = []
    if m.missing:
        out.append(f"MISSING — {len(m.missing)} seed unit(s) not encoded:")
        out += [f"  {spath(s.path)}  {s.label!r} (seed line {s.seed_line}, "
                f"{'omitted' if s.omitted else 'text'} {short(s.text)!r}): {why}"
                for s, why in m.missing]
    if m.extra:
        out.append(f"EXTRA — {len(m.extra)} encoded unit(s) with no seed unit:")
        out += [f"  {e.ref}: {e.unit.status} "
                f"{short(e.unit.full_text) if e.unit.full_text else '(no text)'!r}"
                for e in m.extra]
    if differences:
        out.append(f"DIFFERENT — {len(differences)} matched unit(s) differ from the seed:")
        out += differences
    if out:
        if rules:
            out.append("(matches by a rule other than path, for review:)")
            out += rules
        pytest.fail(f"{case_id(doc, version)}: coverage\n" + "\n".join(out), pytrace=False)


def test_matching_rules_are_narrow() -> None:
    """The non-path rules: each is exercised only where the docstring says."""
    assert canon("row", "(1)～(6)") == canon("row", "1..6") == "1..6"
    assert canon("row", "(1)~(20)") == "1..20"
    assert canon("subitem", "オ～カ") == canon("subitem", "オ..カ")
    assert canon("subitem", "(ア)") != canon("subitem", "ア")
    assert canon("row", "(7)") == "7"
    assert canon("article", "１４_６５") == "14_65"
    assert canon("section", "【IP 電話(050)料金】") == "IP電話(050)料金"
    s = SeedUnit((("article", "1..4"),), "第1条～第4条", None, "（略）", 1, omitted=True)
    assert "第1条~第4条(略)" in markers(s)
    assert "(略)" in markers(s)


# --------------------------------------------------------------------------------------------
# 3. counts


RAKUTEN_ARTICLES = {
    "1": "規約の適用", "2": "規約の変更", "3": "契約申込の方法", "4": "契約申込の承諾",
    "5": "本サービス内容の保証及び変更", "6": "料金の支払い", "7": "ID等の管理",
    "8": "個人情報の取扱い", "9": "秘密保持", "10": "禁止事項", "11": "損害賠償",
    "12": "RevCommとの責任の分界", "13": "利用停止", "14": "当社が行う契約の解除",
    "15": "契約者が行う契約の解除", "16": "サービスの終了", "17": "免責事項",
    "18": "通知又は連絡", "19": "権利義務などの譲渡の禁止", "20": "補償金", "21": "割増金",
    "22": "延滞利息", "23": "権利関係", "24": "会社名等の取扱い", "25": "反社会的勢力の排除",
    "26": "分離可能性", "27": "準拠法及び管轄裁判所",
}
# article -> the number of items of each of its paragraphs (the tuple's length is the number
# of paragraphs)
RAKUTEN_ITEMS = {
    "1": (0, 0, 0, 0), "2": (0, 0), "3": (0, 0), "4": (0, 11), "5": (0,), "6": (0, 0),
    "7": (0, 0, 0, 0), "8": (0,), "9": (0, 5, 4, 0, 0, 0, 0), "10": (17,), "11": (0, 0),
    "12": (0, 0), "13": (5, 6, 0, 0), "14": (0, 0), "15": (0, 0), "16": (0, 0),
    "17": (0, 0, 0, 0, 0, 0), "18": (0, 0), "19": (0, 0), "20": (3, 0, 0, 0, 0), "21": (0,),
    "22": (0,), "23": (0, 0), "24": (3,), "25": (0, 6), "26": (0,), "27": (0, 0),
}
OMIT = "（略）"
_DENWA_COMMON = {
    "1..4": OMIT, "4_2": "電話等サービスの種類", "4_3..4_4_3": OMIT,
    "4_4_4": "第2種グループ発信サービスの区別", "4_5..14_63_2": OMIT,
    "14_64": "契約者指定番号発信サービス利用契約申込の方法",
    "14_65": "契約者指定番号発信サービス利用契約申込の承諾",
    "14_65_2": "契約者指定番号発信サービス利用回線に係る電気通信番号の変更",
    "14_65_3": OMIT, "14_65_4": "最低利用期間",
    "14_66": "契約者指定番号発信サービス利用権の譲渡",
    "14_67": "契約者指定番号発信サービス利用契約者が行う契約者指定番号発信サービス利用契約の解除",
    "14_68..54": OMIT,
}
DENWA_ARTICLES = {DENWA_OLD: _DENWA_COMMON, DENWA_NEW: _DENWA_COMMON}
DENWA_ITEMS = {
    DENWA_OLD: {"4_2": (0,), "4_4_4": (0,), "14_64": (4,), "14_65": (0, 6),
                "14_65_2": (0, 0, 0, 0, 0), "14_65_4": (0, 0, 0), "14_66": (0, 0, 5),
                "14_67": (0, 0, 0)},
    DENWA_NEW: {"4_2": (0,), "4_4_4": (0,), "14_64": (4,), "14_65": (0, 8),
                "14_65_2": (0, 0, 0, 0, 0), "14_65_4": (0, 0, 0), "14_66": (0, 0, 7),
                "14_67": (0, 0, 0, 0)},
}
# 備考 entries: article -> count
DENWA_REMARKS = {DENWA_OLD: {"4_4_4": 2}, DENWA_NEW: {"4_4_4": 4}}


def expected_articles(doc: str, version: str) -> dict[str, str]:
    return RAKUTEN_ARTICLES if doc == RAKUTEN else DENWA_ARTICLES[version]


def expected_items(doc: str, version: str) -> dict[str, tuple[int, ...]]:
    return RAKUTEN_ITEMS if doc == RAKUTEN else DENWA_ITEMS[version]


def seed_articles(doc: str, version: str) -> dict[str, str]:
    return {s.key: OMIT if s.omitted else n(s.caption)
            for s in seed_units(doc, version) if len(s.path) == 1 and s.kind == "article"}


def seed_items(doc: str, version: str) -> dict[str, tuple[int, ...]]:
    units = seed_units(doc, version)
    out: dict[str, tuple[int, ...]] = {}
    for a in units:
        if len(a.path) != 1 or a.kind != "article" or a.omitted:
            continue
        paras = [s for s in units if s.path[:-1] == a.path and s.kind == "paragraph"]
        out[a.key] = tuple(
            sum(1 for s in units if s.path[:-1] == p.path and s.kind == "item") for p in paras)
    return out


def encoded_items(enc: Encoding) -> dict[str, tuple[int, ...]]:
    out: dict[str, tuple[int, ...]] = {}
    for a in enc.top:
        if a.kind != "article" or a.unit.status != "encoded":
            continue
        paras = [c for c in a.children if c.kind == "paragraph"] or [a]  # elided paragraph 1
        out[canon("article", a.key)] = tuple(
            sum(1 for c in p.children if c.kind == "item") for p in paras)
    return out


@pytest.mark.parametrize(("doc", "version"), VERSIONS, ids=IDS)
def test_tables_agree_with_the_seed(doc: str, version: str) -> None:
    """The hand-written count tables are what the seed shows (so the counts test is sound)."""
    expected = {k: v if v == OMIT else n(v) for k, v in expected_articles(doc, version).items()}
    assert seed_articles(doc, version) == expected
    assert seed_items(doc, version) == expected_items(doc, version)
    if doc == DENWA:
        units = seed_units(doc, version)
        got = {s.path[0][1]: sum(1 for x in units if x.path[:-1] == s.path)
               for s in units if s.kind == "remarks"}
        assert got == DENWA_REMARKS[version]


@pytest.mark.parametrize(("doc", "version"), VERSIONS, ids=IDS)
def test_counts(doc: str, version: str) -> None:
    enc = encoding(doc, version)
    expected = expected_articles(doc, version)
    got = {}
    for a in enc.top:
        if a.kind == "article":
            got[canon("article", a.key)] = OMIT if a.unit.status == "omitted" \
                else n(a.unit.caption)
    problems = []
    want = {k: v if v == OMIT else n(v) for k, v in expected.items()}
    if list(got) != list(want):
        problems.append(f"articles: encoded {len(got)}: {list(got)}\n"
                        f"            seed {len(want)}: {list(want)}")
    for k in want:
        if k in got and got[k] != want[k]:
            problems.append(f"第{k}条: caption {got[k]!r}, the seed has {want[k]!r}")
    items = encoded_items(enc)
    for k, counts in expected_items(doc, version).items():
        mine = items.get(k)
        if mine != counts:
            problems.append(f"article {k}: items per paragraph {mine}, the seed has {counts}")
    if doc == DENWA:
        got_r = {}
        for a in enc.top:
            for e in a.walk():
                if e.kind == "remarks":
                    got_r[canon("article", a.key)] = sum(
                        1 for c in e.children if c.kind == "item")
        if got_r != DENWA_REMARKS[version]:
            problems.append(f"備考 entries: {got_r}, the seed has {DENWA_REMARKS[version]}")
    m = matching(doc, version)
    for x in NUMBERING_ANOMALIES:  # keyed by position, labelled as printed
        if (x.doc, x.version) != (doc, version):
            continue
        hit = m.enc(x.path)
        if hit is None:
            problems.append(f"{spath(x.path)} (printed {x.printed!r}) is not encoded")
        elif n(hit.unit.label) != n(x.printed):
            problems.append(f"{hit.ref}: label {hit.unit.label!r}, printed {x.printed!r}")
    if problems:
        pytest.fail(f"{case_id(doc, version)}: counts\n  " + "\n  ".join(problems),
                    pytrace=False)


# --------------------------------------------------------------------------------------------
# 4. extraction slips are recorded as corrections


@dataclass(frozen=True)
class TextSlip:
    """The seed prints `printed` where the document reads `fixed`."""

    printed: str
    fixed: str


@dataclass(frozen=True)
class StructureSlip:
    """No text to correct: the unit must be there (as `status`, if given) and nothing that
    the seed does not have may be encoded inside it (flattened duplicates are dropped)."""

    status: str | None = None


_ROW21 = (("appendix", "料金表"), ("table", "1"), ("section", "2"), ("section", "1"),
          ("row", "(21)"))
_ROW7 = (("appendix", "料金表"), ("table", "1"), ("section", "1"), ("section", "1"),
         ("row", "(7)"))
_ROW21_I = (*_ROW21, ("subitem", "イ"), ("subitem", "(イ)"),
            ("row", "1のグループ発信サービス利用回線から発信した通話に関する料金"))
_P1464 = (("article", "14_64"), ("paragraph", "1"))
_FEES = (("appendix", "別表"),)

SLIP_SPECS: dict[tuple[str, str, UnitPath], TextSlip | StructureSlip] = {
    (DENWA, DENWA_OLD, _P1464): TextSlip("申込を行ってていただきます", "申込を行っていただきます"),
    (DENWA, DENWA_NEW, _P1464): TextSlip("申込を行ってたいただきます", "申込を行っていただきます"),
    (DENWA, DENWA_OLD, _ROW21_I): TextSlip("利用回線から発信した通話に関する", "通話に関する料金"),
    (DENWA, DENWA_NEW, _ROW21_I): TextSlip("利用回線から発信した通話に関する", "通話に関する料金"),
    (DENWA, DENWA_NEW, (*_ROW21, ("subitem", "ア"))): StructureSlip("omitted"),
    (DENWA, DENWA_OLD, _ROW7): StructureSlip(),
    (DENWA, DENWA_NEW, _ROW7): StructureSlip(),
    (DENWA, DENWA_OLD, _ROW21): StructureSlip(),
    (DENWA, DENWA_NEW, _ROW21): StructureSlip(),
    # vertical 通 / 話 / 料 / 金: the same under normalize(); no correction needed
    (RAKUTEN, RV, (*_FEES, ("section", "IP電話(050)料金"), ("row", "通話料金"))):
        StructureSlip(),
    (RAKUTEN, RV, (*_FEES, ("section", "IP電話(0120/0800)料金"), ("row", "通話料金"))):
        StructureSlip(),
    (RAKUTEN, RV, (*_FEES, ("section", "楽天コネクトMiiTel料金"))): StructureSlip(),
}


def text_slips(doc: str, version: str, path: UnitPath) -> list[TextSlip]:
    spec = SLIP_SPECS.get((doc, version, path))
    return [spec] if isinstance(spec, TextSlip) else []


def slip_key(x: ExtractionSlip) -> tuple[str, str, UnitPath]:
    return (x.doc, x.version, x.path)


def test_every_slip_has_a_spec() -> None:
    keys = [slip_key(x) for x in EXTRACTION_SLIPS]
    assert len(set(keys)) == len(keys)
    assert set(keys) == set(SLIP_SPECS)


@pytest.mark.parametrize(("doc", "version"), VERSIONS, ids=IDS)
def test_slips_are_recorded(doc: str, version: str) -> None:
    encoding(doc, version)
    m = matching(doc, version)
    extra = {id(e) for e in m.extra}
    failures = []
    for slip in EXTRACTION_SLIPS:
        if (slip.doc, slip.version) != (doc, version):
            continue
        spec = SLIP_SPECS[slip_key(slip)]
        where = f"slip at {spath(slip.path)} (seed line {slip.seed_line})"
        e = m.enc(slip.path)
        if e is None:
            failures.append(f"{where}: the unit is not encoded (see test_coverage)")
            continue
        if isinstance(spec, StructureSlip):
            if spec.status and e.unit.status != spec.status:
                failures.append(f"{where}: {e.ref} is {e.unit.status}, expected {spec.status}")
            inside = [x for x in e.walk() if id(x) in extra]
            if inside:
                failures.append(f"{where}: units the seed does not have inside {e.ref}: "
                                + ", ".join(x.ref for x in inside))
            continue
        u = e.unit
        hay = n(u.full_text) + "|" + n(u.label) + "|" + n(u.key)
        recorded = [c for c in u.corrections if spec.fixed in n(c.encoded)
                    and spec.fixed not in n(c.seed) and spec.printed in n(c.seed)]
        if recorded:
            if spec.fixed not in hay:
                failures.append(f"{where}: {e.ref} records the correction but its text does "
                                f"not read {spec.fixed!r}")
        elif spec.fixed not in hay and spec.printed in hay:
            msg = (f"{case_id(doc, version)}: {where}: {e.ref} keeps the seed's "
                   f"{spec.printed!r} (tests/seedtext.py reads {spec.fixed!r}): disagreement")
            warnings.warn(msg, SlipDisagreement, stacklevel=1)
        else:
            failures.append(f"{where}: {e.ref} reads {spec.fixed!r} but no `correction` "
                            f"records what the seed shows ({spec.printed!r}); corrections: "
                            f"{[(c.seed, c.encoded) for c in u.corrections]}")
    if failures:
        pytest.fail(f"{case_id(doc, version)}: extraction slips\n  " + "\n  ".join(failures),
                    pytrace=False)


# --------------------------------------------------------------------------------------------
# 5. drafting is not fixed


@pytest.mark.parametrize(("doc", "version"), VERSIONS, ids=IDS)
def test_drafting_is_kept(doc: str, version: str) -> None:
    encoding(doc, version)
    m = matching(doc, version)
    units = {s.path: s for s in seed_units(doc, version)}
    failures = []
    checked = 0
    for note in DRAFTING_NOTES:
        if note.doc != doc or version not in note.versions:
            continue
        e = m.enc(note.path)
        where = f"{spath(note.path)} {note.printed!r}"
        if e is None:
            failures.append(f"{where}: the unit is not encoded (see test_coverage)")
            continue
        s = units[note.path]
        u = e.unit
        own = n((u.label or "") + (u.caption or "") + u.full_text)
        hay = own if n(s.text) else own + "".join(n(x.unit.full_text) for x in e.walk())
        words = n(note.printed)
        checked += 1
        if words not in hay:
            failures.append(f"{where}: {e.ref} no longer reads the printed words: "
                            f"{short(u.full_text or '', 80)!r}")
        elif words == n(s.text) and n(u.full_text) != words:
            failures.append(f"{where}: {e.ref} reads {u.full_text!r}, printed {note.printed!r}")
    if failures:
        pytest.fail(f"{case_id(doc, version)}: drafting changed\n  " + "\n  ".join(failures),
                    pytrace=False)
    assert checked, "no drafting note applies"
