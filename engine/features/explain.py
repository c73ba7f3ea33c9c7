"""explain: a Result as a justification a reviewer reads — and as stable JSON.

JSON (documented in the README): top level `document`, `version`, `as_of`, `outcomes`;
each outcome `name`, `value`, `grounds`, `not_applicable`, `undetermined`,
`missing_facts`, `counterfactuals`, `overrides`; each ground `id`, `citation`, `text`,
`force`, `condition` (with the case's values substituted), `facts` (path → value),
`judgments`, `definitions` and `relied_on`.

Schema 3 adds what a reader in Japanese needs, beside the English codes: each outcome's
`label` (its name in the clause file's `outcome NAME "label"`) and, for an outcome whose grounds are
all requirements, `requirement_state` (met / unmet / unknown / not_concerned: a met
requirement is not "not applicable"); each ground's `condition_ja` in Japanese words
(`jatext.py`), `requires_ja`, `unless_ja` and `requirement`; each counterfactual's
`requirement_state`; `question` — the outcomes the case asks about (`--outcome`, else those
the case file states expectations for, else those the facts it gives bear on; `asked` on
each outcome) and whether it asks about money; `vocabulary` — every fact's label, type and
enum members' labels and every outcome's label, so a renderer never shows a code where the
document has a name.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from yakkan import __version__
from yakkan.engine.core.diagnostics import Diagnostic, YakkanError, did_you_mean
from yakkan.engine.core.ir import Call, Lit, Quant, Ref, walk
from yakkan.engine.core.labels import FORCE_LABELS, show
from yakkan.engine.core.numerals import to_wareki
from yakkan.engine.core.values import ABSENT, PLAIN, case_jsonable, jsonable
from yakkan.engine.features.counterfactual import Search, Searcher, with_changes
from yakkan.engine.features.jatext import ja_template, vocabulary
from yakkan.engine.runtime.case import (
    case_header,
    position_of,
    read_case_data,
    validate_facts,
)
from yakkan.engine.runtime.compiled import NotCompilable, compiled_of
from yakkan.engine.runtime.evaluate import RECORDS, GroundResult, OutcomeResult, Result, evaluate
from yakkan.engine.runtime.ops import EvalError, fact_at
from yakkan.engine.semantics.program import program_of
from yakkan.engine.semantics.resolve import Rulebook
from yakkan.engine.semantics.rulebooks import rulebook_for, versions
from yakkan.engine.syntax.exprtext import Template, template, to_text

DEFAULT_AS_OF = dt.date.today
# the explanation JSON's shape; 2: `possible`, `open`, `counterfactual_search`, judgment marks,
# `rulebook`, observed absence as {"absent": true} in ground facts (null in `case.facts`);
# 3: outcome `label`, `requirement_state`, `asked`; ground `condition_ja` in Japanese words,
# `requires_ja`, `unless_ja`, `requirement`; `question`, `vocabulary` (module docstring)
SCHEMA_VERSION = 3

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
    return prepare_data(data, text, case_path, doc, as_of)


def prepare_data(data: dict[str, Any], text: str, source: str, doc: str | None = None,
                 as_of: dt.date | None = None,
                 documents: Mapping[str, str] | None = None) -> Prepared:
    """Validate a case already read (`read_case_data` or `parse_case_text`: `data` and the
    `text` it came from, `source` naming it in diagnostics and in `case.path`); pick the
    version in force. The one path of the CLI and the console.

    `documents`, when given, is every document the caller serves (id → the bundled id or
    clause folder it is read from): `document:` must then be one of those ids — a path is
    never followed (`yakkan serve`: nothing a request names reaches the file system). Without
    it, `document:` is a bundled id or a path relative to the case file (`case_document`)."""
    sources = {source: text}
    case, diags = case_header(data, source, text)
    raw_doc = data.get("document")
    named = case.document if case else raw_doc
    if documents is not None:
        doc_id = served_document(doc if doc is not None else named, documents, source, text,
                                 diags)
    else:
        from yakkan.engine.runtime.case import case_document  # checks `document:` (a path)
        doc_id = doc or case_document(named, source, text, diags)
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
        facts = validate_facts(book, data.get("facts") or {}, source, text)
    except YakkanError as e:
        diags += _version_hints(e.diagnostics, doc_id, book, when)
    if diags:
        raise YakkanError(diags, sources=sources)
    assert case is not None
    return Prepared(source, book, facts, when, case.title, case.expect)


def served_document(value: Any, documents: Mapping[str, str], source: str, text: str,
                    diags: list[Diagnostic]) -> str | None:
    """Where the document a case names is read from, when only `documents` (id → bundled id
    or folder) are served: an id among them, never a path (`case.bad-document` otherwise)."""
    if not isinstance(value, str):
        return None  # case_header has said what is wrong
    if value in documents:
        return documents[value]
    shown = value[:80] + ("…" if len(value) > 80 else "")
    shown = re.sub(r"[\x00-\x1f\x7f-\x9f]", lambda c: repr(c.group())[1:-1], shown)
    ids = sorted(documents)
    diags.append(Diagnostic(
        code="case.bad-document", message=f"unknown document `{shown}`: only a served "
        "document's id is accepted here, never a path",
        hint=did_you_mean(value[:80], ids) or "documents: " + ", ".join(ids),
        span=position_of(source, text, ("document",))))
    return None


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


def outcome_labels(book: Rulebook) -> dict[str, str]:
    """Outcome name → its Japanese name, from the clause file's `outcome NAME "label"`."""
    return book.outcome_labels


def requirement_of(r: GroundResult) -> str | None:
    """A requirement ground read as a requirement: `unmet` (it applies), `met` (what it
    requires holds), `not_concerned` (its condition does not hold: the requirement is not
    one of this case), `unknown`. None for a ground of another force."""
    if r.ground.force != "requirement":
        return None
    if r.applies is True:
        return "unmet"
    if r.applies is None:
        return "unknown"
    return "met" if r.requires_value is True and r.when_value is not False else \
        "not_concerned"


def requirement_state(o: OutcomeResult) -> str | None:
    """An outcome all of whose grounds are requirements, as a requirement: `unmet`,
    `unknown`, `met` (not applicable because a requirement that concerns the case is met) or
    `not_concerned` (none concerns it). None for any other outcome."""
    first = o.grounds or o.not_applicable or o.undetermined or o.base
    if not first or first[0].ground.force != "requirement":
        return None  # most outcomes: their first ground already says they are not
    rs = (*o.grounds, *o.not_applicable, *o.undetermined, *o.base)
    for r in rs:
        if r.ground.force != "requirement":
            return None
    if o.value == "requirement_unmet":
        return "unmet"
    if o.value != "not_applicable":
        return "unknown"
    return "met" if any(requirement_of(r) == "met" for r in rs) else "not_concerned"


class _GroundPlan:
    """What a ground's explanation says whatever the case — its provision, text and force
    (`head`); its conditions as templates a case fills (`exprtext.template`,
    `jatext.template`); the expressions its records are shown from (`own`) and those that
    compare a list record by record (`quantified`: `_missing_records`) — kept with the
    rulebook, beside the rulebook's `tables`: an explanation shows every ground of every
    outcome. And how it writes a ground's JSON in one case (`write`): plainly the first time
    (`_plain_ground_json`), then by a function made for the ground (`_GroundWriter`)."""

    __slots__ = ("book", "head", "lists", "own", "quantified", "requires", "requires_ja",
                 "sources", "tables", "unless", "unless_ja", "via", "when", "when_ja", "write")

    def __init__(self, book: Rulebook, g: Any):
        self.book = book
        self.tables = _tables(book)
        prov = book.provisions[g.id]
        rule_prov = book.provisions[g.rule_pid]
        self.head: dict[str, Any] = {
            "id": g.id,
            "citation": g.citation,
            "caption": book.caption_of(g.id),
            "text": prov.text,
            "rule_citation": rule_prov.citation,
            "rule_text": rule_prov.text if g.rule_pid != g.id else None,
            "force": g.force,
            "force_label": _force_label(book, g),
        }
        vocab = vocabulary(book)
        self.own: list[Any] = [*g.when, *([g.requires] if g.requires else []), *g.unless]
        self.lists = _compares_lists(self.own)
        self.quantified = _quantified(book, g)
        # the list facts those range over (`records_in`: where `missing_fields` looks)
        self.sources = _list_sources(book, self.quantified)
        self.when = [template(c) for c in g.when]
        self.when_ja = [ja_template(c, vocab) for c in g.when
                        if not (isinstance(c, Lit) and c.value is True)]
        self.requires = template(g.requires) if g.requires is not None else None
        self.requires_ja = ja_template(g.requires, vocab) if g.requires is not None else None
        self.unless = [template(u) for u in g.unless]
        self.unless_ja = [ja_template(u, vocab) for u in g.unless]
        # the provision it is applied from (準用: `mutatis`), shown among those relied on
        self.via: dict[str, Any] | None = {
            "id": g.via, "citation": book.cite(g.via), "relation": "mutatis"} if g.via else None
        self.write: Callable[[GroundResult], dict[str, Any]] = self._first_write

    def _first_write(self, r: GroundResult) -> dict[str, Any]:
        """The ground's first explanation in this process, written plainly: a process that
        explains one case (the CLI) compiles no writer (~1 ms of compile() a shape of
        ground, some twenty a rulebook); the next explanation makes the writer, used from
        then on."""
        self.write = self._make_writer
        return _plain_ground_json(self, r)

    def _make_writer(self, r: GroundResult) -> dict[str, Any]:
        """The ground's second explanation: its writer made (`_ground_writer`) and used."""
        self.write = _ground_writer(self)
        return self.write(r)


def _ground_plan(book: Rulebook, g: Any) -> _GroundPlan:
    """`_GroundPlan` of a ground (`per_object`, written out: it is asked for every ground
    of every outcome an explanation shows)."""
    memo = book.derived.ground_static
    hit = memo.get(id(g))
    if hit is None or hit[0] is not g:
        hit = memo[id(g)] = (g, _GroundPlan(book, g))
    plan: _GroundPlan = hit[1]
    return plan


def _quantified(book: Rulebook, g: Any) -> tuple[Any, ...]:
    """A ground's conditions that compare a list record by record (`_missing_records`)."""
    from yakkan.engine.runtime.evaluate import outer_quantifiers
    return tuple(e for e in (*g.when, g.requires, *g.unless)
                 if e is not None and outer_quantifiers(book, e))


def _record_keys(exprs: list[Any]) -> frozenset[str]:
    """The keys under which an evaluation keeps the records of the expressions' quantifiers
    over a list (`all`/`any`: what `records_json` reads)."""
    return frozenset(f"{n.nid or id(n)}{RECORDS}" for e in exprs for n in walk(e)
                     if isinstance(n, Quant) and n.q in ("all", "any"))


def _list_sources(book: Rulebook, exprs: tuple[Any, ...]) -> tuple[list[str], ...]:
    """The fact paths of the lists the expressions' outermost quantifiers range over (those
    `evaluate.records_in` reads records from)."""
    from yakkan.engine.runtime.evaluate import outer_quantifiers
    return tuple(n.source.path for e in exprs for n in outer_quantifiers(book, e)
                 if n.source.resolved == "fact")


def _compares_lists(exprs: list[Any]) -> bool:
    """Whether the expressions compare a list record by record (`all`/`any`: `records_json`)."""
    return any(isinstance(n, Quant) and n.q in ("all", "any") for e in exprs for n in walk(e))


class _Tables:
    """A rulebook's names the explanation of a ground looks up: each declared fact's label
    and whether it is 当社の判断; each definition's label and citation (as its entry in a
    ground's `definitions`), those that compare a list record by record and the keys of
    their records; each provision's citation; each ground's id and citation (by key: an
    outcome's `open`); the decisions the text makes as 承認 (`is_approval`) and those with a
    ground that compares a list record by record (`_missing_records`); each declared fact
    as a missing fact and each decision's outcome as far as they are the same in every case;
    the definitions each classification of a table (`class_groups`) reads. Kept with the
    rulebook; the entries are prototypes, copied into each explanation, never
    handed out themselves."""

    def __init__(self, book: Rulebook):
        self.labels = {p: f.label for p, f in book.facts.items()}
        self.judgments = {p for p, f in book.facts.items() if f.judgment}
        prog = program_of(book)
        defs = prog.definitions
        # each definition's entry in a ground's `definitions`, but for its value
        self.definitions = {n: {"name": n, "label": d.label,
                                "citation": book.cite(w) if w else None, "value": None}
                            for n, (d, w) in book.definitions.items()}
        self.compare_lists = {n for n in book.definitions
                              if n in defs and _compares_lists([defs[n]])}
        # the definitions each classification a table defines side by side reads
        # (`overlapping_classes`)
        self.class_reads = {n: _defs_used(defs[n]) for names in prog.class_groups.values()
                            for n in names if n in defs}
        # the keys of the records of the definitions' quantifiers (`records_json`)
        self.definition_records = _record_keys(list(defs.values()))
        self.citations = {pid: prov.citation for pid, prov in book.provisions.items()}
        # each ground's entry among those that would give an open value (`_open`), and
        # each declared fact's among the facts missing (`_missing_list`)
        self.grounds = {k: {"id": g.id, "citation": g.citation} for k, g in prog.grounds.items()}
        self.missing = {p: {"path": p, "label": f.label, "judgment": f.judgment}
                        for p, f in book.facts.items()}
        self.approvals = {name for name, d in prog.decisions.items()
                          if any(prog.grounds[k].force == "approve" for k in d.grounds)}
        self.with_records = {name for name, d in prog.decisions.items()
                             if any(_quantified(book, prog.grounds[k]) for k in d.grounds)}
        # each decision's outcome JSON as far as it is the same in every case (to be
        # copied, not changed)
        self.outcomes = {name: _outcome_prototype(book, name, name in self.approvals)
                         for name in prog.decisions}


def _outcome_prototype(book: Rulebook, name: str, approval: bool) -> dict[str, Any]:
    """An outcome's JSON as far as it is the same in every case: its name, label, whether
    it is a 承認 and `asked` (set by `explain_result`), every other key in its place (None:
    `outcome_json` sets each)."""
    keys = ("name", "label", "value", "kind", "approval", "requirement_state", "asked",
            "possible", "open", "grounds", "base", "not_applicable", "undetermined",
            "missing_facts", "missing_records", "overrides", "counterfactuals",
            "counterfactual_search")
    out: dict[str, Any] = dict.fromkeys(keys)
    out.update(name=name, label=book.outcome_labels.get(name), approval=approval, asked=False)
    return out


def _tables(book: Rulebook) -> _Tables:
    t = book.derived.explain_tables
    if not isinstance(t, _Tables):
        t = book.derived.explain_tables = _Tables(book)
    return t


def changed_requirement_state(book: Rulebook, facts: dict[str, Any], as_of: dt.date,
                              outcome: str, value: str | None = None) -> str | None:
    """`requirement_state` of an outcome all of whose grounds are requirements, for a case
    decided by the compiled backend (a counterfactual's changed case: `value`, its value
    as the search confirmed it, if at hand); the interpreter where the program does not
    compile."""
    try:
        c = compiled_of(book)
        if value is None:
            value = c.decide(facts, as_of, [outcome])[outcome].value
        parts = c.requirement_parts(outcome, facts, as_of) if value == "not_applicable" \
            else []
    except (NotCompilable, EvalError):
        return requirement_state(evaluate(book, facts, as_of, outcomes=[outcome])
                                 .outcomes[outcome])
    if value == "requirement_unmet":
        return "unmet"
    if value != "not_applicable":
        return "unknown"
    # not applicable: no ground applies; a requirement is met where what it requires holds
    # and its condition does not fail (`requirement_of`)
    return "met" if any(req is True and when is not False for _k, when, req in parts) \
        else "not_concerned"


_MET = {True: "met", False: "unmet", None: "unknown"}
_HOLDS = {True: "holds", False: "does not hold", None: "unknown"}


def ground_json(book: Rulebook, r: GroundResult) -> dict[str, Any]:
    """One ground of an outcome in one case: what it says whatever the case (its provision,
    text and force), whether it applies, its conditions with the case's values, the facts and
    definitions it read and the provisions it relied on (`_plain_ground_json`; written by
    the ground's plan, `_GroundPlan.write`)."""
    return _ground_plan(book, r.ground).write(r)


def _grounds_json(book: Rulebook, rs: list[GroundResult]) -> list[dict[str, Any]]:
    """`ground_json` of each ground of a list (an outcome's applying, base, not applicable or
    undetermined grounds)."""
    memo = book.derived.ground_static  # (`_ground_plan`, its lookup written out)
    out = []
    for r in rs:
        g = r.ground
        hit = memo.get(id(g))
        out.append((hit[1] if hit is not None and hit[0] is g else _ground_plan(book, g))
                   .write(r))
    return out


def _plain_ground_json(plan: _GroundPlan, r: GroundResult) -> dict[str, Any]:
    """A ground's JSON in one case written step by step from its plan: the head copied and
    the rest set key by key, in the order the JSON shows them. What the ground's writer
    (`_GroundWriter`) writes in one go — the first time a ground is explained in a process,
    and the reference the tests hold the writers to."""
    book, tables, values = plan.book, plan.tables, r.values
    out = plan.head.copy()
    out["applies"] = r.applies
    out["requirement"] = requirement_of(r)
    out["condition"] = _condition(plan, r)
    out["condition_ja"] = _joined(plan.when_ja, values, " かつ ") or "（無条件）"
    out["when_holds"] = r.when_value
    out["requires_ja"] = plan.requires_ja.fill(values) if plan.requires_ja is not None \
        else None
    out["requires_holds"] = r.requires_value if plan.requires is not None else None
    out["unless_ja"] = [{"text": t.fill(values), "holds": uv} for t, uv
                        in zip(plan.unless_ja, r.unless_values, strict=True)] \
        if plan.unless_ja else []
    out["facts"], out["fact_labels"], out["judgments"] = _facts(tables, r)
    out["definitions"] = _definitions(tables, r) if r.definitions else []
    out["relied_on"] = _relied(plan, r) if r.relied_on or plan.via is not None else []
    out["via"] = plan.via["citation"] if plan.via is not None else None
    out["records"] = records_json(book, [*plan.own, *_used_definitions(book, r)], values) \
        if plan.lists or not tables.compare_lists.isdisjoint(r.definitions) else []
    return out


def _joined(templates: list[Template], values: dict[str, Any], sep: str) -> str:
    """Templates filled with a case's values, joined by `sep` (one, the most common,
    without a list)."""
    if len(templates) == 1:
        return templates[0].fill(values)
    return sep.join([t.fill(values) for t in templates])


def _condition(plan: _GroundPlan, r: GroundResult) -> str:
    """A ground's condition in DSL form with the case's values, and how what it requires and
    each exception came out."""
    values = r.values
    text = _joined(plan.when, values, " and ") or "true"
    if plan.requires is not None:
        text += f" requires {plan.requires.fill(values)} ⇒ {_MET[r.requires_value]}"
    if plan.unless:
        for t, uv in zip(plan.unless, r.unless_values, strict=True):
            text += f" unless {t.fill(values)} ⇒ {_HOLDS[uv]}"
    return text


def _facts(tables: _Tables, r: GroundResult) -> tuple[dict[str, Any], dict[str, str | None],
                                                       list[str]]:
    """The facts a ground read (path → value as JSON), the labels of the declared ones and
    which are 当社の判断: one walk over them."""
    facts: dict[str, Any] = {}
    fact_labels: dict[str, str | None] = {}
    judgments: list[str] = []
    labels, judged = tables.labels, tables.judgments
    for p, v in r.facts.items():
        facts[p] = v if type(v) in PLAIN else jsonable(v)
        if p in labels:
            fact_labels[p] = labels[p]
            if p in judged:
                judgments.append(p)
    return facts, fact_labels, judgments


def _definitions(tables: _Tables, r: GroundResult) -> list[dict[str, Any]]:
    """The definitions a ground used, with their labels, values and (where the case's
    classification came from one: `w`) citations."""
    out = []
    for n, w in r.definitions.items():
        entry = tables.definitions[n]
        out.append({"name": n, "label": entry["label"],
                    "citation": entry["citation"] if w else None,
                    "value": jsonable(r.values.get(n))})
    return out


class _GroundWriter:
    """The source of a function writing one ground's JSON from its `GroundResult`, and the
    constants it reads: what `_plain_ground_json` looks up and fills piece by piece for
    every case, written out for the ground once.

    The function is our code, made from the ground's plan: every value from the rule file
    (a word of a condition, a fact's name, a citation, a label) reaches it as a parameter of
    the factory that makes it (`C0`, `C1`, …), never as text in the source; so grounds of
    the same shape share one compiled factory (`_ground_writer`), and the source holds only
    our names, the JSON's keys and f-strings of our names (a test tokenises it).

    Written out: each template's holes (`Template.fill`) — the value of each key the
    conditions show looked up once, and for each way it is written (the DSL's `show_value`,
    a fact's Japanese writer) the words for the common values (unknown, no, yes, observed
    absence) constants chosen by identity, another value written by the hole's writer;
    `condition` and `condition_ja` each one f-string of words and filled holes; the JSON a
    copy of the ground's prototype, which holds what is fixed for the ground (its head; no
    `requires`, no 準用), the rest set; no list asked for record by record where the case's
    values hold no record of one."""

    def __init__(self, plan: _GroundPlan):
        self.consts: list[Any] = []
        self.values: dict[str, str] = {}  # key of a value shown → the local holding it
        # key → its writers (by identity) → the local holding its words, and the writer
        self.slots: dict[str, dict[int, tuple[str, Callable[[Any], str]]]] = {}
        self.body = self._body(plan, plan.tables)

    def const(self, value: Any) -> str:
        """The name the function reads `value` by (a parameter of its factory)."""
        self.consts.append(value)
        return f"C{len(self.consts) - 1}"

    def filled(self, t: Template) -> list[tuple[str, Any]]:
        """A template as the parts of a text: ("words", str) and ("local", name of the
        local holding a hole's filled words)."""
        words = t.words
        parts: list[tuple[str, Any]] = [("words", words[0])]
        for i, (key, write) in enumerate(t.holes()):
            if key not in self.values:
                self.values[key] = f"v{len(self.values)}"
                self.slots[key] = {}
            slots = self.slots[key]
            if id(write) not in slots:
                slots[id(write)] = (f"s{sum(map(len, self.slots.values()))}", write)
            parts.append(("local", slots[id(write)][0]))
            parts.append(("words", words[i + 1]))
        return parts

    def joined(self, templates: list[Template], sep: str,
               default: str) -> list[tuple[str, Any]]:
        """Templates filled and joined by `sep` — `default` when there are none (or, were
        every word empty, when the filling is empty: `_joined(…) or default`)."""
        parts: list[tuple[str, Any]] = []
        for i, t in enumerate(templates):
            if i:
                parts.append(("words", sep))
            parts += self.filled(t)
        if not parts:
            return [("words", default)]
        if any(kind == "words" and s for kind, s in parts):
            return parts
        return [("expr", f"({self.text(parts)} or {self.const(default)})")]

    def text(self, parts: list[tuple[str, Any]]) -> str:
        """An expression writing the parts' text: adjacent words joined beforehand, one
        constant or local as it is, several as one f-string."""
        names: list[str] = []
        words: list[str] = []
        for kind, x in [*parts, ("end", None)]:
            if kind == "words":
                words.append(x)
                continue
            if words and "".join(words):
                names.append(self.const("".join(words)))
            words = []
            if kind != "end":
                names.append(x)
        if not names:
            return "EMPTY"
        return names[0] if len(names) == 1 else 'f"' + "".join(f"{{{n}}}" for n in names) + '"'

    def _body(self, plan: _GroundPlan, tables: _Tables) -> list[str]:
        """The function's lines after the values' lookups (`source`): the ground's JSON is
        a copy of its prototype — every key in place, in the JSON's order, those fixed for the
        ground (its head, no `requires`, no 準用) with their values — whose other keys are
        then set: a dict of 23 keys copied (its table copied whole) costs half one built
        key by key."""
        unless = [f"u{i}" for i in range(len(plan.unless))]
        cond = self.joined(plan.when, " and ", "true")
        if plan.requires is not None:
            cond += [("words", " requires "), *self.filled(plan.requires), ("words", " ⇒ "),
                     ("expr", "MET[r.requires_value]")]
        for t, u in zip(plan.unless, unless, strict=True):
            cond += [("words", " unless "), *self.filled(t), ("words", " ⇒ "),
                     ("expr", f"HOLDS[{u}]")]
        relied = self.const(functools.partial(_relied, plan))
        # each key after the head: the expression the function sets it to, or None where the
        # prototype holds its value for every case
        fields = {
            "applies": "r.applies",
            "requirement": f"{self.const(requirement_of)}(r)"
            if plan.head["force"] == "requirement" else None,
            "condition": self.text(cond),
            "condition_ja": self.text(self.joined(plan.when_ja, " かつ ", "（無条件）")),
            "when_holds": "r.when_value",
            "requires_ja": self.text(self.filled(plan.requires_ja))
            if plan.requires_ja is not None else None,
            "requires_holds": "r.requires_value" if plan.requires is not None else None,
            "unless_ja": "[" + ", ".join(
                f'{{"text": {self.text(self.filled(t))}, "holds": {u}}}'
                for t, u in zip(plan.unless_ja, unless, strict=True)) + "]",
            "facts": "facts",
            "fact_labels": "fact_labels",
            "judgments": "judgments",
            "definitions": "definitions",
            "relied_on": f"{relied}(r)" if plan.via is not None
            else f"{relied}(r) if r.relied_on else []",
            "via": None,
            "records": self._records(plan, tables),
        }
        proto = {**plan.head, **dict.fromkeys(fields)}
        proto["via"] = plan.via["citation"] if plan.via is not None else None
        lines = [f"{', '.join(unless)}, = r.unless_values"] if unless else []
        lines += self._facts(tables)
        lines += self._definitions(tables)
        lines.append(f"out = {self.const(proto)}.copy()")
        lines += [f'out["{k}"] = {v}' for k, v in fields.items() if v is not None]
        lines.append("return out")
        return lines

    def _records(self, plan: _GroundPlan, tables: _Tables) -> str:
        """`records`: the lists the ground compares record by record (`records_json`) —
        asked only where the case's values hold a record of one of the quantifiers it would
        show (`records_json` finds nothing otherwise), and for a ground that compares no list
        itself only where it used a definition that does."""
        if not plan.lists and not tables.compare_lists:
            return "[]"
        keys = self.const(tables.definition_records | _record_keys(plan.own))
        asked = f"{self.const(_records_of(plan))}(r) if not {keys}.isdisjoint(r.values)"
        if plan.lists:
            return f"{asked} else []"
        return (f"{asked} and rd and not {self.const(tables.compare_lists)}.isdisjoint(rd) "
                "else []")

    def _facts(self, tables: _Tables) -> list[str]:
        """The facts the ground read (path → value as JSON: most are as they are), the
        labels of the declared ones and which are 当社の判断 (`judgments`: a set test first,
        most grounds read none). Both dicts start as copies of what the ground read (its
        paths in order, no table grown key by key): a value replaced where JSON needs
        another (most are unknown: None is tested first), a label put in place of each
        value, a path no fact declares taken out (`try`: no cost where, as nearly always,
        the path is declared)."""
        labels = self.const(tables.labels)
        judged = self.const(tables.judgments)
        return [
            "rf = r.facts",
            "facts = rf.copy()",
            "fact_labels = rf.copy()",
            "for p, v in rf.items():",
            "    if v is not None and type(v) not in PLAIN:",
            "        facts[p] = jsonable(v)",
            "    try:",
            f"        fact_labels[p] = {labels}[p]",
            "    except KeyError:",
            "        del fact_labels[p]",
            f"judgments = [p for p in rf if p in {judged}] if rf and not "
            f"{judged}.isdisjoint(rf) else []"
            if tables.judgments else "judgments = []"]

    def _definitions(self, tables: _Tables) -> list[str]:
        """The definitions the ground used, each a copy of its entry (`_Tables.definitions`:
        its value unknown) with the case's value, and without its citation where the case's
        classification did not come from one."""
        defs = self.const(tables.definitions)
        return [
            "rd = r.definitions",
            "definitions = []",
            "if rd:",
            "    dget = r.values.get",
            "    for n, w in rd.items():",
            f"        d = {defs}[n].copy()",
            "        v = dget(n)",
            "        if v is not None:",
            '            d["value"] = v if type(v) in PLAIN else jsonable(v)',
            "        if not w:",
            '            d["citation"] = None',
            "        definitions.append(d)"]

    def lookups(self) -> list[str]:
        """The lines looking up each value the conditions show, and writing it once for each
        way it is shown: the common values' words chosen by identity (`Template.fill`'s
        `_COMMON`), no value (the key absent) as nothing, a text (an enum's member) by the
        words kept for it (`_Shown`), another by the hole's writer."""
        if not self.values:
            return []
        lines = ["get = r.values.get"]
        for key, v in self.values.items():
            slots = self.slots[key].values()
            lines.append(f"{v} = get({self.const(key)}, NO)")
            for i, (test, value) in enumerate(_COMMON_VALUES):
                lines.append(f"{'if' if i == 0 else 'elif'} {v} is {test}:")
                lines += [f"    {s} = {self.const(f'［{write(value)}］')}" for s, write in slots]
            lines.append(f"elif {v} is NO:")
            lines += [f"    {s} = EMPTY" for s, _w in slots]
            lines.append(f"elif type({v}) is str:")  # an enum member (or a text)
            lines += [f"    {s} = {self.const(_Shown(write))}[{v}]" for s, write in slots]
            lines.append("else:")
            lines += [f"    {s} = f\"{{LB}}{{{self.const(write)}({v})}}{{RB}}\""
                      for s, write in slots]
        return lines

    def source(self) -> str:
        """The factory's source: `make(C0, C1, …)` returning the writer."""
        lines = [*self.lookups(), *self.body]
        params = ", ".join(f"C{i}" for i in range(len(self.consts)))
        return (f"def make({params}):\n    def ground_json(r):\n"
                + "".join(f"        {ln}\n" for ln in lines)
                + "    return ground_json\n")


class _Shown(dict[str, str]):
    """A hole's words for a text value (most are an enum's members), written once each: a
    hole shows a value as its writer writes it, whatever the case. Holds at most `MAX`
    values (a text a case gives is written each time past them)."""

    MAX = 256

    def __init__(self, write: Callable[[Any], str]) -> None:
        super().__init__()
        self.write = write

    def __missing__(self, v: str) -> str:
        shown = f"［{self.write(v)}］"
        if len(self) < self.MAX:
            self[v] = shown
        return shown


# the values most holes show (`Template.fill`'s `_COMMON`) by the name the generated source
# tests them with, the most frequent first (in the example cases: unknown, no, yes)
_COMMON_VALUES = (("None", None), ("False", False), ("True", True), ("ABSENT", ABSENT))
_NO_VALUE = object()  # a key the case gave no value (`Template.fill` writes its words only)
# what the writers' source reads besides its factory's parameters: our objects only
_WRITER_RUNTIME: dict[str, Any] = {
    "NO": _NO_VALUE, "ABSENT": ABSENT, "PLAIN": PLAIN, "jsonable": jsonable, "MET": _MET,
    "HOLDS": _HOLDS, "EMPTY": "", "LB": "［", "RB": "］"}
# source → its compiled factory (the shapes of grounds: a few dozen a rulebook)
_FACTORIES: dict[str, Callable[..., Any]] = {}


def _ground_writer(plan: _GroundPlan) -> Callable[[GroundResult], dict[str, Any]]:
    """The function writing a ground's JSON (`_GroundWriter`)."""
    w = _GroundWriter(plan)
    src = w.source()
    make = _FACTORIES.get(src)
    if make is None:
        if len(_FACTORIES) > 5_000:  # shapes of rulebooks no longer in use
            _FACTORIES.clear()
        ns = dict(_WRITER_RUNTIME)
        exec(compile(src, "<yakkan ground writer>", "exec"), ns)  # our source, no rule text
        make = _FACTORIES[src] = ns["make"]
    writer: Callable[[GroundResult], dict[str, Any]] = make(*w.consts)
    return writer


def _records_of(plan: _GroundPlan) -> Callable[[GroundResult], list[dict[str, Any]]]:
    """A ground's lists compared record by record, for one case (`records_json` over its own
    conditions and the definitions it used)."""
    book = plan.book

    def records(r: GroundResult) -> list[dict[str, Any]]:
        return records_json(book, [*plan.own, *_used_definitions(book, r)], r.values)
    return records


def _relied(plan: _GroundPlan, r: GroundResult) -> list[dict[str, Any]]:
    """The provisions a ground relies on (each once), and the one it is applied from."""
    cite = plan.tables.citations
    relied = [{"id": t, "citation": cite[t]} for t in dict.fromkeys(r.relied_on)]
    if plan.via is not None:
        relied.append(dict(plan.via))
    return relied


def _used_definitions(book: Rulebook, r: GroundResult) -> list[Any]:
    defs = program_of(book).definitions
    return [defs[n] for n in r.definitions if n in defs]


MAX_RECORDS = 20  # records shown per quantifier (the rest are counted)


def records_json(book: Rulebook, exprs: list[Any], values: dict[str, Any]) -> list[dict[str, Any]]:
    """A list compared record by record (`all(l in lines: …)`), line by line: the records
    that decided the quantifier — for `all` those that are not true, for `any` those that
    are not false — each with the comparisons evaluated for it (the branch an `if` took) and
    the values compared. `ref` and `index` count from 0 as the case file's paths do
    (`lines[1]`); `ordinal` and `text_ja` from 1 as a person does (「2件目」). The other
    records are counted."""
    out: list[dict[str, Any]] = []
    if not any(isinstance(k, str) and k.endswith(RECORDS) for k in values):
        return out  # no list was compared record by record for this ground
    vocab = vocabulary(book)
    for e in exprs:
        for n in walk(e):
            if not isinstance(n, Quant) or n.q not in ("all", "any"):
                continue
            recs = values.get(f"{n.nid or id(n)}{RECORDS}")
            if not isinstance(recs, list):
                continue
            src = ".".join(n.source.path)
            decisive = [x for x in recs if x.value is not (n.q == "all")]
            shown = decisive[:MAX_RECORDS]
            lines = [_record_json(book, vocab, n, src, x) for x in shown]
            out.append({"list": src, "label": vocab.label(src), "quantifier": n.q,
                        "records": len(recs),
                        "holding": sum(1 for x in recs if x.value is True),
                        "failing": sum(1 for x in recs if x.value is False),
                        "unknown": sum(1 for x in recs if x.value is None),
                        "shown": lines, "more": len(decisive) - len(shown)})
    return out


def _record_json(book: Rulebook, vocab: Any, q: Quant, src: str, x: Any) -> dict[str, Any]:
    ftypes = {fd.name: fd.type for fd in book.facts[src].type.fields} if src in book.facts \
        else {}

    def operand(e: Any, v: Any) -> dict[str, Any]:
        if isinstance(e, Ref) and e.path[0] == q.var and len(e.path) == 2:
            path = f"{src}.{e.path[1]}"
            t = ftypes.get(e.path[1])
            return {"expr": to_text(e, {}), "path": path, "own": True,
                    "label": vocab.label(path), "value": jsonable(v),
                    "shown": show(v, t.base if t else None)}
        name = ".".join(e.path) if isinstance(e, Ref) else None
        return {"expr": to_text(e, {}), "path": name, "own": False,
                "label": vocab.label(name) if name else None, "value": jsonable(v),
                "shown": show(v)}

    comps = []
    for c in x.comparisons:
        node = c.node
        if isinstance(node, Call):
            kind = node.fn
            ops = [operand(a, v) for a, v in zip(node.args, c.values, strict=True)]
        else:
            kind = node.op
            ops = [operand(node.left, c.values[0]), operand(node.right, c.values[1])]
        comps.append({"op": kind, "operands": ops, "holds": c.value})
    rec = x.record if isinstance(x.record, dict) else {}
    fields = {k: jsonable(v) for k, v in rec.items() if v is not None}
    ref = f"{src}[{x.index}]"  # the case file's path: counted from 0, as `lines[0].number`
    compared = {o["path"] for c in comps for o in c["operands"]}
    body = walk(q.body) if q.body is not None else []
    read = [n.path[1] for n in body if isinstance(n, Ref) and n.path[0] == q.var
            and len(n.path) == 2]
    # the record named as a person reads it: 「2件目」 (counted from 1), with the first text
    # the record has (a telephone number) and the texts the body reads but does not compare
    # (a holder's name)
    texts = [name for name, t in ftypes.items() if t.base == "text" and not t.ident]
    names = [show(rec[k]) for k in [*texts[:1], *read] if k in texts
             and isinstance(rec.get(k), str) and (k == texts[0] or f"{src}.{k}" not in compared)]
    ordinal = f"{x.index + 1}件目"
    shown_ref = f"{ordinal}（{'・'.join(dict.fromkeys(names))}）" if names else ordinal
    # a record whose body compares nothing (yes/no fields): the fields it read
    own = [f"{vocab.label(f'{src}.{k}') or k}: {show(rec.get(k), ftypes[k].base)}"
           for k in dict.fromkeys(read) if k in ftypes and ftypes[k].base == "bool"] \
        if not comps else []
    return {"ref": ref, "index": x.index, "ordinal": x.index + 1, "holds": x.value,
            "fields": fields, "comparisons": comps,
            "text_ja": _record_ja(shown_ref, comps, x.value, own)}


RECORD_VERDICT = {True: "条件を満たす", False: "条件を満たさない", None: "条件を満たすか不明"}


def _record_ja(ref: str, comps: list[dict[str, Any]], holds: Any,
               own: list[str] | None = None) -> str:
    """One record in words: `2件目（090-2222-2222・株式会社乙）: 12-345-6789（…のD-U-N-S®
    Number） ≠ 98-765-4321（…） ⇒ 条件を満たさない`."""
    def op(o: dict[str, Any]) -> str:
        return f"{o['shown']}（{o['label'] or o['expr']}）"

    parts = []
    for c in comps:
        ops = c["operands"]
        if c["op"] == "present":
            if c["holds"] is False:
                parts.append(f"{ops[0]['label'] or ops[0]['expr']}なし")
            elif c["holds"] is None:
                parts.append(f"{ops[0]['label'] or ops[0]['expr']}不明")
            continue
        if c["op"] == "same_name":
            rel = {True: "＝", False: "≠", None: "？"}[c["holds"]]
            parts.append(f"{op(ops[0])} {rel} {op(ops[1])}（名義として比較）")
            continue
        sym = {"==": ("＝", "≠"), "!=": ("≠", "＝")}.get(c["op"])
        if sym is not None and c["holds"] is not None:
            rel = sym[0] if c["holds"] else sym[1]
        else:
            rel = {"<": "＜", "<=": "≦", ">": "＞", ">=": "≧"}.get(c["op"], c["op"])
            rel += {True: "", False: " が成り立たない", None: " は不明"}[c["holds"]]
        parts.append(f"{op(ops[0])} {rel} {op(ops[1])}")
    parts.extend(own or [])
    return f"{ref}: {'、'.join(parts) or '比較なし'} ⇒ {RECORD_VERDICT[holds]}"


_RECORD_PATH = re.compile(r"^(?P<list>[\w.]+)\[(?P<i>\d+)\]\.(?P<field>\w+)$")


def _missing_json(book: Rulebook, p: str) -> dict[str, Any]:
    """A missing fact: a declared fact by its label; a field of a listed record
    (`lines[0].currently_registered`) by its field's label and the record, counted from 1
    as the explanation counts them (「…（lines の1件目）」)."""
    f = book.facts.get(p)
    if f is not None:
        return {"path": p, "label": f.label, "judgment": f.judgment}
    m = _RECORD_PATH.match(p)
    fd = vocabulary(book).field(f"{m['list']}.{m['field']}") if m else None
    if m and fd is not None:
        lst = vocabulary(book).label(m["list"]) or m["list"]
        return {"path": p, "label": f"{fd.label or fd.name}（{lst}の"
                f"{int(m['i']) + 1}件目）", "judgment": fd.judgment}
    return {"path": p, "label": None, "judgment": False}


def _missing_records(book: Rulebook, o: OutcomeResult, p: Prepared | None) -> list[str]:
    """Record fields the undetermined grounds of an undetermined outcome could not decide
    for want of a value (the interpreter, record by record). Asked only of an outcome with
    a ground that compares a list record by record (`_Tables.with_records`)."""
    if o.value != "undetermined" or p is None:
        return []
    plans = [_ground_plan(book, r.ground) for r in o.undetermined]
    if not any(isinstance(fact_at(p.facts, path), list) for plan in plans
               for path in plan.sources):
        return []  # no list is compared record by record, or the case gives none of them
    exprs = [e for plan in plans for e in plan.quantified]
    from yakkan.engine.runtime.evaluate import Evaluator, missing_fields
    ev = Evaluator(book, p.facts, p.as_of)
    out: list[str] = []
    for e in exprs:
        for m in missing_fields(ev, e):
            if m not in out:
                out.append(m)
    return out


def is_approval(book: Rulebook, outcome: str) -> bool:
    """A decision the text makes as 承認 (an `approve` ground): its refusals read 承認しない."""
    return outcome in _tables(book).approvals


def _force_label(book: Rulebook, g: Any) -> str:
    """A ground's legal force in Japanese (a refusal of a 承認: 承認しない)."""
    if g.force in ("refuse", "may_refuse") and is_approval(book, g.outcome):
        return "承認しない" if g.force == "refuse" else "承認しないことがある（裁量）"
    return FORCE_LABELS.get(g.force, g.force)


def outcome_json(book: Rulebook, o: OutcomeResult, cf: Search | None,
                 p: Prepared | None = None) -> dict[str, Any]:
    """One outcome of an evaluated case: its value, its grounds by how they stand, the facts
    still missing, and (`cf`) the changes that would turn it. The lists most outcomes leave
    empty are built only when they are not.

    A copy of the outcome's prototype (`_Tables.outcomes`: its keys in the JSON's order, its
    name, label and whether it is a 承認 in place) with the rest set: cheaper than a dict
    built key by key."""
    tables = _tables(book)
    state = requirement_state(o)
    out = tables.outcomes[o.name].copy()
    out["value"] = o.value
    out["kind"] = o.kind
    out["requirement_state"] = state
    out["possible"] = o.possible
    out["open"] = _open(tables, o) if o.open else []
    out["grounds"] = _grounds_json(book, o.grounds) if o.grounds else []
    out["base"] = _grounds_json(book, o.base) if o.base else []
    out["not_applicable"] = _grounds_json(book, o.not_applicable) if o.not_applicable else []
    out["undetermined"] = _grounds_json(book, o.undetermined) if o.undetermined else []
    out["missing_facts"] = _missing_list(book, tables, o.missing_facts) \
        if o.missing_facts else []
    # the fields of listed records an undetermined ground still needs
    # (`lines[0].currently_registered`): the list itself is known, so `missing_facts`
    # (what every backend reports, batch included) cannot name them
    records = _missing_records(book, o, p) \
        if o.undetermined and o.name in tables.with_records else None
    out["missing_records"] = _missing_list(book, tables, records) if records else []
    cite = tables.citations
    out["overrides"] = [{"by": cite[a], "over": cite[b]} for a, b in o.overrides] \
        if o.overrides else []
    out["counterfactuals"] = _counterfactuals(book, tables, o, cf, p, state) \
        if cf and cf.found else []
    out["counterfactual_search"] = None if cf is None else {
        "status": cf.status, "tried": cf.tried, "max_changes": cf.max_changes,
        "budget": cf.budget, "budget_reached": cf.budget_reached}
    return out


def _missing_list(book: Rulebook, tables: _Tables, paths: list[str]) -> list[dict[str, Any]]:
    """`_missing_json` of each missing fact: a declared fact's is a copy of its entry, made
    once per rulebook (`_Tables.missing`)."""
    missing = tables.missing
    return [missing[m].copy() if m in missing else _missing_json(book, m) for m in paths]


def _counterfactuals(book: Rulebook, tables: _Tables, o: OutcomeResult, cf: Search,
                     p: Prepared | None, state: str | None) -> list[dict[str, Any]]:
    """The changes the search found that turn an outcome; for a requirement outcome
    (`state`), each changed case read as a requirement, decided afresh (met, or no longer
    concerned)."""
    labels = tables.labels
    out = []
    for f in cf.found:
        changed_state = None
        if state is not None and p is not None:
            changed = with_changes(p.facts, tuple((c.path, c.after) for c in f.changes))
            changed_state = changed_requirement_state(book, changed, p.as_of, o.name, f.value)
        changes = []
        judged = False
        for c in f.changes:
            before, after = c.before, c.after
            changes.append({
                "path": c.path,
                "from": before if type(before) in PLAIN else jsonable(before),
                "to": after if type(after) in PLAIN else jsonable(after),
                "label": labels.get(c.path), "judgment": c.judgment})
            if c.judgment:
                judged = True
        out.append({"changes": changes, "value": f.value, "verified": f.verified,
                    "requirement_state": changed_state, "changes_judgment": judged})
    return out


def _open(tables: _Tables, o: OutcomeResult) -> list[dict[str, Any]]:
    """An undetermined outcome's values still open, each with the grounds that would give
    it (each a copy of the ground's entry, `_Tables.grounds`)."""
    entries = tables.grounds
    out = []
    for v, keys in o.open:
        grounds = []
        for k in keys:
            grounds.append(entries[k].copy())
        out.append({"value": v, "grounds": grounds})
    return out


def explain_result(p: Prepared, result: Result, with_counterfactuals: bool = True,
                   asked: tuple[str, ...] = ()) -> dict[str, Any]:
    """The explanation JSON of an evaluated case. `asked`: the outcomes the user asked
    about (`--outcome`); without it, the case's own question (see `question`)."""
    book = p.book
    h = book.doc.header
    outs: list[dict[str, Any]] = []
    ordered = sorted(result.outcomes.values(), key=lambda o: o.kind != "application")
    # the ground values the evaluation found: where the searches start from; what the
    # searches share, worked out once
    searcher = Searcher(book, p.facts, p.as_of, result.evaluator.applies_memo
                        if result.evaluator is not None else None)
    for o in ordered:
        wanted = o.kind == "application" or o.value in CF_EFFECTS
        cfs = searcher.search(o) if with_counterfactuals and wanted else None
        outs.append(outcome_json(book, o, cfs, p))
    from yakkan.engine.features.charges import charges_json  # charges imports explain's prepare
    charges = charges_json(p, result)
    q = question(p, result, asked, charges)
    for out in outs:
        out["asked"] = out["name"] in q["outcomes"]
    return {
        "schema_version": SCHEMA_VERSION,
        "warnings": [*overlapping_classes(book, result), *assumption_warnings(p)],
        "document": h.id,
        "title": h.title,
        "version": h.version,
        "rulebook": {"digest": book.source_digest, "engine": __version__},
        "effective": {"from": jsonable(h.effective_from), "until": jsonable(h.effective_until)},
        "as_of": p.as_of.isoformat(),
        "as_of_wareki": to_wareki(p.as_of),
        "case": {"path": p.path, "title": p.title, "facts": case_jsonable(p.facts)},
        "question": q,
        "outcomes": outs,
        "charges": charges,
        "vocabulary": vocabulary_json(book),
    }


def question(p: Prepared, result: Result, asked: tuple[str, ...],
             charges: dict[str, Any] | None) -> dict[str, Any]:
    """What the case asks: `outcomes` and their `source` — `option` (the user named them),
    `case` (the outcomes the case file states expectations for: its author's question),
    `facts` (derived: the outcomes whose own conditions read a fact the case gives, other
    than the classifying facts every outcome reads through definitions, and that the case
    does not leave not applicable — `about_facts`) — and `charges`: whether it asks about
    money (the case file expects charges, or the facts price at least one line)."""
    expect = p.expect if isinstance(p.expect, dict) else {}
    names = list(result.outcomes)
    if asked:
        return asked_question(names, asked)
    priced = bool(charges and any(ln.get("status") in ("charged", "quote")
                                  for ln in charges.get("lines") or []))
    money = "charges" in expect or priced
    stated = expect.get("outcomes")
    if isinstance(stated, dict) and any(n in result.outcomes for n in stated):
        return {"outcomes": [n for n in names if n in stated], "source": "case",
                "charges": money}
    return {"outcomes": about_facts(p, result), "source": "facts", "charges": money}


def asked_question(names: list[str], asked: tuple[str, ...]) -> dict[str, Any]:
    """The question when the user names the outcomes (`--outcome`): those, no money."""
    return {"outcomes": [n for n in names if n in asked], "source": "option",
            "charges": False}


def ask(data: dict[str, Any], asked: tuple[str, ...]) -> None:
    """Make `asked` the question of an explanation JSON (`question`, each outcome's
    `asked`)."""
    data["question"] = asked_question([o["name"] for o in data["outcomes"]], asked)
    for o in data["outcomes"]:
        o["asked"] = o["name"] in asked


def select_outcomes(data: dict[str, Any], outcomes: tuple[str, ...], only: bool) -> None:
    """Make `outcomes` (by name, or by the Japanese name the clause file gives it) the
    question of an explanation JSON (`--outcome`; `?outcome=` of the console's API); with
    `only` (JSON output), keep only those outcomes. An unknown name is a diagnostic."""
    names = [o["name"] for o in data["outcomes"]]
    by_label = {o["label"]: o["name"] for o in data["outcomes"] if o.get("label")}
    asked = tuple(by_label.get(n, n) for n in outcomes)
    unknown = [n for n, a in zip(outcomes, asked, strict=True) if a not in names]
    if unknown:
        raise YakkanError([Diagnostic(
            code="usage.unknown-outcome", message=f"no outcome `{unknown[0][:80]}` in "
            f"{data['document']} {data['version']}",
            hint=did_you_mean(unknown[0][:80], [*names, *by_label])
            or "outcomes: " + ", ".join(names))])
    ask(data, asked)
    if only:
        data["outcomes"] = [o for o in data["outcomes"] if o["name"] in asked]


def charge_json(p: Prepared) -> dict[str, Any]:
    """`yakkan charge --format json` of a prepared case: the charge report, the case, and the
    document's `vocabulary` (so every format shows names and values in Japanese)."""
    from yakkan.engine.features.charges import compute_charges, report_json
    d = report_json(compute_charges(p.book, p.facts, p.as_of))
    d["case"] = {"path": p.path, "title": p.title}
    d["vocabulary"] = vocabulary_json(p.book)
    return d


def about_facts(p: Prepared, result: Result) -> list[str]:
    """The outcomes the facts a case gives bear on, leaving out the classifying facts that
    definitions read (the plan, the kind of service: every outcome reads those): an outcome
    whose own grounds (not those it borrows by 準用) read, in their conditions, a fact the
    case states and whose value is not `not_applicable` (an application decision counts
    either way); or one that applies because of a fact the case states (what its applying
    grounds read, through `holds` too)."""
    book = p.book
    prog = program_of(book)
    known = _paths(p.facts) - _definition_facts(book)
    out = []
    for name, d in prog.decisions.items():
        own = _own_facts(book, name)
        o = result.outcomes[name]
        applying: set[str] = set()
        for r in o.grounds:
            applying |= set(prog.reads.get(r.ground.key, ()))
        if (own & known and (o.value != "not_applicable" or d.kind == "application")) \
                or applying & known:
            out.append(name)
    return out


def _own_facts(book: Rulebook, outcome: str) -> set[str]:
    """The facts an outcome's own grounds (not those it borrows by 準用) read in their
    conditions; kept with the rulebook."""
    memo = book.derived.own_facts
    if memo is None:
        prog = program_of(book)
        memo = book.derived.own_facts = {}
        for name, d in prog.decisions.items():
            own: set[str] = set()
            for k in d.grounds:
                g = prog.grounds[k]
                if g.via is None:
                    for e in (*g.when, g.requires, *g.unless):
                        own |= _facts_read(e)
            memo[name] = own
    return memo[outcome]


def _paths(facts: dict[str, Any], prefix: str = "") -> set[str]:
    out: set[str] = set()
    for k, v in facts.items():
        if isinstance(v, dict):
            out |= _paths(v, f"{prefix}{k}.")
        else:
            out.add(f"{prefix}{k}")
    return out


def _facts_read(e: Any) -> set[str]:
    if e is None:
        return set()
    return {".".join(n.source.path if isinstance(n, Quant) else n.path) for n in walk(e)
            if isinstance(n, Quant) or (isinstance(n, Ref) and n.resolved == "fact")}


def _definition_facts(book: Rulebook) -> set[str]:
    if book.derived.definition_facts is None:
        s: set[str] = set()
        for d, _ in book.definitions.values():
            s |= _facts_read(d.expr)
        book.derived.definition_facts = s
    return book.derived.definition_facts


def vocabulary_json(book: Rulebook) -> dict[str, Any]:
    """Every fact's label, judgment mark, type and enum members' labels (a list fact's
    fields too), and every outcome's label: what a renderer needs to show names, not codes.
    Made once per rulebook: what it holds is shared by every explanation, to be read, not
    changed."""
    v = book.derived.vocabulary_json
    if v is None:
        v = book.derived.vocabulary_json = _vocabulary_json(book)
    return dict(v)


def _vocabulary_json(book: Rulebook) -> dict[str, Any]:
    def typ(t: Any, label: str | None, judgment: bool) -> dict[str, Any]:
        out: dict[str, Any] = {"label": label, "judgment": judgment, "type": t.base}
        if t.members:
            out["members"] = {m.name: m.label or m.name for m in t.members}
        if t.fields:
            out["fields"] = {fd.name: typ(fd.type, fd.label, fd.judgment) for fd in t.fields}
        return out
    return {"facts": {p: typ(f.type, f.label, f.judgment) for p, f in book.facts.items()},
            "definitions": {n: d.label for n, (d, _) in book.definitions.items() if d.label},
            "outcomes": outcome_labels(book)}


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
        if len(true) < 2:
            continue
        uses = _tables(book).class_reads
        # a class defined from another that also holds (プラン4 from プラン2) is its part:
        # keep the wider one
        apart = [n for n in true if not any(o != n and o in uses[n] for o in true)]
        if len(apart) >= 2:
            labels = "・".join(book.definitions[n][0].label or n for n in apart)
            out.append({
                "code": "case.overlapping-classes", "citation": book.cite(pid),
                "classes": apart,
                "message": f"the case falls under {labels} at once ({book.cite(pid)}); the "
                "text does not say these exclude each other, so each is applied as written",
                "message_ja": f"この事例は{labels}に同時に当たります（{book.cite(pid)}）。本文は"
                "これらが互いに排他的であるとは定めていないため、それぞれの規定を書かれたとおり"
                "に適用しています。"})
    return out


def assumption_warnings(p: Prepared) -> list[dict[str, Any]]:
    """The document's assumptions (`assume`) the case breaks: it is decided as written, and
    the reader is told that the encoding assumed such a case does not arise."""
    from yakkan.engine.runtime.compiled import broken_assumptions
    labels = {a.name: a.label for a in p.book.doc.assumptions}
    return [{"code": "case.breaks-assumption", "assumption": name,
             "message": f"the case breaks the document's assumption `{name}` "
             f"({labels[name]}); it is decided as the text is written",
             "message_ja": f"この事例は符号化の前提「{labels[name]}」に反します。本文のとおりに"
             "判断していますが、改正比較・静的検査はこの前提に反する事例を扱いません。"}
            for name in broken_assumptions(p.book, p.facts, p.as_of)]


def _defs_used(e: Any) -> set[str]:
    return {".".join(n.path) for n in walk(e) if isinstance(n, Ref) and
            n.resolved == "definition"}


def explain_case(case_path: str, doc: str | None = None, as_of: dt.date | None = None,
                 with_counterfactuals: bool = True, trace: bool = False,
                 asked: tuple[str, ...] = ()) -> dict[str, Any]:
    """The explanation JSON of a case file; with `trace`, also the evaluation's typed trace
    events (`runtime/trace.py`) under `trace`; `asked`: the outcomes the user asked about."""
    p = prepare(case_path, doc, as_of)
    result = evaluate(p.book, p.facts, p.as_of, trace=trace)
    data = explain_result(p, result, with_counterfactuals, asked)
    if result.trace is not None:
        data["trace"] = result.trace.as_json()
    return data


# ---- text form ------------------------------------------------------------------------


