"""`yakkan explain CASE --format md|html`: the explanation a reviewer reads.

The decision comes first; every applying ground has its citation, text, rule, condition
with values, facts (judgments marked), definitions and relied-on provisions; then the
grounds that did not apply, what is unknown, the counterfactuals and charges. Pages are
parsed: internal links resolve, nothing external is loaded, case values render inert.
"""

from __future__ import annotations

import copy
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from example_cases import skip_if_error_by_design
from markdown_it import MarkdownIt

from yakkan.cli.main import main
from yakkan.engine.core.labels import VALUE_LABELS
from yakkan.engine.features.explain import ask, explain_case
from yakkan.renderers.env import RenderError
from yakkan.renderers.explanation import explanation_view, render_explanation

XSS = "<script>alert(1)</script>"
XSS_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"

DOC_YK = """\
document hostile "約款<script>alert(1)</script>" {
  version "2023-04-17"
  effective 2023-04-17
}
external other_terms "他の約款" alias "他約款"
enum Kind "申込者の種類" { a "甲種", b "乙種" }
fact applicant.name: text "申込者の名称"
fact applicant.kind: Kind "申込者の種類"
fact applicant.late: bool "料金の支払いを現に怠っている"
judgment applicant.may_late: bool "料金の支払いを怠るおそれがある（当社の判断）"
fact seats: int "席数"
define plan_a "プラン甲" = applicant.kind == a

article 2 "申込の承諾<script>alert(1)</script>" {
  paragraph 1 {
    text "当社は、申込があったときは、承諾します。"
    rule application: accept
  }
  paragraph 2 {
    text "当社は、前項の規定にかかわらず、次の場合には、承諾しないことがあります。"
    notwithstanding 「前項」
    rule application: may_refuse for each item
    item 1 {
      label "(1)"
      text "料金の支払いを現に怠り、又は怠るおそれがあるとき。"
      when applicant.late or applicant.may_late
    }
    item 2 {
      label "(2)"
      text "名称が<script>alert(1)</script>であるとき。"
      when applicant.name == "<script>alert(1)</script>" and plan_a
    }
    item 3 {
      label "(3)"
      text "席数が1000を超えるとき。"
      when seats > 1000
    }
  }
}
article 3 "利用停止" {
  paragraph 1 {
    text "前条第2項各号に該当するときは、利用を停止することがあります。"
    rule suspension: may when holds 「第2条第2項各号」
  }
}
article 5 "その他" {
  paragraph 1 {
    text "契約者は、この規約を守るものとします。"
    rule compliance: duty
  }
  paragraph 2 {
    text "席数が1000を超えるときは、割引します。"
    rule discount: permission when seats > 1000
  }
  paragraph 3 {
    text "支払いを怠るおそれがあるときは、補償金を求めることがあります。"
    rule deposit: may when applicant.may_late
  }
}
article 4 "料金" {
  paragraph 1 {
    text "月額料金は、1席1,000円とします。"
    charge monthly_fee "月額料金" {
      amount 1000円 * seats
      when seats > 0
      tax excluded
      per month
    }
  }
}
"""

CASE_YAML = """\
document: {doc}
as_of: 2023-05-01
title: 名称が不適切な申込<script>alert(1)</script>
facts:
  applicant:
    name: "<script>alert(1)</script>"
    kind: a
    late: false
  seats: 3
"""


class Page(HTMLParser):
    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.ids: list[str] = []
        self.hrefs: list[str] = []
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.tags.append((tag, a))
        if "id" in a:
            self.ids.append(a["id"])
        for k in ("href", "xlink:href"):
            if k in a:
                self.hrefs.append(a[k])

    handle_startendtag = handle_starttag


def check_page(html: str) -> Page:
    page = Page(html)
    assert html.startswith("<!DOCTYPE html>") and '<html lang="ja">' in html
    assert 'name="viewport"' in html and "@media print" in html
    dup = {i for i in page.ids if page.ids.count(i) > 1}
    assert not dup, sorted(dup)[:10]
    internal = [h for h in page.hrefs if h.startswith("#")]
    assert internal
    broken = sorted({h for h in internal if h[1:] not in set(page.ids)})
    assert not broken, broken[:10]
    for tag, a in page.tags:
        assert tag not in ("script", "iframe", "object", "embed", "link", "base"), tag
        for k in ("src", "srcset", "data"):
            assert k not in a or a[k].startswith("data:"), (tag, k, a[k])
        assert not any(k.startswith("on") for k in a), (tag, a)
    assert not re.search(r"(?i)url\(\s*['\"]?(https?:)?//|@import", html)
    return page


@pytest.fixture(autouse=True)
def _no_disk_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YAKKAN_CACHE", "off")


@pytest.fixture
def case_path(tmp_path: Path) -> Path:
    doc = tmp_path / "hostile.yk"
    doc.write_text(DOC_YK, encoding="utf-8")
    case = tmp_path / "case.yaml"
    case.write_text(CASE_YAML.format(doc=doc), encoding="utf-8")
    return case


@pytest.fixture
def data(case_path: Path) -> dict[str, Any]:
    return explain_case(str(case_path))


def outcome(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(o for o in data["outcomes"] if o["name"] == name)


def test_fixture_decides_as_intended(data: dict[str, Any]) -> None:
    app = outcome(data, "application")
    assert app["value"] == "may_refuse"
    assert [g["citation"] for g in app["grounds"]] == ["第2条第2項第2号"]
    assert [g["citation"] for g in app["undetermined"]] == ["第2条第2項第1号"]
    assert [g["citation"] for g in app["not_applicable"]] == ["第2条第2項第3号"]
    # may_refuse is stated: the unknown 第1号 is of the same force and cannot change it, so
    # nothing is "still needed" for it
    assert app["missing_facts"] == []
    assert app["counterfactuals"]
    deposit = outcome(data, "deposit")  # `may when applicant.may_late`, a judgment left out
    assert deposit["value"] == "undetermined"
    assert deposit["missing_facts"] and deposit["missing_facts"][0]["judgment"]


# ---- HTML -------------------------------------------------------------------------------------

def test_html_page_is_self_contained_and_links_resolve(data: dict[str, Any]) -> None:
    html = render_explanation(data, "html")
    check_page(html)
    assert "Content-Security-Policy" in html


def test_html_renders_case_values_and_clause_text_inert(data: dict[str, Any]) -> None:
    html = render_explanation(data, "html")
    assert XSS not in html and "<script" not in html.lower()
    # the case title, the case value (facts table, condition), the clause text, the caption
    assert html.count(XSS_ESCAPED) >= 5
    facts = html[html.index('id="case-facts"'):]
    assert XSS_ESCAPED in facts


def test_html_decision_comes_first(data: dict[str, Any]) -> None:
    html = render_explanation(data, "html")
    decision = html.index('id="decision"')
    first_ground = html.index('class="ground ')
    assert decision < first_ground
    head = html[decision:first_ground]
    ja, _ = VALUE_LABELS["may_refuse"]
    assert ja in head
    app = explanation_view(data).outcomes[0]
    assert app.name == "application"
    assert f'href="#{app.grounds[0].anchor}"' in head  # the decision cites its ground


def test_html_applying_ground_in_full(data: dict[str, Any]) -> None:
    html = render_explanation(data, "html")
    view = explanation_view(data)
    g = view.outcomes[0].grounds[0]
    start = html.index(f'id="{g.anchor}"')
    block = html[start:html.index("</article>", start)]
    assert "第2条第2項第2号" in block
    assert "申込の承諾" + XSS_ESCAPED in block  # caption
    assert "名称が" + XSS_ESCAPED + "であるとき。" in block  # quoted text
    assert "第2条第2項 の定めによる" in block and "承諾しないことがあります" in block  # the rule
    assert "「申込者の名称」" in block and "「プラン甲」" in block  # labels, with values
    assert 'class="val val-true"' in block
    assert "<details" in block and "<summary>" in block
    assert "定義" in block and "plan_a" in block


def test_html_judgments_unknowns_why_not_and_counterfactuals(data: dict[str, Any]) -> None:
    ask(data, ("application", "deposit"))
    html = render_explanation(data, "html")
    view = explanation_view(data)
    o = view.outcomes[0]
    unknown = html[html.index(f'id="{o.undetermined[0].anchor}"'):]
    unknown = unknown[:unknown.index("</article>")]
    assert '<mark class="judgment"' in unknown and "判断事項" in unknown
    assert 'class="val val-unknown"' in unknown
    dep = next(x for x in view.outcomes if x.name == "deposit")
    missing = html[html.index(f'id="{dep.anchor}-missing"'):]
    assert "applicant.may_late" in missing[:2000] and "判断事項" in missing[:2000]
    cf = html[html.index(f'id="{o.anchor}-cf"'):]
    assert "⇒" in cf[:3000] and VALUE_LABELS["accept"][0] in cf[:3000]
    na = html[html.index(f'id="{o.anchor}-na"'):]
    assert "第2条第2項第3号" in na[:3000] and '「席数」<span class="val">3</span> ＞ 1000' in na[:3000]
    assert f'<details class="fold" id="{o.not_applicable[0].anchor}">' in html


def test_html_overrides_and_relied_on(data: dict[str, Any]) -> None:
    html = render_explanation(data, "html")
    assert "前項の規定にかかわらず" in html
    view = explanation_view(data)
    susp = next(o for o in view.outcomes if o.name == "suspension")
    g = susp.grounds[0]
    assert {r.citation for r in g.relied_on} >= {"第2条第2項第2号"}
    # relied-on provisions that are grounds on this page are links to them
    start = html.index(f'id="{g.anchor}"')
    block = html[start:html.index("</article>", start)]
    assert "依拠した規定" in block and 'href="#outcome-application-' in block


def test_html_charges_when_present(data: dict[str, Any]) -> None:
    html = render_explanation(data, "html")
    if data.get("charges"):
        charges = html[html.index('id="charges"'):]
        assert "月額料金" in charges and "3,000円" in charges
    stripped = {k: v for k, v in data.items() if k != "charges"}
    html = render_explanation(stripped, "html")
    check_page(html)
    assert 'id="charges"' not in html


def test_charges_rendered_defensively(data: dict[str, Any]) -> None:
    d = copy.deepcopy(data)
    d["charges"] = {"lines": [{"name": "x", "label": "基本料<script>", "status": "charged",
                               "amount": "1500", "flags": ["lower_bound"], "facts": {"seats": 3}}],
                    "total": "1500", "final": False, "complete": False,
                    "total_is_lower_bound": True}
    html = render_explanation(d, "html")
    check_page(html)
    assert "基本料&lt;script&gt;" in html and "1,500円～" in html and "確定額ではありません" in html
    d["charges"] = "not a mapping"
    check_page(render_explanation(d, "html"))


def test_the_question_in_full_and_every_other_outcome_in_one_line(data: dict[str, Any]) -> None:
    """Without an expectation or --outcome, the question is what the facts bear on: the
    application (its own conditions read them) and the suspension (it applies because of
    them); the unconditional duty, the discount that does not apply and the deposit the
    case says nothing about are one line each."""
    assert data["question"] == {"outcomes": ["application", "suspension"], "source": "facts",
                                "charges": True}
    view = explanation_view(data)
    assert [o.name for o in view.asked] == ["application", "suspension"]
    assert {o.name for o in view.others} == {"compliance", "discount", "deposit"}
    html = render_explanation(data, "html")
    cards = html[html.index('<div class="decisions">'):html.index('id="others"')]
    assert "application" in cards and "compliance" not in cards
    others = html[html.index('id="others"'):]
    for name in ("compliance", "deposit", "discount"):
        row = others[others.index(f'<tr id="outcome-{name}">'):]
        row = row[:row.index("</tr>")]
        assert row.count("<td") == 3, row  # one line: name, value, grounds or needs
    assert '<article class="ground' not in others[:others.index("</section>")]
    md = render_explanation(data, "md")
    assert md.index("## application") < md.index("## その他の判断対象（3）")
    # asked by --outcome: the named outcome in full, the rest in one line
    ask(data, ("deposit",))
    view = explanation_view(data)
    assert [o.name for o in view.asked] == ["deposit"]
    html = render_explanation(data, "html")
    check_page(html)
    assert 'id="outcome-deposit-missing"' in html and 'id="outcome-application-g1"' not in html


# ---- failures are loud ----------------------------------------------------------------------

def test_unknown_outcome_value_is_an_error(data: dict[str, Any]) -> None:
    d = copy.deepcopy(data)
    d["outcomes"][0]["value"] = "maybe"
    with pytest.raises(RenderError, match="maybe"):
        render_explanation(d, "html")


def test_missing_key_is_an_error(data: dict[str, Any]) -> None:
    d = copy.deepcopy(data)
    del d["outcomes"][0]["grounds"][0]["citation"]
    with pytest.raises(RenderError, match="citation"):
        render_explanation(d, "md")


def test_unknown_format_is_an_error(data: dict[str, Any]) -> None:
    with pytest.raises(RenderError, match="docx"):
        render_explanation(data, "docx")


# ---- Markdown ---------------------------------------------------------------------------------

def test_markdown_has_the_decision_and_citations(data: dict[str, Any]) -> None:
    md = render_explanation(data, "md")
    ja, _ = VALUE_LABELS["may_refuse"]
    decision = md.index("## 結論")
    assert ja in md[decision:decision + 600]
    for cite in ("第2条第2項第2号", "第2条第2項第1号", "第2条第2項第3号", "第2条第1項"):
        assert cite in md, cite
    assert "（判断事項" in md and "⇒" in md and "適用されない根拠" in md


def test_markdown_escapes_and_links_resolve(data: dict[str, Any]) -> None:
    md = render_explanation(data, "md")
    # only inside code spans (the encoded condition), which every viewer shows as text
    outside = re.sub(r"(`+)(?:(?!\1).)+?\1", "", md)
    assert XSS not in outside
    assert XSS_ESCAPED in md
    html = MarkdownIt("commonmark", {"html": True}).enable("table").render(md)
    assert "<script" not in html.lower()
    page = Page(html)
    internal = [h for h in page.hrefs if h.startswith("#")]
    assert internal
    assert not [h for h in internal if h[1:] not in set(page.ids)]
    assert "<table>" in html


# ---- CLI and the bundled examples ---------------------------------------------------------

@pytest.mark.parametrize("fmt", ["html", "md"])
def test_cli_explain_renders(case_path: Path, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"e.{fmt}"
    res = CliRunner().invoke(main, ["explain", str(case_path), "--format", fmt, "-o", str(out)])
    assert res.exit_code == 0, res.output
    text = out.read_text(encoding="utf-8")
    assert VALUE_LABELS["may_refuse"][0] in text
    if fmt == "html":
        check_page(text)


EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "cases"


def _sample_of_examples() -> list[Path]:
    """A dozen examples across the families (`rakuten-price-…`, `denwa-call-…`, …): the
    kinds of page without the time of all (tests/test_cases.py checks every decision)."""
    seen: dict[str, Path] = {}
    for p in sorted(EXAMPLES.glob("*.yaml")):
        seen.setdefault("-".join(p.stem.split("-")[:2]), p)
    families = list(seen.values())
    return families[:: max(1, len(families) // 12)]


@pytest.mark.parametrize("case", _sample_of_examples(), ids=lambda p: p.stem)
def test_example_case_pages(case: Path) -> None:
    """Every example that explains cleanly renders to pages whose links resolve."""
    skip_if_error_by_design(case, lambda: explain_case(str(case)))
    data = explain_case(str(case))  # any other error fails the test
    check_page(render_explanation(data, "html"))
    md = render_explanation(data, "md")
    for o in data["outcomes"]:
        assert (o["label"] or o["name"]) in md  # every outcome, in one line at least
        for g in o["grounds"] if o["asked"] else []:  # the question in full
            assert g["citation"] in md
