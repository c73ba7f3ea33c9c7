"""The explanation as terminal text: the outcomes a case is about in full, the rest in a line."""

from __future__ import annotations

from typing import Any

import click

from yakkan.engine.syntax.exprtext import show_value
from yakkan.renderers.terminal import safe_data

_VALUE_JA = {
    "accept": "承諾（accept）", "approve": "承認（approve）", "may_refuse": "承諾しないことがある"
    "（may_refuse）", "refuse": "承諾しない（refuse）", "undetermined": "未確定（undetermined）",
    "not_applicable": "該当なし（not_applicable）", "may": "することがある（may）",
    "deemed": "みなす（deemed）", "duty": "義務あり（duty）", "prohibited": "禁止（prohibited）",
    "requirement_unmet": "要件不充足（requirement_unmet）", "permission": "できる（permission）",
    "exemption": "免責（exemption）", "declaration": "宣言（declaration）",
}


_SEARCH_NONE = {
    "none": "no change of at most {max_changes} facts turns it (all {tried} tried)",
    "budget": "none found within the search budget ({budget} cases evaluated)",
    "nothing_to_change": "nothing to change: its grounds read no fact of the case",
}


def text_report(data: dict[str, Any], color: bool = False, full: bool = False) -> str:
    """The explanation as terminal text; `full` shows every outcome in `data` in full (the
    user named them with --outcome). Control characters of clause text and case values are
    shown escaped, before colour is added."""
    data = safe_data(data)

    def b(s: str) -> str:
        return click.style(s, bold=True) if color else s

    def c(s: str, col: str) -> str:
        return click.style(s, fg=col) if color else s

    lines = [b(f"{data['title']} ({data['document']} version {data['version']})"),
             f"as of {data['as_of']}（{data['as_of_wareki']}）  case: {data['case']['path']}"]
    shown: list[dict[str, Any]] = []
    quiet: list[dict[str, Any]] = []
    for o in data["outcomes"]:
        (shown if full or about_case(o) else quiet).append(o)
    for w in data.get("warnings", []):
        lines.append(c(f"warning: {w['message']}", "yellow"))
    for o in shown:
        val = o["value"]
        col = "green" if val in ("accept", "approve", "not_applicable") else \
            "yellow" if val in ("undetermined", "may_refuse", "may") else "red"
        lines.append("")
        lines.append(b(f"{o['name']}: ") + c(_VALUE_JA.get(val, val), col))
        if val == "undetermined" and o.get("open"):
            arms = [f"{_VALUE_JA.get(x['value'], x['value'])} if "
                    + ("any of " if len(x["grounds"]) > 1 else "")
                    + "・".join(g["citation"] for g in x["grounds"]) + " applies"
                    if x["grounds"] else f"else {_VALUE_JA.get(x['value'], x['value'])}"
                    for x in o["open"]]
            lines.append("  one of: " + "; ".join(arms))
        for ov in o["overrides"]:
            lines.append(f"  {ov['by']} overrides {ov['over']}（前項の規定にかかわらず）")
        listed = [(g, "─") for g in o["grounds"]] + [(g, "?") for g in o["undetermined"]]
        for i, (g, mark) in enumerate(listed):
            last = i == len(listed) - 1
            lines.extend(_ground_lines(g, f"  {'└' if last else '├'}{mark} ",
                                       "    " if last else "  │ "))
        if o["missing_facts"]:
            lines.append("  still needed:")
            for m in o["missing_facts"]:
                tag = " (judgment)" if m["judgment"] else ""
                lines.append(f"    - {m['path']}{tag}: {m['label'] or ''}")
        if o["counterfactuals"]:
            lines.append("  would change with:")
            for cf in o["counterfactuals"]:
                ch = ", ".join(f"{x['path']}: {show_value(x['from'])} → {show_value(x['to'])}"
                               + (" (judgment)" if x.get("judgment") else "")
                               for x in cf["changes"])
                lines.append(f"    - {ch}  ⇒ {cf['value']}")
        search = o.get("counterfactual_search") or {}
        if search.get("status") in _SEARCH_NONE:
            lines.append("  would change with: " + _SEARCH_NONE[search["status"]].format(**search))
        if o["not_applicable"]:
            lines.append(f"  not applicable ({len(o['not_applicable'])}): "
                         + ", ".join(g["citation"] for g in o["not_applicable"]))
    if quiet:
        lines.append("")
        lines.append(b("other outcomes") + " — unconditional, or no facts given for them "
                     "(--outcome NAME or --format json shows them in full):")
        for o in quiet:
            lines.append(f"  {o['name']}: {o['value']}"
                         + (f" — needs {', '.join(m['path'] for m in o['missing_facts'][:4])}"
                            + ("…" if len(o["missing_facts"]) > 4 else "")
                            if o["missing_facts"] else ""))
    if data.get("charges"):
        lines.append("")
        lines.append(b("charges: see `yakkan charge`"))
    return "\n".join(lines)


def about_case(o: dict[str, Any]) -> bool:
    """An outcome the case is about: an application decision, an effect that applies on
    the case's facts (not unconditionally), or an undetermined one for which the case gives
    some of the facts its grounds read."""
    if o["kind"] == "application":
        return True
    if any(g["facts"] for g in o["grounds"]):  # applies because of what the case says
        return True
    if o["value"] == "undetermined":
        return any(v is not None for g in o["undetermined"] for v in g["facts"].values())
    return False


def _ground_lines(g: dict[str, Any], prefix: str, rail: str) -> list[str]:
    out = [f"{prefix}{g['citation']}（{g['caption'] or ''}） [{g['force']}: {g['force_label']}]"]
    pad = rail + " "
    out.append(f"{pad}「{g['text']}」")
    if g.get("rule_text"):
        out.append(f"{pad}  under {g['rule_citation']}「{g['rule_text']}」")
    out.append(f"{pad}condition: {g['condition']}")
    for p, v in g["facts"].items():
        tag = " (judgment)" if p in g["judgments"] else ""
        out.append(f"{pad}  {p} = {show_value(v)}{tag}")
    for d in g["definitions"]:
        out.append(f"{pad}  {d['label'] or d['name']} = {show_value(d['value'])}"
                   + (f"（{d['citation']}）" if d["citation"] else ""))
    for r in g["relied_on"]:
        out.append(f"{pad}  relies on {r['citation']}")
    return out
