"""explanation: the JSON of `yakkan explain` as a page a reviewer reads (Markdown or HTML).

The decision comes first (per outcome, its value in Japanese and English), then every ground
that applies — citation, caption, quoted text, the rule it stands under, the condition with
the case's values, the facts (judgments marked), definitions and the provisions it relied
on — then the grounds that did not apply (why not), what is still unknown, the
counterfactuals (changes ⇒ new value) and, when the JSON has them, the charges.

`explanation_view` checks the JSON it is given (a missing key is an error, an unknown
outcome value is an error) and turns it into dataclasses; `templates/explanation.*.j2` lay
them out. Only anchors that exist on the page are linked.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from yakkan.engine.core.money import format_jpy
from yakkan.engine.core.numerals import to_wareki
from yakkan.renderers.env import JUDGMENT_CLOSE, JUDGMENT_OPEN, RenderError, render
from yakkan.renderers.report import anchor_safe

FORMATS = ("html", "md")

# outcome value → (Japanese, English, tone). INVARIANT: covers every value
# `evaluate.decide` gives; an unknown value is a RenderError, never a blank decision.
VALUES: dict[str, tuple[str, str, str]] = {
    "accept": ("承諾する", "accept", "good"),
    "approve": ("承認する", "approve", "good"),
    "may_refuse": ("承諾しないことがある", "may refuse (discretionary)", "warn"),
    "refuse": ("承諾しない", "refuse", "bad"),
    "undetermined": ("未確定（事実が不足）", "undetermined", "unknown"),
    "not_applicable": ("該当なし", "not applicable", "good"),
    "may": ("することがある", "may (discretionary)", "warn"),
    "deemed": ("みなす", "deemed", "warn"),
    "duty": ("義務がある", "duty", "warn"),
    "prohibited": ("禁止される", "prohibited", "bad"),
    "requirement_unmet": ("要件を満たさない", "requirement unmet", "bad"),
    "permission": ("することができる", "permitted", "good"),
    "exemption": ("責任を負わない（免責）", "exempt", "warn"),
    "declaration": ("宣言・定義", "declaration", "unknown"),
}
STATUS_LABELS = {"charged": "請求", "quote": "別途お見積り", "undetermined": "未確定",
                 "not_applicable": "対象外", "error": "評価エラー"}
PER_LABELS = {"month": "月額", "once": "一回", "use": "利用ごと", "call": "通話ごと",
              "line": "回線ごと", "year": "年額"}


@dataclass
class Value:
    code: str
    ja: str
    en: str
    tone: str


def value_of(code: str) -> Value:
    try:
        ja, en, tone = VALUES[code]
    except KeyError:
        raise RenderError(f"the explanation page has no wording for the outcome value "
                          f"`{code}`") from None
    return Value(code, ja, en, tone)


def show(v: Any) -> str:
    """A fact's value as the page shows it."""
    if v is None:
        return "unknown（不明）"
    if v is True:
        return "true（はい）"
    if v is False:
        return "false（いいえ）"
    if isinstance(v, list):
        return f"{len(v)} 件"
    if isinstance(v, dict):
        return "、".join(f"{k}={show(x)}" for k, x in v.items())
    return str(v)


def yen(s: Any) -> str:
    if s is None:
        return "—"
    try:
        return format_jpy(Decimal(str(s)))
    except (InvalidOperation, ValueError, TypeError):
        return str(s)


@dataclass
class FactRow:
    path: str
    label: str | None
    value: str
    judgment: bool
    unknown: bool


@dataclass
class DefRow:
    name: str
    label: str | None
    citation: str | None
    value: str


@dataclass
class Relied:
    citation: str
    anchor: str | None
    relation: str | None


@dataclass
class GroundView:
    anchor: str
    state: str  # applies | base | unknown | na
    citation: str
    caption: str | None
    text: str
    rule_citation: str
    rule_text: str | None
    force: str
    force_label: str
    applies: bool | None
    condition: str
    condition_ja: str
    via: str | None
    facts: list[FactRow]
    definitions: list[DefRow]
    relied_on: list[Relied]

    @property
    def judgments(self) -> list[FactRow]:
        return [f for f in self.facts if f.judgment]


@dataclass
class Change:
    path: str
    label: str | None
    before: str
    after: str
    judgment: bool


@dataclass
class CounterfactualView:
    changes: list[Change]
    value: Value
    verified: bool


@dataclass
class Missing:
    path: str
    label: str | None
    judgment: bool


@dataclass
class OutcomeView:
    name: str
    anchor: str
    value: Value
    kind: str
    grounds: list[GroundView]
    base: list[GroundView]
    undetermined: list[GroundView]
    not_applicable: list[GroundView]
    missing: list[Missing]
    overrides: list[tuple[Relied, Relied]]
    counterfactuals: list[CounterfactualView]
    focus: str = "primary"  # primary | always | open | other (see `_focus`)
    # an undetermined outcome's bounds: each value it may take, with the citations of the
    # unknown grounds that would give it (none: what it is otherwise)
    bounds: list[tuple[Value, list[str]]] = field(default_factory=list)
    # how the search for a change that turns the outcome ended, said when it found none
    search_note: str | None = None


@dataclass
class ChargeLine:
    anchor: str
    label: str
    name: str
    citation: str | None
    row: str | None
    per: str | None
    status: str
    status_label: str
    amount: str
    tax: str | None
    tax_amount: str | None
    amount_with_tax: str | None
    lower_bound: bool
    condition: str | None
    missing: list[str]
    facts: list[FactRow]
    text: str | None


@dataclass
class ChargesView:
    lines: list[ChargeLine]
    not_applicable: list[tuple[str, str | None, str | None]]
    subtotals: list[tuple[str, str]]
    total: str
    total_with_tax: str
    final: bool
    complete: bool
    lower_bound: bool
    assumptions: list[str]


@dataclass
class ExplanationView:
    title: str
    document: str
    version: str | None
    effective_from: str | None
    effective_until: str | None
    as_of: str
    as_of_wareki: str
    case_path: str
    case_title: str | None
    outcomes: list[OutcomeView]
    case_facts: list[FactRow]
    charges: ChargesView | None
    yakkan_version: str = ""
    notes: list[str] = field(default_factory=list)

    def by_focus(self, focus: str) -> list[OutcomeView]:
        return [o for o in self.outcomes if o.focus == focus]


# ---- building the view -------------------------------------------------------------------

def _req(d: dict[str, Any], key: str, where: str) -> Any:
    try:
        return d[key]
    except (KeyError, TypeError):
        raise RenderError(f"explanation JSON: `{where}` has no `{key}`") from None


class _Vocab:
    """Labels and judgment marks the JSON carries for fact paths and definitions."""

    def __init__(self, data: dict[str, Any]):
        self.labels: dict[str, str] = {}
        self.judgments: set[str] = set()
        for path, label in (data.get("labels") or {}).items():
            if label:
                self.labels[str(path)] = str(label)
        for o in data.get("outcomes", []):
            for m in o.get("missing_facts", []):
                if m.get("label"):
                    self.labels.setdefault(m["path"], m["label"])
                if m.get("judgment"):
                    self.judgments.add(m["path"])
            for cf in o.get("counterfactuals", []):
                for c in cf.get("changes", []):
                    if c.get("label"):
                        self.labels.setdefault(c["path"], c["label"])
            for key in ("grounds", "base", "undetermined", "not_applicable"):
                for g in o.get(key, []):
                    self.judgments.update(g.get("judgments", []))
                    for p, label in (g.get("fact_labels") or {}).items():
                        if label:
                            self.labels.setdefault(p, label)
                    for p, label in _aligned_labels(g).items():
                        self.labels.setdefault(p, label)

    def row(self, path: str, value: Any) -> FactRow:
        return FactRow(path, self.labels.get(path), show(value), path in self.judgments,
                       value is None)


_VALUE_SITE = re.compile(r"(「[^」]*」|[\w.]+|\))［")


def _aligned_labels(g: dict[str, Any]) -> dict[str, str]:
    """Labels of the facts a ground read, recovered from its two condition texts.

    The explain JSON gives `facts` by path only, but `condition` and `condition_ja` are the
    same walk of the same expression with the same values: the n-th `name［value］` of one
    is the n-th `「label」［value］` (or `name［value］`, unlabelled) of the other. Used only
    when both texts have the same sites, and only for paths among the ground's facts.
    """
    facts = g.get("facts") or {}
    dsl = _VALUE_SITE.findall(g.get("condition") or "")
    ja = _VALUE_SITE.findall(g.get("condition_ja") or "")
    if len(dsl) != len(ja):
        return {}
    return {a: b[1:-1] for a, b in zip(dsl, ja, strict=True)
            if a in facts and b.startswith("「") and len(b) > 2}


def _mark_judgments(text: str, vocab: _Vocab, judgments: list[str]) -> str:
    """Wrap the labels of judgment facts inside 「…」 with the markers the logic filters
    highlight (the JSON's condition text names facts by label)."""
    for p in judgments:
        label = vocab.labels.get(p)
        if label:
            text = text.replace(f"「{label}」", f"「{JUDGMENT_OPEN}{label}{JUDGMENT_CLOSE}」")
    return text


def _ground(g: dict[str, Any], state: str, anchor: str, vocab: _Vocab) -> GroundView:
    where = f"ground {g.get('citation', '?')}"
    facts = [vocab.row(p, v) for p, v in (_req(g, "facts", where) or {}).items()]
    for f in facts:
        f.judgment = f.judgment or f.path in g.get("judgments", [])
    defs = [DefRow(_req(d, "name", where), d.get("label"), d.get("citation"),
                   show(d.get("value"))) for d in g.get("definitions", [])]
    return GroundView(
        anchor=anchor, state=state, citation=_req(g, "citation", where),
        caption=g.get("caption"), text=g.get("text") or "",
        rule_citation=g.get("rule_citation") or _req(g, "citation", where),
        rule_text=g.get("rule_text"), force=_req(g, "force", where),
        force_label=g.get("force_label") or g["force"], applies=g.get("applies"),
        condition=g.get("condition") or "",
        condition_ja=_mark_judgments(g.get("condition_ja") or g.get("condition") or "",
                                     vocab, list(g.get("judgments", []))),
        via=g.get("via"), facts=facts, definitions=defs,
        relied_on=[Relied(_req(r, "citation", where), None, r.get("relation"))
                   for r in g.get("relied_on", [])])


def _charges(c: Any, vocab: _Vocab) -> ChargesView | None:
    if not isinstance(c, dict):
        return None
    raw = [x for x in (c.get("lines") or []) + (c.get("undetermined") or [])
           if isinstance(x, dict)]
    na = [x for x in (c.get("not_applicable") or []) if isinstance(x, dict)]
    if not raw and not na:
        return None
    lines = []
    for i, ln in enumerate(raw):
        status = str(ln.get("status") or "undetermined")
        flags = ln.get("flags") or []
        amount = "別途お見積り" if status == "quote" else \
            ("未確定" if ln.get("amount") is None else yen(ln.get("amount")))
        if "lower_bound" in flags and ln.get("amount") is not None:
            amount += "～"
        missing = [str(m) if not isinstance(m, dict) else str(m.get("label") or m.get("path"))
                   for m in (ln.get("missing_facts") or [])]
        facts = [vocab.row(p, v) for p, v in (ln.get("facts") or {}).items()] \
            if isinstance(ln.get("facts"), dict) else []
        for f in facts:
            f.judgment = f.judgment or f.path in (ln.get("judgments") or [])
        lines.append(ChargeLine(
            anchor=f"charge-{i + 1}", label=str(ln.get("label") or ln.get("name") or "?"),
            name=str(ln.get("name") or ""), citation=ln.get("citation"), row=ln.get("row"),
            per=PER_LABELS.get(str(ln.get("per")), ln.get("per")) if ln.get("per") else None,
            status=status, status_label=STATUS_LABELS.get(status, status), amount=amount,
            tax=ln.get("tax"),
            tax_amount=yen(ln["tax_amount"]) if ln.get("tax_amount") is not None else None,
            amount_with_tax=yen(ln["amount_with_tax"])
            if ln.get("amount_with_tax") is not None else None,
            lower_bound="lower_bound" in flags, condition=ln.get("condition"),
            missing=missing, facts=facts, text=ln.get("text")))
    subtotals = []
    labels = {"monthly": "月額", "one_time": "一時金", "usage": "従量", "other": "その他"}
    for k, v in (c.get("subtotals") or {}).items():
        if str(v) not in ("0", "0.00", "None"):
            subtotals.append((labels.get(k, k), yen(v)))
    return ChargesView(
        lines=lines,
        not_applicable=[(str(x.get("label") or x.get("name") or "?"), x.get("citation"),
                         x.get("condition")) for x in na],
        subtotals=subtotals, total=yen(c.get("total")),
        total_with_tax=yen(c.get("total_with_tax")), final=bool(c.get("final")),
        complete=bool(c.get("complete", True)),
        lower_bound=bool(c.get("total_is_lower_bound")),
        assumptions=[str(a) for a in (c.get("assumptions") or [])])


def _case_rows(facts: Any, vocab: _Vocab, prefix: str = "") -> list[FactRow]:
    rows: list[FactRow] = []
    if not isinstance(facts, dict):
        return rows
    for k, v in facts.items():
        path = f"{prefix}{k}"
        if isinstance(v, dict) and path not in vocab.labels:
            rows += _case_rows(v, vocab, path + ".")
        elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            rows.append(vocab.row(path, v))
            for i, rec in enumerate(v):
                rows.append(FactRow(f"{path}[{i}]", None, show(rec), False, False))
        else:
            rows.append(vocab.row(path, v))
    return rows


FOCUS_ORDER = {"bad": 0, "warn": 1, "unknown": 2, "good": 3}


def _focus(o: OutcomeView) -> str:
    """Where an outcome goes on the page. A document has many outcomes (rakuten-miitel
    has 71) and one case concerns few of them:

    * `primary` — an application decision, an effect that applies on the case's facts, or
      an undetermined one the case says something about: shown first, in full;
    * `always` — applies without reading any fact (unconditional duties, declarations);
    * `open` — undetermined and the case gives none of the facts it reads;
    * `other` — not applicable.

    The last three are listed after the primary ones, each still in full (folded).
    """
    if o.kind == "application":
        return "primary"
    if any(g.facts for g in o.grounds):
        return "primary"
    if o.value.code == "undetermined" and any(not f.unknown for g in o.undetermined for f in g.facts):
        return "primary"
    if o.grounds:
        return "always"
    if o.value.code == "undetermined":
        return "open"
    return "other"


def _link_citations(outs: list[OutcomeView]) -> None:
    """Relied-on provisions and overrides link to a ground of this page with that
    citation: of the same outcome where there is one, else an applying ground of another
    outcome, else any ground of the page."""
    def grounds(o: OutcomeView) -> list[GroundView]:
        return [*o.grounds, *o.base, *o.undetermined, *o.not_applicable]

    page: dict[str, str] = {}
    for o in outs:
        for g in o.grounds:
            page.setdefault(g.citation, g.anchor)
    for o in outs:
        for g in grounds(o):
            page.setdefault(g.citation, g.anchor)
    for o in outs:
        own: dict[str, str] = {}
        for g in grounds(o):
            own.setdefault(g.citation, g.anchor)
        for g in grounds(o):
            for r in g.relied_on:
                r.anchor = own.get(r.citation) or page.get(r.citation)
        for by, over in o.overrides:
            by.anchor = own.get(by.citation) or page.get(by.citation)
            over.anchor = own.get(over.citation) or page.get(over.citation)


def _search_note(search: dict[str, Any] | None) -> str | None:
    """What the counterfactual search says when it found nothing (never an empty section)."""
    if not search:
        return None
    status, tried, n = search.get("status"), search.get("tried"), search.get("max_changes")
    if status == "none":
        return (f"{n}個までの事実の変更では、この結論は変わりません（{tried}通りをすべて"
                "評価して確かめました）。")
    if status == "budget":
        return (f"探索の上限（{search.get('budget')}通り）までに、この結論を変える変更は"
                "見つかりませんでした（それ以上は探していません）。")
    if status == "nothing_to_change":
        return "この結論を決めた根拠は、変えられる事実を読んでいません。"
    return None


def explanation_view(data: dict[str, Any]) -> ExplanationView:
    """The explanation JSON of `yakkan explain` as plain data for the templates."""
    from yakkan import __version__
    vocab = _Vocab(data)
    outs: list[OutcomeView] = []
    for o in _req(data, "outcomes", "explanation"):
        name = _req(o, "name", "outcome")
        oa = "outcome-" + anchor_safe(name)
        view = OutcomeView(
            name=name, anchor=oa, value=value_of(_req(o, "value", f"outcome {name}")),
            kind=o.get("kind", ""),
            grounds=[_ground(g, "applies", f"{oa}-g{i + 1}", vocab)
                     for i, g in enumerate(_req(o, "grounds", f"outcome {name}"))],
            base=[_ground(g, "base", f"{oa}-b{i + 1}", vocab)
                  for i, g in enumerate(o.get("base", []))],
            undetermined=[_ground(g, "unknown", f"{oa}-u{i + 1}", vocab)
                          for i, g in enumerate(_req(o, "undetermined", f"outcome {name}"))],
            not_applicable=[_ground(g, "na", f"{oa}-n{i + 1}", vocab)
                            for i, g in enumerate(_req(o, "not_applicable",
                                                       f"outcome {name}"))],
            missing=[Missing(m["path"], m.get("label") or vocab.labels.get(m["path"]),
                             bool(m.get("judgment")))
                     for m in _req(o, "missing_facts", f"outcome {name}")],
            overrides=[],
            counterfactuals=[])
        view.overrides = [(Relied(ov["by"], None, None), Relied(ov["over"], None, None))
                          for ov in o.get("overrides", [])]
        if view.value.code == "undetermined":
            view.bounds = [(value_of(x["value"]), [g["citation"] for g in x.get("grounds", [])])
                           for x in o.get("open") or []]
        view.search_note = _search_note(o.get("counterfactual_search"))
        for cf in o.get("counterfactuals", []):
            view.counterfactuals.append(CounterfactualView(
                [Change(c["path"], c.get("label") or vocab.labels.get(c["path"]),
                        show(c.get("from")), show(c.get("to")), c["path"] in vocab.judgments)
                 for c in _req(cf, "changes", "counterfactual")],
                value_of(_req(cf, "value", "counterfactual")), bool(cf.get("verified", True))))
        view.focus = _focus(view)
        outs.append(view)
    _link_citations(outs)
    # the decisions the case is about first: applications, then refusals before permissions
    outs.sort(key=lambda o: (o.focus != "primary", o.kind != "application",
                             FOCUS_ORDER.get(o.value.tone, 9) if o.focus == "primary" else 0))
    eff = data.get("effective") or {}
    case = _req(data, "case", "explanation")
    as_of = _req(data, "as_of", "explanation")
    wareki = data.get("as_of_wareki") or to_wareki(dt.date.fromisoformat(as_of))
    return ExplanationView(
        title=_req(data, "title", "explanation"), document=_req(data, "document", "explanation"),
        version=data.get("version"), effective_from=eff.get("from"),
        effective_until=eff.get("until"), as_of=as_of, as_of_wareki=wareki,
        case_path=str(case.get("path", "")), case_title=case.get("title"), outcomes=outs,
        case_facts=_case_rows(case.get("facts"), vocab), charges=_charges(data.get("charges"), vocab),
        yakkan_version=__version__)


def render_explanation(data: dict[str, Any], fmt: str) -> str:
    """The explanation JSON as one HTML page or one Markdown file."""
    if fmt not in FORMATS:
        raise RenderError(f"no explanation format `{fmt}` (formats: {', '.join(FORMATS)})")
    out = render(f"explanation.{fmt}.j2", e=explanation_view(data))
    if fmt == "md":
        out = re.sub(r"\n{3,}", "\n\n", out)
    return out.rstrip("\n")
