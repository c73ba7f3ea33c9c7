"""Charges as a reader sees them: the terminal table (plain or rich) and the Markdown/HTML pages."""

from __future__ import annotations

import unicodedata
from decimal import Decimal
from typing import Any

from yakkan.engine.core.money import format_jpy
from yakkan.engine.features.charges import PER_LABELS, PERIOD_LABELS, PERIODS, display_values
from yakkan.engine.syntax.exprtext import show_value
from yakkan.renderers.terminal import safe_data

HEADERS = ["項目", "根拠", "区分", "金額", "税区分", "消費税", "税込"]


def _show(v: Any) -> str:
    """`show_value` with whole Decimals as integers (50000, not 5E+4)."""
    return show_value(display_values({"v": v})["v"])


def _yen(s: str | None) -> str:
    return "—" if s is None else format_jpy(Decimal(s))


def _width(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in s)


def _pad(s: str, w: int, right: bool = False) -> str:
    gap = " " * max(w - _width(s), 0)
    return gap + s if right else s + gap


def _status_text(ln: dict[str, Any]) -> str:
    if ln["status"] == "quote":
        return "別途お見積り"
    if ln["status"] == "undetermined":
        return "未確定"
    if ln["status"] == "error":
        return "評価エラー"
    return ""


def _amount_cell(ln: dict[str, Any]) -> str:
    if ln["status"] == "quote":
        return "別途お見積り"
    if ln["amount"] is None:
        return "未確定"
    s = _yen(ln["amount"])
    return s + "～" if "lower_bound" in ln["flags"] else s


def _total_note(d: dict[str, Any]) -> list[str]:
    out = []
    if d["total_is_lower_bound"]:
        out.append("下限額（～）: 「から」の料金を含む")
    if d["lines"] and any(ln["status"] == "quote" for ln in d["lines"]):
        out.append("別途お見積りの項目あり: 確定額ではありません")
    if not d["complete"]:
        out.append("未確定の項目あり（合計に含まれていません）")
    for w in d.get("warnings", []):
        out.append(f"重複: {w['record']} を {'、'.join(w['lines'])} の複数の行が計上しています")
    return out


def _rows(d: dict[str, Any]) -> list[list[str]]:
    rows = []
    for ln in d["lines"]:
        rows.append([ln["label"] or ln["name"], ln["citation"],
                     PER_LABELS.get(ln["per"] or "", ln["per"] or ""),
                     _amount_cell(ln), ln["tax"] or "?",
                     _yen(ln["tax_amount"]) if ln["tax_amount"] is not None else "",
                     _yen(ln["amount_with_tax"]) if ln["amount_with_tax"] is not None else ""])
    return rows


def text_table(d: dict[str, Any]) -> str:
    """The report as plain text (no colour, no box drawing): lines, subtotals, tax, total.
    Control characters of clause text and case values are shown escaped."""
    d = safe_data(d)
    rows = _rows(d)
    widths = [max([_width(h)] + [_width(r[i]) for r in rows]) for i, h in enumerate(HEADERS)]
    right = {3, 5, 6}

    def fmt(r: list[str]) -> str:
        return "  ".join(_pad(c, widths[i], i in right) for i, c in enumerate(r)).rstrip()

    out = [f"{d['title']} ({d['document']} version {d['version']})",
           f"as of {d['as_of']}（{d['as_of_wareki']}）", ""]
    out.append(fmt(HEADERS))
    out.append("  ".join("-" * w for w in widths))
    out.extend(fmt(r) for r in rows)
    out.append("")
    out.extend(_undetermined_lines(d))
    out.extend(_detail_lines(d))
    out.append("小計:")
    for k in PERIODS:
        if d["subtotals"][k] != "0":
            out.append(f"  {PERIOD_LABELS[k]}（{k}）: {_yen(d['subtotals'][k])}")
    out.append("消費税:")
    for cat, t in d["tax"].items():
        out.append(f"  {cat}: 対象 {_yen(t['base'])}  消費税 {_yen(t['tax'])}  "
                   f"計 {_yen(t['with_tax'])}")
    lb = "～" if d["total_is_lower_bound"] else ""
    out.append(f"合計（税抜）: {_yen(d['total'])}{lb}")
    out.append(f"合計（税込）: {_yen(d['total_with_tax'])}{lb}")
    for n in _total_note(d):
        out.append(f"  ※ {n}")
    if d["assumptions"]:
        out.append("前提（文書に明記のない取扱い）:")
        out.extend(f"  - {a}" for a in d["assumptions"])
    return "\n".join(out)


def _undetermined_lines(d: dict[str, Any]) -> list[str]:
    if not d["undetermined"]:
        return []
    out = [f"未確定（合計に含まれていません）: {len(d['undetermined'])}件"]
    for ln in d["undetermined"]:
        need = ", ".join(ln["missing_facts"]) or "—"
        extra = f"; error: {ln['error']}" if ln["error"] else ""
        out.append(f"  - {ln['label'] or ln['name']}（{ln['citation']}）: still needed: "
                   f"{need}{extra}")
    out.append("")
    return out


def _detail_lines(d: dict[str, Any]) -> list[str]:
    out = []
    for ln in d["lines"]:
        head = f"■ {ln['label'] or ln['name']} — {ln['citation']}"
        if ln["row"] and ln["row"] != ln["citation"]:
            head += f"（{ln['row']}）"
        out.append(head)
        if ln["text"]:
            out.append(f"  「{ln['text']}」")
        if ln["formula"] and ln["status"] != "quote":
            out.append(f"  amount: {ln['formula']}")
        out.append(f"  condition: {ln['condition']}")
        if ln["quote_condition"]:
            out.append(f"  quote when: {ln['quote_condition']}")
        for p, v in ln["facts"].items():
            tag = " (judgment)" if p in ln["judgments"] else ""
            out.append(f"    {p} = {_show(v)}{tag}")
        for b in ln["breakdown"]:
            rec = ", ".join(f"{k}={_show(v)}" for k, v in b["record"].items()) \
                if isinstance(b["record"], dict) else _show(b["record"])
            took = "→ " + _show(b["value"]) if b["included"] else \
                ("（対象外）" if b["included"] is False else "→ unknown")
            out.append(f"    {b['path']}: {rec} {took}")
        if ln["missing_facts"]:
            out.append("  still needed: " + ", ".join(ln["missing_facts"]))
        if ln["error"]:
            out.append(f"  error: {ln['error']}")
        for a in ln["assumptions"]:
            out.append(f"  前提: {a}")
        out.append("")
    return out


def rich_table(d: dict[str, Any]) -> str:
    """The report for a terminal: a rich table, then the same details and totals."""
    import io

    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    d = safe_data(d)  # and every cell a Text: `[red]` in a clause text is not rich markup
    t = Table(title=Text(f"{d['title']} — as of {d['as_of']}（{d['as_of_wareki']}）"))
    for i, h in enumerate(HEADERS):
        t.add_column(h, justify="right" if i in (3, 5, 6) else "left")
    for r in _rows(d):
        t.add_row(*(Text(c) for c in r))
    buf = io.StringIO()
    Console(file=buf, force_terminal=True, width=140).print(t)
    plain = text_table(d).split("\n")
    rest = plain[3 + 2 + len(_rows(d)):]  # header, rule and rows are in the table
    return buf.getvalue().rstrip("\n") + "\n" + "\n".join(rest)


def render_charges(d: dict[str, Any], fmt: str) -> str:
    """The report as `md` or `html`, from the templates charges.md.j2 / charges.html.j2,
    through the one renderers Environment (autoescape for html, strict undefined)."""
    from yakkan.renderers.env import environment, md_escape

    if fmt not in ("md", "html"):
        raise ValueError(f"no template for format {fmt!r}")
    env = environment()
    env.filters["yen"] = _yen
    env.filters["mdcell"] = md_escape  # HTML, `|`, link syntax, every line break
    env.filters["value"] = _show
    tmpl = env.get_template(f"charges.{fmt}.j2")
    return tmpl.render(d=d, amount_cell=_amount_cell, per_labels=PER_LABELS,
                       period_labels=PERIOD_LABELS, periods=PERIODS, notes=_total_note(d))
