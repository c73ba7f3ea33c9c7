"""explanation: the JSON of `yakkan explain` as a page a reviewer reads (Markdown or HTML).

Japanese first: every outcome by its name in the clause file (`outcome NAME "label"`), every value in
Japanese (`core/labels.py` — the one table of wording), facts by their labels with their
values as はい／いいえ／不明, enum members by their names, conditions in words
(`condition_ja`). Codes appear only where a reader needs them to write a case file: fact
paths, in code.

The page answers the case's question (`question` in the JSON: `--outcome`, the outcomes the
case file expects, or those its facts bear on): those outcomes come first and in full —
every ground that applies (citation, caption, quoted text, the rule it stands under, the
condition with the case's values, the facts with judgments marked, definitions, relied-on
provisions), the grounds still unknown, the facts still needed, an undetermined outcome's
bounds, what would change the outcome (or how the search for a change ended: never an
empty section), the requirements met, the grounds that do not apply (why not). Every other
outcome is one line of a table. Charges only when the case asks about money.

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

from yakkan.engine.core.labels import (
    APPROVAL_VALUE_LABELS,
    CHARGE_STATUS_LABELS,
    GROUND_STATE_LABELS,
    PER_LABELS,
    PERIOD_LABELS,
    REQUIREMENT_LABELS,
    REQUIREMENT_SHORT,
    TAX_LABELS,
    VALUE_LABELS,
    search_note,
    show,
)
from yakkan.engine.core.money import format_jpy
from yakkan.engine.core.numerals import to_wareki
from yakkan.renderers.env import JUDGMENT_CLOSE, JUDGMENT_OPEN, RenderError, render
from yakkan.renderers.report import anchor_safe

FORMATS = ("html", "md")

QUESTION_SOURCES = {
    "option": "指定された判断対象",
    "case": "この事例が問う判断対象（事例ファイルが結論を予期しているもの）",
    "facts": "この事例が問う判断対象（事例の事実が関わるもの）",
}


@dataclass
class Value:
    code: str
    ja: str
    tone: str


def value_of(code: str) -> Value:
    """An outcome value in Japanese (a value the table does not know is an error)."""
    try:
        ja, tone = VALUE_LABELS[code]
    except KeyError:
        raise RenderError(f"the explanation page has no wording for the outcome value "
                          f"`{code}`") from None
    return Value(code, ja, tone)


def shown_value(code: str, requirement: str | None, approval: bool = False) -> Value:
    """The value shown for an outcome (or a counterfactual): a requirement outcome reads as
    a requirement — 充足 / 不充足 / 未確定 / 対象外 — never as 「該当なし」; a decision the
    text makes as 承認 refuses as 承認しない."""
    v = value_of(code)
    if approval and code in APPROVAL_VALUE_LABELS:
        ja, tone = APPROVAL_VALUE_LABELS[code]
        v = Value(code, ja, tone)
    if requirement is not None:
        if requirement not in REQUIREMENT_LABELS:
            raise RenderError(f"no wording for the requirement state `{requirement}`")
        ja, tone = REQUIREMENT_LABELS[requirement]
        return Value(code, ja, tone)
    return v


def encoded_condition(cond: str | None) -> str:
    """The encoded condition a page shows under 「符号化された条件」: none where it is the
    bare literal `true` (no condition: the words already say （無条件）)."""
    return "" if cond is None or cond.strip() == "true" else cond


def _condition_ja(ln: dict[str, Any]) -> str | None:
    """A charge line's condition in Japanese words (none where it has no condition)."""
    ja = ln.get("condition_ja")
    return None if not ja or ja == "（無条件）" else str(ja)


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
    state: str  # applies | base | unknown | na | met (a requirement met)
    citation: str
    caption: str | None
    text: str
    rule_citation: str
    rule_text: str | None
    force: str
    force_label: str
    applies: bool | None
    requirement: str | None  # met | unmet | unknown | not_concerned (requirement grounds)
    condition: str
    condition_ja: str
    requires_ja: str | None
    unless_ja: list[tuple[str, str]]  # (text, 当たる / 当たらない / 不明)
    via: str | None
    facts: list[FactRow]
    definitions: list[DefRow]
    relied_on: list[Relied]
    # a list compared record by record: a heading per list, then the records that decided it
    records: list[tuple[str, list[str]]] = field(default_factory=list)
    id: str = ""  # the provision id (a link to its text, where the page has one)

    @property
    def judgments(self) -> list[FactRow]:
        return [f for f in self.facts if f.judgment]

    @property
    def state_label(self) -> str:
        if self.requirement is not None:
            return REQUIREMENT_SHORT[self.requirement]
        if self.state == "base":
            return {True: "成立", False: "不成立", None: "不明"}[self.applies]
        return GROUND_STATE_LABELS[self.state]


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
    label: str
    anchor: str
    value: Value
    kind: str
    asked: bool
    grounds: list[GroundView]
    base: list[GroundView]
    undetermined: list[GroundView]
    met: list[GroundView]  # requirements that concern the case and are met
    not_applicable: list[GroundView]
    missing: list[Missing]
    overrides: list[tuple[Relied, Relied]]
    counterfactuals: list[CounterfactualView]
    # an undetermined outcome's bounds: each value it may take, with the citations of the
    # unknown grounds that would give it (none: what it is otherwise)
    bounds: list[tuple[Value, list[str]]] = field(default_factory=list)
    # how the search for a change that turns the outcome ended (always said)
    search_note: str = ""

    @property
    def summary(self) -> str:
        """The outcome in one line: what it still needs (undetermined), or its grounds."""
        if self.grounds and not (self.value.code == "undetermined" and self.missing):
            return "根拠: " + "、".join(g.citation for g in self.grounds)
        if self.missing:
            judged = sum(1 for m in self.missing if m.judgment)
            return f"判断に必要な事実 {len(self.missing)}件" + \
                (f"（うち判断事項 {judged}件）" if judged else "")
        if self.met:
            return "満たされている要件: " + "、".join(g.citation for g in self.met)
        if self.base:
            return "基本の定め: " + "、".join(g.citation for g in self.base)
        return "この事例に当たる根拠はありません"


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
    condition_ja: str | None
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
    question: str = ""
    yakkan_version: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def asked(self) -> list[OutcomeView]:
        return [o for o in self.outcomes if o.asked]

    @property
    def others(self) -> list[OutcomeView]:
        return [o for o in self.outcomes if not o.asked]


# ---- building the view -------------------------------------------------------------------

def _req(d: dict[str, Any], key: str, where: str) -> Any:
    try:
        return d[key]
    except (KeyError, TypeError):
        raise RenderError(f"explanation JSON: `{where}` has no `{key}`") from None


class _Vocab:
    """What the JSON's `vocabulary` says of each fact path (label, judgment mark, type, enum
    members' labels, a list fact's fields), with the labels the outcomes carry as a fallback
    for JSON without a vocabulary."""

    def __init__(self, data: dict[str, Any]):
        voc = data.get("vocabulary") or {}
        self.facts: dict[str, dict[str, Any]] = {
            str(p): v for p, v in (voc.get("facts") or {}).items() if isinstance(v, dict)}
        self.outcomes: dict[str, str] = {
            str(k): str(v) for k, v in (voc.get("outcomes") or {}).items() if v}
        self.labels: dict[str, str] = {p: str(v["label"]) for p, v in self.facts.items()
                                       if v.get("label")}
        self.judgments: set[str] = {p for p, v in self.facts.items() if v.get("judgment")}
        for o in data.get("outcomes", []):
            for m in [*o.get("missing_facts", []), *o.get("missing_records", [])]:
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

    def entry(self, path: str) -> dict[str, Any]:
        """The vocabulary entry of a path, a list fact's field (`lines.removed_on`) too."""
        if path in self.facts:
            return self.facts[path]
        head, _, tail = path.rpartition(".")
        return (self.facts.get(head) or {}).get("fields", {}).get(tail) or {}

    def show(self, path: str, value: Any) -> str:
        e = self.entry(path)
        if isinstance(value, dict) and not (value.get("absent") is True and len(value) == 1):
            fields = e.get("fields") or {}
            return "、".join(f"{(fields.get(k) or {}).get('label') or k}: "
                            f"{self.show(f'{path}.{k}', x)}" for k, x in value.items())
        return show(value, e.get("type"), e.get("members"))

    def row(self, path: str, value: Any) -> FactRow:
        return FactRow(path, self.labels.get(path), self.show(path, value),
                       path in self.judgments, value is None)


def _mark_judgments(text: str, vocab: _Vocab, judgments: list[str]) -> str:
    """Wrap the labels of judgment facts inside 「…」 with the markers the logic filters
    highlight (the JSON's condition text names facts by label)."""
    for p in judgments:
        label = vocab.labels.get(p)
        if label:
            text = text.replace(f"「{label}」", f"「{JUDGMENT_OPEN}{label}{JUDGMENT_CLOSE}」")
    return text


_HOLDS = {True: "当たる", False: "当たらない", None: "不明"}


def _ground(g: dict[str, Any], state: str, anchor: str, vocab: _Vocab) -> GroundView:
    where = f"ground {g.get('citation', '?')}"
    facts = [vocab.row(p, v) for p, v in (_req(g, "facts", where) or {}).items()]
    for f in facts:
        f.judgment = f.judgment or f.path in g.get("judgments", [])
    defs = [DefRow(_req(d, "name", where), d.get("label"), d.get("citation"),
                   show(d.get("value"))) for d in g.get("definitions", [])]
    judgments = list(g.get("judgments", []))

    def mark(text: str | None) -> str:
        return _mark_judgments(text or "", vocab, judgments)
    requirement = g.get("requirement")
    if requirement is not None and requirement not in REQUIREMENT_SHORT:
        raise RenderError(f"no wording for the requirement state `{requirement}`")
    return GroundView(
        anchor=anchor, state=state, citation=_req(g, "citation", where),
        caption=g.get("caption"), text=g.get("text") or "",
        rule_citation=g.get("rule_citation") or _req(g, "citation", where),
        rule_text=g.get("rule_text"), force=_req(g, "force", where),
        force_label=g.get("force_label") or g["force"], applies=g.get("applies"),
        requirement=requirement,
        condition=encoded_condition(g.get("condition")),
        condition_ja=mark(g.get("condition_ja") or g.get("condition")),
        requires_ja=mark(g["requires_ja"]) if g.get("requires_ja") else None,
        unless_ja=[(mark(u.get("text")), _HOLDS.get(u.get("holds"), "不明"))
                   for u in g.get("unless_ja") or []],
        via=g.get("via"), facts=facts, definitions=defs,
        relied_on=[Relied(_req(r, "citation", where), None, r.get("relation"))
                   for r in g.get("relied_on", [])],
        records=[_records(x) for x in g.get("records") or [] if isinstance(x, dict)],
        id=str(g.get("id") or ""))


def _records(x: dict[str, Any]) -> tuple[str, list[str]]:
    """A list compared record by record: its heading and the records that decided it."""
    label = x.get("label") or x.get("list") or "?"
    counts = [f"{x.get('records', 0)}件"]
    if x.get("holding"):
        counts.append(f"条件を満たす {x['holding']}件")
    if x.get("failing"):
        counts.append(f"条件を満たさない {x['failing']}件")
    if x.get("unknown"):
        counts.append(f"不明 {x['unknown']}件")
    head = f"「{label}」の記録ごとの比較（{'・'.join(counts)}）"
    lines = [str(r.get("text_ja") or r.get("ref") or "") for r in x.get("shown") or []
             if isinstance(r, dict)]
    if x.get("more"):
        lines.append(f"ほか {x['more']}件")
    if not lines:
        lines.append("すべての記録が条件を満たす" if x.get("quantifier") == "all"
                     else "条件を満たす記録はない")
    return head, lines


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
        before = ln.get("amount_before_tax", ln.get("amount"))  # 税抜, as the totals add it
        amount = "別途お見積り" if status == "quote" else \
            ("未確定" if ln.get("amount") is None else yen(before))
        if "lower_bound" in flags and ln.get("amount") is not None:
            amount += "～"
        missing = [vocab.labels.get(str(m), str(m)) if not isinstance(m, dict)
                   else str(m.get("label") or m.get("path"))
                   for m in (ln.get("missing_facts") or [])]
        facts = [vocab.row(p, v) for p, v in (ln.get("facts") or {}).items()] \
            if isinstance(ln.get("facts"), dict) else []
        for f in facts:
            f.judgment = f.judgment or f.path in (ln.get("judgments") or [])
        with_tax = ln.get("amount_with_tax")
        lines.append(ChargeLine(
            anchor=f"charge-{i + 1}", label=str(ln.get("label") or ln.get("name") or "?"),
            name=str(ln.get("name") or ""), citation=ln.get("citation"), row=ln.get("row"),
            per=PER_LABELS.get(str(ln.get("per")), ln.get("per")) if ln.get("per") else None,
            status=status, status_label=CHARGE_STATUS_LABELS.get(status, status),
            amount=amount,
            tax=TAX_LABELS.get(str(ln.get("tax")), ln.get("tax")) if ln.get("tax") else None,
            tax_amount=yen(ln["tax_amount"]) if ln.get("tax_amount") is not None else None,
            amount_with_tax=(yen(with_tax) + ("～" if "lower_bound" in flags else ""))
            if with_tax is not None else None,
            lower_bound="lower_bound" in flags, condition=encoded_condition(ln.get("condition")),
            condition_ja=_condition_ja(ln),
            missing=missing, facts=facts, text=ln.get("text")))
    subtotals = []
    for k, v in (c.get("subtotals") or {}).items():
        if str(v) not in ("0", "0.00", "None"):
            subtotals.append((PERIOD_LABELS.get(k, k), yen(v)))
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
                rows.append(FactRow(f"{path}[{i}]", f"{vocab.labels.get(path) or path}"
                                    f"（{i + 1}件目）", vocab.show(path, rec), False, False))
        else:
            rows.append(vocab.row(path, v))
    return rows


FOCUS_ORDER = {"bad": 0, "warn": 1, "unknown": 2, "good": 3}


def _link_citations(outs: list[OutcomeView]) -> None:
    """Relied-on provisions and overrides link to a ground shown in full on this page with
    that citation: of the same outcome where there is one, else an applying ground of
    another outcome, else any ground shown."""
    def grounds(o: OutcomeView) -> list[GroundView]:
        return [*o.grounds, *o.base, *o.undetermined, *o.met, *o.not_applicable]

    full = [o for o in outs if o.asked]
    page: dict[str, str] = {}
    for o in full:
        for g in o.grounds:
            page.setdefault(g.citation, g.anchor)
    for o in full:
        for g in grounds(o):
            page.setdefault(g.citation, g.anchor)
    for o in full:
        own: dict[str, str] = {}
        for g in grounds(o):
            own.setdefault(g.citation, g.anchor)
        for g in grounds(o):
            for r in g.relied_on:
                r.anchor = own.get(r.citation) or page.get(r.citation)
        for by, over in o.overrides:
            by.anchor = own.get(by.citation) or page.get(by.citation)
            over.anchor = own.get(over.citation) or page.get(over.citation)


def _outcome(o: dict[str, Any], vocab: _Vocab) -> OutcomeView:
    name = _req(o, "name", "outcome")
    oa = "outcome-" + anchor_safe(name)
    state = o.get("requirement_state")
    approval = bool(o.get("approval"))
    na_all = [_ground(g, "na", f"{oa}-n{i + 1}", vocab)
              for i, g in enumerate(_req(o, "not_applicable", f"outcome {name}"))]
    view = OutcomeView(
        name=name, label=o.get("label") or vocab.outcomes.get(name) or name, anchor=oa,
        value=shown_value(_req(o, "value", f"outcome {name}"), state, approval),
        kind=o.get("kind", ""), asked=bool(o.get("asked")),
        grounds=[_ground(g, "applies", f"{oa}-g{i + 1}", vocab)
                 for i, g in enumerate(_req(o, "grounds", f"outcome {name}"))],
        base=[_ground(g, "base", f"{oa}-b{i + 1}", vocab)
              for i, g in enumerate(o.get("base", []))],
        undetermined=[_ground(g, "unknown", f"{oa}-u{i + 1}", vocab)
                      for i, g in enumerate(_req(o, "undetermined", f"outcome {name}"))],
        met=[g for g in na_all if g.requirement == "met"],
        not_applicable=[g for g in na_all if g.requirement != "met"],
        missing=[Missing(m["path"], m.get("label") or vocab.labels.get(m["path"]),
                         bool(m.get("judgment")))
                 for m in [*_req(o, "missing_facts", f"outcome {name}"),
                           *o.get("missing_records", [])]],
        overrides=[(Relied(ov["by"], None, None), Relied(ov["over"], None, None))
                   for ov in o.get("overrides", [])],
        counterfactuals=[])
    for g in view.met:
        g.state = "met"
    if view.value.code == "undetermined":
        view.bounds = [(shown_value(x["value"], _bound_state(state, x["value"]), approval),
                        [g["citation"] for g in x.get("grounds", [])])
                       for x in o.get("open") or []]
    try:
        view.search_note = search_note(o.get("counterfactual_search"), view.value.code)
    except KeyError as e:
        raise RenderError(str(e)) from None
    for cf in o.get("counterfactuals", []):
        view.counterfactuals.append(CounterfactualView(
            [Change(c["path"], c.get("label") or vocab.labels.get(c["path"]),
                    vocab.show(c["path"], c.get("from")), vocab.show(c["path"], c.get("to")),
                    c["path"] in vocab.judgments or bool(c.get("judgment")))
             for c in _req(cf, "changes", "counterfactual")],
            shown_value(_req(cf, "value", "counterfactual"), cf.get("requirement_state"),
                        approval),
            bool(cf.get("verified", True))))
    return view


def _bound_state(state: str | None, value: str) -> str | None:
    """A bound of an undetermined requirement outcome, read as a requirement."""
    if state is None:
        return None
    return {"requirement_unmet": "unmet", "not_applicable": "met_or_not_concerned"}.get(value)


def explanation_view(data: dict[str, Any]) -> ExplanationView:
    """The explanation JSON of `yakkan explain` as plain data for the templates."""
    from yakkan import __version__
    vocab = _Vocab(data)
    outs = [_outcome(o, vocab) for o in _req(data, "outcomes", "explanation")]
    q = data.get("question") or {}
    if not any(o.asked for o in outs):  # JSON without a question: the decisions first
        for o in outs:
            o.asked = o.kind == "application"
    _link_citations(outs)
    # the question first (applications, then refusals before permissions), then the rest
    outs.sort(key=lambda o: (not o.asked, o.kind != "application",
                             FOCUS_ORDER.get(o.value.tone, 9)))
    eff = data.get("effective") or {}
    case = _req(data, "case", "explanation")
    as_of = _req(data, "as_of", "explanation")
    wareki = data.get("as_of_wareki") or to_wareki(dt.date.fromisoformat(as_of))
    charges = _charges(data.get("charges"), vocab) if q.get("charges", True) else None
    return ExplanationView(
        title=_req(data, "title", "explanation"), document=_req(data, "document", "explanation"),
        version=data.get("version"), effective_from=eff.get("from"),
        effective_until=eff.get("until"), as_of=as_of, as_of_wareki=wareki,
        case_path=str(case.get("path", "")), case_title=case.get("title"), outcomes=outs,
        case_facts=_case_rows(case.get("facts"), vocab), charges=charges,
        question=QUESTION_SOURCES.get(str(q.get("source")), "この事例が問う判断対象"),
        yakkan_version=__version__,
        notes=[str(w.get("message_ja") or w.get("message")) for w in data.get("warnings") or []
               if isinstance(w, dict)])


def render_explanation(data: dict[str, Any], fmt: str) -> str:
    """The explanation JSON as one HTML page or one Markdown file."""
    if fmt not in FORMATS:
        raise RenderError(f"no explanation format `{fmt}` (formats: {', '.join(FORMATS)})")
    out = render(f"explanation.{fmt}.j2", e=explanation_view(data))
    if fmt == "md":
        out = re.sub(r"\n{3,}", "\n\n", out)
    return out.rstrip("\n")
