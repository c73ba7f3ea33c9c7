"""The explanation as terminal text, Japanese first: the outcomes the case asks about in
full, every other outcome in one line.

Built from the same view as the Markdown and HTML pages (`explanation.explanation_view`), so
the three say the same thing in the same words: outcome names from the clause file, values,
requirement states and search results from `core/labels.py`, conditions in words.
"""

from __future__ import annotations

from typing import Any

import click

from yakkan.renderers.env import JUDGMENT_CLOSE, JUDGMENT_OPEN
from yakkan.renderers.explanation import GroundView, OutcomeView, explanation_view
from yakkan.renderers.terminal import safe_data

_COLOUR = {"good": "green", "warn": "yellow", "unknown": "yellow", "bad": "red"}


def _plain(s: str) -> str:
    return s.replace(JUDGMENT_OPEN, "").replace(JUDGMENT_CLOSE, "")


def text_report(data: dict[str, Any], color: bool = False) -> str:
    """The explanation as terminal text. Control characters of clause text and case values
    are shown escaped, before colour is added."""
    e = explanation_view(safe_data(data))

    def b(s: str) -> str:
        return click.style(s, bold=True) if color else s

    def c(s: str, tone: str) -> str:
        return click.style(s, fg=_COLOUR.get(tone, "yellow")) if color else s

    version = f"（{e.version} 版）" if e.version else ""
    lines = [b(f"{e.title}{version}"),
             f"基準日 {e.as_of_wareki}（{e.as_of}）  事例: {e.case_path}"]
    if e.case_title:
        lines.append(f"事例の題名: {e.case_title}")
    for n in e.notes:
        lines.append(c(f"注意: {n}", "warn"))
    if e.asked:
        lines.append("")
        lines.append(e.question + ":")
    for o in e.asked:
        lines.append("")
        lines.append(b(f"■ {o.label}: ") + c(o.value.ja, o.value.tone))
        lines.extend(_outcome_lines(o))
    if e.others:
        lines.append("")
        lines.append(b(f"その他の判断対象（{len(e.others)}）")
                     + " — 詳しくは --outcome に判断対象を指定:")
        for o in e.others:
            lines.append(f"  {o.label}: " + c(o.value.ja, o.value.tone) + f" — {o.summary}")
    if e.charges:
        lines.append("")
        total = e.charges.total + ("～" if e.charges.lower_bound else "")
        lines.append(b("料金") + f": 合計（税抜）{total} — 明細は yakkan charge で")
    return "\n".join(lines)


def _outcome_lines(o: OutcomeView) -> list[str]:
    out: list[str] = []
    if o.bounds:
        arms = [f"{'・'.join(cites)} が適用されれば {v.ja}" if cites else
                f"そうでなければ {v.ja}" for v, cites in o.bounds]
        out.append("  取りうる結論: " + "；".join(arms))
    for by, over in o.overrides:
        out.append(f"  {by.citation} は {over.citation} に優先します（前項の規定にかかわらず）")
    listed = [*o.grounds, *o.undetermined]
    for i, g in enumerate(listed):
        last = i == len(listed) - 1
        mark = "?" if g.state == "unknown" else "─"
        out.extend(_ground_lines(g, f"  {'└' if last else '├'}{mark} ",
                                 "    " if last else "  │ "))
    if o.missing:
        out.append("  判断に必要な事実（結論を変えうる不明な事実）:")
        for m in o.missing:
            tag = "（判断事項）" if m.judgment else ""
            out.append(f"    - {m.label or m.path}{tag}  [{m.path}]")
    else:
        out.append("  判断に必要な事実: ありません（この結論は事例の事実で決まっています）")
    if o.counterfactuals:
        out.append("  結論を変える変更（最小のもの。変更した事例を評価して確かめた）:")
        for cf in o.counterfactuals:
            ch = "、".join(f"{x.label or x.path}: {x.before} → {x.after}"
                          + ("（判断事項）" if x.judgment else "") for x in cf.changes)
            out.append(f"    - {ch}  ⇒ {cf.value.ja}" + (" ✓" if cf.verified else ""))
    else:
        out.append(f"  結論を変える変更: {o.search_note}")
    if o.met:
        out.append(f"  満たされている要件（{len(o.met)}）:")
        for g in o.met:
            scope = "" if g.condition_ja == "（無条件）" else f"（対象: {_plain(g.condition_ja)}）"
            out.append(f"    - {g.citation}: {_plain(g.requires_ja or '')}{scope}")
    if o.not_applicable:
        out.append(f"  適用されない根拠（{len(o.not_applicable)}）: "
                   + "、".join(g.citation for g in o.not_applicable))
    return out


def _ground_lines(g: GroundView, prefix: str, rail: str) -> list[str]:
    caption = f"（{g.caption}）" if g.caption else ""
    out = [f"{prefix}{g.citation}{caption} [{g.force_label}・{g.state_label}]"]
    pad = rail + " "
    out.append(f"{pad}「{g.text}」")
    if g.rule_text:
        out.append(f"{pad}  {g.rule_citation} の定めによる「{g.rule_text}」")
    if g.via:
        out.append(f"{pad}  {g.via} により準用")
    out.append(f"{pad}条件: {_plain(g.condition_ja)}")
    if g.requires_ja:
        out.append(f"{pad}要件: {_plain(g.requires_ja)}")
    for text, holds in g.unless_ja:
        out.append(f"{pad}ただし（除外）: {_plain(text)} — {holds}")
    for head, lines in g.records:
        out.append(f"{pad}{head}:")
        out.extend(f"{pad}  {line}" for line in lines)
    for f in g.facts:
        tag = "（判断事項）" if f.judgment else ""
        out.append(f"{pad}  {f.label or f.path} = {f.value}{tag}  [{f.path}]")
    for d in g.definitions:
        out.append(f"{pad}  {d.label or d.name} = {d.value}"
                   + (f"（{d.citation}）" if d.citation else ""))
    for r in g.relied_on:
        out.append(f"{pad}  依拠: {r.citation}" + ("（準用）" if r.relation == "mutatis" else ""))
    return out
