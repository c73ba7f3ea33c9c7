"""What a Japanese reviewer reads is Japanese (issue #19): no user-facing text, Markdown or
HTML output of `explain` or `charge`, over every example case, contains the English labels
the issue lists, an enum member's code where the document names it, or an outcome's code
name; outcomes are named in the clause file; requirements read as requirements; the asked
outcomes are shown in full and every search for a change says how it ended; a single
paragraph is cited as its article.

What is left out of "visible": code the page shows on purpose as code — fact paths (a case
file's names), the encoded condition in DSL (「符号化された条件」) — and link targets.
"""

from __future__ import annotations

import functools
import html as html_lib
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from example_cases import expected_error

from yakkan.cli.main import main
from yakkan.engine.core.diagnostics import YakkanError
from yakkan.engine.features.charges import compute_charges, report_json
from yakkan.engine.features.explain import ask, explain_case, prepare, vocabulary_json
from yakkan.engine.semantics.program import program_of
from yakkan.engine.semantics.rulebooks import versions
from yakkan.renderers.charges_render import render_charges, text_table
from yakkan.renderers.explain_text import text_report
from yakkan.renderers.explanation import render_explanation

ROOT = Path(__file__).resolve().parents[1]
CASES = sorted((ROOT / "examples" / "cases").glob("*.yaml"))
DOCS = ("denwa", "rakuten-miitel")

# the English of the list, and what the same outputs said in English before
ENGLISH = [
    "would change with", "still needed", "not applicable", "overrides", "Decision",
    "records]", "lower_bound", "once", "excluded", "one of:", "relies on", "condition:",
    "(judgment)", "as of", "version", "unknown", "true", "false", "charges: see", "amount:",
    "quote when", "monthly", "one_time", "usage", "may refuse", "requirement unmet",
    "not_applicable", "undetermined", "requirement_unmet", "may_refuse",
]
# wording retired for what it misread (issue #19's review): a raw DSL literal for a condition
# that is no condition; a record comparison ending 「当たらない」 (read as 該当なし); a record
# named by its position counted from 0
RETIRED = ["符号化された条件: true", "符号化された条件: `true`",
           "符号化された条件: <code>true</code>", "⇒ 当たらない", "⇒ 当たる", "比較なし ⇒",
           "（対象外）"]
_RECORD_PATH = re.compile(r"[a-z_]+\[\d+\][:（]")  # `lines[2]:`, `calls[0]（` outside code
_WORD = r"(?<![A-Za-z0-9_]){}(?![A-Za-z0-9_])"


def _english(word: str) -> re.Pattern[str]:
    if word[0].isalnum() and word[-1].isalnum():
        return re.compile(_WORD.format(re.escape(word)))
    return re.compile(re.escape(word))


ENGLISH_RE = [(w, _english(w)) for w in ENGLISH] + [("under", re.compile(r"\bunder\b"))]


@functools.cache
def codes(doc: str) -> dict[str, set[str]]:
    """The codes a document gives Japanese names: enum members and outcomes."""
    members: set[str] = set()
    outcomes: set[str] = set()
    for b in versions(doc):
        for e in b.enums.values():
            members.update(m.name for m in e.members if m.label)
        for f in b.facts.values():
            for t in (f.type, *(fd.type for fd in f.type.fields)):
                members.update(m.name for m in t.members if m.label)
        outcomes.update(program_of(b).decisions)
    return {"members": members, "outcomes": outcomes}


def visible_text(out: str) -> str:
    """The text a reader reads: fact paths in [path], the case file's path and the encoded
    DSL lines left out."""
    out = re.sub(r"\S+\.(ya?ml|json)\b", "", out)
    out = re.sub(r"\[[A-Za-z_][\w.\[\]]*\]", "", out)
    out = re.sub(r"（[a-z_][\w.\[\]]*）", "", out)  # a record's path: （numbers[0]）
    return "\n".join(ln for ln in out.splitlines()
                     if not ln.strip().startswith(("符号化された", "別途お見積りの条件")))


def visible_md(out: str) -> str:
    out = re.sub(r"(`+)(?:(?!\1).)+?\1", "", out)  # code spans
    out = re.sub(r"<a id=\"[^\"]*\"></a>", "", out)
    out = re.sub(r"\]\(#[^)]*\)", "]", out)
    return out


def visible_html(out: str) -> str:
    out = re.sub(r"(?s)<style>.*?</style>", "", out)
    out = re.sub(r"(?s)<code>.*?</code>", "", out)
    out = re.sub(r"(?s)<head>.*?</head>", "", out)
    out = re.sub(r"<[^>]+>", " ", out)
    return html_lib.unescape(out)


def english_in(text: str, doc: str) -> list[str]:
    found = [w for w, rx in ENGLISH_RE if rx.search(text)]
    c = codes(doc)
    found += [f"member {m}" for m in sorted(c["members"]) if re.search(_WORD.format(m), text)]
    found += [f"outcome {o}" for o in sorted(c["outcomes"])
              if re.search(_WORD.format(re.escape(o)), text)]
    return found


@functools.cache
def explanation(case: Path) -> dict[str, Any] | None:
    """None for an input error by design (its `expect: {error: …}`), once it has failed
    with that very code; any other error fails the test."""
    code = expected_error(case)
    if code is None:
        return explain_case(str(case))
    with pytest.raises(YakkanError) as err:
        explain_case(str(case))
    assert code in {d.code for d in err.value.diagnostics}, err.value
    return None


@functools.cache
def charges(case: Path) -> dict[str, Any] | None:
    if expected_error(case) is not None:
        return None
    p = prepare(str(case))
    d = report_json(compute_charges(p.book, p.facts, p.as_of))
    d["case"] = {"path": p.path, "title": p.title}
    d["vocabulary"] = vocabulary_json(p.book)
    return d


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_explain_and_charge_outputs_have_no_english_labels(case: Path) -> None:
    data = explanation(case)
    if data is None:
        pytest.skip("an input error by design")
    doc = data["document"]
    problems = {
        "explain text": english_in(visible_text(text_report(data)), doc),
        "explain md": english_in(visible_md(render_explanation(data, "md")), doc),
        "explain html": english_in(visible_html(render_explanation(data, "html")), doc),
    }
    d = charges(case)
    assert d is not None
    problems["charge text"] = english_in(visible_text(text_table(d)), doc)
    problems["charge md"] = english_in(visible_md(render_charges(d, "md")), doc)
    problems["charge html"] = english_in(visible_html(render_charges(d, "html")), doc)
    assert not any(problems.values()), {k: v for k, v in problems.items() if v}
    outputs = {"explain text": text_report(data), "explain md": render_explanation(data, "md"),
               "explain html": str(render_explanation(data, "html")),
               "charge text": text_table(d), "charge md": render_charges(d, "md"),
               "charge html": str(render_charges(d, "html"))}
    retired = {k: [w for w in RETIRED if w in out] for k, out in outputs.items()}
    assert not any(retired.values()), {k: v for k, v in retired.items() if v}
    paths = {k: _RECORD_PATH.findall(visible_md(out) if "md" in k else out)
             for k, out in outputs.items() if "html" not in k}
    assert not any(paths.values()), {k: v for k, v in paths.items() if v}


def test_the_check_finds_english() -> None:
    """The check is not vacuous: the labels of the old output are found."""
    assert english_in("application: 承諾（accept）\n  would change with: x", "denwa") == \
        ["would change with", "outcome application"]
    assert english_in("service.kind = type2 [1 records]", "denwa") == ["records]", "member type2"]
    assert english_in(visible_md("`service.kind` の値 `type2`"), "denwa") == []


# ---- outcome names ---------------------------------------------------------------------------

@pytest.mark.parametrize("doc", DOCS)
def test_every_outcome_has_its_japanese_name_in_the_clause_file(doc: str) -> None:
    for b in versions(doc):
        names = set(program_of(b).decisions)
        labels = b.outcome_labels
        assert set(labels) == names, (names - set(labels), set(labels) - names)
        assert len(set(labels.values())) == len(labels), "two outcomes, one name"


# ---- the question, requirements, the search -------------------------------------------------

def _cli(*args: str) -> str:
    r = CliRunner().invoke(main, [*args])
    assert r.exit_code == 0, r.output
    return r.output


@pytest.mark.parametrize("outcome", ["application_requirement", "minimum_use_period",
                                     "transfer_effect"])
def test_outcome_option_shows_every_outcome_in_full(outcome: str) -> None:
    case = str(ROOT / "examples/cases/denwa-plan4-accept.yaml")
    data = explain_case(case)
    label = next(o["label"] for o in data["outcomes"] if o["name"] == outcome)
    text = _cli("--no-color", "explain", case, "--outcome", outcome)
    assert f"■ {label}: " in text
    assert text.count("■ ") == 1
    md = _cli("explain", case, "--outcome", outcome, "--format", "md")
    assert f"## {label}: " in md and "### 判断に必要な事実" in md
    html = _cli("explain", case, "--outcome", outcome, "--format", "html")
    assert f'<section class="outcome" id="outcome-{outcome}"' in html
    # by the Japanese name too
    assert f"■ {label}: " in _cli("--no-color", "explain", case, "--outcome", label)


def test_a_met_requirement_reads_as_met() -> None:
    """issue #19: a met requirement is 充足, listed as met — not 「該当なし」 under the grounds
    whose condition does not hold — and a change that would meet one reads 充足."""
    data = explain_case(str(ROOT / "examples/cases/denwa-plan4-accept.yaml"))
    req = next(o for o in data["outcomes"] if o["name"] == "application_requirement")
    assert req["value"] == "not_applicable" and req["requirement_state"] == "met"
    assert {g["requirement"] for g in req["not_applicable"]} == {"met"}
    md = render_explanation(data, "md")
    section = md[md.index("## 契約の申込をする者の要件"):]
    section = section[:section.index("\n## ")]
    assert "充足（要件を満たす）" in section and "### 満たされている要件（3）" in section
    assert "適用されない根拠" not in section and "該当なし" not in section
    refused = explain_case(str(ROOT / "examples/cases/denwa-plan4-no-duns.yaml"))
    req = next(o for o in refused["outcomes"] if o["name"] == "application_requirement")
    assert req["requirement_state"] == "unmet"
    duns = next(cf for cf in req["counterfactuals"]
                if cf["changes"][0]["path"] == "applicant.duns_issued")
    assert duns["value"] == "not_applicable" and duns["requirement_state"] == "met"
    text = text_report(refused)
    assert "いいえ → はい  ⇒ 充足（要件を満たす）" in text


def test_every_outcome_in_full_says_how_the_search_ended() -> None:
    """Never an empty section: found, none at one or two changes, budget, nothing to change,
    not searched — each said in words."""
    for case in CASES[::7]:
        data = explanation(case)
        if data is None:
            continue
        md = render_explanation(data, "md")
        for o in data["outcomes"]:
            if not o["asked"]:
                continue
            label = o["label"] or o["name"]
            section = md[md.index(f'<a id="outcome-{o["name"]}-cf"></a>'):]
            body = section.split("\n\n", 2)[1:3]
            assert body and body[1].strip() and not body[1].startswith("#"), (case.stem, label)


def test_still_needed_lists_only_facts_that_can_change_the_outcome() -> None:
    """「判断に必要な事実」 of an undetermined outcome: facts its open grounds read; a decided
    outcome needs nothing."""
    for case in CASES[::5]:
        data = explanation(case)
        if data is None:
            continue
        book = prepare(str(case)).book
        prog = program_of(book)
        for o in data["outcomes"]:
            if o["value"] != "undetermined":
                assert o["missing_facts"] == [], (case.stem, o["name"])
                continue
            keys = {k for k, g in prog.grounds.items() if g.outcome == o["name"]
                    and any(g.id == x["id"] for arm in o["open"] for x in arm["grounds"])}
            reads = {p for k in keys for p in prog.reads[k]}
            # a field of a listed record (`lines[0].to_register`) is read through its list
            paths = {re.sub(r"\[\d+\]\.\w+$", "", m["path"])
                     for m in [*o["missing_facts"], *o["missing_records"]]}
            assert paths <= reads, (case.stem, o["name"])


def test_charges_only_when_the_case_asks_about_money() -> None:
    accept = _cli("explain", str(ROOT / "examples/cases/denwa-plan4-accept.yaml"),
                  "--format", "html")
    assert 'id="charges"' not in accept and "合計（税抜）" not in accept
    priced = _cli("explain", str(ROOT / "examples/cases/charge-rakuten-interest-and-surcharge"
                                 ".yaml"), "--format", "html")
    assert 'id="charges"' in priced and "合計（税抜）" in priced


def test_the_question_and_others_in_one_line() -> None:
    data = explain_case(str(ROOT / "examples/cases/denwa-plan4-accept.yaml"))
    assert data["question"]["source"] == "case"
    assert data["question"]["outcomes"] == ["application_requirement", "application"]
    text = text_report(data)
    assert text.count("■ ") == 2
    others = text[text.index("その他の判断対象"):].splitlines()[1:]
    assert len(others) == len(data["outcomes"]) - 2 and all(" — " in ln for ln in others)
    ask(data, ("transfer_approval",))
    assert text_report(data).count("■ ") == 1


# ---- citations -----------------------------------------------------------------------------

def test_a_single_paragraph_is_cited_as_its_article() -> None:
    book = versions("denwa")[-1]
    cites = {book.cite(pid) for pid in book.order}
    assert "第14条の64" in cites and "第14条の64第1項" not in cites  # one paragraph, items
    assert "第14条の64第1号" in cites
    assert "第14条の65第1項" in cites and "第14条の65第2項第6号" in cites  # two paragraphs
    assert "附則第1項" not in cites and "附則" in cites
    rakuten = versions("rakuten-miitel")[-1]
    assert "第22条" in {rakuten.cite(pid) for pid in rakuten.order}
    assert "第10条第3号" in {rakuten.cite(pid) for pid in rakuten.order}
    text = _cli("--no-color", "explain", str(ROOT / "examples/cases/denwa-plan4-accept.yaml"),
                "--outcome", "application_particulars")
    assert "第14条の64 の定めによる" in text and "第14条の64第1項" not in text


# ---- charges ---------------------------------------------------------------------------------

def test_charges_carry_the_lower_bound_and_the_breakdown_in_every_format() -> None:
    """「～」 on every figure a 「から」 price flows into (the line's tax and tax-included amount, its
    subtotal, its tax category, the totals); the per-record breakdown in md and html too."""
    d = charges(ROOT / "examples/cases/charge-rakuten-full-office.yaml")
    assert d is not None
    text = text_table(d)
    lower = next(ln for ln in d["lines"] if "lower_bound" in ln["flags"])
    row = next(r for r in text.splitlines() if r.startswith(lower["label"]))
    assert row.count("～") == 3 and row.endswith("～"), row  # 税抜, its tax, 税込
    subtotal = next(ln for ln in text.splitlines() if ln.strip().startswith("月額:"))
    assert subtotal.endswith("～")
    tax = next(ln for ln in text.splitlines() if ln.strip().startswith("税別:"))
    assert tax.endswith("～")
    for fmt in ("md", "html"):
        out = render_charges(d, fmt)
        assert "記録ごとの内訳" in out and "⇒" in out, fmt
        assert "合計（税込）" in out and out.count("～") >= 4, fmt


def test_charge_table_fits_the_terminal() -> None:
    from yakkan.renderers.charges_render import rich_table
    d = charges(ROOT / "examples/cases/charge-rakuten-interest-and-surcharge.yaml")
    assert d is not None
    for width in (80, 120):
        plain = text_table(d, width=width).splitlines()
        table = plain[4:plain.index("", 4)]
        from yakkan.renderers.charges_render import _width
        assert max(_width(ln) for ln in table) <= width, width
        rich = re.sub(r"\x1b\[[0-9;]*m", "", rich_table(d, width=width)).splitlines()
        body = [ln for ln in rich if ln.startswith(("┃", "│", "┏", "└"))]
        assert body and max(_width(ln) for ln in body) <= width, width


def test_a_charge_question_lists_only_the_lines_it_touches() -> None:
    """A case about late interest is no quote for the whole tariff: the lines whose facts it
    does not give are counted in one line, their conventions left out."""
    d = charges(ROOT / "examples/cases/rakuten-late-interest-day-11.yaml")
    assert d is not None
    text = text_table(d)
    assert len(d["undetermined"]) > 40
    assert f"ほか{len(d['undetermined'])}件は、この事例に記載のない事実によります" in text
    assert "消費税10%" not in text  # the tax convention of lines never priced


# ---- the clause report -------------------------------------------------------------------------

def test_report_keeps_encoder_notes_apart_and_numbers_deleted_items_as_printed() -> None:
    from yakkan.renderers.report import render_report
    book = versions("denwa")[0]
    md = render_report(book, "md")
    head = md[:md.index("## 目次")]
    assert "NEEDS" not in md and "NEEDS" not in head
    assert "## 符号化上の課題（言語の開発者向け）" in md
    # 第14条の65第2項: (1), 削除 (2)-(4), (5) …
    assert "**(2)**　**削除**" in md and "**第2号**　**削除**" not in md
    html = render_report(versions("rakuten-miitel")[-1], "html")
    assert "引用の見出しが引用先の条の見出しと一致しない" in html
    assert "<span class=\"muted small\">once</span>" not in html
    assert "excluded</span>" not in html


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_an_undetermined_outcome_names_what_it_still_needs(case: Path) -> None:
    """No 「未確定」 beside 「判断に必要な事実: ありません」: an undetermined outcome lists the
    unknown facts that can settle it — fields of listed records included
    (`lines[0].currently_registered`)."""
    data = explanation(case)
    if data is None:
        pytest.skip("an input error by design")
    for o in data["outcomes"]:
        if o["value"] == "undetermined":
            needed = [*o["missing_facts"], *o["missing_records"]]
            assert needed, (case.name, o["name"])
            assert all(m["label"] for m in needed), (case.name, needed)


# ---- records, charges' columns, the console, the report's wording (the review of #19) ---------

def test_records_are_counted_from_one_and_named_and_say_what_happened() -> None:
    """A person reads 「2件目（090-2222-2222・株式会社乙）… ⇒ 条件を満たさない」; the JSON keeps
    the case file's path (`lines[1]`, counted from 0) and says so (`index`, `ordinal`)."""
    data = explanation(ROOT / "examples/cases/denwa-plan4-duns-mismatch-line2.yaml")
    assert data is not None
    recs = [r for o in data["outcomes"] for g in o["grounds"] for x in g.get("records") or []
            for r in x["shown"]]
    assert recs
    for r in recs:
        assert r["ref"].endswith(f"[{r['index']}]") and r["ordinal"] == r["index"] + 1
        assert r["text_ja"].startswith(f"{r['ordinal']}件目"), r["text_ja"]
        assert r["text_ja"].endswith(("⇒ 条件を満たす", "⇒ 条件を満たさない",
                                      "⇒ 条件を満たすか不明")), r["text_ja"]
    text = text_report(data)
    assert "2件目（090-2222-2222・株式会社乙）" in text
    d = charges(ROOT / "examples/cases/charge-denwa-penalty-and-calls-old.yaml")
    assert d is not None
    out = text_table(d)
    assert "の1件目: " in out and "の3件目: " in out and "lines[0]" not in out
    assert "⇒ 計上しない（この明細の条件を満たさない）" in out


@pytest.mark.parametrize("case", ["charge-rakuten-interest-and-surcharge",
                                  "charge-rakuten-full-office", "charge-denwa-special-number-new"])
def test_every_charge_column_says_which_amount_it_is_and_agrees(case: str) -> None:
    """税抜 + 消費税 = 税込 on every line, whatever the tariff states (a 税込 line's 税抜 is its
    amount less the tax it contains); the 税抜 column adds up to the 小計（税抜） beside it."""
    from decimal import Decimal

    from yakkan.engine.features.charges import PERIOD_OF
    from yakkan.renderers.charges_render import HEADERS, _yen
    d = charges(ROOT / "examples/cases" / f"{case}.yaml")
    assert d is not None
    assert HEADERS[3:] == ["税抜", "税区分", "消費税", "税込"]
    sums: dict[str, Decimal] = {}
    text = text_table(d)
    for ln in d["lines"]:
        if ln["status"] != "charged":
            continue
        before, tax, with_tax = (Decimal(ln[k]) for k in ("amount_before_tax", "tax_amount",
                                                          "amount_with_tax"))
        assert before + tax == with_tax, ln["label"]
        row = next(r for r in text.splitlines() if r.startswith(ln["label"]))
        assert _yen(ln["amount_before_tax"]) in row, row
        p = PERIOD_OF.get(str(ln["per"]), "other")
        sums[p] = sums.get(p, Decimal(0)) + before
    for p, v in sums.items():
        assert Decimal(d["subtotals"][p]) == v, p
    for fmt in ("md", "html"):
        out = render_charges(d, fmt)
        assert "対象額（税抜）" in out and "計（税込）" in out, fmt


def test_surcharge_shows_its_amount_before_tax_under_zeinuki() -> None:
    d = charges(ROOT / "examples/cases/charge-rakuten-interest-and-surcharge.yaml")
    assert d is not None
    row = next(r for r in text_table(d).splitlines() if r.startswith("割増金"))
    assert re.search(r"24,690円\s+税込\s+2,469円\s+27,159円", row), row


@pytest.mark.parametrize("doc", DOCS)
def test_console_fact_groups_have_japanese_headings(doc: str) -> None:
    from yakkan.console.forms import build_form
    for b in versions(doc):
        groups = build_form(vocabulary_json(b), {})
        assert groups
        assert all(g.heading and not re.search(r"[A-Za-z]{3}", g.heading) for g in groups), \
            [g.key for g in groups if not g.heading]


def test_report_says_omitted_in_japanese() -> None:
    from yakkan.renderers.report import render_report
    md = render_report(versions("denwa")[0], "md")
    assert "**（略）**" in md and "not encoded" not in md
