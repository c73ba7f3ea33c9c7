"""explain: a Result as a justification a reviewer reads — and as stable JSON.

JSON (documented in the README): top level `document`, `version`, `as_of`, `outcomes`;
each outcome `name`, `value`, `grounds`, `not_applicable`, `undetermined`,
`missing_facts`, `counterfactuals`, `overrides`; each ground `id`, `citation`, `text`,
`force`, `condition` (with the case's values substituted), `facts` (path → value),
`judgments`, `definitions` and `relied_on`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from yakkan.engine.ast import FORCE_LABELS
from yakkan.engine.case import case_header, facts_dict, read_case_data, validate_facts
from yakkan.engine.counterfactual import counterfactuals
from yakkan.engine.diagnostics import Diagnostic, YakkanError, did_you_mean
from yakkan.engine.evaluate import Evaluator, GroundResult, OutcomeResult, Result, evaluate
from yakkan.engine.exprtext import show_value, to_text
from yakkan.engine.ir import Ref, walk
from yakkan.engine.numerals import to_wareki
from yakkan.engine.resolve import Rulebook
from yakkan.engine.rulebooks import rulebook_for, versions
from yakkan.engine.values import jsonable

DEFAULT_AS_OF = dt.date.today
# effects for which "what would change it" is asked (besides application decisions)
CF_EFFECTS = ("requirement_unmet", "refuse", "prohibited")


@dataclass
class Prepared:
    """A case ready to evaluate: its rulebook (the version in force), facts and date."""

    path: str
    book: Rulebook
    facts: dict[str, Any]
    as_of: dt.date
    title: str | None
    expect: dict[str, Any] | None


def prepare(case_path: str, doc: str | None = None, as_of: dt.date | None = None) -> Prepared:
    """Read and validate a case file; pick the version in force. Every error of the file is
    reported at once (exit 2): the case's own fields, then its facts against the version."""
    data, text = read_case_data(case_path)
    sources = {case_path: text}
    case, diags = case_header(data, case_path, text)
    raw_doc = data.get("document")
    doc_id = doc or (case.document if case else raw_doc if isinstance(raw_doc, str) else None)
    if doc_id is None:
        raise YakkanError(diags, sources=sources)
    bad_date = case is None and any(d.message.startswith("`as_of`") for d in diags)
    when = as_of or (case.as_of if case else None)
    try:
        book = rulebook_for(doc_id, when or (None if bad_date else DEFAULT_AS_OF()))
    except YakkanError as e:
        raise YakkanError([*diags, *e.diagnostics], sources=sources) from None
    when = when or DEFAULT_AS_OF()
    facts: dict[str, Any] = {}
    try:
        facts = facts_dict(validate_facts(book, data.get("facts") or {}, case_path, text))
    except YakkanError as e:
        diags += _version_hints(e.diagnostics, doc_id, book, when)
    if diags:
        raise YakkanError(diags, sources=sources)
    assert case is not None
    return Prepared(case_path, book, facts, when, case.title, case.expect)


def _version_hints(diags: list[Diagnostic], doc_id: str, book: Rulebook,
                   when: dt.date) -> list[Diagnostic]:
    """An unknown fact that another version declares says so: the date picked the version."""
    others = [b for b in versions(doc_id) if b is not book]
    for d in diags:
        if d.code != "case.unknown-field":
            continue
        m = re.match(r"unknown field `facts\.([^`]+)`", d.message)
        path = re.sub(r"\.\d+\.", ".", m.group(1)) if m else ""
        for b in others:
            if path in b.facts or path.split(".")[0] in b.facts:
                h = b.doc.header
                d.hint = (f"`{path}` is a fact of version {h.version} (in force from "
                          f"{h.effective_from}); {when} selects version "
                          f"{book.doc.header.version}, which has no such fact")
                break
    return diags


def _labels(book: Rulebook) -> Any:
    def label(name: str) -> str | None:
        if name in book.facts:
            return book.facts[name].label
        if name in book.definitions:
            return book.definitions[name][0].label
        return None
    return label


def ground_json(book: Rulebook, r: GroundResult) -> dict[str, Any]:
    g = r.ground
    prov = book.provisions[g.id]
    rule_prov = book.provisions[g.rule_pid]
    conds = [*g.when]
    cond_text = " and ".join(to_text(c, r.values) for c in conds) or "true"
    if g.requires is not None:
        met = {True: "met", False: "unmet", None: "unknown"}[r.requires_value]
        cond_text += f" requires {to_text(g.requires, r.values)} ⇒ {met}"
    for u, uv in zip(g.unless, r.unless_values, strict=True):
        holds = {True: "holds", False: "does not hold", None: "unknown"}[uv]
        cond_text += f" unless {to_text(u, r.values)} ⇒ {holds}"
    label = _labels(book)
    return {
        "id": g.id,
        "citation": g.citation,
        "caption": book.caption_of(g.id),
        "text": prov.text,
        "rule_citation": rule_prov.citation,
        "rule_text": rule_prov.text if g.rule_pid != g.id else None,
        "force": g.force,
        "force_label": FORCE_LABELS.get(g.force, g.force),
        "applies": r.applies,
        "condition": cond_text,
        "condition_ja": " かつ ".join(to_text(c, r.values, label) for c in conds) or "（無条件）",
        "facts": {p: jsonable(v) for p, v in r.facts.items()},
        "fact_labels": {p: book.facts[p].label for p in r.facts if p in book.facts},
        "judgments": [p for p in r.facts if p in book.facts and book.facts[p].judgment],
        "definitions": [
            {"name": n, "label": book.definitions[n][0].label,
             "citation": book.cite(w) if w else None, "value": jsonable(r.values.get(n))}
            for n, w in r.definitions.items()],
        "relied_on": [{"id": t, "citation": book.cite(t)} for t in dict.fromkeys(r.relied_on)]
        + ([{"id": g.via, "citation": book.cite(g.via), "relation": "mutatis"}] if g.via else []),
        "via": book.cite(g.via) if g.via else None,
    }


def outcome_json(book: Rulebook, o: OutcomeResult, cfs: list[Any]) -> dict[str, Any]:
    return {
        "name": o.name,
        "value": o.value,
        "kind": o.kind,
        "grounds": [ground_json(book, r) for r in o.grounds],
        "base": [ground_json(book, r) for r in o.base],
        "not_applicable": [ground_json(book, r) for r in o.not_applicable],
        "undetermined": [ground_json(book, r) for r in o.undetermined],
        "missing_facts": [
            {"path": p, "label": book.facts[p].label if p in book.facts else None,
             "judgment": bool(p in book.facts and book.facts[p].judgment)}
            for p in o.missing_facts],
        "overrides": [{"by": book.cite(a), "over": book.cite(b)} for a, b in o.overrides],
        "counterfactuals": [
            {"changes": [{"path": c.path, "from": jsonable(c.before), "to": jsonable(c.after),
                          "label": book.facts[c.path].label if c.path in book.facts else None}
                         for c in cf.changes],
             "value": cf.value, "verified": cf.verified}
            for cf in cfs],
    }


def explain_result(p: Prepared, result: Result, with_counterfactuals: bool = True) -> \
        dict[str, Any]:
    book = p.book
    h = book.doc.header
    outs = []
    ordered = sorted(result.outcomes.values(), key=lambda o: o.kind != "application")
    for o in ordered:
        wanted = o.kind == "application" or o.value in CF_EFFECTS
        cfs = counterfactuals(book, p.facts, p.as_of, o) if with_counterfactuals and wanted \
            else []
        outs.append(outcome_json(book, o, cfs))
    doc: dict[str, Any] = {
        "warnings": overlapping_classes(book, p.facts, p.as_of),
        "document": h.id,
        "title": h.title,
        "version": h.version,
        "effective": {"from": jsonable(h.effective_from), "until": jsonable(h.effective_until)},
        "as_of": p.as_of.isoformat(),
        "as_of_wareki": to_wareki(p.as_of),
        "case": {"path": p.path, "title": p.title, "facts": jsonable(p.facts)},
        "outcomes": outs,
    }
    from yakkan.engine.charges import charges_json  # charges imports explain's prepare
    doc["charges"] = charges_json(p, result)
    return doc


def overlapping_classes(book: Rulebook, facts: dict[str, Any], as_of: dt.date) -> \
        list[dict[str, Any]]:
    """Classifications a table defines side by side (第4条の4の4's プラン1…プラン4) that the
    case satisfies at once, where no definition says one is part of the other (プラン4 is
    「プラン2のうち」, so プラン4 with プラン2 is no overlap). The text does not say they
    exclude each other; the engine reports it rather than choosing."""
    ev = Evaluator(book, facts, as_of)
    out = []
    for pid in book.order:
        rows = [book.provisions[c].unit for c in book.provisions[pid].children]
        defs = [r.definitions[0] for r in rows if len(r.definitions) == 1]
        if len(defs) < 2:
            continue
        true = [d for d in defs if ev.definition(d.name) is True]
        uses = {d.name: _defs_used(d.expr) for d in defs}
        # a class defined from another that also holds (プラン4 from プラン2) is its part:
        # keep the wider one
        apart = [d for d in true if not any(o is not d and o.name in uses[d.name]
                                            for o in true)]
        if len(apart) >= 2:
            names = "・".join(d.label or d.name for d in apart)
            out.append({
                "code": "case.overlapping-classes", "citation": book.cite(pid),
                "classes": [d.name for d in apart],
                "message": f"the case falls under {names} at once ({book.cite(pid)}); the "
                "text does not say these exclude each other, so each is applied as written"})
    return out


def _defs_used(e: Any) -> set[str]:
    return {".".join(n.path) for n in walk(e) if isinstance(n, Ref) and
            n.resolved == "definition"}


def explain_case(case_path: str, doc: str | None = None, as_of: dt.date | None = None,
                 with_counterfactuals: bool = True) -> dict[str, Any]:
    p = prepare(case_path, doc, as_of)
    return explain_result(p, evaluate(p.book, p.facts, p.as_of), with_counterfactuals)


# ---- text form ------------------------------------------------------------------------

_VALUE_JA = {
    "accept": "承諾（accept）", "approve": "承認（approve）", "may_refuse": "承諾しないことがある"
    "（may_refuse）", "refuse": "承諾しない（refuse）", "undetermined": "未確定（undetermined）",
    "not_applicable": "該当なし（not_applicable）", "may": "することがある（may）",
    "deemed": "みなす（deemed）", "duty": "義務あり（duty）", "prohibited": "禁止（prohibited）",
    "requirement_unmet": "要件不充足（requirement_unmet）", "permission": "できる（permission）",
    "exemption": "免責（exemption）", "declaration": "宣言（declaration）",
}


def text_report(data: dict[str, Any], color: bool = False) -> str:
    def b(s: str) -> str:
        return click.style(s, bold=True) if color else s

    def c(s: str, col: str) -> str:
        return click.style(s, fg=col) if color else s

    lines = [b(f"{data['title']} ({data['document']} version {data['version']})"),
             f"as of {data['as_of']}（{data['as_of_wareki']}）  case: {data['case']['path']}"]
    shown: list[dict[str, Any]] = []
    quiet: list[dict[str, Any]] = []
    for o in data["outcomes"]:
        (shown if about_case(o) else quiet).append(o)
    for w in data.get("warnings", []):
        lines.append(c(f"warning: {w['message']}", "yellow"))
    for o in shown:
        val = o["value"]
        col = "green" if val in ("accept", "approve", "not_applicable") else \
            "yellow" if val in ("undetermined", "may_refuse", "may") else "red"
        lines.append("")
        lines.append(b(f"{o['name']}: ") + c(_VALUE_JA.get(val, val), col))
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
                               for x in cf["changes"])
                lines.append(f"    - {ch}  ⇒ {cf['value']}")
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


def cli_explain(case: str, doc: str | None, as_of: dt.date | None, fmt: str,
                output: str | None, color: bool, outcomes: tuple[str, ...] = ()) -> int:
    data = explain_case(case, doc, as_of)
    if outcomes:
        names = [o["name"] for o in data["outcomes"]]
        unknown = [n for n in outcomes if n not in names]
        if unknown:
            raise YakkanError([Diagnostic(
                code="usage.unknown-outcome", message=f"no outcome `{unknown[0]}` in "
                f"{data['document']} {data['version']}",
                hint=did_you_mean(unknown[0], names) or "outcomes: " + ", ".join(names))])
        data["outcomes"] = [o for o in data["outcomes"] if o["name"] in outcomes]
    if fmt == "json":
        out = json.dumps(data, ensure_ascii=False, indent=2)
    elif fmt == "text":
        out = text_report(data, color and output is None)
    else:
        from yakkan.renderers.explanation import render_explanation
        out = render_explanation(data, fmt)
    if output:
        Path(output).write_text(out + "\n", encoding="utf-8")
    else:
        click.echo(out)
    return 0
