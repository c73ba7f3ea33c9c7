"""Citation resolution: every form of reference binds to the provisions a lawyer reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from yakkan.engine.semantics.citations import parse_citation
from yakkan.engine.semantics.resolve import Rulebook, resolve
from yakkan.engine.syntax.load import load_file

FIXTURE = Path(__file__).parent / "fixtures" / "resolve.yk"


@pytest.fixture(scope="module")
def book() -> Rulebook:
    src = load_file(FIXTURE)
    assert src.doc is not None, src.diagnostics
    return resolve(src.doc)


def targets(book: Rulebook, provision_citation: str, raw: str) -> list[str]:
    """Citations (human form) that 「raw」 used in `provision_citation` binds to."""
    for use in book.uses:
        if use.provision and book.cite(use.provision) == provision_citation \
                and use.citation.raw == raw:
            return [book.cite(t) for t in use.citation.targets]
    raise AssertionError(f"no use of 「{raw}」 in {provision_citation}")


def test_human_citations(book: Rulebook) -> None:
    cites = [book.cite(p) for p in book.order]
    assert "第1条第2項第3号" in cites
    # a single-paragraph article cites its items without 第1項
    assert "第2条第2号" in cites
    assert "第5条～第9条" in cites


def test_relative_references(book: Rulebook) -> None:
    assert targets(book, "第1条第2項", "前項") == ["第1条第1項"]
    # 前各号 from item 3: items 1 and 2 (削除 included: it is a unit of the text)
    assert targets(book, "第1条第2項第3号", "前各号") == ["第1条第2項第1号", "第1条第2項第2号"]
    assert targets(book, "第1条第3項", "前2項") == ["第1条第1項", "第1条第2項"]


def test_by_title_and_each_item(book: Rulebook) -> None:
    # 第3条 has one paragraph: it is cited 第3条, as a drafter writes it
    assert targets(book, "第3条", "利用停止に関する条第1項各号") == ["第2条第1号", "第2条第2号"]


def test_range_same_article_and_caption_slip(book: Rulebook) -> None:
    assert targets(book, "第4条第2項", "第1条（利用停止）乃至第3条") == ["第1条", "第2条", "第3条"]
    # 同条 = the article cited last in the same unit (第3条)
    assert targets(book, "第4条第2項", "同条第1項") == ["第3条"]  # its only paragraph
    slips = [d for d in book.diagnostics if d.code == "resolve.caption-mismatch"]
    assert len(slips) == 1 and "第2条" in slips[0].message and slips[0].severity == "warning"


def test_external_and_omitted(book: Rulebook) -> None:
    use = next(u for u in book.uses if u.citation.raw == "他規約")
    assert use.citation.external == "other_terms" and use.citation.targets == []
    # 第7条 lies in the omitted range 第5条～第9条: it binds to the range, not an error
    assert targets(book, "第10条", "第7条") == ["第5条～第9条"]
    assert not [d for d in book.diagnostics if d.severity == "error"]


def test_mutatis_binds_caption_checked(book: Rulebook) -> None:
    assert targets(book, "第4条第1項", "第1条（申込の承諾）") == ["第1条"]


@pytest.mark.parametrize("raw, kinds", [
    ("第14条の65第2項第7号", ["article", "paragraph", "item"]),
    ("前各号", ["prev_item"]),
    ("前二項", ["prev_paragraph"]),
    ("第4条の4の4備考3", ["article", "remarks", "item"]),
    ("料金表第1表第1", ["appendix", "table", "section"]),
    ("利用停止に関する条第1項各号", ["title", "paragraph", "each_item"]),
    ("第22条ただし書", ["article", "sentence"]),
])
def test_citation_grammar(raw: str, kinds: list[str]) -> None:
    groups = parse_citation(raw, {}, ["料金表"])
    assert [s.kind for s in groups[0].steps] == kinds


def test_unresolvable_citations_are_errors(tmp_path: Path) -> None:
    f = tmp_path / "bad.yk"
    f.write_text(FIXTURE.read_text(encoding="utf-8").replace("「前項」", "「第99条」", 1),
                 encoding="utf-8")
    src = load_file(f)
    assert src.doc is not None
    book = resolve(src.doc)
    errs = [d for d in book.diagnostics if d.code == "resolve.unresolved"]
    assert errs and "第99条" in errs[0].message and errs[0].span is not None
