"""explain: a Result as a justification a reviewer reads — and as stable JSON.

JSON (documented in the README): top level `document`, `version`, `as_of`, `outcomes`;
each outcome `name`, `value`, `grounds`, `not_applicable`, `undetermined`,
`missing_facts`, `counterfactuals`, `overrides`; each ground `id`, `citation`, `text`,
`force`, `condition` (with the case's values substituted), `facts` (path → value),
`judgments`, `definitions` and `relied_on`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from yakkan import __version__
from yakkan.engine.core.diagnostics import Diagnostic, YakkanError
from yakkan.engine.core.ir import Ref, walk
from yakkan.engine.core.numerals import to_wareki
from yakkan.engine.core.values import case_jsonable, jsonable
from yakkan.engine.features.counterfactual import Search, search
from yakkan.engine.runtime.case import case_header, facts_dict, read_case_data, validate_facts
from yakkan.engine.runtime.evaluate import GroundResult, OutcomeResult, Result, evaluate
from yakkan.engine.semantics.program import program_of
from yakkan.engine.semantics.resolve import Rulebook
from yakkan.engine.semantics.rulebooks import rulebook_for, versions
from yakkan.engine.syntax.ast import FORCE_LABELS
from yakkan.engine.syntax.exprtext import to_text

DEFAULT_AS_OF = dt.date.today
# the explanation JSON's shape; 2: `possible`, `open`, `counterfactual_search`, judgment marks,
# `rulebook`, observed absence as {"absent": true} in ground facts (null in `case.facts`)
SCHEMA_VERSION = 2
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
    from yakkan.engine.runtime.case import case_document  # checks `document:` (a file's path)
    doc_id = doc or case_document(case.document if case else raw_doc, case_path, text, diags)
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


def outcome_json(book: Rulebook, o: OutcomeResult, cf: Search | None) -> dict[str, Any]:
    prog = program_of(book)
    return {
        "name": o.name,
        "value": o.value,
        "kind": o.kind,
        "possible": o.possible,
        "open": [{"value": v, "grounds": [{"id": prog.grounds[k].id,
                                           "citation": prog.grounds[k].citation}
                                          for k in keys]}
                 for v, keys in o.open],
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
                          "label": book.facts[c.path].label if c.path in book.facts else None,
                          "judgment": c.judgment}
                         for c in f.changes],
             "value": f.value, "verified": f.verified,
             "changes_judgment": any(c.judgment for c in f.changes)}
            for f in (cf.found if cf else [])],
        "counterfactual_search": None if cf is None else {
            "status": cf.status, "tried": cf.tried, "max_changes": cf.max_changes,
            "budget": cf.budget},
    }


def explain_result(p: Prepared, result: Result, with_counterfactuals: bool = True) -> \
        dict[str, Any]:
    book = p.book
    h = book.doc.header
    outs = []
    ordered = sorted(result.outcomes.values(), key=lambda o: o.kind != "application")
    for o in ordered:
        wanted = o.kind == "application" or o.value in CF_EFFECTS
        cfs = search(book, p.facts, p.as_of, o) if with_counterfactuals and wanted \
            else None
        outs.append(outcome_json(book, o, cfs))
    doc: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "warnings": overlapping_classes(book, result),
        "document": h.id,
        "title": h.title,
        "version": h.version,
        "rulebook": {"digest": book.source_digest, "engine": __version__},
        "effective": {"from": jsonable(h.effective_from), "until": jsonable(h.effective_until)},
        "as_of": p.as_of.isoformat(),
        "as_of_wareki": to_wareki(p.as_of),
        "case": {"path": p.path, "title": p.title, "facts": case_jsonable(p.facts)},
        "outcomes": outs,
    }
    from yakkan.engine.features.charges import charges_json  # charges imports explain's prepare
    doc["charges"] = charges_json(p, result)
    return doc


def overlapping_classes(book: Rulebook, result: Result) -> list[dict[str, Any]]:
    """Classifications a table defines side by side (第4条の4の4's プラン1…プラン4) that the
    case satisfies at once, where no definition says one is part of the other (プラン4 is
    「プラン2のうち」, so プラン4 with プラン2 is no overlap). The text does not say they
    exclude each other; the engine reports it rather than choosing. Read from the
    evaluation's definitions (the program evaluates every such table with each case)."""
    out = []
    prog = program_of(book)
    for pid, names in prog.class_groups.items():
        true = [n for n in names if result.definitions.get(n) is True]
        uses = {n: _defs_used(prog.definitions[n]) for n in names}
        # a class defined from another that also holds (プラン4 from プラン2) is its part:
        # keep the wider one
        apart = [n for n in true if not any(o != n and o in uses[n] for o in true)]
        if len(apart) >= 2:
            labels = "・".join(book.definitions[n][0].label or n for n in apart)
            out.append({
                "code": "case.overlapping-classes", "citation": book.cite(pid),
                "classes": apart,
                "message": f"the case falls under {labels} at once ({book.cite(pid)}); the "
                "text does not say these exclude each other, so each is applied as written"})
    return out


def _defs_used(e: Any) -> set[str]:
    return {".".join(n.path) for n in walk(e) if isinstance(n, Ref) and
            n.resolved == "definition"}


def explain_case(case_path: str, doc: str | None = None, as_of: dt.date | None = None,
                 with_counterfactuals: bool = True, trace: bool = False) -> dict[str, Any]:
    """The explanation JSON of a case file; with `trace`, also the evaluation's typed trace
    events (`runtime/trace.py`) under `trace`."""
    p = prepare(case_path, doc, as_of)
    result = evaluate(p.book, p.facts, p.as_of, trace=trace)
    data = explain_result(p, result, with_counterfactuals)
    if result.trace is not None:
        data["trace"] = result.trace.as_json()
    return data


# ---- text form ------------------------------------------------------------------------


