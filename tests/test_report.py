"""`yakkan report`: the whole document as one HTML page or one Markdown file.

A hostile document built in tmp_path exercises every unit kind and statement; its pages are
parsed and checked: every internal link resolves, nothing is loaded from elsewhere, text
from the rule file renders inert, and what the report must show is there.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pytest
from click.testing import CliRunner
from markdown_it import MarkdownIt

from yakkan.cli.main import main
from yakkan.engine.semantics.resolve import Rulebook, resolve
from yakkan.engine.syntax import ast as A
from yakkan.engine.syntax.load import bundled_ids, load_file
from yakkan.renderers import report as R
from yakkan.renderers.env import RenderError, environment

XSS = "<script>alert(1)</script>"
XSS_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"

HOSTILE_YK = """\
# every unit kind, every statement, and text that must render inert
document hostile "約款<script>alert(1)</script>" {
  number "第1号<script>alert(1)</script>"
  issuer "発行者"
  version "2023-04-17"
  effective 2023-04-17 until 2024-03-31
  memo "文書メモ<script>alert(1)</script>"
}

external other_terms "他の約款<script>alert(1)</script>" alias "他約款"
enum Kind "申込者の種類" { a "甲種", b "乙種" }
fact applicant.name: text "申込者の名称<script>alert(1)</script>"
fact applicant.kind: Kind "申込者の種類"
fact applicant.late: bool "料金の支払いを現に怠っている"
judgment applicant.may_late: bool "料金の支払いを怠るおそれがある（当社の判断）"
fact lines: list { number: text "電気通信番号" registered_on: date "登録の日" } "利用回線"
fact seats: int "席数"
define plan_a "プラン甲" = applicant.kind == a

chapter 1 "総則" {
  article 1 "規約の適用<script>alert(1)</script>" {
    paragraph 1 {
      text "本文<script>alert(1)</script>に従うものとします。"
      proviso "ただし、<script>alert(1)</script>この限りでありません。"
      kind scope
      rule compliance: duty
      slip "起草上の誤り<script>alert(1)</script>"
      memo "符号化メモ<script>alert(1)</script>"
      correction "誤<script>" -> "正<script>" because "抽出の誤り<script>"
    }
    paragraph 2 {
      label "２"
      text "第2条（定義）及び他の約款に定めるところによります。"
      cites 「第2条（定義）」, 「他約款」
      reading in 「他約款」 "当社" as "甲社" except 「第2条」
      prevails 「他約款」 over 「本規約」 except 「第2条」
    }
  }
  article 2 "申込の承諾" {
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
        when applicant.name == "<script>alert(1)</script>"
      }
      item 3 deleted "削除"
      item 4 {
        label "(4)"
        text "登録した回線があるとき。"
        when plan_a and count(l in lines where l.registered_on >= 2023-04-17) > 0
        subitem ア { text "細目アの本文" }
      }
    }
    paragraph 3 {
      text "席数が100を超える申込には、書面を要します。"
      rule application: requirement when seats > 100 requires applicant.kind == a
    }
  }
  article 3..9 omitted "第3条～第9条（略）"
}

article 10 "準用" {
  paragraph 1 {
    text "第2条第2項の規定は、譲渡の承認について準用します。"
    rule transfer: may_refuse as 「第2条第2項」 outcome application
  }
  paragraph 2 {
    text "前条の各号に該当するときは、利用を停止することがあります。"
    rule suspension: may when holds 「第2条第2項各号」 unless applicant.kind == b
    period grace = 10日
    remarks {
      item 1 { text "備考の一" }
    }
    note 1 { text "注の一" }
  }
}

suppl 1 {
  text "この規約は、2023年4月17日から実施します。"
  kind effective_date
}

appendix 別表 "料金表" {
  table 1 {
    section 1 "基本料金" {
      row 月額料金 {
        text "1,000円／席"
        charge monthly_fee "月額料金<script>alert(1)</script>" {
          amount 1000円 * seats
          when seats > 0
          tax excluded
          per month
          assume "1円未満切捨て"
        }
      }
    }
  }
}
"""


# ---- helpers --------------------------------------------------------------------------------

class Page(HTMLParser):
    """What the checks need from an HTML page: ids, links, tags, resource references."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.ids: list[str] = []
        self.hrefs: list[str] = []
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
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

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def all_text(self) -> str:
        return "".join(self.text)


def check_page(html: str) -> Page:
    """The checks every page must pass; returns the parsed page for more."""
    page = Page(html)
    assert html.startswith("<!DOCTYPE html>")
    assert '<html lang="ja">' in html
    assert 'name="viewport"' in html
    dup = {i for i in page.ids if page.ids.count(i) > 1}
    assert not dup, f"duplicate ids: {sorted(dup)[:10]}"
    ids = set(page.ids)
    internal = [h for h in page.hrefs if h.startswith("#")]
    assert internal, "a page without internal links"
    broken = sorted({h for h in internal if h[1:] not in ids})
    assert not broken, f"links to missing anchors: {broken[:10]}"
    for tag, a in page.tags:
        assert tag not in ("script", "iframe", "object", "embed", "base"), f"<{tag}> on the page"
        if tag == "link":
            raise AssertionError(f"<link {a}> loads a resource")
        for k in ("src", "srcset", "data", "poster"):
            assert k not in a or a[k].startswith("data:"), f"<{tag} {k}={a[k]!r}>"
        for k in ("href", "xlink:href"):
            if k in a:
                assert not re.match(r"(?i)\s*(javascript|data):", a[k]), f"<{tag} {k}={a[k]!r}>"
        assert not any(k.startswith("on") for k in a), f"event handler on <{tag}>"
    assert not re.search(r"(?i)url\(\s*['\"]?(https?:)?//|@import", html)
    return page


def book_of(tmp_path: Path, text: str = HOSTILE_YK) -> Rulebook:
    path = tmp_path / "hostile.yk"
    path.write_text(text, encoding="utf-8")
    src = load_file(path)
    assert src.doc is not None, src.diagnostics
    return resolve(src.doc)


def element_html(html: str, anchor: str) -> str:
    """The markup from the element with id `anchor` to the next unit's start."""
    start = html.index(f'id="{anchor}"')
    nxt = re.compile(r'<(?:section|div) class="unit ').search(html, start + 1)
    return html[start: nxt.start() if nxt else len(html)]


@pytest.fixture
def book(tmp_path: Path) -> Rulebook:
    return book_of(tmp_path)


# ---- HTML -------------------------------------------------------------------------------------

def test_html_is_one_self_contained_page(book: Rulebook) -> None:
    html = R.render_report(book, "html")
    page = check_page(html)
    assert "<style>" in html and "@media print" in html and "@media (max-width" in html
    assert "Content-Security-Policy" in html
    assert page.all_text().count("本文と論理") >= 1


def test_html_renders_hostile_text_inert(book: Rulebook) -> None:
    html = R.render_report(book, "html")
    check_page(html)
    assert XSS not in html
    assert "<script" not in html.lower()
    # the text is shown, escaped: title, number, memo, text, proviso, caption, slip,
    # correction, fact label, external title, charge label, condition literal
    assert html.count(XSS_ESCAPED) >= 12
    assert "正&lt;script&gt;" in html and "抽出の誤り&lt;script&gt;" in html


def test_every_unit_kind_is_rendered(book: Rulebook) -> None:
    kinds = {book.provisions[p].unit.kind for p in book.order}
    assert kinds == set(A.UNIT_KINDS), "the fixture must use every unit kind"
    html = R.render_report(book, "html")
    md = R.render_report(book, "md")
    for pid in book.order:
        anchor = R.prov_anchor(pid)
        kind = book.provisions[pid].unit.kind
        assert re.search(rf'class="unit k-{kind} [^"]*" id="{re.escape(anchor)}"', html), pid
        assert f'<a id="{anchor}"></a>' in md, pid


def test_kind_labels_cover_every_unit_kind() -> None:
    assert set(R.KIND_LABELS) == set(A.UNIT_KINDS)
    assert set(R.HEADING_KINDS) <= set(A.UNIT_KINDS)


def test_unknown_unit_kind_fails_loudly(book: Rulebook) -> None:
    pid = next(p for p in book.order if book.provisions[p].unit.kind == "note")
    book.provisions[pid].unit.kind = "bogus"  # type: ignore[assignment]
    with pytest.raises(RenderError, match="bogus"):
        R.render_report(book, "html")


@pytest.mark.parametrize("template", ["_report_units.html.j2", "_report_units.md.j2"])
def test_templates_refuse_an_unknown_kind(template: str) -> None:
    """The templates' own dispatch: a view of a kind they do not know is an error."""
    view = R.UnitView(id="x", anchor="prov-x", kind="bogus", kind_label="?", citation="第1条",
                      caption=None, label=None, status="encoded", text="本文", proviso=None,
                      unit_kind=None, unit_kind_label=None, depth=0, heading=False)
    module = environment().get_template(template).module
    with pytest.raises(RenderError, match="bogus"):
        module.unit(view)  # type: ignore[attr-defined]


OWN_TEMPLATES = ("_base.html.j2", "_report_units.html.j2", "_report_units.md.j2",
                 "report.html.j2", "report.md.j2", "explanation.html.j2", "explanation.md.j2")


@pytest.mark.parametrize("name", OWN_TEMPLATES)
def test_templates_compile_and_escape_by_format(name: str) -> None:
    """`.html.j2` templates autoescape; `.md.j2` ones escape explicitly (filters), since
    HTML entities inside Markdown code spans would show literally."""
    env = environment()
    env.get_template(name)
    assert env.autoescape(name) is name.endswith(".html.j2")  # type: ignore[operator]
    assert env.autoescape(None) is True  # type: ignore[operator]
    assert env.undefined.__name__ == "StrictUndefined"
    from jinja2 import UndefinedError
    with pytest.raises(UndefinedError):
        env.from_string("{{ nothing.here }}").render()


def test_unknown_format_is_an_error(book: Rulebook) -> None:
    with pytest.raises(RenderError, match="pdf"):
        R.render_report(book, "pdf")


def test_header_dates_toc_and_sections(book: Rulebook) -> None:
    html = R.render_report(book, "html")
    page = check_page(html)
    text = page.all_text()
    for want in ("2023-04-17", "令和5年4月17日", "2024-03-31", "令和6年3月31日", "発行者",
                 "目次", "事実・判断事項・定義", "参照関係図", "検査結果"):
        assert want in text, want
    toc = html[html.index('<nav class="toc"'):html.index("</nav>")]
    for pid in book.order:
        if book.provisions[pid].unit.kind in ("article", "appendix", "suppl", "chapter"):
            assert f'href="#{R.prov_anchor(pid)}"' in toc, pid


def test_units_show_text_logic_force_and_kind(book: Rulebook) -> None:
    html = R.render_report(book, "html")
    p1 = element_html(html, R.prov_anchor("chapter:1/article:1/paragraph:1"))
    assert "ただし書" in p1 and "この限りでありません" in p1
    assert "適用範囲" in p1  # kind scope
    assert A.FORCE_LABELS["duty"] in p1
    item1 = element_html(html, R.prov_anchor("chapter:1/article:2/paragraph:2/item:1"))
    # labels, never ids alone; the judgment highlighted
    assert "「料金の支払いを現に怠っている」" in item1
    assert '<mark class="judgment"' in item1 and "判断事項" in item1
    item4 = element_html(html, R.prov_anchor("chapter:1/article:2/paragraph:2/item:4"))
    assert "「プラン甲」" in item4 and "「登録の日」" in item4
    assert 'href="#def-plan_a"' in item4
    para2 = element_html(html, R.prov_anchor("chapter:1/article:2/paragraph:2"))
    assert A.FORCE_LABELS["may_refuse"] in para2 and "各号" in para2
    para3 = element_html(html, R.prov_anchor("chapter:1/article:2/paragraph:3"))
    assert "要件" in para3 and "「席数」 ＞ 100" in para3  # the logic in Japanese words
    mut = element_html(html, R.prov_anchor("article:10/paragraph:1"))
    assert "準用" in mut and f'href="#{R.prov_anchor("chapter:1/article:2/paragraph:2")}"' in mut
    susp = element_html(html, R.prov_anchor("article:10/paragraph:2"))
    assert "ただし" in susp and "「第2条第2項各号」に該当する" in susp and "grace" in susp
    row = element_html(html, R.prov_anchor("appendix:別表/table:1/section:1/row:月額料金"))
    assert "1,000円 × 「席数」" in row and "税別" in row and "月額" in row and "1円未満切捨て" in row


def test_references_out_and_in_are_links(book: Rulebook) -> None:
    html = R.render_report(book, "html")
    src = R.prov_anchor("chapter:1/article:2/paragraph:2")
    dst = R.prov_anchor("chapter:1/article:2/paragraph:1")
    out = element_html(html, src)
    assert f'href="#{dst}"' in out and "にかかわらず" in out
    back = element_html(html, dst)
    assert "被参照" in back and f'href="#{src}"' in back


def test_external_documents_are_marked_not_linked(book: Rulebook) -> None:
    html = R.render_report(book, "html")
    para = element_html(html, R.prov_anchor("chapter:1/article:1/paragraph:2"))
    assert "外部文書" in para and f"他の約款{XSS_ESCAPED}" in para
    for m in re.finditer(r"<a [^>]*>([^<]*)</a>", html):
        assert "他の約款" not in m.group(1), "an external document rendered as a link"
    # reading and precedence with their exceptions
    assert "読み替え" in para and "「当社」を「甲社」" in para and "優先" in para


def test_omitted_and_deleted_units(book: Rulebook) -> None:
    html = R.render_report(book, "html")
    om = element_html(html, R.prov_anchor("chapter:1/article:3..9"))
    assert "（略）" in om and "符号化されていません" in om and "第3条～第9条（略）" in om
    de = element_html(html, R.prov_anchor("chapter:1/article:2/paragraph:2/item:3"))
    assert "削除" in de and "符号化されていません" not in de


def test_corrections_slips_and_diagnostics_next_to_their_unit(book: Rulebook) -> None:
    html = R.render_report(book, "html")
    p1 = element_html(html, R.prov_anchor("chapter:1/article:1/paragraph:1"))
    assert "起草上の誤り" in p1 and "訂正" in p1 and "符号化メモ" in p1
    p2 = element_html(html, R.prov_anchor("chapter:1/article:1/paragraph:2"))
    assert "resolve.caption-mismatch" in p2 and 'class="diag sev-warning"' in p2
    summary = html[html.index('id="diagnostics"'):]
    assert "resolve.caption-mismatch" in summary and 'href="#diag-1"' in summary


def test_report_diagnostics_are_those_of_check(book: Rulebook) -> None:
    from yakkan.engine.semantics.check import check_sources
    assert book.doc.span is not None
    want = check_sources([load_file(book.doc.span.file)])
    got = R.report_diagnostics(book)
    assert [d.code for d in got] == [d.code for d in want]
    assert any(d.code == "resolve.caption-mismatch" for d in got)


def test_graph_is_inline_svg_with_internal_links_and_the_list(book: Rulebook) -> None:
    """The overview is drawn in Python (no Graphviz): boxes link to the provisions, arrows
    carry Japanese labels, hostile text stays text; the full list of edges stands beside it."""
    html = R.render_report(book, "html")
    page = check_page(html)  # the SVG's links resolve too
    graph = html[html.index('id="graph"'):html.index('id="diagnostics"')]
    assert graph.count("<svg") == 1 and "<?xml" not in graph and "Graphviz" not in graph
    svg = graph[graph.index("<svg"):graph.index("</svg>") + 6]
    assert [h for h in page.hrefs if h.startswith("#prov-")]
    assert re.search(r'<a href="#prov-[^"]+">', svg)
    assert ">参照<" in svg or ">参照 ×" in svg
    assert XSS not in graph
    assert 'class="edge-list"' in graph
    md = R.render_report(book, "md")
    assert "```mermaid\ngraph LR\n" in md


def test_anchor_safe_is_injective_over_the_book(book: Rulebook) -> None:
    anchors = [R.prov_anchor(p) for p in book.order]
    assert len(set(anchors)) == len(anchors)
    for a in anchors:
        assert not re.search(r"[\s\"'<>#%/:()]", a), a


# ---- Markdown ---------------------------------------------------------------------------------

def md_html(md: str) -> str:
    """The Markdown as a CommonMark renderer with GFM tables shows it (raw HTML allowed,
    as GitHub allows `<a id>`, `<br>`, `<sub>` and `<details>`)."""
    return MarkdownIt("commonmark", {"html": True}).enable("table").render(md)


def test_markdown_renders_with_working_links(book: Rulebook) -> None:
    md = R.render_report(book, "md")
    assert md.startswith("# 約款")
    html = md_html(md)
    page = Page(html)
    ids = set(page.ids)
    # a renderer percent-encodes the Japanese of an anchor (#prov-appendix-別表), as
    # browsers do; the fragment matches the id once decoded (HTML: "indicated part")
    internal = [unquote(h) for h in page.hrefs if h.startswith("#")]
    assert internal
    broken = sorted({h for h in internal if h[1:] not in ids})
    assert not broken, broken[:10]
    assert "<table>" in html
    assert "<h3>第10条（準用）</h3>" in html


def test_markdown_escapes_hostile_text(book: Rulebook) -> None:
    md = R.render_report(book, "md")
    html = md_html(md)
    assert XSS not in md  # not even in the Mermaid block
    assert XSS_ESCAPED in md
    assert "<script" not in html.lower()


def test_markdown_shows_logic_references_and_diagnostics(book: Rulebook) -> None:
    md = R.render_report(book, "md")
    for want in ("令和5年4月17日", "**料金の支払いを怠るおそれがある（当社の判断）**（判断）",
                 "承諾しないことがある（裁量）", "（外部文書）", "**（略）**", "削除",
                 "resolve.caption-mismatch", "起草上の誤り", "［ただし書］",
                 "[第2条第1項](#prov-chapter-1.article-2.paragraph-1)"):
        assert want in md, want


# ---- CLI and the bundled documents ----------------------------------------------------------

def test_cli_report_writes_html_and_md(tmp_path: Path) -> None:
    path = tmp_path / "hostile.yk"
    path.write_text(HOSTILE_YK, encoding="utf-8")
    runner = CliRunner()
    out_html = tmp_path / "r.html"
    res = runner.invoke(main, ["report", str(path), "-o", str(out_html)])
    assert res.exit_code == 0, res.output
    check_page(out_html.read_text(encoding="utf-8"))
    res = runner.invoke(main, ["report", str(path), "--format", "md"])
    assert res.exit_code == 0, res.output
    assert res.output.startswith("# 約款")


def test_cli_report_as_of_outside_every_version_is_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "hostile.yk"
    path.write_text(HOSTILE_YK, encoding="utf-8")
    res = CliRunner().invoke(main, ["report", str(path), "--as-of", "2030-01-01"])
    assert res.exit_code == 2
    assert "eval.no-version-in-force" in res.output


@pytest.mark.parametrize("doc", ["rakuten-miitel", "denwa"])
def test_bundled_document_reports(doc: str) -> None:
    assert doc in bundled_ids()  # both are bundled: a missing one fails, never skips
    from yakkan.engine.semantics.rulebooks import versions
    for book in versions(doc):
        html = R.render_report(book, "html")
        page = check_page(html)
        text = page.all_text()
        assert book.doc.header.title in text
        for pid in book.order:
            assert R.prov_anchor(pid) in page.ids
        md = R.render_report(book, "md")
        mpage = Page(md_html(md))
        broken = {h for h in mpage.hrefs
                  if h.startswith("#") and unquote(h)[1:] not in set(mpage.ids)}
        assert not broken, sorted(broken)[:10]


def test_the_report_keeps_the_column_headers_of_the_storage_table() -> None:
    """別表 データ保管料 prints its columns 「1年」「2年」 above the rows (#19): the report shows
    them under the table's heading, before the first row."""
    r = CliRunner().invoke(main, ["report", "rakuten-miitel", "--format", "md"])
    assert r.exit_code == 0, r.output
    section = r.output.split("データ保管料（ビッグデータバンク））", 2)[2]
    head, first_row = section.find("1年 2年"), section.find("500時間相当")
    assert 0 <= head < first_row, section[:400]
