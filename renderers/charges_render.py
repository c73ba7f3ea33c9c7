"""Charges as a reader sees them — the terminal table (plain or rich, within the terminal's
width) and the Markdown/HTML pages — Japanese first, from one view (`charges_view`).

Every format shows the same things: the lines priced, each with its basis, the facts it read
(by label, with values in Japanese), its per-record breakdown (each call or number: taken or
not, and what it added) and the conventions it used; subtotals, tax per category, the total;
「～」 on every figure a lower-bound (「から」) price flows into — the line's tax-included
amount, its subtotal, its tax category and the totals. Lines still undetermined are listed
where the case gives a fact they read; those the case says nothing about are counted in one
line (a case about late interest is not a quote for the whole tariff), and so are the
conventions of lines never priced. Labels come from `core/labels.py` and the document's
vocabulary (the JSON's `vocabulary`, added by `yakkan charge`).
"""

from __future__ import annotations

import re
import shutil
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from yakkan.engine.core.labels import (
    CHARGE_STATUS_LABELS,
    PER_LABELS,
    PERIOD_LABELS,
    TAX_LABELS,
    show,
)
from yakkan.engine.core.money import format_jpy
from yakkan.engine.features.charges import PERIOD_OF, PERIODS
from yakkan.renderers.explanation import _condition_ja, encoded_condition
from yakkan.renderers.terminal import safe_data

HEADERS = ["項目", "根拠", "区分", "税抜", "税区分", "消費税", "税込"]
RIGHT = {3, 5, 6}
FLAG_LABELS = {"lower_bound": "下限額（～）", "quote": "別途お見積り", "error": "評価エラー",
               "no_amount": "金額の定めなし", "undetermined": "未確定",
               "tax_unstated": "税区分の記載なし"}


def _yen(s: Any) -> str:
    return "—" if s is None else format_jpy(Decimal(str(s)))


def _width(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in s)


def _pad(s: str, w: int, right: bool = False) -> str:
    gap = " " * max(w - _width(s), 0)
    return gap + s if right else s + gap


@dataclass
class Fact:
    path: str
    label: str
    value: str
    judgment: bool


@dataclass
class Line:
    name: str
    label: str
    citation: str
    row: str | None
    per: str
    status: str
    status_label: str
    amount: str  # before tax (税抜), as the subtotals add them; or 別途お見積り／未確定
    tax: str  # how the tariff states the amount (税別／税込／不課税)
    tax_amount: str
    with_tax: str
    flags: list[str]
    text: str | None
    formula: str | None
    condition: str
    condition_ja: str | None
    quote_condition: str | None
    facts: list[Fact]
    breakdown: list[str]
    missing: list[str]
    error: str | None
    assumptions: list[str]

    @property
    def cells(self) -> list[str]:
        return [self.label, self.citation, self.per, self.amount, self.tax, self.tax_amount,
                self.with_tax]


@dataclass
class ChargesView:
    title: str
    version: str | None
    as_of: str
    as_of_wareki: str
    case_path: str | None
    case_title: str | None
    lines: list[Line]
    undetermined: list[Line]  # the case gives a fact they read
    untouched: list[str]  # undetermined lines the case says nothing about (labels)
    not_applicable: list[tuple[str, str, str]]
    subtotals: list[tuple[str, str]]
    tax: list[tuple[str, str, str, str]]
    total: str
    total_with_tax: str
    notes: list[str]
    assumptions: list[str]
    untouched_assumptions: int = 0
    company_pays: list[Line] = field(default_factory=list)


class _Vocab:
    def __init__(self, d: dict[str, Any]):
        self.facts: dict[str, dict[str, Any]] = dict(
            (d.get("vocabulary") or {}).get("facts") or {})

    def entry(self, path: str) -> dict[str, Any]:
        path = path.split("[")[0]
        if path in self.facts:
            return self.facts[path]
        head, _, tail = path.rpartition(".")
        return (self.facts.get(head) or {}).get("fields", {}).get(tail) or {}

    def label(self, path: str) -> str:
        return str(self.entry(path).get("label") or path)

    def show(self, path: str, v: Any) -> str:
        e = self.entry(path)
        if isinstance(v, dict) and not (v.get("absent") is True and len(v) == 1):
            fields = e.get("fields") or {}
            return "、".join(f"{(fields.get(k) or {}).get('label') or k}: "
                            f"{show(x, (fields.get(k) or {}).get('type'), (fields.get(k) or {}).get('members'))}"
                            for k, x in v.items())
        return show(v, e.get("type"), e.get("members"))


_RECORD = re.compile(r"\[(\d+)\]$")


def record_name(label: str, path: str) -> str:
    """A record of a list as a person names it: counted from 1 (`calls[0]` → 「通話の1件目」);
    the JSON keeps the case file's path, counted from 0."""
    m = _RECORD.search(path)
    return f"{label}の{int(m[1]) + 1}件目" if m else label


def _line(ln: dict[str, Any], vocab: _Vocab, lower: bool = False) -> Line:
    flags = list(ln.get("flags") or [])
    lb = "～" if "lower_bound" in flags else ""
    status = str(ln.get("status") or "undetermined")
    if status == "quote":
        amount = "別途お見積り"
    elif ln.get("amount") is None:
        amount = "未確定"
    elif ln.get("amount_before_tax") is not None:
        amount = _yen(ln["amount_before_tax"]) + lb
    else:
        amount = _yen(ln["amount"]) + lb
    breakdown = []
    for b in ln.get("breakdown") or []:
        rec = vocab.show(b["path"], b["record"])
        took = f"⇒ {show(b['value'])}" if b["included"] else \
            ("⇒ 計上しない（この明細の条件を満たさない）" if b["included"] is False
             else "⇒ 計上するか不明")
        breakdown.append(f"{record_name(vocab.label(b['path']), b['path'])}: {rec} {took}")
    tax = str(ln.get("tax") or "")
    return Line(
        name=str(ln.get("name") or ""), label=str(ln.get("label") or ln.get("name") or "?"),
        citation=str(ln.get("citation") or ""), row=ln.get("row"),
        per=PER_LABELS.get(str(ln.get("per")), str(ln.get("per") or "")),
        status=status, status_label=CHARGE_STATUS_LABELS.get(status, status), amount=amount,
        tax=TAX_LABELS.get(tax, tax) or "税区分の記載なし",
        tax_amount=_yen(ln["tax_amount"]) + lb if ln.get("tax_amount") is not None else "",
        with_tax=_yen(ln["amount_with_tax"]) + lb if ln.get("amount_with_tax") is not None
        else "",
        flags=[FLAG_LABELS.get(f, f) for f in flags], text=ln.get("text"),
        formula=ln.get("formula") if status != "quote" else None,
        condition=encoded_condition(ln.get("condition")), quote_condition=ln.get("quote_condition"),
        condition_ja=_condition_ja(ln),
        facts=[Fact(p, vocab.label(p), vocab.show(p, v), p in (ln.get("judgments") or []))
               for p, v in (ln.get("facts") or {}).items()],
        breakdown=breakdown,
        missing=[vocab.label(str(m)) for m in ln.get("missing_facts") or []],
        error=ln.get("error"), assumptions=list(ln.get("assumptions") or []))


def charges_view(d: dict[str, Any]) -> ChargesView:
    """The charge JSON (`yakkan charge --format json`) as what every format shows."""
    vocab = _Vocab(d)
    lines = [_line(ln, vocab) for ln in d.get("lines") or []]
    touched: list[dict[str, Any]] = []
    untouched: list[dict[str, Any]] = []
    for ln in d.get("undetermined") or []:
        given = any(v is not None for v in (ln.get("facts") or {}).values())
        (touched if given or ln.get("error") else untouched).append(ln)
    lower = [ln for ln in d.get("lines") or [] if "lower_bound" in (ln.get("flags") or [])]
    lb_periods = {PERIOD_OF.get(str(ln.get("per")), "other") for ln in lower}
    lb_taxes = {str(ln.get("tax")) for ln in lower}
    lb = "～" if d.get("total_is_lower_bound") else ""
    priced = {a for ln in d.get("lines") or [] for a in ln.get("assumptions") or []}
    unpriced = {a for ln in d.get("undetermined") or [] for a in ln.get("assumptions") or []}
    shown = [a for a in d.get("assumptions") or [] if a in priced or a not in unpriced]
    case = d.get("case") or {}
    return ChargesView(
        title=str(d.get("title") or ""), version=d.get("version"),
        as_of=str(d.get("as_of") or ""), as_of_wareki=str(d.get("as_of_wareki") or ""),
        case_path=case.get("path"), case_title=case.get("title"),
        lines=lines, undetermined=[_line(ln, vocab) for ln in touched],
        untouched=[str(ln.get("label") or ln.get("name")) for ln in untouched],
        not_applicable=[(str(x.get("label") or x.get("name")), str(x.get("citation") or ""),
                         str(x.get("condition") or "")) for x in d.get("not_applicable") or []],
        subtotals=[(PERIOD_LABELS.get(k, k),
                    _yen(d["subtotals"][k]) + ("～" if k in lb_periods else ""))
                   for k in PERIODS if str((d.get("subtotals") or {}).get(k, "0")) != "0"],
        tax=[(cat, _yen(t["base"]) + ("～" if cat in lb_taxes else ""), _yen(t["tax"])
              + ("～" if cat in lb_taxes else ""),
              _yen(t["with_tax"]) + ("～" if cat in lb_taxes else ""))
             for cat, t in (d.get("tax") or {}).items()],
        total=_yen(d.get("total")) + lb, total_with_tax=_yen(d.get("total_with_tax")) + lb,
        notes=_total_note(d), assumptions=shown,
        untouched_assumptions=len([a for a in d.get("assumptions") or [] if a not in shown]),
        company_pays=[_line(ln, vocab) for ln in d.get("company_pays") or []])


def _total_note(d: dict[str, Any]) -> list[str]:
    out = []
    if d.get("total_is_lower_bound"):
        out.append("下限額（～）: 「から」の料金を含むため、これを含む金額はすべて下限です")
    if d.get("lines") and any(ln["status"] == "quote" for ln in d["lines"]):
        out.append("別途お見積りの項目あり: 確定額ではありません")
    if not d.get("complete", True):
        out.append("未確定の項目あり（合計に含まれていません）")
    for w in d.get("warnings") or []:
        out.append(f"重複: {w['record']} を {'、'.join(w['lines'])} の複数の行が計上しています")
    return out


# ---- text ---------------------------------------------------------------------------------

def _table(rows: list[list[str]], width: int | None) -> list[str]:
    """The lines table; within `width` columns when given: the label and citation columns
    share what the figures leave, and wrap onto continuation lines."""
    widths = [max([_width(h)] + [_width(r[i]) for r in rows]) for i, h in enumerate(HEADERS)]
    if width is not None and sum(widths) + 2 * (len(widths) - 1) > width:
        room = width - sum(widths[2:]) - 2 * (len(widths) - 1)
        label = min(widths[0], max(12, room * 2 // 5))
        widths[0], widths[1] = label, min(widths[1], max(12, room - label))

    def wrap(s: str, w: int) -> list[str]:
        out, cur = [], ""
        for ch in s:
            if _width(cur + ch) > w and cur:
                out.append(cur)
                cur = ""
            cur += ch
        return [*out, cur]

    def fmt(r: list[str]) -> list[str]:
        cells = [wrap(c, widths[i]) if i in (0, 1) else [c] for i, c in enumerate(r)]
        height = max(len(c) for c in cells)
        return ["  ".join(_pad(c[k] if k < len(c) else "", widths[i], i in RIGHT)
                          for i, c in enumerate(cells)).rstrip() for k in range(height)]
    out = fmt(HEADERS)
    out.append("  ".join("-" * w for w in widths))
    for r in rows:
        out.extend(fmt(r))
    return out


def text_table(d: dict[str, Any], width: int | None = None) -> str:
    """The report as plain text (no colour, no box drawing): lines, subtotals, tax, total;
    the table within `width` columns when given (a file or a pipe has no width: none).
    Control characters of clause text and case values are shown escaped."""
    v = charges_view(safe_data(d))
    version = f"（{v.version} 版）" if v.version else ""
    out = [f"料金明細 — {v.title}{version}", f"基準日 {v.as_of_wareki}（{v.as_of}）"]
    if v.case_path:
        out.append(f"事例: {v.case_path}" + (f" — {v.case_title}" if v.case_title else ""))
    out.append("")
    out.extend(_table([ln.cells for ln in v.lines], width))
    out.append("")
    out.extend(_rest(v))
    return "\n".join(out)


def _rest(v: ChargesView) -> list[str]:
    """Everything after the table: undetermined lines, details, subtotals, tax, total."""
    out = []
    out.extend(_undetermined_lines(v))
    for ln in v.lines:
        out.extend(_detail_lines(ln))
    out.append("小計（税抜）:")
    for label, amount in v.subtotals:
        out.append(f"  {label}: {amount}")
    out.append("消費税:")
    for cat, base, tax, with_tax in v.tax:
        out.append(f"  {cat}: 対象（税抜） {base}  消費税 {tax}  計（税込） {with_tax}")
    out.append(f"合計（税抜）: {v.total}")
    out.append(f"合計（税込）: {v.total_with_tax}")
    for n in v.notes:
        out.append(f"  ※ {n}")
    if v.assumptions:
        out.append("前提（文書に明記のない取扱い）:")
        out.extend(f"  - {a}" for a in v.assumptions)
    return out


def _undetermined_lines(v: ChargesView) -> list[str]:
    if not v.undetermined and not v.untouched:
        return []
    out = [f"未確定（合計に含まれていません）: {len(v.undetermined) + len(v.untouched)}件"]
    for ln in v.undetermined:
        need = "、".join(ln.missing) or "—"
        extra = f"；評価エラー: {ln.error}" if ln.error else ""
        out.append(f"  - {ln.label}（{ln.citation}）: 判断に必要な事実: {need}{extra}")
    if v.untouched:
        out.append(f"  - ほか{len(v.untouched)}件は、この事例に記載のない事実によります"
                   "（この事例が問う料金ではありません）")
    out.append("")
    return out


def _detail_lines(ln: Line) -> list[str]:
    head = f"■ {ln.label} — {ln.citation}"
    if ln.row and ln.row != ln.citation:
        head += f"（{ln.row}）"
    out = [head]
    if ln.text:
        out.append(f"  「{ln.text}」")
    if ln.flags:
        out.append("  " + "・".join(ln.flags))
    if ln.formula:
        out.append(f"  符号化された金額の式: {ln.formula}")
    if ln.condition_ja:
        out.append(f"  条件（この事例の値）: {ln.condition_ja}")
    if ln.quote_condition:
        out.append(f"  別途お見積りの条件: {ln.quote_condition}")
    for f in ln.facts:
        tag = "（判断事項）" if f.judgment else ""
        out.append(f"    {f.label} = {f.value}{tag}  [{f.path}]")
    for b in ln.breakdown:
        out.append(f"    {b}")
    if ln.missing:
        out.append("  判断に必要な事実: " + "、".join(ln.missing))
    if ln.error:
        out.append(f"  評価エラー: {ln.error}")
    for a in ln.assumptions:
        out.append(f"  前提: {a}")
    out.append("")
    return out


def rich_table(d: dict[str, Any], width: int | None = None) -> str:
    """The report for a terminal: a rich table within the terminal's width, then the same
    details and totals as the plain text."""
    import io

    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    v = charges_view(safe_data(d))  # every cell a Text: `[red]` in a clause text is no markup
    width = width or shutil.get_terminal_size((100, 24)).columns
    version = f"（{v.version} 版）" if v.version else ""
    t = Table(title=Text(f"料金明細 — {v.title}{version} 基準日 {v.as_of_wareki}"))
    for i, h in enumerate(HEADERS):
        t.add_column(h, justify="right" if i in RIGHT else "left",
                     no_wrap=i in RIGHT or i == 2, overflow="fold")
    for ln in v.lines:
        t.add_row(*(Text(c) for c in ln.cells))
    buf = io.StringIO()
    Console(file=buf, force_terminal=True, width=width).print(t)
    return buf.getvalue().rstrip("\n") + "\n\n" + "\n".join(_rest(v))


def render_charges(d: dict[str, Any], fmt: str) -> str:
    """The report as `md` or `html`, from the templates charges.md.j2 / charges.html.j2,
    through the one renderers Environment (autoescape for html, strict undefined)."""
    from yakkan.renderers.env import render

    if fmt not in ("md", "html"):
        raise ValueError(f"no template for format {fmt!r}")
    return render(f"charges.{fmt}.j2", v=charges_view(d))
