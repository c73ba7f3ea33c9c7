"""witness_cases: the witnesses of `yakkan diff` and `yakkan check` as runnable case files.

Each witness becomes one case YAML per version it speaks about — `document`, `as_of`, a
Japanese `title` and `note` saying what the case shows, the witness's `facts` exactly as the
solver found them and the interpreter confirmed them (every other fact unknown), and an
`expect:` block holding the claim, so `yakkan explain FILE` shows it and `yakkan test DIR`
checks it:

* a case the amendment decides differently (`diff`): `NN-<outcome>-old.yaml` (as of the old
  version's date) and `…-new.yaml`, each expecting that version's decision;
* a case the amendment prices differently: `cNN-<charge>-old.yaml` / `…-new.yaml`, each
  expecting the line's amount before tax (or that it is not charged);
* a static finding (`check`): `<version>-NN-<code>.yaml`, as of the version's first day; the
  finding is stated in `note` (two lines charged at once, an overlap of definitions or a gap
  is no single outcome an `expect:` block can hold — `yakkan explain`/`charge` show it).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import yaml

from yakkan.engine.analysis.charge_diff import ChargeWitness, Priced
from yakkan.engine.analysis.diff import Diff
from yakkan.engine.analysis.smt import Witness, jsonable, nest
from yakkan.engine.analysis.static import Finding
from yakkan.engine.semantics.resolve import Rulebook

SIDE_JA = {"old": "改正前", "new": "改正後"}


@dataclass
class WitnessFile:
    """One case file to write: its name, its content, and what it shows."""

    name: str
    case: dict[str, Any]
    # which witness it is: ("witness" | "charge_witness" | "static", number from 1, side)
    ref: tuple[str, int, str]
    claim: dict[str, Any] = field(default_factory=dict)

    def text(self) -> str:
        return yaml.safe_dump(self.case, allow_unicode=True, sort_keys=False, width=10_000)


def _slug(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", s).strip("_") or "case"


def _facts(flat: dict[str, Any], book: Rulebook | None = None) -> dict[str, Any]:
    """The case's facts, nested. With `book`, only the facts (and record fields) that
    version declares: the witness spans both versions' vocabularies, and a version never
    reads a fact it does not declare, so its decision is the same without them — while a
    case file naming one is refused (case.unknown-field)."""
    values = jsonable(flat)
    if book is None:
        return nest(values)
    kept: dict[str, Any] = {}
    for path, v in values.items():
        f = book.facts.get(path)
        if f is None:
            continue
        if isinstance(v, list) and f.type.fields:
            names = {fd.name for fd in f.type.fields}
            v = [{k: x for k, x in r.items() if k in names} if isinstance(r, dict) else r
                 for r in v]
        kept[path] = v
    return nest(kept)


def diff_witness_files(d: Diff) -> list[WitnessFile]:
    """The diff's witnesses (outcomes, then charges) as case files, two per witness."""
    out: list[WitnessFile] = []
    # the dates the diff evaluated each version at (--from, --to)
    dates = {"old": d.old_info.requested, "new": d.new_info.requested}
    for n, w in enumerate(d.witnesses(), 1):
        for side in ("old", "new"):
            out.append(_outcome_file(d, w, n, side, dates[side]))
    for n, cw in enumerate(d.charge_witnesses(), 1):
        for side in ("old", "new"):
            out.append(_charge_file(d, cw, n, side, dates[side]))
    return out


def _outcome_file(d: Diff, w: Witness, n: int, side: str, as_of: dt.date) -> WitnessFile:
    s = w.old if side == "old" else w.new
    label = _outcome_label(d, w.outcome)
    other = w.new if side == "old" else w.old
    other_side = "new" if side == "old" else "old"
    grounds = "、".join(c for _, c in s.grounds) or "—"
    note = (f"改正比較（{d.old_info.version}版 → {d.new_info.version}版）の事例{n}: "
            f"「{label}」は{SIDE_JA[side]}（{as_of.isoformat()}）に {s.value}（{grounds}）、"
            f"{SIDE_JA[other_side]}に {other.value}。設定していない事実は不明として扱う。")
    case = {"document": d.document, "as_of": as_of.isoformat(),
            "title": f"改正比較の事例{n}（{label}・{SIDE_JA[side]}）", "note": note,
            "facts": _facts(w.facts, _book(d, side)), "expect": {"outcomes": {w.outcome: s.value}}}
    return WitnessFile(f"{n:02d}-{_slug(w.outcome)}-{side}.yaml", case, ("witness", n, side),
                       {"outcome": w.outcome, "value": s.value})


def _charge_file(d: Diff, w: ChargeWitness, n: int, side: str,
                 as_of: dt.date) -> WitnessFile:
    p: Priced = w.old if side == "old" else w.new
    amount = _yen(p.amount) if p.status == "charged" else "計上しない"
    note = (f"改正比較（{d.old_info.version}版 → {d.new_info.version}版）の料金の事例{n}: "
            f"「{w.label}」は{SIDE_JA[side]}（{as_of.isoformat()}）に {amount}"
            f"（税抜・{p.citation or '—'}）。設定していない事実は不明として扱う。")
    case: dict[str, Any] = {
        "document": d.document, "as_of": as_of.isoformat(),
        "title": f"料金が変わる事例{n}（{w.label}・{SIDE_JA[side]}）", "note": note,
        "facts": _facts(w.facts, _book(d, side))}
    want: str | None = str(p.amount) if p.status == "charged" and p.amount is not None \
        else "not_applicable" if p.status == "not_charged" else None
    if want is not None:
        case["expect"] = {"charges": {"lines": {w.charge: want}}}
    return WitnessFile(f"c{n:02d}-{_slug(w.charge)}-{side}.yaml", case,
                       ("charge_witness", n, side),
                       {"charge": w.charge, "status": p.status,
                        "amount": None if p.amount is None else str(p.amount)})


def static_witness_files(book: Rulebook, findings: list[Finding], document: str,
                         start: int = 1) -> list[WitnessFile]:
    """The static findings of one version that have a witness, as case files (`document`:
    the bundled id, or the clause file's path as the case file will find it)."""
    out: list[WitnessFile] = []
    when = book.doc.header.effective_from
    version = book.doc.header.version or "version"
    for n, f in enumerate([f for f in findings if f.witness is not None], start):
        assert f.witness is not None
        case: dict[str, Any] = {
            "document": document, "as_of": when.isoformat() if when else None,
            "title": f"静的検査の事例{n}（{f.code}・{'、'.join(f.citations)}）",
            "note": f"`yakkan check` の指摘 {f.code}: {f.message}"
            + ("（" + "；".join(f.notes) + "）" if f.notes else ""),
            "facts": jsonable(f.witness)}
        if case["as_of"] is None:
            del case["as_of"]
        out.append(WitnessFile(f"{_slug(version)}-{n:02d}-{_slug(f.code)}.yaml", case,
                               ("static", n, "new"), {"code": f.code}))
    return out


def _book(d: Diff, side: str) -> Rulebook | None:
    return d.old_book if side == "old" else d.new_book


def _outcome_label(d: Diff, name: str) -> str:
    for b in (d.new_book, d.old_book):
        if b is not None and name in b.outcome_labels:
            return b.outcome_labels[name]
    return name


def _yen(v: Decimal | None) -> str:
    if v is None:
        return "—"
    return f"{v:,}円"
