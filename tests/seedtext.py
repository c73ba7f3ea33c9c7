"""Seed reader: the seed documents cut into units, for fidelity and coverage tests.

The two seeds in ``SEED_DIR`` are extractions, not clean texts.  This module reads them once
and gives, for every document version, the list of its units (条, 項, 号, 備考, 注, table rows,
附則, 別表 …) with their structural path, printed label, 見出し and own text, plus the normalised
full text used for substring checks.

    normalize(text)             the comparison form (see below)
    seed_units(doc, version)    list[SeedUnit] in document order
    seed_text(doc, version)     normalize() of the whole document / one column of it
    printed_text(doc, version)  the same without the repairs of extraction slips
    unit_map(doc, version)      {path: SeedUnit}
    seed_underlines(doc)        (line, text) of every underlined span (what a 現改比較表 marks)
    EXTRACTION_SLIPS            places where the seed's characters are extraction artefacts
    NUMBERING_ANOMALIES         units whose printed number is not their structural key
    DRAFTING_NOTES              oddities that are the document as printed (NOT corrected)
    dump_units(out_dir)         JSON dumps for people encoding the documents
                                (``python tests/seedtext.py [OUT_DIR]``, default /tmp/seed_units)

Documents and versions (``DOCUMENTS``):
    "rakuten-miitel" "2025-04-01"   000_aedd8ee939a4b575.txt (PDF extraction)
    "denwa"          "2023-04-01"   004_2775dba3fe9907e9.txt, old (left) column
    "denwa"          "2023-04-17"   004_2775dba3fe9907e9.txt, new (right) column

Comparison form — ``normalize``
    1. markup removed: ``[x](#)`` -> x, Markdown escapes (``\\(6\\)`` -> (6)), HTML tags
       (``<u>``, ``<p>``, ``<td>``, ``<a href>`` …), HTML entities, Markdown table separator
       lines (``----``), list bullets (``- ``), heading marks (``## ``) and table pipes ``|``;
    2. widths: ``jaconv.z2h(kana=False, ascii=True, digit=True)`` — full-width digits, letters
       and ASCII punctuation (（）～＋％…) become half-width; kana and everything else unchanged;
    3. ALL whitespace removed (line breaks, tabs, spaces, U+3000).  Japanese text has no
       meaningful spaces; the few real ones are between Latin words ("D-U-N-S® Number").
       Dropping every space on BOTH sides of a comparison is the robust choice: the PDF
       extraction inserts spaces around Latin words and digits ("株式会社 RevComm",
       "2022 年 1 月 25 日") that are not in the document, so no rule that keeps some spaces
       can be trusted.  The price: "D-U-N-S®Number" and "D-U-N-S® Number" compare equal.

Unit text — ``SeedUnit.text``
    The unit's own text as one string: without its number label, without its 見出し, without
    its children's text; markup removed; characters unchanged (full-width digits stay
    full-width, （略） stays （略）).  Whitespace of the extraction is removed, except that ONE
    space is kept between two Latin tokens of at least two characters each (so
    "D-U-N-S® Number", "0120, 0800番号", but "RevComm規約", "2022年1月25日", "CAS1").  Labels
    and keys contain no whitespace at all.  Table rows: ``cells`` holds every cell of the row
    (first cell = the row key as printed), ``text`` is the cells after the first joined by a
    TAB (a separator only: normalize() drops it).  A 料金表 row whose content cell is made of
    subitems ((7), (21)) has cells (key,), its label cell's words as caption and text "";
    a table's centred title line (1のグループ発信サービス利用回線ごとに) is the caption of its
    rows.  Header rows of tables (種類/内容, 区分/内容, 区分/単位/料金額, 1年/2年 …) are not
    units.

Structure (e-Gov law XML schema names; the DSL uses the same kinds and keys)
    article    key = e-Gov Num: "1", "23", "4_4_4", "14_65_2"; ranges omitted in the excerpt
               "4_3..4_4_3", "1..4".  An article's own text is "" — its sentences belong to
               its paragraphs (e-Gov: Article > Paragraph > ParagraphSentence).  Omitted or
               deleted articles carry the printed "（略）"/"削除" themselves.
    paragraph  "1" (the first, unnumbered one; label ""), "2", … in ORDER OF APPEARANCE; the
               printed number (2 or ２) is the label.  Where they differ the unit is listed in
               NUMBERING_ANOMALIES (rakuten 第13条).
    item       号: "(1)" -> "1".
    subitem    ア -> "ア", (ア) -> "(ア)", a printed range "オ～カ" -> "オ～カ".
    remarks    備考 (key ""), under the paragraph whose table it annotates (e-Gov puts Remarks
               in the paragraph's TableStruct); its entries are items "1", "2", ….
    note       (注1) -> "1" (under the table row whose cell it annotates: 本欄に規定する…);
               the rakuten fee table's "※…" note -> "※".
    suppl      附則 blocks "1", "2" in order of appearance; their paragraphs as paragraph (an
               unnumbered 附則 sentence is paragraph "1").  Paragraph captions such as
               （実施期日） are the paragraph's caption.
    appendix   "別表" (rakuten), "料金表", "別記", "通話料金表別表" (denwa).
    table      料金表 第1表 -> "1"; "第2表～第7表" -> "2..7".
    section    第1 基本料金 -> "1"; inside it 1 適用 -> nested "1"; 通則 -> "通則"; the rakuten
               fee-table headings 【IP 電話(050)料金】 -> "IP電話(050)料金" (brackets stripped;
               label = the heading as printed without whitespace).
    row        key = the row's first cell as printed (no whitespace): "プラン4", "(7)",
               "(1)～(6)", "違約金".  A cell that spans several rows (rowspan: 第2種グループ発信
               サービス in the 注1 table, the vertical 通話料金, 基本使用料 …) is a row of its own
               (text "") whose children are the rows it spans.
    toc        目次 (key "") — not an e-Gov table-of-contents, only its （略） marker.
    Ranges: numeric-keyed kinds (article, table) use "a..b" of keys; as-printed-keyed kinds
    (row, subitem) keep the printed range.  ``omitted`` is True for units printed as （略）/
    (略) (their text is the marker as printed); it describes the unit's own text only —
    new 料金表第1表第1 "基本料金（略）" is omitted yet has children shown.

How the denwa columns were separated
    The 現改比較表 was flattened block by block: a run of the old (left) column, then the run
    of the new (right) column covering the same stretch, each run ending wherever the page
    ended — often mid-sentence, the next run of the same column continuing it.  The runs were
    identified by content (old/new wording, underlines) and are listed in ``_DENWA_COLUMNS``
    (line ranges, which tab-cells, whether the run continues the previous sentence).  The
    HTML row at 第14条の66/67 (line 222) has old and new in its two <td>s; the 料金表 (21)
    row (line 304) has old in cells 1-2 and new in cell 15 (cells 3-14 and 16-27 are
    flattened copies of the inner tables); 料金表 (7) (lines 274/289) has one column per line.
    Every non-blank line is either in a column or listed in ``_DENWA_UNUSED_LINES``.  The
    order "old block first" holds everywhere it can be checked by wording; the two (21) エ
    texts (lines 316/328, both wholly underlined) are assigned by that order alone.
    The amendment's 附則 (lines 338-340) belongs to the new version only.

The rakuten 別表 (flattened multi-column fee table)
    Recovered: 【IP 電話(050)料金】 and 【IP 電話(0120/0800)料金】 (rows 月額基本料 and the
    vertical group 通話料金 > 固定電話 / 携帯電話/PHS / 他社IP電話); the ※ note; 【楽天コネクト
    MiiTel 料金】 with groups 基本使用料 > MiiTel使用料 (フル機能…, 閲覧のみ…) and 電話番号使用料
    (050番号, 0120, 0800番号), モバイル > モバイル使用料, コールセンターオプション > 待ち呼,
    キューイング, プレディクティブコール, シートマップ, エージェントリスト, IVR利用料 (cells:
    key, price, remark); データ保管料（ビッグデータバンク） with rows "500時間相当" … "10000時間
    相当", each with 単価 and 総額 rows (cells: key, 1年, 2年).
    NOT recoverable from the extraction: the column headers of the MiiTel table (none are
    printed); which group cells span which rows (assumed: 基本使用料 spans MiiTel使用料 and
    電話番号使用料, モバイル is a group of its own, コールセンターオプション spans the option
    rows); whether the remark "最低でも、1番号の選択が必要です。番号は複数名で共有可能です。"
    spans both number rows (it is given to 050番号, where it is printed); whether a remark
    split over several lines is one cell or several (taken as one cell per row).  The texts of
    all cells are exact.

The seed files are read only; anything unexpected in them raises ``SeedFormatError``.
"""

from __future__ import annotations

import html
import json
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from itertools import pairwise
from pathlib import Path

import jaconv

UnitPath = tuple[tuple[str, str], ...]


def _seed_dir() -> Path:
    env = os.environ.get("YAKKAN_SEEDS")
    if env:
        return Path(env).expanduser().resolve()
    repo = Path(__file__).resolve().parent.parent
    return (repo.parent / "shared" / "seeds").resolve()


SEED_DIR: Path = _seed_dir()

DOCUMENTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "rakuten-miitel": ("000_aedd8ee939a4b575.txt", ("2025-04-01",)),
    "denwa": ("004_2775dba3fe9907e9.txt", ("2023-04-01", "2023-04-17")),
}

RAKUTEN = "rakuten-miitel"
DENWA = "denwa"
DENWA_OLD = "2023-04-01"
DENWA_NEW = "2023-04-17"


class SeedFormatError(ValueError):
    """The seed does not look the way this reader expects."""


@dataclass(frozen=True)
class SeedUnit:
    path: UnitPath
    label: str
    caption: str | None
    text: str
    seed_line: int
    omitted: bool = False
    cells: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        return self.path[-1][0]

    @property
    def key(self) -> str:
        return self.path[-1][1]

    def as_json(self) -> dict[str, object]:
        data: dict[str, object] = {
            "path": [list(step) for step in self.path],
            "label": self.label,
            "caption": self.caption,
            "text": self.text,
            "seed_line": self.seed_line,
            "omitted": self.omitted,
        }
        if self.cells:
            data["cells"] = list(self.cells)
        return data


@dataclass(frozen=True)
class ExtractionSlip:
    """A place where the seed's characters are an artefact of the extraction."""

    doc: str
    version: str
    path: UnitPath
    seed_line: int
    seed_shows: str
    reconstruction: str
    why: str


@dataclass(frozen=True)
class NumberingAnomaly:
    """A unit whose printed number is not (the form of) its structural key."""

    doc: str
    version: str
    path: UnitPath
    printed: str
    key: str
    note: str


@dataclass(frozen=True)
class DraftingNote:
    """Something odd that IS the document as printed; the reader does not correct it."""

    doc: str
    versions: tuple[str, ...]
    path: UnitPath
    printed: str
    note: str


# --------------------------------------------------------------------------------------------
# normal form


_LINK_RE = re.compile(r"\[([^\[\]]*)\]\(#[^()]*\)")
_MD_ESCAPE_RE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|~<>])")
_TAG_RE = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>")
_INLINE_TAG_RE = re.compile(r"</?(?:u|a|b|i|em|strong|span)(?:\s[^<>]*)?>")
_SEPARATOR_LINE_RE = re.compile(r"^[ \t|:\-]*-{2,}[ \t|:\-]*$", re.MULTILINE)
_BULLET_RE = re.compile(r"^[ \t]*-[ \t]+", re.MULTILINE)
_HEADING_RE = re.compile(r"^[ \t]*#{1,6}[ \t]+", re.MULTILINE)
_WS_RE = re.compile(r"\s+")


def strip_markup(text: str) -> str:
    """Remove the seed's markup (links, escapes, HTML, Markdown table/list syntax)."""
    s = _LINK_RE.sub(r"\1", text)
    s = _MD_ESCAPE_RE.sub(r"\1", s)
    s = _TAG_RE.sub(" ", s)
    s = html.unescape(s)
    s = _SEPARATOR_LINE_RE.sub("", s)
    s = _BULLET_RE.sub("", s)
    s = _HEADING_RE.sub("", s)
    return s.replace("|", " ")


def normalize(text: str) -> str:
    """The comparison form: markup removed, ASCII/digit widths folded, no whitespace at all."""
    s = strip_markup(text)
    s = jaconv.z2h(s, kana=False, ascii=True, digit=True)
    return _WS_RE.sub("", s)


def _strip_inline(text: str) -> str:
    """Inline markup only (links, escapes, <u>, <a>); structural HTML (<p>, <table>) stays."""
    s = _LINK_RE.sub(r"\1", text)
    s = _MD_ESCAPE_RE.sub(r"\1", s)
    s = _INLINE_TAG_RE.sub("", s)
    return html.unescape(s)


_LATIN_TAIL_RE = re.compile(r"[!-~®©™]+$")
_LATIN_HEAD_RE = re.compile(r"^[!-~®©™]+")


def squash(text: str) -> str:
    """Whitespace of the extraction removed; one space kept between Latin words (>= 2 chars)."""
    pieces = _WS_RE.split(text.strip())
    out = pieces[0]
    for prev, piece in pairwise(pieces):
        left = _LATIN_TAIL_RE.search(prev)
        right = _LATIN_HEAD_RE.search(piece)
        if left and right and len(left.group()) >= 2 and len(right.group()) >= 2:
            out += " "
        out += piece
    return out


def _nows(text: str) -> str:
    return _WS_RE.sub("", text)


def _num(text: str) -> int:
    return int(jaconv.z2h(text, kana=False, ascii=False, digit=True))


# --------------------------------------------------------------------------------------------
# records: slips, anomalies, drafting notes


def _p(*steps: tuple[str, str]) -> UnitPath:
    return tuple(steps)


_T1_S2_ROW21 = _p(
    ("appendix", "料金表"), ("table", "1"), ("section", "2"), ("section", "1"), ("row", "(21)")
)
_T1_S1_ROW7 = _p(
    ("appendix", "料金表"), ("table", "1"), ("section", "1"), ("section", "1"), ("row", "(7)")
)
_ROW21_KEY = "1のグループ発信サービス利用回線から発信した通話に関する料金"

EXTRACTION_SLIPS: list[ExtractionSlip] = [
    ExtractionSlip(
        DENWA, DENWA_OLD, _p(("article", "14_64"), ("paragraph", "1")), 123,
        "申込を行って｜ていただきます。 (line 117 ends a column block with 行って, the old "
        "column resumes at line 123 with ていただきます。)",
        "申込を行っていただきます。",
        "Column-block split: the て is repeated on both sides of the break.  The new column at "
        "the same place shows a different fragment (たいただきます。) and neither side is "
        "underlined, so the sentence is unchanged and both fragments are artefacts; "
        "行ってていただきます is not Japanese.",
    ),
    ExtractionSlip(
        DENWA, DENWA_NEW, _p(("article", "14_64"), ("paragraph", "1")), 152,
        "申込を行って｜たいただきます。 (line 121 ends with 行って, the new column resumes at "
        "line 152 with たいただきます。)",
        "申込を行っていただきます。",
        "Column-block split garbles the join (see the old column at line 123); the sentence is "
        "not underlined, so it reads as in the old column.",
    ),
    ExtractionSlip(
        DENWA, DENWA_OLD, (*_T1_S2_ROW21, ("subitem", "イ"), ("subitem", "(イ)"),
                           ("row", _ROW21_KEY)), 304,
        "1のグループ発信サービス利用回線から発信した通話に関する (line 304, the (イ) table) … "
        "料金 (line 314, alone in the content cell of an otherwise empty row)",
        _ROW21_KEY,
        "Page break inside the inner table cell: its last word was emitted as the next row of "
        "the outer table.  The (ア) table has the same cell complete; the flattened copies "
        "show the truncated form too.",
    ),
    ExtractionSlip(
        DENWA, DENWA_NEW, (*_T1_S2_ROW21, ("subitem", "イ"), ("subitem", "(イ)"),
                           ("row", _ROW21_KEY)), 304,
        "…通話に関する (line 304) … 料金 (line 326)",
        _ROW21_KEY,
        "Same page break as in the old column.",
    ),
    ExtractionSlip(
        DENWA, DENWA_NEW, (*_T1_S2_ROW21, ("subitem", "ア")), 304,
        "nothing: the new (21) cell (line 304, cell 15) runs the row label and the content "
        "together and starts the content with イ",
        "ア (略) — an omitted unit (omitted=True, text \"(略)\")",
        "The old column shows ア (略); ウ (略) and オ～カ (略) are shown on both sides; no "
        "（削る）/（新設） marks the removal of ア and イ is not renumbered.  The cell boundary "
        "between label and content is lost as well.  Only the omission marker is supplied, "
        "never text.",
    ),
    ExtractionSlip(
        DENWA, DENWA_OLD, _T1_S1_ROW7, 274,
        "after the (7) cell: tab cells 区 分 / 金 額 / 違約金 / 1,000円(不課税) (line 274) and the "
        "rows at lines 275-276",
        "dropped (the 違約金 table inside the cell is the source)",
        "Flattened duplicate of the HTML table already in the cell.",
    ),
    ExtractionSlip(
        DENWA, DENWA_NEW, _T1_S1_ROW7, 289,
        "after the (7) cell: tab cells (line 289) and rows at lines 290-291",
        "dropped",
        "Flattened duplicate of the HTML table already in the cell.",
    ),
    ExtractionSlip(
        DENWA, DENWA_OLD, _T1_S2_ROW21, 304,
        "line 304 cells 3-14 and the rows at lines 305-312: 区 分 / 単位 / 料金額 / … copies of "
        "both inner tables of both columns",
        "dropped",
        "Flattened duplicates of the HTML tables already in the cells.",
    ),
    ExtractionSlip(
        DENWA, DENWA_NEW, _T1_S2_ROW21, 304,
        "line 304 cells 16-27 (copies of the inner tables)",
        "dropped",
        "Flattened duplicates of the HTML tables already in the cell.",
    ),
    ExtractionSlip(
        RAKUTEN, "2025-04-01",
        _p(("appendix", "別表"), ("section", "IP電話(050)料金"), ("row", "通話料金")), 742,
        "通 / 話 / 料 / 金 on four lines (742-748)",
        "通話料金 (a group row spanning 固定電話, 携帯電話/PHS, 他社IP電話)",
        "A vertically set cell spanning three rows was extracted one character per line.",
    ),
    ExtractionSlip(
        RAKUTEN, "2025-04-01",
        _p(("appendix", "別表"), ("section", "IP電話(0120/0800)料金"), ("row", "通話料金")), 762,
        "通 / 話 / 料 / 金 on four lines (762-768)",
        "通話料金",
        "Same vertical cell as in the 050 table.",
    ),
    ExtractionSlip(
        RAKUTEN, "2025-04-01",
        _p(("appendix", "別表"), ("section", "楽天コネクトMiiTel料金")), 782,
        "rows and cells flattened into lines: several cells on one line (\"モバイル モバイル"
        "使用料 500 円/人/月\", line 830; \"す。 0120, 0800 番号\", line 825 ends the 050-row "
        "remark and starts the next row), one cell over several lines (\"フル機能（電話＋\" / "
        "\"応対履歴の閲覧）\")",
        "rows and cells as listed in the module docstring; cell texts exact",
        "Multi-column table flattened by the PDF extraction.",
    ),
]

NUMBERING_ANOMALIES: list[NumberingAnomaly] = [
    NumberingAnomaly(
        RAKUTEN, "2025-04-01", _p(("article", "13"), ("paragraph", "3")), "２", "3",
        "第13条 prints its paragraphs (unnumbered), 2, ２, ３: the number 2 is printed twice "
        "(half-width, then full-width).  Keys follow the order of appearance, labels keep the "
        "printed numbers; 前項 in the paragraph printed ２ means the one printed 2.",
    ),
    NumberingAnomaly(
        RAKUTEN, "2025-04-01", _p(("article", "13"), ("paragraph", "4")), "３", "4",
        "Follows from the duplicate ２: the paragraph printed ３ is the fourth paragraph.",
    ),
    NumberingAnomaly(
        RAKUTEN, "2025-04-01", _p(("article", "23"),), "第２3 条", "23",
        "Mixed widths in the article number (full-width ２, half-width 3); the number is 23 "
        "(第22条 precedes, 第24条 follows).",
    ),
]

DRAFTING_NOTES: list[DraftingNote] = [
    DraftingNote(
        DENWA, (DENWA_OLD, DENWA_NEW),
        _p(("article", "14_65_2"), ("paragraph", "3")), "ものとしします",
        "Identical in both columns: drafting, kept.",
    ),
    DraftingNote(
        DENWA, (DENWA_OLD, DENWA_NEW),
        _p(("article", "14_65_2"), ("paragraph", "5")), "ものとしします",
        "Identical in both columns: drafting, kept.",
    ),
    DraftingNote(
        DENWA, (DENWA_OLD,), _p(("article", "4_2"), ("paragraph", "1")),
        "電話等サービスには次の種類があります",
        "The old column has no final 。 (the new one has).  Possibly lost by the extraction, "
        "but nothing in the seed proves it: kept as printed.",
    ),
    DraftingNote(
        DENWA, (DENWA_OLD, DENWA_NEW), _p(("article", "14_66"), ("paragraph", "1")),
        "以下同じとします。)の譲渡",
        "The parenthesis opened full-width after 利用権 closes half-width: kept.",
    ),
    DraftingNote(
        DENWA, (DENWA_OLD, DENWA_NEW),
        _p(("article", "14_66"), ("paragraph", "3"), ("item", "4")), "に限り、)",
        "Odd punctuation inside the parenthesis, in both columns (new items 5/6 too): kept.",
    ),
    DraftingNote(
        DENWA, (DENWA_OLD, DENWA_NEW),
        _p(("article", "4_2"), ("paragraph", "1"), ("row", "契約者指定番号発信サービス")),
        "当社が別に定めるものに限り。",
        "限り。 inside the parenthesis, in both columns: kept.",
    ),
    DraftingNote(
        DENWA, (DENWA_OLD, DENWA_NEW),
        _p(("article", "4_4_4"), ("paragraph", "1"), ("remarks", ""), ("item", "2")),
        "電気通信番号規則第9条第1号",
        "The (注2) table of 第4条の2 cites 電気通信番号規則第9条第1項: kept as printed.",
    ),
    DraftingNote(
        DENWA, (DENWA_OLD, DENWA_NEW), _p(("article", "14_67"), ("paragraph", "3")),
        "以下この号において同じとします",
        "Says この号 inside a paragraph (項): kept.",
    ),
    DraftingNote(
        DENWA, (DENWA_OLD, DENWA_NEW), (*_T1_S1_ROW7, ("subitem", "ア")),
        "に係るものに限ります。）以下この欄において同じとします。）",
        "Unbalanced parentheses, in both columns: kept.",
    ),
    DraftingNote(
        DENWA, (DENWA_NEW,), _p(("appendix", "料金表"), ("table", "1"), ("section", "1")),
        "第1 基本料金（略）",
        "The new column marks 第1 基本料金 （略） yet shows its 1 適用 (7): the unit is omitted "
        "(its own text is （略）) and its children are present.",
    ),
    DraftingNote(
        DENWA, (DENWA_OLD, DENWA_NEW), _p(("article", "14_65_4"), ("paragraph", "3")),
        "グループ発信利用回線",
        "Elsewhere グループ発信サービス利用回線: kept.",
    ),
    DraftingNote(
        RAKUTEN, ("2025-04-01",), _p(("article", "1"), ("paragraph", "3")),
        "第 8 条（禁止事項）乃至第 12 条（契約者が行う契約の解除）",
        "The captions do not match the numbers: 禁止事項 is 第10条, 契約者が行う契約の解除 is "
        "第15条 (第8条 is 個人情報の取扱い, 第12条 RevCommとの責任の分界).  Also 別紙サービス料金表 "
        "for the 別表.",
    ),
    DraftingNote(
        RAKUTEN, ("2025-04-01",), _p(("article", "1"), ("paragraph", "4")), "http;//",
        "Semicolon in the URL (paragraph 1 prints https://): kept.",
    ),
    DraftingNote(
        RAKUTEN, ("2025-04-01",), _p(("article", "13"), ("paragraph", "1"), ("item", "4")),
        "削除要請が合った場合",
        "合った for あった: kept.",
    ),
    DraftingNote(
        RAKUTEN, ("2025-04-01",), _p(("article", "13"), ("paragraph", "2"), ("item", "5")),
        "業務の遂行又設備の維持",
        "又 without は: kept.",
    ),
    DraftingNote(
        RAKUTEN, ("2025-04-01",), _p(("article", "13"), ("paragraph", "2"), ("item", "4")),
        "契約申込の承諾の条第 2 項",
        "Citation by title (= 第4条第2項); likewise 第14条 利用停止に関する条第１項各号 (= 第13条"
        "第1項各号).",
    ),
    DraftingNote(
        RAKUTEN, ("2025-04-01",), _p(("suppl", "2"),),
        "本改正規定は、2025 年 4 月 1 日より実施します。",
        "The second 附則 block has no 附則 heading of its own; reported as suppl \"2\" with "
        "label \"\".",
    ),
    DraftingNote(
        RAKUTEN, ("2025-04-01",), _p(("article", "25"), ("paragraph", "2"), ("item", "6")),
        "信用棄損",
        "棄損 for 毀損: kept.",
    ),
]


# --------------------------------------------------------------------------------------------
# unit builder


@dataclass
class _Draft:
    path: UnitPath
    label: str
    caption: str | None
    parts: list[str]
    line: int
    omitted: bool = False
    cells: tuple[str, ...] = ()
    verbatim: bool = False  # text already final (table rows: squashed cells joined by TAB)


@dataclass
class _Builder:
    drafts: list[_Draft] = field(default_factory=list)
    index: dict[UnitPath, _Draft] = field(default_factory=dict)

    def add(
        self,
        path: UnitPath,
        label: str,
        line: int,
        *,
        caption: str | None = None,
        text: str = "",
        omitted: bool = False,
        cells: tuple[str, ...] = (),
    ) -> _Draft:
        if path in self.index:
            raise SeedFormatError(f"duplicate unit path {path} (line {line})")
        draft = _Draft(path, label, caption, [text] if text else [], line, omitted, cells,
                       verbatim=bool(cells))
        self.drafts.append(draft)
        self.index[path] = draft
        return draft

    def units(self) -> list[SeedUnit]:
        return [
            SeedUnit(
                path=d.path,
                label=_nows(d.label),
                caption=squash(d.caption) if d.caption is not None else None,
                text=(
                    "\n".join(d.parts) if d.verbatim else squash("\n".join(d.parts))
                ) if d.parts else "",
                seed_line=d.line,
                omitted=d.omitted,
                cells=d.cells,
            )
            for d in self.drafts
        ]


_OMIT_RE = re.compile(r"^[（(]略[）)]$")
_TRAILING_OMIT_RE = re.compile(r"^(.*?)\s*([（(]略[）)])$")


def _is_omit(text: str) -> bool:
    return bool(_OMIT_RE.match(text.strip()))


def _art_key(main: str, branches: str) -> str:
    nums = [str(_num(main))] + [str(_num(b)) for b in re.findall(r"の([0-9０-９]+)", branches)]
    return "_".join(nums)


# --------------------------------------------------------------------------------------------
# rakuten-miitel


_R_ARTICLE_RE = re.compile(r"^第\s*([0-9０-９]+)\s*条\s*[（(](.+?)[）)]$")
_R_PARA_RE = re.compile(r"^([0-9０-９]+)\s+(.*)$")
_R_ITEM_RE = re.compile(r"^[（(]([0-9０-９]+)[）)]\s*(.*)$")
_R_CAPTION_RE = re.compile(r"^[（(]([^（）()]+)[）)]$")
_R_APPENDIX_RE = re.compile(r"^別表\s+(.+)$")


@dataclass(frozen=True)
class _Cell:
    """One element of the rakuten fee table, found by its start marker."""

    kind: str  # "section" | "row" | "note"
    depth: int  # rows: 1 = directly under the section
    marker: str  # start of the element (whitespace-insensitive)
    cells: tuple[str, ...] = ()  # start markers of the cells after the key


def _row(depth: int, marker: str, *cells: str) -> _Cell:
    return _Cell("row", depth, marker, cells)


_RAKUTEN_FEE_TABLE: tuple[_Cell, ...] = (
    _Cell("section", 0, "【IP"),
    _row(1, "月額基本料", "1,500"),
    _row(1, "通"),
    _row(2, "固定電話", "8.49"),
    _row(2, "携帯電話", "16.9"),
    _row(2, "他社", "かけ放題"),
    _Cell("section", 0, "【IP"),
    _row(1, "月額基本料", "2,500"),
    _row(1, "通"),
    _row(2, "固定電話", "7.0"),
    _row(2, "携帯電話", "20.0"),
    _row(2, "他社", "7.0"),
    _Cell("note", 0, "※"),
    _Cell("section", 0, "【楽天"),
    _row(1, "基本使用料"),
    _row(2, "MiiTel"),
    _row(3, "フル機能", "6,980", "ご契約時"),
    _row(3, "閲覧のみ", "980"),
    _row(2, "電話番号使用料"),
    _row(3, "050", "1,500", "最低でも"),
    _row(3, "0120", "2,500"),
    _row(1, "モバイル"),
    _row(2, "モバイル使用料", "500"),
    _row(1, "コールセンターオプション"),
    _row(2, "待ち呼", "1,500", "テナント全体"),
    _row(2, "キューイング", "1,980", "テナント内"),
    _row(2, "プレディクティブ", "3,500", "テナント内"),
    _row(2, "シートマップ", "30,000", "1テナント"),
    _row(2, "エージェントリス", "30,000", "1テナント"),
    _row(2, "IVR利用料", "19,000", "IVRを含む"),
    _Cell("section", 0, "データ保管料"),
)

_HOURS_RE = re.compile(r"^([0-9]+\s*時間相当)$")
_DATA_ROW_RE = re.compile(r"^(単価|総額)\s+(\S+\s*円(?:/時間)?)\s+(\S+\s*円(?:/時間)?)$")


def _ws_pattern(marker: str) -> re.Pattern[str]:
    return re.compile(r"\s*".join(re.escape(ch) for ch in _nows(marker)))


def _parse_rakuten(lines: list[str]) -> list[SeedUnit]:
    b = _Builder()
    art: UnitPath | None = None
    para: UnitPath | None = None
    para_count = 0
    last_printed = 0
    item_count = 0
    suppl: UnitPath | None = None
    suppl_count = 0
    suppl_paras = 0
    pending_caption: str | None = None
    current: _Draft | None = None
    title_seen = False
    appendix_line = 0

    for n, raw in enumerate(lines, 1):
        s = raw.strip()
        if not s:
            continue
        if not title_seen:
            title_seen = True  # 楽天コネクト × MiiTel 利用規約
            continue
        m = _R_APPENDIX_RE.match(s)
        if m and suppl is not None:
            appendix_line = n
            break
        m = _R_ARTICLE_RE.match(s)
        if m:
            key = str(_num(m.group(1)))
            art = (("article", key),)
            b.add(art, f"第{m.group(1)}条", n, caption=m.group(2))
            para = (*art, ("paragraph", "1"))
            current = b.add(para, "", n)
            para_count, last_printed, item_count = 1, 1, 0
            continue
        if s == "附則":
            suppl_count += 1
            suppl = (("suppl", str(suppl_count)),)
            b.add(suppl, "附則", n)
            art = para = None
            suppl_paras = 0
            current = None
            continue
        if suppl is not None:
            m = _R_CAPTION_RE.match(s)
            if m:
                pending_caption = m.group(1)
                continue
            m = _R_PARA_RE.match(s)
            if m:
                printed = _num(m.group(1))
                if printed == 1 and suppl_paras:
                    suppl_count += 1  # a new 附則 block without its own heading
                    suppl = (("suppl", str(suppl_count)),)
                    b.add(suppl, "", _pending_line(lines, n), caption=None)
                    suppl_paras = 0
                if printed != suppl_paras + 1:
                    raise SeedFormatError(f"line {n}: 附則 paragraph {printed}")
                suppl_paras += 1
                current = b.add(
                    (*suppl, ("paragraph", str(suppl_paras))), m.group(1), n,
                    caption=pending_caption, text=m.group(2),
                )
                pending_caption = None
                continue
            if current is None:
                raise SeedFormatError(f"line {n}: unexpected text in 附則: {s!r}")
            current.parts.append(s)
            continue
        if art is None:
            raise SeedFormatError(f"line {n}: text before the first article: {s!r}")
        m = _R_ITEM_RE.match(s)
        if m and para is not None and _num(m.group(1)) == item_count + 1:
            item_count += 1
            current = b.add((*para, ("item", str(item_count))), f"({m.group(1)})", n,
                            text=m.group(2))
            continue
        m = _R_PARA_RE.match(s)
        if m:
            printed = _num(m.group(1))
            if printed not in (last_printed, last_printed + 1):
                raise SeedFormatError(f"line {n}: paragraph {printed} after {last_printed}")
            para_count += 1
            last_printed = printed
            item_count = 0
            para = (*art, ("paragraph", str(para_count)))
            current = b.add(para, m.group(1), n, text=m.group(2))
            continue
        if current is None:
            raise SeedFormatError(f"line {n}: continuation without a unit: {s!r}")
        if not current.parts:
            current.line = n  # the unnumbered first paragraph starts below the heading
        current.parts.append(s)

    if not appendix_line:
        raise SeedFormatError("rakuten: 別表 not found")
    _parse_rakuten_appendix(lines, appendix_line, b)
    return b.units()


def _pending_line(lines: list[str], n: int) -> int:
    """Line of the caption that opens the block whose first paragraph is at line n."""
    for k in range(n - 1, 0, -1):
        if lines[k - 1].strip():
            return k if _R_CAPTION_RE.match(lines[k - 1].strip()) else n
    return n


def _parse_rakuten_appendix(lines: list[str], start: int, b: _Builder) -> None:
    m = _R_APPENDIX_RE.match(lines[start - 1].strip())
    assert m is not None
    appendix = (("appendix", "別表"),)
    draft = b.add(appendix, "別表", start, caption=m.group(1))
    # the appendix's own sentence, up to the first 【…】 heading
    k = start
    while not lines[k].strip().startswith("【"):
        if lines[k].strip():
            draft.parts.append(lines[k].strip())
        k += 1
    first = k + 1  # 1-based line of the first heading
    data_line = next(
        i for i in range(first, len(lines) + 1)
        if lines[i - 1].strip().startswith("データ保管料")
    )
    region = "\n".join(lines[first - 1:data_line])  # through the データ保管料 heading line
    base = first

    def line_of(offset: int) -> int:
        return base + region.count("\n", 0, offset)

    # locate every element and every cell start
    pos = 0
    starts: list[tuple[int, list[int]]] = []
    for el in _RAKUTEN_FEE_TABLE:
        mm = _ws_pattern(el.marker).search(region, pos)
        if mm is None:
            raise SeedFormatError(f"rakuten 別表: marker {el.marker!r} not found")
        cell_starts = []
        cpos = mm.end()
        for c in el.cells:
            cm = _ws_pattern(c).search(region, cpos)
            if cm is None:
                raise SeedFormatError(f"rakuten 別表: cell {c!r} of {el.marker!r} not found")
            cell_starts.append(cm.start())
            cpos = cm.end()
        starts.append((mm.start(), cell_starts))
        pos = cpos
    ends = [s for s, _ in starts[1:]] + [len(region)]

    section: UnitPath = appendix
    stack: list[UnitPath] = []
    for el, (st, cell_starts), end in zip(_RAKUTEN_FEE_TABLE, starts, ends, strict=True):
        bounds = [st, *cell_starts, end]
        pieces = [region[a:z] for a, z in pairwise(bounds)]
        if any(a > z for a, z in pairwise(bounds)):
            raise SeedFormatError(f"rakuten 別表: cells out of order at {el.marker!r}")
        line = line_of(st)
        if el.kind == "section":
            head = _nows(pieces[0])
            if el is _RAKUTEN_FEE_TABLE[-1]:
                head = _nows(region[st:])
            key = head.strip("【】")
            section = (*appendix, ("section", key))
            b.add(section, head if head.startswith("【") else "", line, caption=key)
            stack = []
        elif el.kind == "note":
            body = pieces[0].strip()
            b.add((*appendix, ("note", "※")), "※", line, text=body[1:])
        else:
            key = _nows(pieces[0])
            del stack[el.depth - 1:]
            parent = stack[-1] if stack else section
            path = (*parent, ("row", key))
            cells = tuple(squash(p) for p in pieces)
            b.add(path, key, line, text="\t".join(cells[1:]), cells=(key, *cells[1:]))
            stack.append(path)

    # データ保管料（ビッグデータバンク）: header "1 年 2 年", then hours groups of 単価 / 総額
    data = b.drafts[-1].path
    group: UnitPath | None = None
    header_seen = False
    for n in range(data_line + 1, len(lines) + 1):
        s = lines[n - 1].strip()
        if not s:
            continue
        if not header_seen:
            if _nows(s) != "1年2年":
                raise SeedFormatError(f"line {n}: expected the 1年/2年 header, got {s!r}")
            header_seen = True
            # the printed column headers are the table's own text (the report shows them
            # above its rows)
            b.drafts[-1].parts.append("\t".join(("1年", "2年")))
            continue
        m = _HOURS_RE.match(s)
        if m:
            key = _nows(m.group(1))
            group = (*data, ("row", key))
            b.add(group, key, n, cells=(key,))
            continue
        m = _DATA_ROW_RE.match(s)
        if m and group is not None:
            cells = (m.group(1), squash(m.group(2)), squash(m.group(3)))
            b.add((*group, ("row", m.group(1))), m.group(1), n,
                  text="\t".join(cells[1:]), cells=cells)
            continue
        raise SeedFormatError(f"line {n}: unexpected line in データ保管料: {s!r}")


# --------------------------------------------------------------------------------------------
# denwa: column separation


@dataclass(frozen=True)
class _Seg:
    first: int
    last: int
    cells: tuple[int, int] | None = None  # tab-cell slice [a, b) of tab lines
    cont: bool = False  # the first chunk continues the column's previous sentence


_DENWA_COLUMNS: dict[str, tuple[_Seg, ...]] = {
    DENWA_OLD: (
        _Seg(5, 23),
        _Seg(45, 63),
        _Seg(86, 88),
        _Seg(95, 99),
        _Seg(111, 111),
        _Seg(115, 117),
        _Seg(123, 150, cont=True),
        _Seg(182, 200, cont=True),
        _Seg(222, 222, cells=(0, 1), cont=True),
        _Seg(225, 246, cont=True),
        _Seg(273, 274, cells=(0, 2)),
        _Seg(277, 286, cells=(0, 2)),
        _Seg(303, 304, cells=(0, 2)),
        _Seg(314, 324, cells=(0, 2)),
    ),
    DENWA_NEW: (
        _Seg(25, 43),
        _Seg(65, 84),
        _Seg(90, 93),
        _Seg(101, 109),
        _Seg(113, 113),
        _Seg(119, 121),
        _Seg(152, 180, cont=True),
        _Seg(202, 220, cont=True),
        _Seg(222, 222, cells=(1, 2), cont=True),
        _Seg(248, 271, cont=True),
        _Seg(288, 289, cells=(0, 2)),
        _Seg(292, 301, cells=(0, 2)),
        _Seg(303, 303, cells=(2, 4)),
        _Seg(304, 304, cells=(14, 15)),
        _Seg(326, 340, cells=(0, 2)),
    ),
}

# lines in no column: the shared title, Markdown table debris, flattened table copies
_DENWA_UNUSED_LINES: frozenset[int] = frozenset(
    {3, 223, 275, 276, 290, 291, *range(305, 313)}
)

# (version, line) -> list of (seed text, replacement); "" replacing the whole line drops it
_DENWA_REPAIRS: dict[tuple[str, int], tuple[tuple[str, str], ...]] = {
    (DENWA_OLD, 123): (("ていただきます。", "いただきます。"),),
    (DENWA_NEW, 152): (("たいただきます。", "いただきます。"),),
    (DENWA_OLD, 304): (("通話に関する</td>", "通話に関する料金</td>"),),
    (DENWA_OLD, 314): (("\t料金", ""),),
    (DENWA_NEW, 304): (
        ("通話に関する</td>", "通話に関する料金</td>"),
        ("の適用</p> <p>イ", "の適用</p>\t<p>ア (略)</p> <p>イ"),
    ),
    (DENWA_NEW, 326): (("\t料金", ""),),
}

_P_CHUNK_RE = re.compile(r"<p\b[^>]*>(.*?)</p>", re.DOTALL)


def _denwa_column(
    lines: list[str], version: str, *, repair: bool = True
) -> list[tuple[int, str]]:
    """The column's logical lines (seed line, text) after repairs; inline markup stripped.

    ``repair=False`` leaves out ``_DENWA_REPAIRS``: the column as printed, slips included.
    """
    out: list[tuple[int, str]] = []
    for seg in _DENWA_COLUMNS[version]:
        first_chunk = True
        for n in range(seg.first, seg.last + 1):
            raw = lines[n - 1].rstrip()
            if not raw.strip():
                continue
            if seg.cells is not None and "\t" in raw:
                a, z = seg.cells
                raw = "\t".join(raw.split("\t")[a:z]).rstrip("\t")
                if not raw.strip():
                    continue
            for old, new in _DENWA_REPAIRS.get((version, n), ()) if repair else ():
                if raw.count(old) != 1 or (new == "" and raw != old):
                    raise SeedFormatError(f"line {n}: repair target {old!r} not found")
                raw = raw.replace(old, new)
            if not raw.strip():
                continue
            text = _strip_inline(raw)
            if "\t" in text:
                chunks = [text.strip(" ")]  # a leading TAB (empty first cell) is significant
            elif "<p" not in text or not repair:  # as printed: one chunk, markup kept
                chunks = [text.strip()]
            else:
                chunks = [c.strip() for c in _P_CHUNK_RE.findall(text)]
                rest = _P_CHUNK_RE.sub("", text).strip()
                if rest:
                    raise SeedFormatError(f"line {n}: text outside <p>: {rest[:40]!r}")
            for chunk in chunks:
                if seg.cont and first_chunk and out:
                    out[-1] = (out[-1][0], out[-1][1] + chunk)
                else:
                    out.append((n, chunk))
                first_chunk = False
    return out


# --------------------------------------------------------------------------------------------
# denwa: units


_D_ARTICLE_RE = re.compile(r"^第([0-9]+)条((?:の[0-9]+)*)\s*(.*)$")
_D_RANGE_RE = re.compile(
    r"^(第([0-9]+)条((?:の[0-9]+)*))\s*[～~]\s*(第([0-9]+)条((?:の[0-9]+)*))\s*([（(]略[）)])$"
)
_D_CAPTION_RE = re.compile(r"^[（(]([^（）()]+)[）)]$")
_D_PARA_RE = re.compile(r"^([0-9]+)\s+(.*)$")
_D_ITEM_RE = re.compile(r"^(?:-\s+)?[（(]([0-9]+)[）)]\s*(.*)$")
_D_NOTE_RE = re.compile(r"^[（(]注([0-9]+)[）)]\s*(.*)$")
_D_NOTE_IN_CELL_RE = re.compile(r"\s*([（(]注([0-9]+)[）)])")
_D_SEPARATOR_RE = re.compile(r"^[\s\-|:]*-{2,}[\s\-|:]*$")
_D_SUPPL_RE = re.compile(r"^附\s*則\s*(?:[（(](.*)[）)])?$")
_D_TOC_RE = re.compile(r"^目次\s*([（(]略[）)])$")
_D_APPX_OMIT_RE = re.compile(r"^(別記)\s*([（(]略[）)])$")
_T_TABLE_RANGE_RE = re.compile(r"^(第([0-9]+)表\s*[～~]\s*第([0-9]+)表)\s*([（(]略[）)])$")
_T_TABLE_RE = re.compile(r"^(第([0-9]+)表)\s+(.+)$")
_T_SEC1_RE = re.compile(r"^(第([0-9]+))\s+(.+)$")
_T_SEC2_RE = re.compile(r"^([0-9]+)\s+(.+)$")
_T_ROWKEY_RE = re.compile(r"^([（(][0-9]+[）)](?:\s*[～~]\s*[（(][0-9]+[）)])?)\s*(.*)$")
_T_KATA_RANGE_RE = re.compile(r"^([ア-ン]\s*[～~]\s*[ア-ン])\s*([（(]略[）)])$")
_T_KATA_RE = re.compile(r"^([ア-ン])\s+(.*)$")
_T_PKATA_RE = re.compile(r"^[（(]([ア-ン])[）)]\s*(.*)$")
_T_ELEMENT_RE = re.compile(
    r"<p\b([^>]*)>(.*?)</p>|<table\b[^>]*>(.*?)</table>", re.DOTALL
)
_T_TR_RE = re.compile(r"<tr\b[^>]*>(.*?)</tr>", re.DOTALL)
_T_TD_RE = re.compile(r"<td\b[^>]*>(.*?)</td>", re.DOTALL)


def _split_omit(text: str) -> tuple[str, str | None]:
    """"料金額 (略)" -> ("料金額", "(略)"); "適用" -> ("適用", None)."""
    m = _TRAILING_OMIT_RE.match(text.strip())
    if m:
        return m.group(1).strip(), m.group(2)
    return text.strip(), None


class _DenwaParser:
    def __init__(self, version: str) -> None:
        self.version = version
        self.b = _Builder()
        self.started = False
        self.art: UnitPath | None = None
        self.para: UnitPath | None = None
        self.remarks: UnitPath | None = None
        self.table_parent: UnitPath | None = None
        self.note_owner: UnitPath | None = None
        self.group_row: UnitPath | None = None
        self.prev_tab = False
        self.expect_header = False
        self.pending_caption: str | None = None
        self.suppl: UnitPath | None = None
        self.suppl_count = 0
        self.suppl_paras = 0
        # 料金表
        self.tariff: UnitPath | None = None
        self.table: UnitPath | None = None
        self.sec1: UnitPath | None = None
        self.sec2: UnitPath | None = None
        self.row: UnitPath | None = None
        self.kata: UnitPath | None = None
        self.pkata: UnitPath | None = None
        self.table_caption: str | None = None

    # -- dispatch ------------------------------------------------------------------------
    def feed(self, n: int, text: str) -> None:
        if not self.started:
            m = _D_TOC_RE.match(text)
            if m:
                self.started = True
                self.b.add((("toc", ""),), "目次", n, text=m.group(1), omitted=True)
            return  # header lines before 目次: version banner, not units
        if _D_SEPARATOR_RE.match(text):
            return
        m = _D_SUPPL_RE.match(text)
        if m:
            self.suppl_paras = 0
            self.suppl_count += 1
            self.suppl = (("suppl", str(self.suppl_count)),)
            self.b.add(self.suppl, "附則", n, caption=m.group(1))
            self.tariff = None
            return
        if self.suppl is not None:
            self.suppl_paras += 1
            m = _D_PARA_RE.match(text)
            label, body = (m.group(1), m.group(2)) if m else ("", text)
            self.b.add((*self.suppl, ("paragraph", str(self.suppl_paras))), label, n, text=body)
            return
        if self.tariff is not None:
            self.feed_tariff(n, text)
            return
        is_tab = "\t" in text
        try:
            self.feed_body(n, text, is_tab)
        finally:
            self.prev_tab = is_tab

    def feed_body(self, n: int, text: str, is_tab: bool) -> None:
        b = self.b
        if text == "料金表":
            self.tariff = (("appendix", "料金表"),)
            b.add(self.tariff, "料金表", n)
            return
        m = _D_APPX_OMIT_RE.match(text)
        if m:
            b.add((("appendix", m.group(1)),), m.group(1), n, text=m.group(2), omitted=True)
            self.art = self.para = self.remarks = None
            return
        m = _D_RANGE_RE.match(text)
        if m:
            key = f"{_art_key(m.group(2), m.group(3))}..{_art_key(m.group(5), m.group(6))}"
            b.add((("article", key),), f"{m.group(1)}～{m.group(4)}", n,
                  text=m.group(7), omitted=True)
            self.art = self.para = self.remarks = None
            return
        m = _D_ARTICLE_RE.match(text)
        if m:
            self.art = (("article", _art_key(m.group(1), m.group(2))),)
            label = f"第{m.group(1)}条{m.group(2)}"
            body = m.group(3)
            caption, self.pending_caption = self.pending_caption, None
            self.remarks = None
            if _is_omit(body):
                b.add(self.art, label, n, caption=caption, text=body.strip(), omitted=True)
                self.para = None
                return
            b.add(self.art, label, n, caption=caption)
            self.para = (*self.art, ("paragraph", "1"))
            b.add(self.para, "", n, text=body)
            self.table_parent = self.para
            return
        m = _D_CAPTION_RE.match(text)
        if m and m.group(1) != "略":
            self.pending_caption = m.group(1)
            return
        if self.para is None:
            raise SeedFormatError(f"line {n}: text outside an article: {text[:40]!r}")
        if text == "備考":
            self.remarks = (*self.para, ("remarks", ""))
            b.add(self.remarks, "備考", n)
            return
        m = _D_NOTE_RE.match(text)
        if m:
            self.add_note(n, m.group(1), m.group(0)[: m.start(2)], m.group(2))
            return
        if is_tab:
            if self.expect_header or not self.prev_tab:
                self.expect_header = False
                return  # table header row
            self.add_table_row(n, text)
            return
        m = _D_ITEM_RE.match(text)
        if m and self.remarks is None:
            label = f"({m.group(1)})"
            b.add((*self.para, ("item", m.group(1))), label, n, text=m.group(2))
            return
        m = _D_PARA_RE.match(text)
        if m:
            if self.remarks is not None:
                b.add((*self.remarks, ("item", m.group(1))), m.group(1), n, text=m.group(2))
                return
            self.para = (*self.art, ("paragraph", m.group(1))) if self.art else None
            if self.para is None:
                raise SeedFormatError(f"line {n}: paragraph outside an article")
            b.add(self.para, m.group(1), n, text=m.group(2))
            self.table_parent = self.para
            return
        raise SeedFormatError(f"line {n}: unparsed line {text[:60]!r}")

    # -- article tables ------------------------------------------------------------------
    def add_note(self, n: int, key: str, label: str, body: str) -> None:
        if self.note_owner is None:
            raise SeedFormatError(f"line {n}: note without a table row")
        note = (*self.note_owner, ("note", key))
        self.b.add(note, label.strip(), n, text=body)
        self.table_parent = note
        self.group_row = None
        if body.rstrip().endswith("次表のとおりとします。"):
            self.expect_header = True

    def add_table_row(self, n: int, text: str) -> None:
        if self.table_parent is None:
            raise SeedFormatError(f"line {n}: table row without a table")
        cells = text.split("\t")
        note: tuple[str, str, str] | None = None
        for i, c in enumerate(cells):
            m = _D_NOTE_IN_CELL_RE.search(c)
            if m:
                note = (m.group(2), m.group(1), c[m.end():])
                cells[i] = c[: m.start()]
        cells = [squash(c) for c in cells]
        parent = self.table_parent
        if len(cells) == 3:  # key | sub-key | value (rowspan in the first column)
            if cells[0]:
                if cells[1]:
                    self.group_row = (*parent, ("row", _nows(cells[0])))
                    self.b.add(self.group_row, cells[0], n, cells=(_nows(cells[0]),))
                    self.add_row(self.group_row, n, cells[1:])
                else:
                    self.group_row = None
                    self.add_row(parent, n, [cells[0], cells[2]])
            else:
                if self.group_row is None:
                    raise SeedFormatError(f"line {n}: continuation row without a group")
                self.add_row(self.group_row, n, cells[1:])
            return
        path = self.add_row(parent, n, cells)
        if parent == self.para:
            self.note_owner = path
        if note is not None:
            self.add_note(n, note[0], note[1], note[2])

    def add_row(self, parent: UnitPath, n: int, cells: list[str]) -> UnitPath:
        key = _nows(cells[0])
        path = (*parent, ("row", key))
        self.b.add(path, key, n, text="\t".join(cells[1:]), cells=(key, *cells[1:]))
        return path

    # -- 料金表 ---------------------------------------------------------------------------
    def feed_tariff(self, n: int, text: str) -> None:
        b = self.b
        assert self.tariff is not None
        if "\t" in text:
            self.feed_tariff_row(n, text.split("\t"))
            return
        m = _T_TABLE_RANGE_RE.match(text)
        if m:
            b.add((*self.tariff, ("table", f"{m.group(2)}..{m.group(3)}")), m.group(1), n,
                  text=m.group(4), omitted=True)
            self.table = self.sec1 = self.sec2 = None
            return
        m = _T_TABLE_RE.match(text)
        if m:
            self.table = (*self.tariff, ("table", m.group(2)))
            b.add(self.table, m.group(1), n, caption=m.group(3))
            self.sec1 = self.sec2 = None
            return
        m = _T_SEC1_RE.match(text)
        if m and self.table is not None:
            caption, omit = _split_omit(m.group(3))
            self.sec1 = (*self.table, ("section", m.group(2)))
            b.add(self.sec1, m.group(1), n, caption=caption, text=omit or "",
                  omitted=omit is not None)
            self.sec2 = None
            return
        m = _T_SEC2_RE.match(text)
        if m and self.sec1 is not None:
            caption, omit = _split_omit(m.group(2))
            self.sec2 = (*self.sec1, ("section", m.group(1)))
            b.add(self.sec2, m.group(1), n, caption=caption, text=omit or "",
                  omitted=omit is not None)
            return
        name, omit = _split_omit(text)
        if omit is not None and name == "通則":
            b.add((*self.tariff, ("section", "通則")), name, n, text=omit, omitted=True)
            return
        if omit is not None and name:
            parent = self.table if self.table is not None else self.tariff
            b.add((*parent, ("appendix", _nows(name))), name, n, text=omit, omitted=True)
            return
        raise SeedFormatError(f"line {n}: unparsed 料金表 line {text[:60]!r}")

    def feed_tariff_row(self, n: int, cells: list[str]) -> None:
        head = _P_CHUNK_RE.sub(r"\1", cells[0]).strip()
        content = cells[1] if len(cells) > 1 else ""
        if _nows(head) == "区分":
            return  # header row
        if not head:
            if self.row is None:
                raise SeedFormatError(f"line {n}: continuation row without a row")
            self.parse_content(n, content)
            return
        m = _T_ROWKEY_RE.match(head)
        if m is None:
            raise SeedFormatError(f"line {n}: 料金表 row key {head[:30]!r}")
        parent = self.sec2 or self.sec1
        if parent is None:
            raise SeedFormatError(f"line {n}: 料金表 row outside a section")
        key = _nows(m.group(1))
        self.row = (*parent, ("row", key))
        self.kata = self.pkata = None
        rest = m.group(2).strip()
        if _is_omit(rest):
            if not _is_omit(content):
                raise SeedFormatError(f"line {n}: omitted row with content")
            self.b.add(self.row, key, n, text=content.strip(), omitted=True,
                       cells=(key, squash(content)))
            return
        self.b.add(self.row, key, n, caption=rest, cells=(key,))
        self.parse_content(n, content)

    def parse_content(self, n: int, content: str) -> None:
        assert self.row is not None
        pos = 0
        elements: list[tuple[str, str, str]] = []  # (kind, attrs, body)
        for m in _T_ELEMENT_RE.finditer(content):
            between = content[pos:m.start()].strip()
            if between:
                elements.append(("text", "", between))
            if m.group(3) is not None:
                elements.append(("table", "", m.group(3)))
            else:
                elements.append(("p", m.group(1), m.group(2)))
            pos = m.end()
        tail = content[pos:].strip()
        if tail:
            elements.append(("text", "", tail))
        for kind, attrs, body in elements:
            if kind == "table":
                self.add_inner_table(n, body)
                continue
            body = body.strip()
            if kind == "p" and "center" in attrs:
                self.table_caption = body
                continue
            self.add_content_text(n, body)

    def add_content_text(self, n: int, body: str) -> None:
        b = self.b
        assert self.row is not None
        m = _T_KATA_RANGE_RE.match(body)
        if m:
            self.kata = (*self.row, ("subitem", _nows(m.group(1))))
            b.add(self.kata, _nows(m.group(1)), n, text=m.group(2), omitted=True)
            self.pkata = None
            return
        m = _T_KATA_RE.match(body)
        if m:
            self.kata = (*self.row, ("subitem", m.group(1)))
            omit = _is_omit(m.group(2))
            b.add(self.kata, m.group(1), n, text=m.group(2), omitted=omit)
            self.pkata = None
            return
        m = _T_PKATA_RE.match(body)
        if m and self.kata is not None:
            key = f"({m.group(1)})"
            self.pkata = (*self.kata, ("subitem", key))
            b.add(self.pkata, key, n, text=m.group(2))
            return
        raise SeedFormatError(f"line {n}: unparsed 料金表 cell text {body[:40]!r}")

    def add_inner_table(self, n: int, body: str) -> None:
        parent = self.pkata or self.kata or self.row
        assert parent is not None
        caption, self.table_caption = self.table_caption, None
        for tr in _T_TR_RE.findall(body):
            if "<th" in tr:
                continue
            cells = [squash(c) for c in _T_TD_RE.findall(tr)]
            key = _nows(cells[0])
            self.b.add((*parent, ("row", key)), key, n, caption=caption,
                       text="\t".join(cells[1:]), cells=(key, *cells[1:]))


def _parse_denwa(lines: list[str], version: str) -> list[SeedUnit]:
    parser = _DenwaParser(version)
    for n, text in _denwa_column(lines, version):
        parser.feed(n, text)
    return parser.b.units()


# --------------------------------------------------------------------------------------------
# public API


def _check(doc: str, version: str) -> str:
    if doc not in DOCUMENTS:
        raise KeyError(f"unknown seed document {doc!r}; known: {sorted(DOCUMENTS)}")
    filename, versions = DOCUMENTS[doc]
    if version not in versions:
        raise KeyError(f"{doc}: unknown version {version!r}; known: {list(versions)}")
    return filename


@cache
def _lines(filename: str) -> tuple[str, ...]:
    return tuple((SEED_DIR / filename).read_text(encoding="utf-8").split("\n"))


@cache
def _units(doc: str, version: str) -> tuple[SeedUnit, ...]:
    lines = list(_lines(_check(doc, version)))
    if doc == RAKUTEN:
        return tuple(_parse_rakuten(lines))
    return tuple(_parse_denwa(lines, version))


def seed_units(doc: str, version: str) -> list[SeedUnit]:
    """Every unit of the document version, in document order."""
    return list(_units(doc, version))


def unit_map(doc: str, version: str) -> dict[UnitPath, SeedUnit]:
    return {u.path: u for u in _units(doc, version)}


_UNDERLINE_MARK_RE = re.compile(r'<u>|</u>|<a href="#">|</a>')
_UNDERLINE_LINK_RE = re.compile(r"\[((?:[^\[\]\\]|\\.)*)\]\(#\)")


def seed_underlines(doc: str) -> list[tuple[int, str]]:
    """Every underlined span of the document's seed, both columns: (line, normalize() of its
    text). Underlines are ``<u>…</u>`` (nested ones count once), ``<a href="#">…</a>`` and
    Markdown links ``[…](#)`` — how the 現改比較表 marks what changed."""
    out: list[tuple[int, str]] = []
    for n, line in enumerate(_lines(DOCUMENTS[doc][0]), 1):
        for m in _UNDERLINE_LINK_RE.finditer(line):
            out.append((n, normalize(m.group(1))))
        depth, start = 0, 0
        for m in _UNDERLINE_MARK_RE.finditer(line):
            if m.group() in ("<u>", '<a href="#">'):
                if depth == 0:
                    start = m.end()
                depth += 1
            else:
                depth -= 1
                if depth == 0:
                    out.append((n, normalize(line[start:m.start()])))
    return [(n, t) for n, t in out if t]


@cache
def seed_text(doc: str, version: str) -> str:
    """normalize() of the whole document version (denwa: that column only, repaired)."""
    filename = _check(doc, version)
    lines = list(_lines(filename))
    if doc == RAKUTEN:
        return normalize("\n".join(lines))
    return normalize("\n".join(text for _, text in _denwa_column(lines, version)))


@cache
def printed_text(doc: str, version: str) -> str:
    """normalize() of the document version as the seed prints it: like ``seed_text`` but
    without the repairs of extraction slips (denwa: that column, ``_DENWA_REPAIRS`` not
    applied; rakuten: identical to ``seed_text``).  A correction's seed side is looked up
    here: it records what the seed shows."""
    filename = _check(doc, version)
    lines = list(_lines(filename))
    if doc == RAKUTEN:
        return normalize("\n".join(lines))
    return normalize(
        "\n".join(text for _, text in _denwa_column(lines, version, repair=False))
    )


def iter_versions() -> Iterator[tuple[str, str]]:
    for doc, (_, versions) in DOCUMENTS.items():
        for version in versions:
            yield doc, version


def dump_units(out_dir: Path) -> list[Path]:
    """Write <out_dir>/<doc>_<version>.json (developer aid; not used by the tests)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for doc, version in iter_versions():
        target = out_dir / f"{doc}_{version}.json"
        data = [u.as_json() for u in _units(doc, version)]
        target.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        written.append(target)
    return written


if __name__ == "__main__":
    for p in dump_units(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/seed_units")):
        print(p)
