"""`yakkan batch --summary FILE.html`: a batch run (or an amendment's impact over a
portfolio, `--compare`) as one self-contained Japanese page — the counts (rows in = decided +
undetermined + rejected), each outcome's values, and the most frequent refusal grounds and
missing facts as bar charts drawn as inline SVG (no script, nothing loaded).

The engine gives the figures (`features/tables.Summary`, `features/batch.Comparison`) and
the document's names (`features/batch.SummaryLabels`); the words of a value come from
`core/labels.py`. Every string is autoescaped by the template."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from yakkan.engine.features.batch import Comparison, SummaryLabels
from yakkan.engine.features.tables import Summary, ranked
from yakkan.renderers.env import render
from yakkan.renderers.explanation import shown_value

ERROR_LABELS = {  # a rejected row's error code, in Japanese (the code is shown beside it)
    "case.invalid-fact": "事実の値が不正",
    "batch.bad-date": "評価日が日付でない",
    "batch.malformed-row": "行を読めない",
    "batch.not-in-version": "その版にない事実",
    "eval.no-version-in-force": "評価日に施行中の版がない",
}

# the bar chart's geometry (SVG user units)
LABEL_W, BAR_W, ROW_H, BAR_COUNT_W = 420, 300, 26, 90
LABEL_CHARS = 30  # a longer label is cut (with …); the whole label is its <title>


@dataclass
class Bar:
    key: str  # the code: a citation, a fact path, `outcome:value`
    label: str  # what a reader sees
    n: int
    y: int = 0
    width: float = 0.0
    short: str = ""


@dataclass
class Chart:
    id: str
    title: str
    bars: list[Bar]
    width: int = LABEL_W + BAR_W + BAR_COUNT_W
    height: int = 0
    label_w: int = LABEL_W
    row_h: int = ROW_H


def chart(id_: str, title: str, bars: list[Bar]) -> Chart:
    """Horizontal bars, longest = BAR_W, each with its label and count."""
    top = max((b.n for b in bars), default=0)
    for i, b in enumerate(bars):
        b.y = i * ROW_H
        b.width = round(BAR_W * b.n / top, 2) if top else 0.0
        b.short = _cut(b.label, LABEL_CHARS)
    return Chart(id_, title, bars, height=max(len(bars), 1) * ROW_H)


def value_ja(outcome: str, value: str, labels: SummaryLabels) -> str:
    """An outcome's value in Japanese, as explanations show it (a 承認 decision refuses as
    承認しない; a value with no wording is a `RenderError`)."""
    return shown_value(value, None, outcome in labels.approval).ja


def _outcome_ja(name: str, labels: SummaryLabels) -> str:
    return labels.outcomes.get(name, name)


def _fact_ja(path: str, labels: SummaryLabels) -> str:
    return labels.facts.get(path, path)


# ---- the terminal ------------------------------------------------------------------------------
# The same figures as the pages, as lines: Japanese first, each code (an outcome's, a value's,
# a fact's path, an error's) in （） after its name, as the output table's columns hold it.

COUNT_W = 10  # the counts' column (right-aligned, with thousands separators)
TEXT_LABEL_CHARS = 40  # a longer fact label is cut (with …); its path follows it in full


def _cut(label: str, n: int = TEXT_LABEL_CHARS) -> str:
    return label if len(label) <= n else label[: n - 1] + "…"


def summary_headline(s: Summary) -> str:
    """「入力 1,000行：判断 990・未確定 5・不受理（入力誤り） 5」 — the three add up to the rows."""
    return (f"入力 {s.rows:,}行：判断 {s.decided:,}・未確定 {s.undetermined:,}・"
            f"不受理（入力誤り） {s.rejected:,}")


def summary_text(s: Summary, labels: SummaryLabels, top: int = 10) -> str:
    """The summary `yakkan batch` prints after a run."""
    out = [summary_headline(s)]
    if s.values:
        out.append("\n判断対象ごとの結論:")
        last = None
        for (o, v), n in sorted(s.values.items()):
            if o != last:
                out.append(f"  {_outcome_ja(o, labels)}（{o}）")
                last = o
            out.append(f"  {n:>{COUNT_W},}  {value_ja(o, v, labels)}（{v}）")
    if s.grounds:
        out.append(f"\n承諾しない等の根拠（上位{top}件）:")
        out += [f"  {n:>{COUNT_W},}  {c} — {_outcome_ja(o, labels)}（{o}）"
                for (o, c), n in ranked(s.grounds, top)]
    if s.missing:
        out.append(f"\n不足している事実（上位{top}件）:")
        out += [f"  {n:>{COUNT_W},}  {_cut(_fact_ja(m, labels))}（{m}）"
                for m, n in ranked(s.missing, top)]
    if s.errors:
        out.append("\n不受理（入力誤り）の内訳:")
        out += [f"  {n:>{COUNT_W},}  {ERROR_LABELS.get(c, c)}（{c}）"
                for c, n in ranked(s.errors)]
    return "\n".join(out)


def comparison_text(c: Comparison, labels: SummaryLabels, top: int = 10) -> str:
    """What `yakkan batch --compare` prints: the rows whose outcome changes (they, those that
    do not and the rejected add up to the rows), per transition and per provision."""
    same = c.rows - c.changed - c.rejected
    out = [f"比較 {c.rows:,}行（{c.before}版 → {c.after}版）：結論が変わる {c.changed:,}・"
           f"変わらない {same:,}・不受理（入力誤り） {c.rejected:,}"]
    out.append("\n結論の変化:")
    out += [f"  {n:>{COUNT_W},}  {_outcome_ja(o, labels)}（{o}）: "
            f"{_side_ja(o, a, labels)}（{a}） → {_side_ja(o, b, labels)}（{b}）"
            for (o, a, b), n in ranked(c.transitions)] or ["  結論が変わる行はありません。"]
    if c.provisions:
        out.append(f"\n一方の版でのみ適用される条項（上位{top}件）:")
        out += [f"  {n:>{COUNT_W},}  {p}" for p, n in ranked(c.provisions, top)]
    return "\n".join(out)


def _side_ja(outcome: str, value: str, labels: SummaryLabels) -> str:
    """A value on one side of a comparison (`None`: the version has no such outcome)."""
    return "判断対象なし" if value == "None" else value_ja(outcome, value, labels)


# ---- the pages ---------------------------------------------------------------------------------

def summary_html(summary: Summary, labels: SummaryLabels, *, source: str, top: int = 10,
                 as_of: str | None = None) -> str:
    """The page of one batch run."""
    by_outcome: dict[str, list[dict[str, Any]]] = {}
    for (o, v), n in sorted(summary.values.items()):
        by_outcome.setdefault(o, []).append({"code": v, "ja": value_ja(o, v, labels), "n": n})
    outcomes = [{"name": o, "ja": _outcome_ja(o, labels), "values": vs,
                 "total": sum(x["n"] for x in vs)} for o, vs in by_outcome.items()]
    grounds = chart("grounds", f"承諾しない等の根拠（上位{top}件）", [
        Bar(f"{o}:{c}", f"{c}（{_outcome_ja(o, labels)}）", n)
        for (o, c), n in ranked(summary.grounds, top)])
    missing = chart("missing", f"不足している事実（上位{top}件）", [
        Bar(m, _fact_ja(m, labels), n) for m, n in ranked(summary.missing, top)])
    errors = [{"code": c, "ja": ERROR_LABELS.get(c, c), "n": n}
              for c, n in ranked(summary.errors)]
    return render("batch_summary.html.j2", mode="batch", labels=labels, source=source,
                  as_of=as_of, s=summary, outcomes=outcomes, charts=[grounds, missing],
                  errors=errors, top=top)


def comparison_html(cmp: Comparison, labels: SummaryLabels, *, source: str,
                    top: int = 10) -> str:
    """The page of `--compare`: the rows whose outcome changes, per transition and per
    provision."""
    per_outcome: dict[str, list[dict[str, Any]]] = {}
    for (o, a, b), n in ranked(cmp.transitions):
        per_outcome.setdefault(o, []).append(
            {"before": a, "after": b, "n": n,
             "before_ja": _side_ja(o, a, labels), "after_ja": _side_ja(o, b, labels)})
    transitions = [{"name": o, "ja": _outcome_ja(o, labels), "rows": rows,
                    "total": sum(r["n"] for r in rows)} for o, rows in per_outcome.items()]
    charts = [
        chart("transitions", "結論が変わる行（判断対象ごと）",
              sorted((Bar(t["name"], t["ja"], t["total"]) for t in transitions),
                     key=lambda b: -b.n)),
        chart("provisions", f"一方の版でのみ適用される条項（上位{top}件）",
              [Bar(c, c, n) for c, n in ranked(cmp.provisions, top)])]
    return render("batch_summary.html.j2", mode="compare", labels=labels, source=source,
                  as_of=None, c=cmp, transitions=transitions, charts=charts, top=top)
