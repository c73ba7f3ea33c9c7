"""The explanation's JSON written fast is the JSON written plainly, byte for byte.

A ground's JSON is written by a function generated for the ground (`explain._GroundWriter`,
made on its second explanation in a process) and an outcome's from prototypes kept with the
rulebook. Both are held here to straightforward references, compared as the JSON text they
give (so key order counts, and `true` is not `1`):

* every ground of every example case: the generated writer against `_plain_ground_json`
  (the ground's JSON written step by step, as before the writers);
* every ground of every bundled version with made-up results — each value a condition
  shows unknown, yes, no, observed absence, missing, a number, a Decimal, a date, a
  duration, a text, an enum member, a list of records; facts undeclared and 当社の判断;
  definitions with and without a citation; requirements and exceptions holding, failing
  and unknown; provisions relied on twice; 準用;
* every outcome of every example case (counterfactual searches as `explain_result` makes
  them): `outcome_json` against `reference_outcome_json` below, the outcome as it was
  written before its prototypes;
* the generated source holds no text from a rule file (tokenised: only our names, the
  JSON's keys and f-strings of names), and one explanation compiles no writer (a run of
  the CLI explains one case: it pays no compile()).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import keyword
import random
import re
import tokenize
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from example_cases import EXAMPLES, expected_error

from yakkan.engine.core.periods import Duration
from yakkan.engine.core.values import ABSENT, jsonable
from yakkan.engine.features import explain as E
from yakkan.engine.features.counterfactual import search, with_changes
from yakkan.engine.features.jatext import vocabulary
from yakkan.engine.runtime.evaluate import (
    RECORDS,
    Evaluator,
    GroundResult,
    evaluate,
    missing_fields,
)
from yakkan.engine.semantics.program import program_of
from yakkan.engine.semantics.resolve import Rulebook
from yakkan.engine.semantics.rulebooks import versions

CASES = [c for c in sorted(EXAMPLES.glob("*.yaml")) if expected_error(c) is None]
BOOKS = [b for doc in ("denwa", "rakuten-miitel") for b in versions(doc)]
IDS = [f"{b.doc.header.id}@{b.doc.header.effective_from}" for b in BOOKS]


def text(data: Any) -> str:
    """JSON as the CLI writes it: key order and types count."""
    return json.dumps(data, ensure_ascii=False, indent=1)


def writer(plan: E._GroundPlan) -> Any:
    """The ground's generated writer, made whatever the plan has written so far."""
    return E._ground_writer(plan)


def evaluated(case: Path) -> tuple[E.Prepared, Any]:
    p = E.prepare(str(case))
    return p, evaluate(p.book, p.facts, p.as_of)


def ground_results(result: Any) -> list[GroundResult]:
    return [r for o in result.outcomes.values()
            for r in (*o.grounds, *o.base, *o.not_applicable, *o.undetermined)]


# ---- every ground of every example case ------------------------------------------------

def test_every_example_ground_is_written_alike() -> None:
    compared = records = 0
    for case in CASES:
        p, result = evaluated(case)
        for r in ground_results(result):
            plan = E._ground_plan(p.book, r.ground)
            want = text(E._plain_ground_json(plan, r))
            assert text(writer(plan)(r)) == want, (case.name, r.ground.key)
            compared += 1
            records += '"quantifier"' in want
    assert compared > 10_000  # every outcome's grounds of some 170 cases
    assert records > 10  # lists shown record by record among them


# ---- made-up results for every ground of every version ----------------------------------

LEAVE_OUT = object()


def _pool(book: Rulebook, key: str) -> list[Any]:
    """Values a condition's hole may show: the common ones, none at all (`LEAVE_OUT`: the
    key left out of the values), and one of each other kind (an enum member of the fact
    where it has members)."""
    t = vocabulary(book).type_of(key)
    members = [m.name for m in t.members] if t is not None and t.members else ["a_member"]
    return [None, True, False, ABSENT, LEAVE_OUT, 0, 1500, -3, Decimal("1500.50"),
            Decimal("2E+3"), dt.date(2023, 4, 17), Duration(seconds=61), "株式会社乙",
            members[-1], [{"number": "03-1234-5678"}, {"number": None}], [], ""]


def _made_up(book: Rulebook, g: Any, plan: E._GroundPlan, rng: random.Random) -> GroundResult:
    """A ground's result with values drawn from `_pool`: what no example case may give."""
    keys = {k for t in (*plan.when, *plan.when_ja, *plan.unless, *plan.unless_ja,
                        *[x for x in (plan.requires, plan.requires_ja) if x is not None])
            for k, _w in t.holes()}
    facts_declared = list(book.facts)
    judged = sorted(plan.tables.judgments)
    defs = list(book.definitions)
    values: dict[str, Any] = {}
    for k in sorted(keys):
        v = rng.choice(_pool(book, k))
        if v is not LEAVE_OUT:
            values[k] = v
    facts = {p: rng.choice([None, True, False, ABSENT, "x", 3, Decimal("0.5"),
                            dt.date(2024, 1, 31), [1, {"a": Decimal(2)}], {"nested": ABSENT}])
             for p in rng.sample(facts_declared, min(len(facts_declared), rng.randint(0, 6)))}
    if judged and rng.random() < 0.5:
        facts[rng.choice(judged)] = rng.choice([True, None])
    if rng.random() < 0.3:
        facts["no.such.fact"] = rng.choice([None, "text"])  # read, but declared nowhere
    definitions: dict[str, str | None] = {}
    for n in rng.sample(defs, min(len(defs), rng.randint(0, 4))):
        definitions[n] = rng.choice([None, "article:1"])
        values[n] = rng.choice([None, True, False, 2, Decimal("3.25"), ABSENT, "plan"])
    if rng.random() < 0.2:  # a record of a quantifier the ground does not show
        values[f"elsewhere{RECORDS}"] = []
    pids = list(book.provisions)
    relied = [rng.choice(pids) for _ in range(rng.randint(0, 3))]
    relied += relied[:1]  # one relied on twice: shown once
    tri = (True, False, None)
    return GroundResult(
        ground=g, applies=rng.choice(tri), when_value=rng.choice(tri),
        requires_value=rng.choice(tri), unless_values=[rng.choice(tri) for _ in g.unless],
        values=values, facts=facts, definitions=definitions, relied_on=relied)


def test_made_up_results_are_written_alike() -> None:
    rng = random.Random(20230417)
    kinds: set[str] = set()
    for book, g in [(b, g) for b in BOOKS for g in program_of(b).grounds.values()]:
        plan = E._ground_plan(book, g)
        write = writer(plan)
        for _ in range(12):
            r = _made_up(book, g, plan, rng)
            try:
                want = text(E._plain_ground_json(plan, r))
            except Exception as e:  # a value no writer can show: the writer fails alike
                with pytest.raises(type(e)):
                    write(r)
                continue
            assert text(write(r)) == want, (g.key, r)
            kinds |= {"requires" if g.requires is not None else "no requires",
                      "unless" if g.unless else "no unless",
                      "via" if g.via else "no via", g.force}
    assert {"requires", "no requires", "unless", "via", "requirement"} <= kinds


def test_a_hole_keeps_the_words_of_at_most_max_texts() -> None:
    """A writer's hole writes a text value (an enum's member) once and keeps the words
    (`_Shown`), for at most `MAX` values; past them, each is written every time it is
    shown — the same words either way."""
    written: list[str] = []

    def write(v: str) -> str:
        written.append(v)
        return v.upper()

    shown = E._Shown(write)
    texts = [f"t{i}" for i in range(E._Shown.MAX + 10)]
    for v in ["a", "b", "a", *texts, "a", texts[-1], texts[-1]]:
        assert shown[v] == f"［{v.upper()}］"
    assert len(shown) == E._Shown.MAX
    assert written.count("a") == 1 and written.count("b") == 1  # kept
    assert written.count(texts[-1]) == 3  # past MAX: written each time


# ---- every outcome of every example case -------------------------------------------------

def reference_requirement_state(o: Any) -> str | None:
    rs = (*o.grounds, *o.not_applicable, *o.undetermined, *o.base)
    if not rs:
        return None
    for r in rs:
        if r.ground.force != "requirement":
            return None
    if o.value == "requirement_unmet":
        return "unmet"
    if o.value != "not_applicable":
        return "unknown"
    return "met" if any(E.requirement_of(r) == "met" for r in rs) else "not_concerned"


def reference_missing_records(book: Rulebook, o: Any, p: E.Prepared) -> list[str]:
    if o.value != "undetermined":
        return []
    exprs = [e for r in o.undetermined for e in E._quantified(book, r.ground)]
    ev = Evaluator(book, p.facts, p.as_of)
    out: list[str] = []
    for e in exprs:
        for m in missing_fields(ev, e):
            if m not in out:
                out.append(m)
    return out


def reference_outcome_json(book: Rulebook, o: Any, cf: Any, p: E.Prepared) -> dict[str, Any]:
    """An outcome's JSON written as it was before its prototypes: one dict literal, each
    ground written plainly, each missing fact by `_missing_json`."""
    state = reference_requirement_state(o)

    def grounds(rs: list[GroundResult]) -> list[dict[str, Any]]:
        return [E._plain_ground_json(E._ground_plan(book, r.ground), r) for r in rs]

    counterfactuals = []
    for f in cf.found if cf else []:
        changed_state = None
        if state is not None:
            changed = with_changes(p.facts, tuple((c.path, c.after) for c in f.changes))
            changed_state = E.changed_requirement_state(book, changed, p.as_of, o.name,
                                                        f.value)
        counterfactuals.append({
            "changes": [{"path": c.path, "from": jsonable(c.before), "to": jsonable(c.after),
                         "label": book.facts[c.path].label if c.path in book.facts else None,
                         "judgment": c.judgment} for c in f.changes],
            "value": f.value, "verified": f.verified, "requirement_state": changed_state,
            "changes_judgment": any(c.judgment for c in f.changes)})
    prog = program_of(book)
    return {
        "name": o.name,
        "label": book.outcome_labels.get(o.name),
        "value": o.value,
        "kind": o.kind,
        "approval": E.is_approval(book, o.name),
        "requirement_state": state,
        "asked": False,
        "possible": o.possible,
        "open": [{"value": v, "grounds": [{"id": prog.grounds[k].id,
                                           "citation": prog.grounds[k].citation}
                                          for k in keys]} for v, keys in o.open],
        "grounds": grounds(o.grounds),
        "base": grounds(o.base),
        "not_applicable": grounds(o.not_applicable),
        "undetermined": grounds(o.undetermined),
        "missing_facts": [E._missing_json(book, m) for m in o.missing_facts],
        "missing_records": [E._missing_json(book, m)
                            for m in reference_missing_records(book, o, p)],
        "overrides": [{"by": book.cite(a), "over": book.cite(b)} for a, b in o.overrides],
        "counterfactuals": counterfactuals,
        "counterfactual_search": None if cf is None else {
            "status": cf.status, "tried": cf.tried, "max_changes": cf.max_changes,
            "budget": cf.budget, "budget_reached": cf.budget_reached},
    }


def test_every_example_outcome_is_written_alike() -> None:
    seen: dict[str, int] = dict.fromkeys(
        ("counterfactuals", "changed state", "missing_records", "open", "overrides"), 0)
    for case in CASES:
        p, result = evaluated(case)
        known = result.evaluator.applies_memo if result.evaluator is not None else None
        for o in result.outcomes.values():
            cf = search(p.book, p.facts, p.as_of, o, known=known) \
                if o.kind == "application" or o.value in E.CF_EFFECTS else None
            got = E.outcome_json(p.book, o, cf, p)
            assert text(got) == text(reference_outcome_json(p.book, o, cf, p)), \
                (case.name, o.name)
            seen["counterfactuals"] += bool(got["counterfactuals"])
            seen["changed state"] += any(c["requirement_state"] for c in got["counterfactuals"])
            seen["missing_records"] += bool(got["missing_records"])
            seen["open"] += bool(got["open"])
            seen["overrides"] += bool(got["overrides"])
    assert all(seen.values()), seen  # every part was compared with something in it


# ---- the generated source; cold start ----------------------------------------------------

_KEYS = {'"applies"', '"requirement"', '"condition"', '"condition_ja"', '"when_holds"',
         '"requires_ja"', '"requires_holds"', '"unless_ja"', '"text"', '"holds"', '"facts"',
         '"fact_labels"', '"judgments"', '"definitions"', '"relied_on"', '"via"',
         '"records"', '"value"', '"citation"'}
# an f-string of our expressions: names, attributes, calls and subscripts of names, no quote
_FSTRING = re.compile(r'f"(\{[A-Za-z0-9_.()\[\]]+\})+"')
_OUR_NAMES = re.compile(
    r"(C|v|s|u)\d+|make|ground_json|r|get|dget|rf|rd|p|v|n|w|d|out|facts|fact_labels|"
    r"judgments|definitions|NO|ABSENT|PLAIN|jsonable|MET|HOLDS|EMPTY|LB|RB|type|str|KeyError|"
    r"applies|when_value|requires_value|unless_values|values|relied_on|isdisjoint|items|"
    r"copy|append")


@pytest.mark.parametrize("book", BOOKS, ids=IDS)
def test_the_generated_source_holds_no_rule_text(book: Rulebook) -> None:
    for g in program_of(book).grounds.values():
        src = E._GroundWriter(E._ground_plan(book, g)).source()
        for tok in tokenize.generate_tokens(io.StringIO(src).readline):
            if tok.type == tokenize.STRING:
                assert tok.string in _KEYS or _FSTRING.fullmatch(tok.string), (g.key, tok)
                for name in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", tok.string[1:]) \
                        if tok.string.startswith("f") else ():
                    assert _OUR_NAMES.fullmatch(name), (g.key, tok.string)
            elif tok.type == tokenize.NAME and not keyword.iskeyword(tok.string):
                assert _OUR_NAMES.fullmatch(tok.string), (g.key, tok.string)
            assert tok.type != tokenize.ERRORTOKEN, (g.key, tok)


def test_one_explanation_compiles_no_writer(monkeypatch: pytest.MonkeyPatch) -> None:
    p, result = evaluated(EXAMPLES / "denwa-plan4-no-duns.yaml")
    made: list[E._GroundPlan] = []
    make = E._ground_writer
    monkeypatch.setattr(E, "_ground_writer", lambda plan: made.append(plan) or make(plan))
    rs = ground_results(result)
    fresh = {id(r.ground): E._GroundPlan(p.book, r.ground) for r in rs}
    for _ in range(3):
        for r in rs:
            plan = fresh[id(r.ground)]
            assert text(plan.write(r)) == text(E._plain_ground_json(plan, r))
        if not made:  # the first explanation of each ground: written plainly
            continue
        # the second: each ground's writer made, and used from then on
        assert sorted(map(id, made)) == sorted(map(id, fresh.values()))
    assert made
