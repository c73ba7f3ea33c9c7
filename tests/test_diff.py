"""`yakkan diff`: the structural diff, the semantic pass (witnesses, equivalences) and the
renderers of the 新旧対照表 — on small fixture pairs (tests/fixtures/diff/) and on the bundled
電話等サービス契約約款 (2023-04-16 → 2023-04-17), checked against the seed's underlines."""

from __future__ import annotations

import datetime as dt
import io
import json
import random
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import z3
from click.testing import CliRunner
from conftest import Golden
from seedtext import (
    DENWA,
    DENWA_NEW,
    DENWA_OLD,
    SeedUnit,
    normalize,
    seed_underlines,
    seed_units,
)

from yakkan.cli.main import main
from yakkan.engine.analysis import smt
from yakkan.engine.analysis.diff import CHANGE_KINDS, Change, Diff, compute_diff, diff_versions
from yakkan.engine.core.numerals import to_wareki
from yakkan.engine.core.periods import Duration
from yakkan.engine.runtime.evaluate import evaluate, grounds_of
from yakkan.engine.semantics.resolve import Rulebook
from yakkan.engine.semantics.rulebooks import versions
from yakkan.renderers.diff_render import render_diff

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures" / "diff"
GOLDEN = HERE / "golden" / "diff"
CLAUSES = HERE.parent / "clauses" / "denwa"
OLD_DATE, NEW_DATE = dt.date(2023, 4, 16), dt.date(2023, 4, 17)



def test_denwa_has_its_two_versions() -> None:
    """The denwa tests below run on both bundled versions: a missing one fails them (and
    this), it never skips them."""
    assert len(list(CLAUSES.glob("*.yk"))) >= 2


def fixture_diff(name: str, semantic: bool = True, reuse: bool = True) -> Diff:
    books = versions(str(FIXTURES / name))
    return compute_diff(books[0], OLD_DATE, books[-1], NEW_DATE, semantic=semantic,
                        reuse=reuse)


@pytest.fixture(scope="module")
def plans() -> Diff:
    return fixture_diff("plans")


@pytest.fixture(scope="module")
def lines() -> Diff:
    return fixture_diff("lines")


@pytest.fixture(scope="module")
def denwa() -> Diff:
    return diff_versions("denwa", OLD_DATE, NEW_DATE)


def by_citation(d: Diff, old: str | None = None, new: str | None = None) -> Change:
    hits = [c for c in d.walk() if (old is None or c.citation_old == old)
            and (new is None or c.citation_new == new)]
    # the only paragraph of an article (附則) is cited as the article: the article's change
    inner = {id(k) for c in hits for k in c.children}
    hits = [c for c in hits if id(c) not in inner]
    assert len(hits) == 1, f"{old} → {new}: {[(c.citation_old, c.citation_new) for c in hits]}"
    return hits[0]


def changed_text(runs: list[Any]) -> str:
    return "".join(r.text for r in runs if r.op != "equal")


def reverify(d: Diff) -> None:
    """(b) Every witness decides differently on the two rulebooks, as the interpreter says."""
    assert d.old_book is not None and d.new_book is not None
    for w in d.witnesses():
        assert w.verified
        vals = []
        for book, when, side in ((d.old_book, OLD_DATE, w.old), (d.new_book, NEW_DATE, w.new)):
            res = evaluate(book, smt.nest(w.facts, book.facts), when, outcomes=[w.outcome])
            o = res.outcomes.get(w.outcome)
            value = o.value if o is not None else "not_applicable"
            assert value == side.value, (w.outcome, w.facts)
            grounds = [(r.ground.id, r.ground.citation) for r in o.grounds] if o else []
            assert grounds == side.grounds
            vals.append(value)
        if w.kind == "grounds":  # decided alike, on different grounds
            id_map = {c.old.id: c.new.id for c in d.walk() if c.old and c.new}
            assert vals[0] == vals[1] != "undetermined"
            assert smt.applying_keys(d.old_book, w.facts, OLD_DATE, w.outcome, id_map) != \
                smt.applying_keys(d.new_book, w.facts, NEW_DATE, w.outcome)
        else:
            assert w.kind == "decision" and vals[0] != vals[1]


# ---- structural diff on fixtures ------------------------------------------------------------

def test_fixture_kinds(plans: Diff) -> None:
    c = by_citation(plans, old="第14条の65第2項第6号", new="第14条の65第2項第8号")
    assert c.kind == "renumbered"
    assert changed_text(c.old_head_runs) == "6" and changed_text(c.new_head_runs) == "8"
    assert changed_text(c.new_runs) == ""  # same text, new number
    added = by_citation(plans, new="第14条の65第2項第6号")
    assert added.kind == "added" and added.old is None
    assert by_citation(plans, new="第4条の4の4「プラン4」").kind == "added"
    p1 = by_citation(plans, new="第4条の4の4「プラン1」")
    assert p1.kind == "wording_only" and p1.method == "z3"
    assert changed_text(p1.new_runs) == "、プラン4" and changed_text(p1.old_runs) == ""
    assert by_citation(plans, new="第1条～第4条").kind == "omitted"
    assert plans.enactment and "令和5年4月17日から実施" in plans.enactment[0]["text"]


def test_fixture_deleted_renumbered_articles_and_omitted_ranges(lines: Diff) -> None:
    art = by_citation(lines, old="第3条", new="第2条")
    assert art.kind == "renumbered"
    assert by_citation(lines, old="第4条").kind == "deleted"
    # 第4条 has one paragraph, cited 第4条 (as its article): the paragraph's own change
    gone = next(k for k in by_citation(lines, old="第4条").children
                if k.old is not None and k.old.kind == "paragraph")
    assert gone.kind == "deleted" and changed_text(gone.old_runs) == gone.old.text  # type: ignore[union-attr]
    # 第7条 is inside the old version's omitted range 第7条～第9条: not "added"
    assert by_citation(lines, new="第7条").kind == "omitted"
    moved = by_citation(lines, old="第1条第2項", new="第7条")  # 第7条's only paragraph
    assert moved.kind == "moved" and not changed_text(moved.new_runs)
    # the new 第1条 keeps one paragraph: cited 第1条, as a drafter writes it
    unchanged = by_citation(lines, old="第1条第1項", new="第1条")
    assert unchanged.kind == "unchanged"
    six = by_citation(lines, old="第6条第1項", new="第6条第1項")
    assert six.kind == "logic_changed" and "text_changed" not in six.flags


def test_structural_only_leaves_text_changed(plans: Diff) -> None:
    d = fixture_diff("plans", semantic=False)
    assert by_citation(d, new="第4条の4の4「プラン1」").kind == "text_changed"
    assert not d.witnesses() and not d.outcomes


# ---- semantic pass on fixtures ------------------------------------------------------------------

def test_fixture_witnesses(plans: Diff, lines: Diff) -> None:
    for d in (plans, lines):
        reverify(d)
    app = [w for w in plans.witnesses() if w.outcome == "application"]
    assert app and app[0].old.value == "accept" and app[0].new.value == "may_refuse"
    assert app[0].new.grounds == [("article:14_65/paragraph:2/item:6", "第14条の65第2項第6号")]
    assert app[0].facts["applicant.duns_issued"] is False
    # minimal: dropping any fact no longer gives the same two decisions
    for path in app[0].facts:
        smaller = {k: v for k, v in app[0].facts.items() if k != path}
        assert smt.interpret_side(plans.old_book, smaller, OLD_DATE, "application").value != \
            "accept" or smt.interpret_side(plans.new_book, smaller, NEW_DATE,  # type: ignore[arg-type]
                                           "application").value != "may_refuse"
    # lists and dates (z3) and a builtin z3 is not given (exhaustive)
    pen = [w for w in lines.witnesses() if w.outcome == "penalty"]
    assert pen and pen[0].method == "z3"
    rec = pen[0].facts["lines"][0]
    assert (rec["removed_on"] - rec["registered_on"]).days == 30
    sus = next(o for o in lines.outcomes if o.outcome == "suspend")
    assert sus.method == "exhaustive" and sus.status == "differs" and "interest" in sus.note
    assert any(o.outcome == "notify_address" and o.status == "identical" for o in lines.outcomes)


def test_fixture_equivalences(plans: Diff) -> None:
    kinds = {(e["kind"], e.get("citation") or e["id"]) for e in plans.equivalences}
    assert ("provision", "第4条の4の4「プラン1」") in kinds
    assert ("definition", "第4条の4の4「プラン1」") in kinds
    deemed = next(o for o in plans.outcomes if o.outcome == "deemed_termination")
    # 「プラン2に限ります」→「プラン1又はプラン3を除きます」: alike on every known case,
    # apart only while facts are unknown (Kleene logic cannot see the tautology)
    assert deemed.status == "differs_partial"
    assert all(not w.both_determined for w in deemed.witnesses)


def _random_case(space: smt.FactSpace, rng: random.Random, as_of: dt.date) -> dict[str, Any]:
    facts: dict[str, Any] = {}

    def value(t: Any) -> Any:
        b = t.base
        if b == "bool":
            return rng.random() < 0.5
        if b == "enum":
            return rng.choice([m.name for m in t.members])
        if b == "int":
            return rng.randint(-3, 20)
        if b in ("money", "decimal", "percent"):
            return rng.choice([0, 1, 999, 1000, 10000]) * 1 + 0
        if b == "date":
            return as_of + dt.timedelta(days=rng.randint(-40, 40))
        if b == "duration":
            return Duration(seconds=rng.randint(0, 200))
        if b == "text":
            return rng.choice(["", "a"])
        raise AssertionError(b)

    for path, sv in space.vars.items():
        if rng.random() < 0.3:
            continue
        t = space.types[path]
        if sv.t == "list":
            recs = []
            for _ in range(rng.randint(0, smt.LIST_BOUND)):
                recs.append({f.name: value(f.type) for f in t.fields if rng.random() < 0.8})
            facts[path] = recs
        else:
            v = value(t)
            facts[path] = v if t.base not in ("money", "decimal", "percent") else \
                __import__("decimal").Decimal(v)
    return facts


def _books(name: str) -> list[Rulebook]:
    if name == "rakuten-miitel":
        return versions(name)
    if name == "denwa":
        books = versions("denwa")
        assert len(books) >= 2, "clauses/denwa has lost a version"
        return books
    return versions(str(FIXTURES / name))


def _model_value(m: z3.ModelRef, sv: smt.SV) -> Any:
    from decimal import Decimal
    if not z3.is_true(m.eval(sv.known, model_completion=True)):
        return None
    v = m.eval(sv.val, model_completion=True) if sv.t != "dur" else None
    if sv.t == "bool":
        return z3.is_true(v)
    if sv.t == "int":
        return v.as_long()  # type: ignore[union-attr]
    if sv.t == "real":
        return Decimal(v.numerator_as_long()) / Decimal(v.denominator_as_long())  # type: ignore[union-attr]
    if sv.t == "date":
        return dt.date.fromordinal(v.as_long())  # type: ignore[union-attr]
    # a new kind of value must get a comparison here, not end the test early
    pytest.fail(f"no comparison for z3 values of type {sv.t}: add one to _model_value")


@pytest.mark.parametrize("name", ["plans", "lines", "denwa"])
def test_expressions_agree_with_the_interpreter(name: str) -> None:
    """Differential test of the z3 encoding of definitions and charge amounts (sums over
    lists, per-started-unit billing, dates) against `Evaluator.ev`, unknowns included."""
    from yakkan.engine.runtime.evaluate import Evaluator
    rng = random.Random(17)
    for book, when in ((b, OLD_DATE if i == 0 else NEW_DATE)
                       for i, b in enumerate(_books(name))):
        exprs = [d.expr for d, _ in book.definitions.values()]
        for pid in book.order:
            for ch in book.provisions[pid].unit.charges:
                exprs += [x for x in (ch.amount, ch.when) if x is not None]
        checked = 0
        for e in exprs:
            space = smt.FactSpace([book])
            try:
                sv = smt.Encoder(space, book, when).ev(e, {})
            except smt.Unsupported:
                continue
            for _ in range(25):
                facts = _random_case(space, rng, when)
                s = z3.Solver()
                s.add(*space.constraints, *space.assignment(facts))
                if s.check() != z3.sat:
                    continue
                want = Evaluator(book, smt.nest(facts, book.facts), when).ev(e, {})
                assert _model_value(s.model(), sv) == want, (e, facts)
                checked += 1
        assert checked > 0


@pytest.mark.parametrize("name", ["plans", "lines", "denwa", "rakuten-miitel"])
def test_encoding_agrees_with_the_interpreter(name: str) -> None:
    """Differential test of the z3 encoding: on random cases (unknowns included) every
    decision z3 computes is the interpreter's — both are the one decision program's
    (`semantics/program.py`), including undetermined (Kleene-exact over the branches)."""
    books = _books(name)
    rng = random.Random(20230417)
    seen: dict[str, int] = {}
    for book, when in ((books[0], OLD_DATE), (books[-1], NEW_DATE)):
        for outcome in grounds_of(book):
            space = smt.FactSpace([book])
            enc = smt.Encoder(space, book, when)
            try:
                code = enc.decision(outcome)
            except smt.Unsupported:
                continue
            for _ in range(60):
                facts = _random_case(space, rng, when)
                s = z3.Solver()
                s.add(*space.constraints, *space.assignment(facts))
                if s.check() != z3.sat:  # outside the encoded domain (e.g. errors excluded)
                    continue
                got = smt.VALUES[s.model().eval(code, model_completion=True).as_long()]
                want = smt.interpret_side(book, facts, when, outcome).value
                assert got == want, (outcome, facts)
                seen[want] = seen.get(want, 0) + 1
    # the comparison ran, and on decided and undetermined outcomes alike
    assert sum(seen.values()) >= 100 and "undetermined" in seen and len(seen) >= 2, seen


# ---- renderers on fixtures -----------------------------------------------------------------

def test_fixture_goldens(plans: Diff, golden: Golden) -> None:
    golden(GOLDEN / "plans.md", str(render_diff(plans, "md", "left")))
    golden(GOLDEN / "plans.html", str(render_diff(plans, "html", "left")))
    golden(GOLDEN / "plans.txt", str(render_diff(plans, "text", "left")))


def test_json_is_stable(plans: Diff) -> None:
    data = json.loads(str(render_diff(plans, "json")))
    assert {"document", "from", "to", "changes", "witnesses", "equivalent"} <= set(data)
    assert data["document"] == "plans"
    assert data["from"]["effective_from_wareki"] == "令和5年4月1日"
    assert data["to"]["date_wareki"] == "令和5年4月17日"
    for c in data["changes"]:
        assert {"id", "citation_old", "citation_new", "kind", "old_text", "new_text",
                "runs"} <= set(c)
        assert c["kind"] in CHANGE_KINDS
    for w in data["witnesses"]:
        assert {"outcome", "facts", "old", "new", "verified"} <= set(w)
        assert w["verified"] is True
        assert {"value", "grounds"} <= set(w["old"]) and {"value", "grounds"} <= set(w["new"])
    again = json.loads(str(render_diff(fixture_diff("plans", reuse=False), "json")))
    assert again == data  # computed afresh: the same JSON


# ---- compute_diff's memo: the last diffs computed, each caller given its own copy -------------

@pytest.fixture
def computed(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """An empty memo, and the arguments of every diff computed from here on (a diff served
    from the memo adds none)."""
    from yakkan.engine.analysis import diff
    monkeypatch.setattr(diff, "_MEMO", diff._Memo(diff.MEMO_SIZE))
    calls: list[tuple[Any, ...]] = []
    compute = diff._compute

    def counting(*args: Any) -> Diff:
        calls.append(args)
        return compute(*args)
    monkeypatch.setattr(diff, "_compute", counting)
    return calls


def _owned(d: Diff) -> dict[int, object]:
    """Every list, dict and object a diff holds, but its two rulebooks: id → object."""
    out: dict[int, object] = {}
    todo: list[object] = [d]
    while todo:
        x = todo.pop()
        if id(x) in out or x is d.old_book or x is d.new_book:
            continue
        if isinstance(x, dict):
            out[id(x)] = x
            todo += [*x.keys(), *x.values()]
        elif isinstance(x, list | tuple | set):
            out[id(x)] = x
            todo += list(x)
        elif hasattr(x, "__dict__"):
            out[id(x)] = x
            todo += list(vars(x).values())
    return out


def test_memo_serves_a_second_request_without_computing_it_again(
        computed: list[tuple[Any, ...]]) -> None:
    old, new = versions(str(FIXTURES / "plans"))
    first = compute_diff(old, OLD_DATE, new, NEW_DATE)
    second = compute_diff(old, OLD_DATE, new, NEW_DATE, progress=True)  # progress only reports
    assert len(computed) == 1
    assert second == first and second is not first
    assert render_diff(second, "json") == render_diff(first, "json")
    assert render_diff(second, "md") == render_diff(first, "md")
    assert second.witnesses() and second.equivalences  # a semantic diff, with its findings
    assert second.old_book is old and second.new_book is new  # the caller's, not copies
    mine, theirs = _owned(first), _owned(second)
    shared = [x for i, x in theirs.items() if i in mine and not isinstance(x, tuple)]
    assert not shared, shared[:3]  # nothing the one caller may change is the other's
    fresh = compute_diff(old, OLD_DATE, new, NEW_DATE, reuse=False)
    assert len(computed) == 2  # reuse=False computes (and keeps nothing: asked below)
    assert render_diff(fresh, "json") == render_diff(first, "json")
    compute_diff(old, OLD_DATE, new, NEW_DATE)
    assert len(computed) == 2


def test_memo_a_caller_changing_its_diff_changes_no_other_caller_s(
        computed: list[tuple[Any, ...]]) -> None:
    old, new = versions(str(FIXTURES / "plans"))
    first = compute_diff(old, OLD_DATE, new, NEW_DATE)
    pristine = render_diff(first, "json")
    # what a caller may do with its diff: notes added, a change reclassified, runs, witness
    # facts, equivalences and the version header edited in place
    first.note("a caller's note", "呼出し側の注")
    change = first.changes()[0]
    change.kind, change.basis = "deleted", "a caller's"
    change.flags.append("a caller's flag")
    assert change.new_runs and change.new is not None
    change.new_runs[0].text += "（改）"
    change.new.text += "（改）"
    w = first.witnesses()[0]
    w.facts["applicant.duns_issued"] = "changed"
    w.old.grounds.clear()
    first.equivalences[0]["note"] = "changed"
    first.old_info.version = "changed"
    first.outcomes.pop()
    first.roots[0].children.clear()
    assert render_diff(first, "json") != pristine
    second = compute_diff(old, OLD_DATE, new, NEW_DATE)
    assert render_diff(second, "json") == pristine
    second.notes.clear()
    second.roots.clear()
    third = compute_diff(old, OLD_DATE, new, NEW_DATE)
    assert render_diff(third, "json") == pristine
    assert len(computed) == 1


def test_memo_keeps_apart_what_differs_in_contents_dates_or_flag(
        computed: list[tuple[Any, ...]], tmp_path: Path) -> None:
    plans = versions(str(FIXTURES / "plans"))
    lines = versions(str(FIXTURES / "lines"))
    asked: dict[str, tuple[Any, ...]] = {
        "base": (plans[0], OLD_DATE, plans[-1], NEW_DATE, True),
        "from": (plans[0], dt.date(2023, 4, 1), plans[-1], NEW_DATE, True),
        "to": (plans[0], OLD_DATE, plans[-1], dt.date(2023, 5, 1), True),
        "structural": (plans[0], OLD_DATE, plans[-1], NEW_DATE, False),
        "other document": (lines[0], OLD_DATE, lines[-1], NEW_DATE, True),
        "reversed": (plans[-1], NEW_DATE, plans[0], OLD_DATE, True),
    }
    got = {k: compute_diff(*a[:4], semantic=a[4]) for k, a in asked.items()}
    assert len(computed) == len(asked)  # no request was served another's diff
    assert [c[:5] for c in computed] == list(asked.values())
    assert got["from"].old_info.requested == dt.date(2023, 4, 1) != \
        got["base"].old_info.requested
    assert got["to"].new_info.requested == dt.date(2023, 5, 1) != got["base"].new_info.requested
    assert not got["structural"].semantic and not got["structural"].outcomes
    assert got["base"].semantic and got["base"].outcomes
    assert got["other document"].document == "lines" and got["base"].document == "plans"
    assert got["reversed"].old_info.version == got["base"].new_info.version
    for k, a in asked.items():  # each is kept, as it was computed
        again = compute_diff(*a[:4], semantic=a[4])
        assert render_diff(again, "json") == render_diff(got[k], "json"), k
    assert len(computed) == len(asked)
    # the same contents read from another folder: the same diff, on the caller's rulebooks
    shutil.copytree(FIXTURES / "plans", tmp_path / "copy")
    copied = versions(str(tmp_path / "copy"))
    assert copied[0] is not plans[0] and copied[0].source_digest == plans[0].source_digest
    same = compute_diff(copied[0], OLD_DATE, copied[-1], NEW_DATE)
    assert len(computed) == len(asked)
    assert same.old_book is copied[0] and same.new_book is copied[-1]
    assert render_diff(same, "json") == render_diff(got["base"], "json")
    # one character changed in the new version's file: a new content, computed
    edited = tmp_path / "edited"
    shutil.copytree(FIXTURES / "plans", edited)
    newest = sorted(edited.glob("*.yk"))[-1]
    text = newest.read_text(encoding="utf-8")
    assert "差分テスト用抜粋" in text
    newest.write_text(text.replace("差分テスト用抜粋", "差分テスト用抄録", 1), encoding="utf-8")
    changed = versions(str(edited))
    d = compute_diff(changed[0], OLD_DATE, changed[-1], NEW_DATE)
    assert len(computed) == len(asked) + 1
    assert d.title != got["base"].title and "差分テスト用抄録" in d.title


def test_memo_never_keeps_a_rulebook_not_read_from_a_file(
        computed: list[tuple[Any, ...]]) -> None:
    """A rulebook built in memory has no content hash to be known by: compared afresh."""
    from yakkan.engine.semantics.pipeline import COMPILE, analyse
    from yakkan.engine.syntax.load import load_file

    files = sorted((FIXTURES / "plans").glob("*.yk"))
    old, new = (analyse(load_file(str(f)).doc, upto=COMPILE[-1])[0]  # type: ignore[arg-type]
                for f in (files[0], files[-1]))
    assert old.source_digest is None
    first = compute_diff(old, OLD_DATE, new, NEW_DATE)
    second = compute_diff(old, OLD_DATE, new, NEW_DATE)
    assert len(computed) == 2
    assert render_diff(second, "json") == render_diff(first, "json")


# ---- the bundled 電話等サービス契約約款 -----------------------------------------------------

def _norm_flags(runs: list[Any]) -> tuple[str, list[bool]]:
    s, flags = "", []
    for r in runs:
        for ch in r.text:
            x = normalize(ch)
            s += x
            flags += [r.op != "equal"] * len(x)
    return s, flags


def _provision_for(book: Rulebook, su: SeedUnit) -> str:
    """The encoded unit of a seed unit: the same kind with the same text (and number)."""
    import difflib
    want = normalize(su.text)
    kind = {"toc": "chapter"}.get(su.kind, su.kind)
    pool = [p for p in book.order if book.provisions[p].unit.kind == kind]
    hits = [p for p in pool if normalize(book.provisions[p].unit.full_text) == want]
    if len(hits) > 1:
        label = normalize(su.label)
        hits = [p for p in hits if label in (normalize(book.provisions[p].unit.label or ""),
                                              normalize(book.provisions[p].unit.key or ""))] \
            or hits
    if len(hits) == 1:
        return hits[0]
    best = max(pool, key=lambda p: difflib.SequenceMatcher(
        None, normalize(book.provisions[p].unit.full_text), want).ratio())
    return best


def test_every_seed_underline_is_a_change(denwa: Diff) -> None:
    """(a) Each underlined part of the 現改比較表 is a change of its unit in the diff."""
    assert denwa.old_book is not None and denwa.new_book is not None
    units = {DENWA_OLD: seed_units(DENWA, DENWA_OLD), DENWA_NEW: seed_units(DENWA, DENWA_NEW)}
    books = {DENWA_OLD: denwa.old_book, DENWA_NEW: denwa.new_book}
    by_id: dict[tuple[str, str], Change] = {}
    for c in denwa.walk():
        if c.old:
            by_id[(DENWA_OLD, c.old.id)] = c
        if c.new:
            by_id[(DENWA_NEW, c.new.id)] = c
    spans = seed_underlines(DENWA)
    assert len(spans) >= 30
    checked = 0
    for line, span in spans:
        owners = [(v, su) for v, us in units.items() for su in us if su.seed_line == line
                  and span in normalize(su.label + su.text)]
        if not owners:  # the dates of the two column headings (令和5年4月1日現在 …)
            heads = {to_wareki(denwa.old_info.effective_from),  # type: ignore[arg-type]
                     to_wareki(denwa.new_info.effective_from)}  # type: ignore[arg-type]
            assert span in heads, f"line {line}: underline 「{span}」 belongs to no unit"
            continue
        for version, su in owners:
            pid = _provision_for(books[version], su)
            c = by_id.get((version, pid))
            assert c is not None, f"line {line}: {pid} is not in the diff"
            assert c.kind in CHANGE_KINDS, \
                f"line {line}: 「{span}」 is underlined but {c.citation} is {c.kind}"
            old = version == DENWA_OLD
            head, hf = _norm_flags(c.old_head_runs if old else c.new_head_runs)
            body, bf = _norm_flags(c.old_runs if old else c.new_runs)
            s, flags = head + body, hf + bf
            other = c.new_runs if old else c.old_runs
            starts = [m.start() for m in re.finditer(re.escape(span), s)]
            overlap = any(any(flags[i:i + len(span)]) for i in starts)
            # a pure insertion on the other side underlines its neighbours on this side
            pure = not any(flags) and any(r.op != "equal" for r in other)
            assert starts, f"line {line}: 「{span}」 not in {c.citation} ({s})"
            assert overlap or pure, \
                f"line {line}: 「{span}」 in {c.citation} is not among the changed characters"
            checked += 1
    assert checked >= 30


def test_denwa_structure(denwa: Diff) -> None:
    assert by_citation(denwa, old="第14条の65第2項第6号", new="第14条の65第2項第8号").kind \
        == "renumbered"
    assert by_citation(denwa, old="第14条の66第3項第5号", new="第14条の66第3項第7号").kind \
        == "renumbered"
    for new in ("第14条の65第2項第6号", "第14条の65第2項第7号", "第14条の66第3項第5号",
                "第14条の66第3項第6号", "第14条の67第4項", "第4条の4の4「プラン4」",
                "第4条の4の4備考3", "第4条の4の4備考4"):
        assert by_citation(denwa, new=new).kind == "added", new
    assert denwa.enactment and "令和5年4月17日から実施" in denwa.enactment[0]["text"]
    assert not [n for n in denwa.notes if n.startswith("BUG")]


def test_denwa_witnesses_reverified(denwa: Diff) -> None:
    """(b)"""
    assert denwa.witnesses()
    reverify(denwa)
    app = [w for w in denwa.witnesses() if w.outcome == "application"]
    cited = {c for w in app for _, c in w.new.grounds}
    assert {"第14条の65第2項第6号", "第14条の65第2項第7号"} <= cited
    for w in app:  # the new refusals on 第6号/第7号 are プラン4 cases the old version accepts
        if {c for _, c in w.new.grounds} & {"第14条の65第2項第6号", "第14条の65第2項第7号"}:
            assert w.old.value == "accept" and w.new.value == "may_refuse"
            assert w.facts["service.docomo_corporate_contract"] is True


def test_plan1_is_wording_only(denwa: Diff) -> None:
    """(c) 「プラン2、プラン3以外のもの」→「プラン2、プラン3、プラン4以外のもの」 is proved
    equivalent (プラン4 ⊂ プラン2 by its definition)."""
    c = by_citation(denwa, old="第4条の4の4「プラン1」", new="第4条の4の4「プラン1」")
    assert c.kind == "wording_only"
    assert c.method in ("z3", "exhaustive") and "differs_while_unknown" not in c.flags
    assert "proved" in (c.basis or "")
    eq = [e for e in denwa.equivalences if e.get("citation") == "第4条の4の4「プラン1」"
          and e["kind"] == "provision"]
    assert eq and eq[0]["scope"] == "all_cases"


def test_denwa_goldens(denwa: Diff, golden: Golden) -> None:
    """(d) The reviewed 新旧対照表 in Markdown and HTML."""
    golden(GOLDEN / "denwa.md", str(render_diff(denwa, "md", "left")))
    golden(GOLDEN / "denwa.html", str(render_diff(denwa, "html", "left")))


def test_docx(denwa: Diff, tmp_path: Path) -> None:
    """(e) A Word 新旧対照表 whose underlined runs are exactly changed parts."""
    from docx import Document

    out = tmp_path / "shinkyu.docx"
    r = CliRunner().invoke(main, ["diff", "denwa", "--from", "2023-04-16", "--to",
                                  "2023-04-17", "--format", "docx", "-o", str(out)])
    assert r.exit_code == 0, r.output
    doc = Document(io.BytesIO(out.read_bytes()))
    assert "新旧対照表" in doc.paragraphs[0].text
    changed = set()
    for c in denwa.walk():
        for rs in (c.old_runs, c.new_runs, c.old_head_runs, c.new_head_runs,
                   c.old_caption_runs, c.new_caption_runs):
            changed |= {x.text.replace("\t", " ｜ ") for x in rs if x.op != "equal"}
    table = doc.tables[0]
    assert table.rows[0].cells[0].text.startswith("改正前")
    underlined = [run.text for row in table.rows for cell in row.cells
                  for p in cell.paragraphs for run in p.runs if run.underline]
    assert len(underlined) >= 20
    for t in underlined:
        assert t in changed, t


def test_docx_needs_output() -> None:
    r = CliRunner().invoke(main, ["diff", str(FIXTURES / "plans"), "--from", "2023-04-16",
                                  "--to", "2023-04-17", "--format", "docx"])
    assert r.exit_code == 2
    assert "usage.output-required" in r.output + (r.stderr or "")


@pytest.mark.parametrize("doc", [str(FIXTURES / "plans"), "denwa"])
def test_no_version_in_force(doc: str) -> None:
    """(f)"""
    r = CliRunner().invoke(main, ["diff", doc, "--from", "2023-03-31", "--to", "2023-04-17"])
    assert r.exit_code == 2
    out = r.output + (r.stderr or "")
    assert "eval.no-version-in-force" in out and "Traceback" not in out


def test_same_version_is_a_usage_error() -> None:
    r = CliRunner().invoke(main, ["diff", str(FIXTURES / "plans"), "--from", "2023-04-17",
                                  "--to", "2023-04-20"])
    assert r.exit_code == 2
    assert "diff.same-version" in r.output + (r.stderr or "")


def test_old_side_right_swaps_columns(plans: Diff) -> None:
    """(g)"""
    for fmt in ("md", "html"):
        left, right = str(render_diff(plans, fmt, "left")), str(render_diff(plans, fmt, "right"))
        assert left.index("改正前（2023-04-01版）") < left.index("改正後（2023-04-17版）")
        assert right.index("改正後（2023-04-17版）") < right.index("改正前（2023-04-01版）")
    row = next(ln for ln in str(render_diff(plans, "md", "left")).splitlines()
               if "D-U-N-S" in ln and ln.startswith("|"))
    assert row.split("|")[1].strip() == "（新設）"
    row_r = next(ln for ln in str(render_diff(plans, "md", "right")).splitlines()
                 if "D-U-N-S" in ln and ln.startswith("|"))
    assert row_r.split("|")[2].strip() == "（新設）"


def test_cli_formats(tmp_path: Path) -> None:
    for fmt in ("text", "md", "html", "json"):
        r = CliRunner().invoke(main, ["diff", str(FIXTURES / "plans"), "--from", "2023-04-16",
                                      "--to", "2023-04-17", "--format", fmt])
        assert r.exit_code == 0, r.output
        assert "プラン4" in r.output
    r = CliRunner().invoke(main, ["diff", str(FIXTURES / "plans"), "--from", "2023-04-16",
                                  "--to", "2023-04-17", "--format", "json", "--no-semantic"])
    assert r.exit_code == 0 and json.loads(r.output)["witnesses"] == []


# ---- charges in the semantic diff (engine/analysis/charge_diff.py) ---------------------------

def test_charge_witnesses_are_repriced_and_differ() -> None:
    """Every charge witness of the denwa amendment, re-priced here by the interpreter on both
    versions, prices its line differently; the amendment's addition of プラン4 to 1(21)イ(イ)
    shows as a case not charged before and charged after."""
    from yakkan.engine.analysis.charge_diff import compare_charges
    from yakkan.engine.analysis.smt import nest
    from yakkan.engine.features.charges import compute_charges
    from yakkan.engine.semantics.rulebooks import versions

    old, new = versions("denwa")
    od, nd = dt.date(2023, 4, 1), dt.date(2023, 4, 17)
    checks = {c.charge: c for c in compare_charges(old, od, new, nd)}
    assert {n for n, c in checks.items() if c.status == "differs"} >= {"call_charge_b"}
    assert not [c for c in checks.values() if c.status in ("undecided", "not_compared")]

    def amount(book: Any, when: dt.date, facts: dict[str, Any], name: str) -> Any:
        line = next(ln for ln in compute_charges(book, nest(facts), when).lines
                    if ln.name == name)
        return line.amount if line.status == "charged" else 0

    added = False
    for c in checks.values():
        for w in c.witnesses:
            a, b = amount(old, od, w.facts, c.charge), amount(new, nd, w.facts, c.charge)
            assert a != b, (c.charge, w.facts)
            assert (a, b) == (w.old.amount or 0, w.new.amount or 0)
            if c.charge == "call_charge_b" and w.old.status == "not_charged" and b > 0:
                added = True
                assert w.facts.get("service.docomo_corporate_contract") is True  # プラン4
    assert added


def test_a_version_compared_with_itself_prices_every_line_alike() -> None:
    from yakkan.engine.analysis.charge_diff import compare_charges
    from yakkan.engine.semantics.rulebooks import versions

    _, new = versions("denwa")
    when = dt.date(2023, 4, 17)
    assert {c.status for c in compare_charges(new, when, new, when)} == {"same"}


def test_diff_json_carries_charge_witnesses() -> None:
    r = CliRunner().invoke(main, ["diff", "denwa", "--from", "2023-04-01", "--to", "2023-04-17",
                                  "--format", "json"])
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["charge_witnesses"] and all(w["verified"] for w in data["charge_witnesses"])
    assert {c["charge"] for c in data["charges"]} >= {"call_charge_a", "call_charge_b"}
    w = data["charge_witnesses"][0]
    assert w["fact_labels"] and w["old"]["amount"] != w["new"]["amount"]


def test_notes_are_japanese_on_every_page(denwa: Diff) -> None:
    """issue #19: the notes (注) a person reads are Japanese in text, md, html and docx; the
    JSON keeps the English notes and carries the Japanese beside them (`notes_ja`)."""
    from docx import Document

    from yakkan.engine.analysis.diff import diff_json
    from yakkan.renderers.diff_render import docx_bytes

    assert denwa.notes and len(denwa.notes_ja) == len(denwa.notes)
    assert any("ソルバーの意味論" in n for n in denwa.notes_ja)
    english = ("solver", "semantics", "assumptions", "three-valued", "not modelled",
               "interpreter", "witness")
    for fmt, head in (("text", "\n注: "), ("md", "## 注"), ("html", "<h2>注</h2>")):
        out = str(render_diff(denwa, fmt, "left"))
        notes = out[out.index(head):]
        assert "ソルバーの意味論" in notes, fmt
        assert not [w for w in english if w in notes], (fmt, notes[:300])
    doc = Document(io.BytesIO(docx_bytes(denwa)))
    paras = [p.text for p in doc.paragraphs]
    assert "注" in paras and not [p for p in paras if any(w in p for w in english)]
    data = diff_json(denwa)
    assert data["notes"] == denwa.notes and data["notes_ja"] == denwa.notes_ja
