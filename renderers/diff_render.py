"""Renderers of a diff (`yakkan.engine.analysis.diff.Diff`): the 新旧対照表 as text, Markdown, HTML,
JSON and DOCX, with the list of changes, the witness cases and the equivalences proved.

`render_diff(d, fmt, old_side)`: `old_side` is the column that holds the old text, `left`
(the seed's convention, 改正前 on the left) or `right`. Changed characters are underlined
on both sides (`<u>` in Markdown and HTML, `run.underline = True` in DOCX, `[-…-]` / `{+…+}`
in plain text); whole units added or deleted show （新設） / （削る） on the other side;
units not encoded in the excerpt, and containers with no change, show （略）.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile
from typing import Any

from markupsafe import Markup, escape

from yakkan.engine.analysis.charge_diff import ChargeWitness
from yakkan.engine.analysis.diff import (
    KIND_LABELS,
    KINDS,
    Change,
    Diff,
    Row,
    Run,
    charge_witness_json,
    diff_json,
    fact_labels,
    witness_json,
)
from yakkan.engine.analysis.smt import Witness
from yakkan.renderers.env import RenderError, md_escape, render

FORMATS = ("text", "md", "html", "json", "docx")

VALUE_JA = {
    "accept": "承諾する", "approve": "承認する", "may_refuse": "承諾しないことがある",
    "refuse": "承諾（承認）しない", "undetermined": "未確定", "not_applicable": "該当なし",
    "may": "することがある", "deemed": "みなす", "duty": "義務あり", "prohibited": "禁止",
    "requirement_unmet": "要件不充足", "permission": "できる", "exemption": "免責",
    "declaration": "適用あり（宣言）",
}
STATUS_JA = {
    "identical": "同一（論理に変更なし）", "equivalent": "同値（証明済み）",
    "differs": "異なる判断あり", "differs_partial": "事実が未知の場合のみ異なる",
    "grounds_differ": "判断は同じ、根拠が異なる事例あり",
    "undecided": "未決定",
}
TAB = " ｜ "


# (witness kind, number) → (side label 改正前/改正後, the case file's path as a link)
WitnessLinks = dict[tuple[str, int], list[tuple[str, str]]]


def render_diff(d: Diff, fmt: str, old_side: str = "left",
                links: WitnessLinks | None = None) -> str | bytes:
    """The diff in `fmt`; `links`: the witness case files written (`--witness-dir`), which
    md and html link from each witness."""
    if old_side not in ("left", "right"):
        raise ValueError(f"old_side must be left or right, not {old_side!r}")
    if fmt == "json":
        return json.dumps(diff_json(d), ensure_ascii=False, indent=2) + "\n"
    if fmt == "text":
        return text_diff(d, old_side)
    if fmt in ("md", "html"):
        ctx = context(d, fmt, old_side)
        for key, kind in (("witnesses", "witness"), ("charge_witnesses", "charge_witness")):
            for w in ctx[key]:
                w["files"] = [{"side": s, "href": h}
                              for s, h in (links or {}).get((kind, w["n"]), [])]
        return render(f"diff.{fmt}.j2", **ctx)
    if fmt == "docx":
        return docx_bytes(d, old_side)
    raise ValueError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")


# ---- the view model ----------------------------------------------------------------------

def _runs(rs: list[Run]) -> list[dict[str, Any]]:
    return [{"changed": r.op != "equal", "text": r.text.replace("\t", TAB)} for r in rs]


def _plain(text: str) -> list[dict[str, Any]]:
    return [{"changed": False, "text": text.replace("\t", TAB)}] if text else []


def cell(c: Change, side: str, collapsed: bool) -> dict[str, Any]:
    """One side of a row: a marker, or caption / number / text as runs."""
    v = c.old if side == "old" else c.new
    base: dict[str, Any] = {"marker": None, "caption": [], "head": [], "text": [],
                            "unit_kind": None, "citation": None, "block_caption": False}
    if v is None:
        if c.kind == "added":
            base["marker"] = "（新設）"
        elif c.kind == "deleted":
            base["marker"] = "（削る）"
        else:
            base["marker"] = "（略）"
        return base
    base["unit_kind"] = v.kind
    base["citation"] = v.citation
    if collapsed or v.status == "omitted":
        if v.status == "omitted" and "略" in v.text:
            base["text"] = _plain(v.text)
        else:
            label = v.head + ("" if v.kind == "article" or not v.caption else f" {v.caption}")
            base["text"] = _plain(f"{label}（略）")
        return base
    old = side == "old"
    base["caption"] = [] if (v.caption or "") == v.head else \
        _runs(c.old_caption_runs if old else c.new_caption_runs) or _plain(v.caption or "")
    base["head"] = _runs(c.old_head_runs if old else c.new_head_runs) or _plain(v.head)
    base["text"] = _runs(c.old_runs if old else c.new_runs) or _plain(v.text)
    base["block_caption"] = v.kind == "article"
    return base


def _enum_labels(d: Diff) -> dict[str, str]:
    out: dict[str, str] = {}
    for b in (d.old_book, d.new_book):
        if b is None:
            continue
        for e in b.enums.values():
            for m in e.members:
                if m.label:
                    out.setdefault(m.name, m.label)
        for f in b.facts.values():
            for m in f.type.members:
                if m.label:
                    out.setdefault(m.name, m.label)
    return out


def show(v: Any, enums: dict[str, str] | None = None,
         fields: dict[str, str] | None = None) -> str:
    """A witness value as a drafter reads it: はい／いいえ／不明, an enum member by its
    Japanese name, a record's fields by their labels (`fields`: name → label; the codes
    stay in the JSON)."""
    if v is None or v == "unknown":
        return "不明"
    if v is True:
        return "はい"
    if v is False:
        return "いいえ"
    if isinstance(v, list):
        if not v:
            return "（0件）"
        parts = []
        for i, rec in enumerate(v, 1):
            if isinstance(rec, dict):
                inner = "、".join(f"{(fields or {}).get(k, k)}={show(x, enums)}"
                                  for k, x in rec.items()) or "（項目なし）"
                parts.append(f"#{i} {inner}")
            else:
                parts.append(f"#{i} {show(rec, enums)}")
        return "; ".join(parts)
    s = str(v)
    if enums and s in enums:
        return enums[s]
    return s


def witness_view(d: Diff, w: Witness, n: int) -> dict[str, Any]:
    data = witness_json(d, w)
    enums = _enum_labels(d)

    def side(s: dict[str, Any]) -> dict[str, Any]:
        return {"value": s["value"], "value_ja": VALUE_JA.get(s["value"], s["value"]),
                "grounds": [g["citation"] for g in s["grounds"]],
                "undetermined": [g["citation"] for g in s["undetermined"]],
                "missing": s["missing_facts"]}
    facts = []
    for path, v in data["facts"].items():
        lab = data["fact_labels"].get(path, {})
        facts.append({"path": path, "label": lab.get("label"),
                      "judgment": bool(lab.get("judgment")),
                      "value": show(v, enums, _fields_of(d, path))})
    return {"n": n, "outcome": outcome_label(d, w.outcome), "facts": facts,
            "old": side(data["old"]),
            "new": side(data["new"]), "method": w.method, "partial": not w.both_determined,
            "verified": w.verified, "same_decision": w.kind == "grounds"}


def outcome_label(d: Diff, name: str) -> str:
    """An outcome by its Japanese name (`outcome NAME "label"`, either version's)."""
    return d.outcome_label(name)


FLAG_JA = {"text_changed": "本文の変更", "encoding_differs": "符号化の相違",
           "references_changed": "引用の変更", "differs_while_unknown": "事実が不明なときに相違",
           "proved_equivalent": "同値を証明", "omitted_on_one_side": "一方の版で（略）",
           "moved": "移動", "renumbered": "番号の変更"}
STATUS_UNIT_JA = {"encoded": "符号化", "deleted": "削除", "omitted": "（略）"}


def flag_ja(flag: str) -> str:
    if flag.startswith("status:"):
        a, _, b = flag[7:].partition("→")
        return f"状態の変更（{STATUS_UNIT_JA.get(a, a)}→{STATUS_UNIT_JA.get(b, b)}）"
    if flag in FLAG_JA:
        return FLAG_JA[flag]
    raise RenderError(f"no Japanese wording for the diff's flag `{flag}`")


def _equivalence_name(d: Diff, e: dict[str, Any]) -> str:
    """What an equivalence is about: a definition by its citation and its name (two
    definitions of one provision are two lines), a provision by its citation, an outcome by
    its Japanese name."""
    if e["kind"] == "definition":
        cit, name = e.get("citation") or "", f"「{e.get('label') or e['id']}」"
        return cit if cit.endswith(name) else cit + name
    return e.get("citation") or outcome_label(d, e["id"])


def _fields_of(d: Diff, path: str) -> dict[str, str]:
    """The labels of the fields of the list fact `path` (name → label): record fields shown
    by name, not by code."""
    out: dict[str, str] = {}
    for b in (d.new_book, d.old_book):  # a field only the old version has is named too
        if b is not None and path in b.facts:
            for fd in b.facts[path].type.fields:
                if fd.label:
                    out.setdefault(fd.name, fd.label)
    return out


EQUIV_KIND_JA = {"definition": "定義", "provision": "規定", "outcome": "判断対象"}



def charge_witness_view(d: Diff, w: ChargeWitness, n: int) -> dict[str, Any]:
    """A case the amendment prices differently: its facts (labelled), and on each side the
    amount (or 計上しない) and the records that make it."""
    from yakkan.renderers.explanation import yen
    data = charge_witness_json(d, w)
    enums = _enum_labels(d)
    facts = []
    for path, v in data["facts"].items():
        lab = data["fact_labels"].get(path, {})
        facts.append({"path": path, "label": lab.get("label"),
                      "judgment": bool(lab.get("judgment")),
                      "value": show(v, enums, _fields_of(d, path))})

    def side(s: dict[str, Any]) -> dict[str, Any]:
        amount = yen(s["amount"]) if s["status"] == "charged" else "計上しない"
        def record(r: dict[str, Any]) -> str:
            lst = r["path"].split("[", 1)[0]
            inner = "、".join(f"{_fields_of(d, lst).get(k, k)}={show(v, enums)}"
                             for k, v in r["record"].items())
            return f"{r['path']}（{inner}）" + (f": {yen(r['value'])}" if r.get("q") == "sum"
                                               else "")
        records = [record(r) for r in s["breakdown"]]
        return {"amount": amount, "records": records, "citation": s["citation"]}
    old, new = side(data["old"]), side(data["new"])
    return {"n": n, "charge": w.charge, "label": w.label, "facts": facts, "old": old,
            "new": new, "summary": f"{w.label}: 改正前 {old['amount']} → 改正後 {new['amount']}",
            "verified": w.verified}


def listed_changes(d: Diff) -> list[Change]:
    """The changes a reader is shown. The only paragraph of an article (附則) is cited as the
    article: where both changed alike, the article's own line (no text of its own) would
    repeat the paragraph's citation, and is left out."""
    same: set[int] = set()
    for c in d.walk():
        for k in c.children:
            if (k.citation_old, k.citation_new, k.kind) == (c.citation_old, c.citation_new,
                                                             c.kind) \
                    and not c.old_runs and not c.new_runs:
                same.add(id(c))
    return [c for c in d.changes() if id(c) not in same]


def context(d: Diff, fmt: str, old_side: str) -> dict[str, Any]:
    data = diff_json(d)
    left_is_old = old_side == "left"
    old_label = f"改正前（{d.old_info.version or '?'}版）"
    new_label = f"改正後（{d.new_info.version or '?'}版）"
    rows = []
    for r in d.rows():
        rows.append(_row_view(r, left_is_old))
    counts = d.counts()
    changes = []
    for c in listed_changes(d):
        changes.append({"id": c.id, "citation_old": c.citation_old,
                        "citation_new": c.citation_new, "kind": c.kind,
                        "kind_label": KIND_LABELS[c.kind], "basis": c.basis_ja or "",
                        "flags": [flag_ja(f) for f in c.flags if f != c.kind],
                        "counterexample": _cx(d, c)})
    affected = [{"citation": c.citation, "by": c.affected_by}
                for c in d.walk() if c.affected_by]
    return {
        "title": d.title, "document": d.document, "number": d.number,
        "old": data["from"], "new": data["to"],
        "left_label": old_label if left_is_old else new_label,
        "right_label": new_label if left_is_old else old_label,
        "left_is_old": left_is_old, "old_side": old_side,
        "enactment": d.enactment, "rows": rows,
        "counts": [(k, KIND_LABELS[k], counts[k]) for k in KINDS if counts[k]],
        "changes": changes, "affected": affected,
        "witnesses": [witness_view(d, w, i) for i, w in enumerate(d.witnesses(), 1)],
        "charge_witnesses": [charge_witness_view(d, w, i)
                             for i, w in enumerate(d.charge_witnesses(), 1)],
        "charges_not_compared": [c for c in d.charges if c.status in ("not_compared",
                                                                       "undecided")],
        "equivalent": [{**e,                         "kind_ja": EQUIV_KIND_JA[e["kind"]],
                        "name": _equivalence_name(d, e)}
                       for e in d.equivalences],
        "outcomes": [{"outcome": outcome_label(d, o.outcome), "status": o.status,
                      "status_ja": STATUS_JA.get(o.status, o.status), "method": o.method,
                      "witnesses": len(o.witnesses), "in_old": o.in_old, "in_new": o.in_new}
                     for o in d.outcomes],
        "semantic": d.semantic, "notes": d.notes_ja, "fmt": fmt,
        "runs": runs_html if fmt == "html" else runs_md,
    }


def _cx(d: Diff, c: Change) -> str | None:
    if not c.counterexample:
        return None
    enums = _enum_labels(d)
    labels = fact_labels(d)
    facts = "、".join(f"{labels.get(k, (None, False))[0] or k} = "
                     f"{show(v, enums, _fields_of(d, k))}"
                     for k, v in c.counterexample["facts"].items())
    def vals(xs: Any) -> str:
        return "、".join(show(x) for x in xs) if isinstance(xs, list) else show(xs)
    return f"{facts or '（事実なし）'} → 符号化された式の値: 改正前 " \
        f"{vals(c.counterexample['old'])}／改正後 {vals(c.counterexample['new'])}"


def _row_view(r: Row, left_is_old: bool) -> dict[str, Any]:
    c = r.change
    old, new = cell(c, "old", r.collapsed), cell(c, "new", r.collapsed)
    return {"depth": r.depth, "kind": c.kind, "kind_label": KIND_LABELS[c.kind],
            "collapsed": r.collapsed, "id": c.id,
            "left": old if left_is_old else new, "right": new if left_is_old else old,
            "anchor": "u-" + c.id.replace("/", "-").replace(":", "_")}


# ---- runs as markup -----------------------------------------------------------------------

def runs_html(runs: list[dict[str, Any]]) -> Markup:
    out = []
    for r in runs:
        t = str(escape(r["text"]))
        out.append(f'<u class="chg">{t}</u>' if r["changed"] else t)
    return Markup("".join(out))


def runs_md(runs: list[dict[str, Any]]) -> str:
    out = []
    for r in runs:
        t = md_escape(r["text"])
        out.append(f"<u>{t}</u>" if r["changed"] else t)
    return "".join(out)


# ---- plain text ----------------------------------------------------------------------------

def _runs_text(runs: list[Run], marks: tuple[str, str]) -> str:
    return "".join(f"{marks[0]}{r.text}{marks[1]}" if r.op != "equal" else r.text
                   for r in runs).replace("\t", TAB)


def text_diff(d: Diff, old_side: str = "left") -> str:
    ctx = context(d, "text", old_side)
    o, n = ctx["old"], ctx["new"]
    lines = [f"新旧対照表 {d.title}（{d.document}）" + (f" {d.number}" if d.number else ""),
             f"  改正前: {o['version']}版（{o['effective_from']}（{o['effective_from_wareki']}）"
             f"〜{o['effective_until'] or ''}） — --from {o['date']}（{o['date_wareki']}）",
             f"  改正後: {n['version']}版（{n['effective_from']}（{n['effective_from_wareki']}）"
             f"〜{n['effective_until'] or ''}） — --to {n['date']}（{n['date_wareki']}）"]
    for e in d.enactment:
        lines.append(f"  {e['citation']}（{e['caption'] or ''}）: {e['text']}")
    lines.append("")
    lines.append("変更: " + "、".join(f"{label} {cnt}件" for k, label, cnt in ctx["counts"]
                                     if k not in ("unchanged", "omitted")))
    for c in listed_changes(d):
        where = c.citation_old or "（新設）"
        if c.citation_new != c.citation_old:
            where += f" → {c.citation_new or '（削る）'}"
        lines.append(f"[{KIND_LABELS[c.kind]}] {where}" +
                     (f" — {c.basis_ja}" if c.basis_ja else ""))
        if c.old is not None and (c.old_runs or c.kind in ("renumbered", "moved")):
            head = _runs_text(c.old_head_runs, ("[-", "-]"))
            lines.append(f"    - {head} {_runs_text(c.old_runs, ('[-', '-]'))}".rstrip())
        if c.new is not None and (c.new_runs or c.kind in ("renumbered", "moved")):
            head = _runs_text(c.new_head_runs, ("{+", "+}"))
            lines.append(f"    + {head} {_runs_text(c.new_runs, ('{+', '+}'))}".rstrip())
        cx = _cx(d, c)
        if cx:
            lines.append(f"    例: {cx}")
    if d.semantic:
        lines.append("")
        lines.append(f"判断が変わる事例（{len(ctx['witnesses'])}件、"
                     "すべてインタプリタで再検証済み）:")
        for w in ctx["witnesses"]:
            tag = "（一方が未確定）" if w["partial"] else \
                "（判断は同じ、根拠が異なる）" if w["same_decision"] else ""
            lines.append(f"  {w['n']}. {w['outcome']}{tag}")
            for f in w["facts"]:
                lines.append(f"       {_fact_text(f)}")
            for name, s in (("改正前", w["old"]), ("改正後", w["new"])):
                why = "、".join(s["grounds"] or s["undetermined"]) or "—"
                lines.append(f"     {name}: {s['value_ja']} {why}")
        lines.append("")
        lines.append(f"料金が変わる事例（{len(ctx['charge_witnesses'])}件、すべてインタプリタで"
                     "再検証済み）:")
        for cw in ctx["charge_witnesses"]:
            lines.append(f"  {cw['n']}. {cw['summary']}")
            for f in cw["facts"]:
                lines.append(f"       {_fact_text(f)}")
            for name, side in (("改正前", cw["old"]), ("改正後", cw["new"])):
                lines.append(f"     {name}: {side['amount']}" + "".join(
                    f"\n       {r}" for r in side["records"]))
        for ch in ctx["charges_not_compared"]:
            lines.append(f"  比較できなかった料金: {ch.label}（{ch.note_ja}）")
        lines.append("")
        lines.append("同値であることが証明されたもの:")
        for e in ctx["equivalent"]:
            lines.append(f"  - {e['kind_ja']} {e['name']}: {e['note_ja']}")
        lines.append("")
        lines.append("結果ごとの比較:")
        for oc in ctx["outcomes"]:
            lines.append(f"  - {oc['outcome']}: {oc['status_ja']}（事例 {oc['witnesses']}件）")
    for note in d.notes_ja:
        lines.append(f"注: {note}")
    return "\n".join(lines) + "\n"


def _fact_text(f: dict[str, Any]) -> str:
    """A witness fact in the text output: its Japanese label (the path when it has none),
    the value as a drafter reads it, （判断） for a judgment."""
    name = f"「{f['label']}」" if f["label"] else f["path"]
    where = f"  [{f['path']}]" if f["label"] else ""  # the path, to find it in the case file
    return f"{name} = {f['value']}" + ("（判断）" if f["judgment"] else "") + where


# ---- DOCX --------------------------------------------------------------------------------

def docx_bytes(d: Diff, old_side: str = "left") -> bytes:
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    ctx = _xml_data(context(d, "docx", old_side))
    doc = Document()
    # the same input gives the same bytes: fixed document properties and ZIP timestamps
    props = doc.core_properties
    props.author, props.last_modified_by, props.revision = "yakkan", "yakkan", 1
    props.title = _x(f"{d.title}　新旧対照表")
    props.created = props.modified = _FIXED_TIME
    sec = doc.sections[0]
    sec.orientation = WD_ORIENT.LANDSCAPE
    sec.page_width, sec.page_height = Mm(297), Mm(210)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(sec, side, Mm(15))
    normal = doc.styles["Normal"]
    normal.font.size = Pt(9.5)
    normal.font.name = "MS Mincho"
    rpr = normal.element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(rfonts)
    rfonts.set(qn("w:eastAsia"), "MS Mincho")

    doc.add_heading(_x(f"{d.title}　新旧対照表"), level=1)
    o, n = ctx["old"], ctx["new"]
    head = doc.add_paragraph()
    head.add_run(_x(f"{d.title}（{d.number or d.document}）\n"))
    head.add_run(f"改正前: {o['version']}版（{o['effective_from_wareki'] or ''}"
                 f"{'～' + o['effective_until_wareki'] if o['effective_until_wareki'] else ''}）"
                 f"　改正後: {n['version']}版（{n['effective_from_wareki'] or ''}～）\n")
    for e in d.enactment:
        head.add_run(_x(f"{e['citation']}（{e['caption'] or ''}）: {e['text']}\n"))
    head.add_run("（下線は改正部分。左右の欄: "
                 f"{ctx['left_label']}／{ctx['right_label']}）")

    table = doc.add_table(rows=1, cols=2)
    table.style = "Table Grid"
    hdr = table.rows[0].cells
    hdr[0].text = ctx["left_label"]
    hdr[1].text = ctx["right_label"]
    # the 改正前/改正後 heading repeats at the top of every printed page
    tr_pr = table.rows[0]._tr.get_or_add_trPr()
    tr_pr.append(tr_pr.makeelement(qn("w:tblHeader"), {qn("w:val"): "true"}))
    for row in ctx["rows"]:
        cells = table.add_row().cells
        for target, side_cell in ((cells[0], row["left"]), (cells[1], row["right"])):
            _docx_cell(target, side_cell, row["depth"])

    def facts(w: dict[str, Any]) -> str:
        return "\n".join(f"{f['label'] or f['path']} = {f['value']}" for f in w["facts"])

    def decision(s: dict[str, Any]) -> str:
        return f"{s['value_ja']}\n" + "、".join(s["grounds"] or s["undetermined"])

    _docx_witnesses(doc, "判断が変わる事例（インタプリタで再検証済み）",
                    ("結果", "事実", "改正前の判断と規定", "改正後の判断と規定"),
                    [(f"{w['n']}. {w['outcome']}", facts(w), decision(w["old"]),
                      decision(w["new"]))
                     for w in ctx["witnesses"]])
    _docx_witnesses(doc, "料金が変わる事例（インタプリタで再計算済み）",
                    ("料金", "事実", "改正前", "改正後"),
                    [(f"{w['n']}. {w['label']}", facts(w),
                      "\n".join([w["old"]["amount"], *w["old"]["records"]]),
                      "\n".join([w["new"]["amount"], *w["new"]["records"]]))
                     for w in ctx["charge_witnesses"]])
    if d.equivalences:
        doc.add_heading("文言のみの変更（同値の証明）", level=2)
        for e in d.equivalences:
            doc.add_paragraph(_x(f"{e.get('citation') or outcome_label(d, e['id'])}: "
                                 f"{e['note_ja']}"), style="List Bullet")
    if d.notes_ja:
        doc.add_heading("注", level=2)
        for note in d.notes_ja:
            doc.add_paragraph(_x(note), style="List Bullet")
    buf = io.BytesIO()
    doc.save(buf)
    return _fixed_zip(buf.getvalue())


def _docx_witnesses(doc: Any, heading: str, headers: tuple[str, ...],
                    rows: list[tuple[str, ...]]) -> None:
    """A heading and a table of witness cases (none: nothing)."""
    if not rows:
        return
    doc.add_heading(heading, level=2)
    t = doc.add_table(rows=1, cols=len(headers))
    t.style = "Table Grid"
    for i, h in enumerate(headers):
        t.rows[0].cells[i].text = h
    for r in rows:
        for c, text in zip(t.add_row().cells, r, strict=True):
            c.text = _x(text)


_FIXED_TIME = dt.datetime(2000, 1, 1)  # no clock in the output
# characters XML 1.0 cannot hold: C0 controls but tab, LF, CR; surrogates; U+FFFE, U+FFFF
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _x(s: str) -> str:
    """Text for a DOCX run: XML-illegal characters replaced visibly (`\\x1b`, `\\ud800`)."""
    return _XML_ILLEGAL.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                           else f"\\u{ord(m.group()):04x}", s)


def _xml_data(v: Any) -> Any:
    if isinstance(v, str):
        return _x(v)
    if isinstance(v, dict):
        return {k: _xml_data(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_xml_data(x) for x in v]
    return v


def _fixed_zip(data: bytes) -> bytes:
    """The ZIP `data` rewritten with every entry dated 1980-01-01 (python-docx stamps the
    time of saving), in the same order: byte-identical output for the same input."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            z = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            z.compress_type = zipfile.ZIP_DEFLATED
            z.external_attr = 0o644 << 16
            dst.writestr(z, src.read(info.filename))
    return out.getvalue()


def _docx_cell(target: Any, c: dict[str, Any], depth: int) -> None:
    from docx.shared import Pt
    p = target.paragraphs[0]
    p.paragraph_format.left_indent = Pt(8 * min(depth, 6))
    if c["marker"]:
        p.add_run(c["marker"])
        return
    if c["caption"] and c["block_caption"]:
        p.add_run("（")
        _add_runs(p, c["caption"])
        p.add_run("）")
        p = target.add_paragraph()
        p.paragraph_format.left_indent = Pt(8 * min(depth, 6))
    _add_runs(p, c["head"])
    if c["caption"] and not c["block_caption"]:
        p.add_run("　")
        _add_runs(p, c["caption"])
    if c["head"] and c["text"]:
        p.add_run("　")
    _add_runs(p, c["text"])


def _add_runs(p: Any, runs: list[dict[str, Any]]) -> None:
    for r in runs:
        run = p.add_run(r["text"])
        if r["changed"]:
            run.underline = True
