"""Drafting defects derived from the text (engine/semantics/drafting.py): they stand without
the encoder's `slip` notes, in `yakkan check` and in the report; the goldens of each code
(tests/golden/diagnostics/draft.*) hold the deliberately defective provisions."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from yakkan.cli.main import main
from yakkan.engine.semantics.drafting import drafting_findings
from yakkan.engine.semantics.pipeline import analyse
from yakkan.engine.semantics.rulebooks import versions
from yakkan.engine.syntax.load import load_file
from yakkan.renderers.report import render_report

ROOT = Path(__file__).resolve().parent.parent
# what the derived checks find in each bundled version (README, "Drafting defects")
EXPECTED = {
    ("denwa", "2023-04-01"): [("draft.no-final-period", "第4条の2"),
                              ("draft.unbalanced-bracket", "第14条の66第1項"),
                              ("draft.unbalanced-bracket", "料金表第1表第1 1(7)ア"),
                              ("draft.cites-deleted", "第14条の65の2第3項")],
    ("denwa", "2023-04-17"): [("draft.unbalanced-bracket", "第14条の66第1項"),
                              ("draft.unbalanced-bracket", "料金表第1表第1 1(7)ア")],
    ("rakuten-miitel", "2025-04-01"): [("draft.malformed-url", "第1条第4項"),
                                       ("draft.unbalanced-bracket", "第4条第2項第1号"),
                                       ("draft.numbering", "第13条"),
                                       # the データ保管料 rows whose 総額 is not 単価×時間×12×年
                                       *[("draft.table-arithmetic",
                                          f"別表データ保管料「{h}時間相当」 {y}年")
                                         for h in (500, 1000, 2000, 3000, 4000)
                                         for y in (1, 2)]],
}


@pytest.mark.parametrize("doc,version", sorted(EXPECTED))
def test_bundled_findings_are_the_reviewed_ones(doc: str, version: str) -> None:
    book = next(b for b in versions(doc) if b.doc.header.version == version)
    got = [(d.code, d.message.split(":")[0].split("の本文")[0].split("の「")[0])
           for d in drafting_findings(book)]
    assert sorted(got) == sorted(EXPECTED[(doc, version)])


def _without_slips(src: Path, dst: Path) -> int:
    lines = src.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [ln for ln in lines if not re.match(r"\s*slip\s", ln)]
    dst.write_text("".join(kept), encoding="utf-8")
    return len(lines) - len(kept)


def test_table_arithmetic_stands_without_the_slip(tmp_path: Path) -> None:
    """The データ保管料 slip says by hand what `draft.table-arithmetic` derives: with every
    `slip` line removed from a copy, the rows are still reported, with the figures, in
    `check` and in the report (derived, not annotated)."""
    folder = tmp_path / "clauses" / "rakuten-miitel"
    folder.mkdir(parents=True)
    src = ROOT / "clauses" / "rakuten-miitel" / "2025-04-01.yk"
    assert _without_slips(src, folder / src.name) > 0
    r = CliRunner().invoke(main, ["check", "--no-static", str(folder)])
    assert r.exit_code == 0, r.stderr
    found = re.findall(r"warning\[draft\.table-arithmetic\]: (.*)", r.stderr)
    assert len(found) == 10, found
    assert "別表データ保管料「2000時間相当」 1年: 4.60円 × 2,000時間 × 12 × 1年 = 110,400円、" \
        "総額 105,600円" in found
    assert not any("5000時間相当" in f for f in found)  # 3.80円 × 5,000 × 12 = 228,000円
    # every derived finding of the bundled file stands without the slips
    book = analyse(load_file(str(folder / src.name)).doc)[0]  # type: ignore[arg-type]
    got = [(d.code, d.message.split(":")[0].split("の本文")[0].split("の「")[0])
           for d in drafting_findings(book)]
    assert sorted(got) == sorted(EXPECTED[("rakuten-miitel", "2025-04-01")])
    html = render_report(book, "html")
    assert "draft.table-arithmetic" in html and "符号化者の注記" not in html


def test_findings_stand_without_any_slip_in_check_and_report(tmp_path: Path) -> None:
    folder = tmp_path / "clauses" / "denwa"
    folder.mkdir(parents=True)
    for f in (ROOT / "clauses" / "denwa").glob("*.yk"):
        removed = _without_slips(f, folder / f.name)
        assert removed > 0, f"{f.name} has no slip to remove: the test proves nothing"
    r = CliRunner().invoke(main, ["check", "--no-static", "--format", "json", str(folder)])
    assert r.exit_code == 0, r.stderr
    codes = re.findall(r'"code": "(draft\.[a-z-]+)"', r.stdout)
    assert sorted(set(codes)) == ["draft.cites-deleted", "draft.no-final-period",
                                  "draft.unbalanced-bracket"]
    book = analyse(load_file(str(folder / "2023-04-01.yk")).doc)[0]  # type: ignore[arg-type]
    html = render_report(book, "html")
    assert "起草上の誤り（本文から検出）" in html
    assert "draft.cites-deleted" in html and "draft.no-final-period" in html
    assert "符号化者の注記" not in html  # no slip is left to show


def test_a_text_without_defects_has_no_findings(tmp_path: Path) -> None:
    src = tmp_path / "ok.yk"
    src.write_text('document ok "試験" {}\n\narticle 1 "申込" {\n  paragraph 1 {\n'
                   '    text "当社は、申込（書面（電子的方法を含みます。）によるもの）を'
                   '承諾します。例）書面の例は、https://www.example.co.jp/form/ に示します。"\n'
                   '  }\n  paragraph 2 {\n    label "２"\n    text "前項の規定は、'
                   '次の場合に適用します。"\n    item 1 { label "(1)" text "申込のとき。" }\n'
                   '    item 2 { label "(2)" text "変更のとき。" }\n  }\n}\n',
                   encoding="utf-8")
    book = analyse(load_file(str(src)).doc)[0]  # type: ignore[arg-type]
    assert drafting_findings(book) == []
