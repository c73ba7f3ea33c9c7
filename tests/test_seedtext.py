"""Tests of the seed reader (tests/seedtext.py) against what the seeds actually print."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import seedtext as st
from seedtext import (
    DENWA,
    DENWA_NEW,
    DENWA_OLD,
    DRAFTING_NOTES,
    EXTRACTION_SLIPS,
    NUMBERING_ANOMALIES,
    RAKUTEN,
    SeedUnit,
    normalize,
    seed_text,
    seed_units,
    squash,
    unit_map,
)

RV = "2025-04-01"
ALL_VERSIONS = [(RAKUTEN, RV), (DENWA, DENWA_OLD), (DENWA, DENWA_NEW)]
KINDS = {
    "article", "paragraph", "item", "subitem", "remarks", "note", "suppl", "appendix",
    "table", "section", "row", "toc",
}


def P(*steps: str) -> tuple[tuple[str, str], ...]:
    """P("article:14_65", "paragraph:2") -> (("article", "14_65"), ("paragraph", "2"))."""
    out = []
    for step in steps:
        kind, _, key = step.partition(":")
        out.append((kind, key))
    return tuple(out)


def units(doc: str, version: str) -> dict[tuple[tuple[str, str], ...], SeedUnit]:
    return unit_map(doc, version)


def children(doc: str, version: str, parent: tuple[tuple[str, str], ...], kind: str) -> list[SeedUnit]:
    return [
        u for u in seed_units(doc, version)
        if len(u.path) == len(parent) + 1 and u.path[:-1] == parent and u.kind == kind
    ]


def seed_lines(doc: str) -> list[str]:
    return (st.SEED_DIR / st.DOCUMENTS[doc][0]).read_text(encoding="utf-8").split("\n")


def subtree_text(doc: str, version: str, path: tuple[tuple[str, str], ...]) -> str:
    return "".join(
        normalize(u.label + (u.caption or "") + u.text)
        for u in seed_units(doc, version)
        if u.path[: len(path)] == path
    )


# -- location, normal form ---------------------------------------------------------------


def test_seed_dir_default_and_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("YAKKAN_SEEDS", raising=False)
    repo = Path(st.__file__).resolve().parent.parent
    assert st._seed_dir() == (repo.parent / "shared" / "seeds").resolve()
    monkeypatch.setenv("YAKKAN_SEEDS", str(tmp_path))
    assert st._seed_dir() == tmp_path.resolve()
    assert (st.SEED_DIR / "000_aedd8ee939a4b575.txt").is_file()


def test_normalize_markup_widths_whitespace() -> None:
    assert normalize("<p><u>(5) その他</u></p>") == "(5)その他"
    assert normalize("- [\\(6\\)](#) [契約者](#)ます。") == "(6)契約者ます。"
    assert normalize('<td style="x">違約金</td>\t<td>1,000円</td>') == "違約金1,000円"
    assert normalize("区 別\t内 容\n-----\t-----\nプラン1\tプラン2") == "区別内容プラン1プラン2"
    assert normalize("| a | b |\n|---|---|") == "ab"
    assert normalize("第２3 条") == "第23条"
    assert normalize("（略）") == normalize("(略)") == "(略)"
    assert normalize("ＡＢ１２　全角") == "AB12全角"
    assert normalize("本サー\n\nビス") == "本サービス"
    assert normalize("ア　イ") == "アイ"
    # kana and Japanese punctuation untouched
    assert normalize("ｱｲ、。「」") == "ｱｲ、。「」"
    # all whitespace is dropped on both sides, Latin word spaces included
    assert normalize("D-U-N-S® Number") == normalize("D-U-N-S®Number")


def test_squash_keeps_only_latin_word_spaces() -> None:
    assert squash("株式会社 RevComm（以下") == "株式会社RevComm（以下"
    assert squash("2022 年 1 月 25 日") == "2022年1月25日"
    assert squash("D-U-N-S® Numberの") == "D-U-N-S® Numberの"
    assert squash("C A S 1 第000") == "CAS1第000"
    assert squash("30円 (33円)") == "30円(33円)"
    assert squash("行って\n\nいただきます") == "行っていただきます"


# -- generic invariants ------------------------------------------------------------------


@pytest.mark.parametrize(("doc", "version"), ALL_VERSIONS)
def test_every_unit_text_occurs_in_seed_text(doc: str, version: str) -> None:
    text = seed_text(doc, version)
    for u in seed_units(doc, version):
        assert normalize(u.text) in text, u.path
        assert normalize(u.label) in text, u.path
        if u.caption:
            assert normalize(u.caption) in text, u.path


@pytest.mark.parametrize(("doc", "version"), ALL_VERSIONS)
def test_units_are_well_formed(doc: str, version: str) -> None:
    us = seed_units(doc, version)
    assert len({u.path for u in us}) == len(us)
    lines = seed_lines(doc)
    for u in us:
        assert u.path and all(kind in KINDS for kind, _ in u.path), u.path
        # parents come first
        for k in range(1, len(u.path)):
            assert u.path[:k] in unit_map(doc, version), u.path
        # no markup, no stray whitespace
        for field in (u.text, u.label, u.caption or ""):
            assert "<" not in field and "](#)" not in field and "\\" not in field, u.path
            assert "\n" not in field and "  " not in field and "\u3000" not in field, u.path
        assert " " not in u.label and "\t" not in u.label
        if u.kind != "row":
            assert "\t" not in u.text, u.path
        else:
            assert u.cells and u.cells[0] == u.key == u.label
            assert u.text == "\t".join(u.cells[1:])
        # the unit starts on its seed line
        assert 1 <= u.seed_line <= len(lines)
        probe = (u.label or u.caption or u.text)[: 1 if u.kind == "row" else 3]
        if probe and not u.omitted:
            assert normalize(probe) in normalize(lines[u.seed_line - 1]), (u.path, u.seed_line)
        if u.omitted:
            assert normalize(u.text) == "(略)", u.path
        assert u.omitted == (normalize(u.text) == "(略)"), u.path


def test_seed_units_returns_fresh_lists() -> None:
    a = seed_units(RAKUTEN, RV)
    a.clear()
    assert seed_units(RAKUTEN, RV)


def test_unknown_doc_or_version() -> None:
    with pytest.raises(KeyError):
        seed_units("nope", RV)
    with pytest.raises(KeyError):
        seed_text(DENWA, "2023-04-16")


def test_json_dump(tmp_path: Path) -> None:
    written = st.dump_units(tmp_path)
    assert sorted(p.name for p in written) == [
        "denwa_2023-04-01.json", "denwa_2023-04-17.json", "rakuten-miitel_2025-04-01.json",
    ]
    data = json.loads((tmp_path / "denwa_2023-04-17.json").read_text(encoding="utf-8"))
    assert len(data) == len(seed_units(DENWA, DENWA_NEW))
    first = data[0]
    assert {"path", "label", "caption", "text", "seed_line", "omitted"} <= set(first)
    byp = {tuple(tuple(s) for s in d["path"]): d for d in data}
    assert byp[P("suppl:1", "paragraph:1")]["text"] == "この改正規定は、令和5年4月17日から実施します。"


# -- rakuten-miitel ----------------------------------------------------------------------

RAKUTEN_ARTICLES = [
    ("1", "第1条", "規約の適用", 4, {}),
    ("2", "第2条", "規約の変更", 2, {}),
    ("3", "第3条", "契約申込の方法", 2, {}),
    ("4", "第4条", "契約申込の承諾", 2, {"2": 11}),
    ("5", "第5条", "本サービス内容の保証及び変更", 1, {}),
    ("6", "第6条", "料金の支払い", 2, {}),
    ("7", "第7条", "ID等の管理", 4, {}),
    ("8", "第8条", "個人情報の取扱い", 1, {}),
    ("9", "第9条", "秘密保持", 7, {"2": 5, "3": 4}),
    ("10", "第10条", "禁止事項", 1, {"1": 17}),
    ("11", "第11条", "損害賠償", 2, {}),
    ("12", "第12条", "RevCommとの責任の分界", 2, {}),
    ("13", "第13条", "利用停止", 4, {"1": 5, "2": 6}),
    ("14", "第14条", "当社が行う契約の解除", 2, {}),
    ("15", "第15条", "契約者が行う契約の解除", 2, {}),
    ("16", "第16条", "サービスの終了", 2, {}),
    ("17", "第17条", "免責事項", 6, {}),
    ("18", "第18条", "通知又は連絡", 2, {}),
    ("19", "第19条", "権利義務などの譲渡の禁止", 2, {}),
    ("20", "第20条", "補償金", 5, {"1": 3}),
    ("21", "第21条", "割増金", 1, {}),
    ("22", "第22条", "延滞利息", 1, {}),
    ("23", "第２3条", "権利関係", 2, {}),
    ("24", "第24条", "会社名等の取扱い", 1, {"1": 3}),
    ("25", "第25条", "反社会的勢力の排除", 2, {"2": 6}),
    ("26", "第26条", "分離可能性", 1, {}),
    ("27", "第27条", "準拠法及び管轄裁判所", 2, {}),
]


def test_rakuten_articles_captions_and_counts() -> None:
    arts = [u for u in seed_units(RAKUTEN, RV) if u.kind == "article"]
    assert [(u.key, u.label, u.caption) for u in arts] == [a[:3] for a in RAKUTEN_ARTICLES]
    for key, _, _, n_paras, items in RAKUTEN_ARTICLES:
        art = P(f"article:{key}")
        paras = children(RAKUTEN, RV, art, "paragraph")
        assert [p.key for p in paras] == [str(i) for i in range(1, n_paras + 1)], key
        assert paras[0].label == ""
        for p in paras:
            n_items = items.get(p.key, 0)
            got = children(RAKUTEN, RV, p.path, "item")
            assert [i.key for i in got] == [str(i) for i in range(1, n_items + 1)], p.path
            assert [i.label for i in got] == [f"({i})" for i in range(1, n_items + 1)]


def test_rakuten_texts() -> None:
    m = units(RAKUTEN, RV)
    assert m[P("article:1", "paragraph:1")].text == (
        "楽天モバイル株式会社は、本規約を定め、これにより本サービスを提供します。本サービスを利用"
        "するものは、本規約及び当社のウェブサイトに定める本サービスの利用条件（以下、「本規約」と"
        "いいます。）及び株式会社RevComm（以下「RevComm」といいます。）が定めるMiiTel(ミーテル)"
        "利用規約（https://www.revcomm.co.jp/terms/に定める規約であり、以下、「MiiTel規約」といい"
        "ます。）に従うものとします。"
    )
    assert m[P("article:1", "paragraph:2")].label == "２"
    assert m[P("article:3", "paragraph:2")].text == (
        "当社は、１の申込み毎に契約を締結します。この場合において、契約者は、１の契約につき１人に"
        "限ります。"
    )
    assert m[P("article:4", "paragraph:2", "item:11")].text == (
        "前各号のほか、法令や公序良俗に違反し、第三者の権利を侵害し、又は当社のサービスに関する"
        "当社の業務の遂行若しくは当社の電気通信設備に支障を及ぼし、又は及ぼすおそれのあると当社"
        "が判断した場合"
    )
    assert m[P("article:22", "paragraph:1")].text == (
        "契約者は、料金等その他の債務（延滞利息を除きます。）について支払期日を経過してもなお支払"
        "いがない場合には、支払期日の翌日から起算して支払いの日の前日までの期間について年14.6％の"
        "割合で計算して得た額を延滞利息として支払っていただきます。ただし、支払期日の翌日から起算"
        "して10日以内に支払いがあった場合は、この限りでありません。"
    )
    a23 = m[P("article:23")]
    assert (a23.label, a23.caption, a23.seed_line) == ("第２3条", "権利関係", 602)
    assert m[P("article:23", "paragraph:1")].text.startswith("ソフトウェアおよび実行ファイル")
    assert m[P("article:9", "paragraph:3", "item:2")].text.startswith(
        "これを知る必要がある自己の子会社（会社法第２条第３号に規定される子会社）"
    )


def test_rakuten_article13_duplicate_paragraph_number() -> None:
    paras = children(RAKUTEN, RV, P("article:13"), "paragraph")
    assert [(p.key, p.label) for p in paras] == [("1", ""), ("2", "2"), ("3", "２"), ("4", "３")]
    assert paras[2].text.startswith("当社は、前項の規定により、本サービスの利用停止をしようとする")
    assert paras[3].text.startswith("当社は、契約者が、当社が提供する他のサービスの契約者である場合")
    assert paras[1].text.startswith("当社は、利用者が次のいずれかに該当するときは、3ヶ月以内で")
    anomalies = {(a.doc, a.path, a.printed, a.key) for a in NUMBERING_ANOMALIES}
    assert (RAKUTEN, P("article:13", "paragraph:3"), "２", "3") in anomalies
    assert (RAKUTEN, P("article:13", "paragraph:4"), "３", "4") in anomalies


@pytest.mark.parametrize(("doc", "version"), ALL_VERSIONS)
def test_numbering_anomalies_are_exactly_the_mismatches(doc: str, version: str) -> None:
    found = set()
    for u in seed_units(doc, version):
        if u.kind in ("paragraph", "item") and u.label:
            printed = normalize(u.label).strip("()")
            if printed != u.key:
                found.add(u.path)
    listed = {
        a.path for a in NUMBERING_ANOMALIES
        if a.doc == doc and a.version == version and a.path[-1][0] in ("paragraph", "item")
    }
    assert found == listed
    for a in NUMBERING_ANOMALIES:
        if a.doc == doc and a.version == version:
            assert a.path in unit_map(doc, version)


def test_rakuten_suppl() -> None:
    m = units(RAKUTEN, RV)
    assert m[P("suppl:1")].label == "附則"
    p1 = m[P("suppl:1", "paragraph:1")]
    assert (p1.label, p1.caption, p1.text) == ("1", "実施期日", "本規約は、2022年1月25日より実施します。")
    assert m[P("suppl:2")].label == ""
    p2 = m[P("suppl:2", "paragraph:1")]
    assert (p2.caption, p2.text) == ("実施期日", "本改正規定は、2025年4月1日より実施します。")
    assert [u.path for u in seed_units(RAKUTEN, RV) if u.kind == "suppl"] == [
        P("suppl:1"), P("suppl:2")
    ]


def test_rakuten_fee_table() -> None:
    m = units(RAKUTEN, RV)
    app = P("appendix:別表")
    assert (m[app].caption, m[app].text) == ("サービス料金表", "料金は全て税別金額表示とします。")
    sections = [u.key for u in children(RAKUTEN, RV, app, "section")]
    assert sections == [
        "IP電話(050)料金", "IP電話(0120/0800)料金", "楽天コネクトMiiTel料金",
        "データ保管料（ビッグデータバンク）",
    ]
    ip050 = (*app, ("section", "IP電話(050)料金"))
    assert m[(*ip050, ("row", "月額基本料"))].text == "1,500円/1番号"
    call = (*ip050, ("row", "通話料金"))
    assert [(u.key, u.text) for u in children(RAKUTEN, RV, call, "row")] == [
        ("固定電話", "8.49円/3分"), ("携帯電話/PHS", "16.9円/1分"), ("他社IP電話", "かけ放題"),
    ]
    ip0120 = (*app, ("section", "IP電話(0120/0800)料金"))
    assert m[(*ip0120, ("row", "月額基本料"))].text == "2,500円/1番号"
    assert [u.text for u in children(RAKUTEN, RV, (*ip0120, ("row", "通話料金")), "row")] == [
        "7.0円/1分", "20.0円/1分", "7.0円/1分",
    ]
    assert m[(*app, ("note", "※"))].text == "通話料金は、当社ホームページに掲載される料金が最新のものとします。"
    miitel = (*app, ("section", "楽天コネクトMiiTel料金"))
    use = (*miitel, ("row", "基本使用料"), ("row", "MiiTel使用料"))
    full = m[(*use, ("row", "フル機能（電話＋応対履歴の閲覧）"))]
    assert full.cells == (
        "フル機能（電話＋応対履歴の閲覧）", "6,980円/人/月～",
        "ご契約時にフル機能IDが10ID以下、あるいはご利用開始後6ヶ月以内に10人以下の契約になった"
        "場合、別途事務手数料¥89,000を頂戴いたします。",
    )
    assert m[(*use, ("row", "閲覧のみ（応対履歴の閲覧）"))].cells[1:] == ("980円/人/月",)
    numbers = (*miitel, ("row", "基本使用料"), ("row", "電話番号使用料"))
    assert [(u.key, u.cells[1]) for u in children(RAKUTEN, RV, numbers, "row")] == [
        ("050番号", "1,500円/番号/月"), ("0120,0800番号", "2,500円/番号/月"),
    ]
    assert m[(*miitel, ("row", "モバイル"), ("row", "モバイル使用料"))].text == "500円/人/月"
    options = (*miitel, ("row", "コールセンターオプション"))
    assert [(u.key, u.cells[1]) for u in children(RAKUTEN, RV, options, "row")] == [
        ("待ち呼", "1,500円/個/月"), ("キューイング", "1,980円/人/月"),
        ("プレディクティブコール", "3,500円/人/月"), ("シートマップ", "30,000円～/テナント/月"),
        ("エージェントリスト", "30,000円～/テナント/月"), ("IVR利用料", "19,000円/個/月"),
    ]
    assert m[(*options, ("row", "IVR利用料"))].cells[2] == (
        "IVRを含む着信ルール1つあたりの金額です。ご契約内容からIVR数量が超過した場合は、"
        "25,000円/個/月を別途ご請求いたします。"
    )
    data = (*app, ("section", "データ保管料（ビッグデータバンク）"))
    hours = children(RAKUTEN, RV, data, "row")
    assert [u.key for u in hours] == [
        f"{h}時間相当" for h in (500, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10000)
    ]
    assert m[(*data, ("row", "1000時間相当"), ("row", "単価"))].cells == (
        "単価", "4.80円/時間", "4.80円/時間",
    )
    assert m[(*data, ("row", "10000時間相当"), ("row", "総額"))].cells == (
        "総額", "336,000円", "672,000円",
    )


# -- denwa: columns ----------------------------------------------------------------------


def test_denwa_every_line_is_accounted_for() -> None:
    lines = seed_lines(DENWA)
    used: dict[str, set[int]] = {}
    for version, segs in st._DENWA_COLUMNS.items():
        used[version] = {n for s in segs for n in range(s.first, s.last + 1)}
    nonblank = {n for n, line in enumerate(lines, 1) if line.strip()}
    assert nonblank - used[DENWA_OLD] - used[DENWA_NEW] == set(st._DENWA_UNUSED_LINES)
    # only the side-by-side table rows are in both columns (different cells)
    assert used[DENWA_OLD] & used[DENWA_NEW] & nonblank == {222, 303, 304}


def test_denwa_old_column_has_no_new_wording() -> None:
    old = seed_text(DENWA, DENWA_OLD)
    for new_only in ("プラン4", "D-U-N-S", "NTTドコモ", "TSR", "2023年4月17日", "令和5年4月17日",
                     "附則", "プラン1又はプラン3"):
        assert normalize(new_only) not in old, new_only
        for u in seed_units(DENWA, DENWA_OLD):
            assert normalize(new_only) not in normalize(u.text + (u.caption or "")), u.path
    new = seed_text(DENWA, DENWA_NEW)
    for old_only in ("令和5年4月1日現在", "プラン2に係る場合に限ります", "プラン2、プラン3以外のもの",
                     "プラン2のコース2又はプラン3を除きます", "前項に規定するほか",
                     "イの規定にかかわらず"):
        assert normalize(old_only) not in new, old_only
        assert normalize(old_only) in old, old_only


def test_denwa_articles_in_order() -> None:
    expected = ["1..4", "4_2", "4_3..4_4_3", "4_4_4", "4_5..14_63_2", "14_64", "14_65",
                "14_65_2", "14_65_3", "14_65_4", "14_66", "14_67", "14_68..54"]
    for version in (DENWA_OLD, DENWA_NEW):
        arts = [u for u in seed_units(DENWA, version) if u.kind == "article"]
        assert [u.key for u in arts] == expected
        m = {u.key: u for u in arts}
        assert m["4_3..4_4_3"].label == "第4条の3～第4条の4の3"
        assert (m["4_3..4_4_3"].text, m["4_3..4_4_3"].omitted) == ("(略)", True)
        assert (m["1..4"].text, m["14_68..54"].text, m["14_65_3"].text) == ("（略）",) * 3
        assert m["14_65_3"].omitted and not m["14_65"].omitted
        assert m["14_65"].caption == "契約者指定番号発信サービス利用契約申込の承諾"
        assert m["14_65_4"].caption == "最低利用期間"
        assert m["4_4_4"].caption == "第2種グループ発信サービスの区別"
        assert m["14_67"].caption == (
            "契約者指定番号発信サービス利用契約者が行う契約者指定番号発信サービス利用契約の解除"
        )
        assert m["14_65_2"].label == "第14条の65の2"


def _items(version: str, *path: str) -> list[SeedUnit]:
    return children(DENWA, version, P(*path), "item")


def test_denwa_14_65_items() -> None:
    old = _items(DENWA_OLD, "article:14_65", "paragraph:2")
    new = _items(DENWA_NEW, "article:14_65", "paragraph:2")
    assert [i.key for i in old] == ["1", "2", "3", "4", "5", "6"]
    assert [i.key for i in new] == ["1", "2", "3", "4", "5", "6", "7", "8"]
    assert [i.text for i in old][1:4] == ["削除"] * 3
    assert old[5].text == new[7].text == "その他当社の業務の遂行上著しい支障があるとき。"
    assert old[4].text == (
        "契約者指定番号発信サービス利用契約（第2種グループ発信サービスのプラン2に係るものに限り"
        "ます。）の申込をした者が、第6種シェアードIP-PBXサービスを契約しないとき。"
    )
    assert new[5].text == (
        "契約者指定番号発信サービス利用契約（第2種グループ発信サービスのプラン4に係るものに限り"
        "ます。）の申込をした者が、TSR（株式会社東京商工リサーチ）が運営・管理しているD-U-N-S® "
        "Numberの払出を受けていないとき。"
    )


def test_denwa_14_66_items_and_14_67_paragraphs() -> None:
    old = _items(DENWA_OLD, "article:14_66", "paragraph:3")
    new = _items(DENWA_NEW, "article:14_66", "paragraph:3")
    assert len(old) == 5 and len(new) == 7
    assert old[4].text == new[6].text == "その他当社の業務の遂行上著しい支障があるとき。"
    for version in (DENWA_OLD, DENWA_NEW):
        p1 = unit_map(DENWA, version)[P("article:14_66", "paragraph:1")]
        assert p1.text.startswith(
            "契約者指定番号発信サービス利用権（契約者指定番号発信サービス利用契約者が契約者指定"
            "番号発信サービス利用契約に基づいて"
        )
        p67 = unit_map(DENWA, version)[P("article:14_67", "paragraph:1")]
        assert p67.text.endswith("当社が指定する電話等サービス取扱所に書面により通知していただきます。")
    old67 = children(DENWA, DENWA_OLD, P("article:14_67"), "paragraph")
    new67 = children(DENWA, DENWA_NEW, P("article:14_67"), "paragraph")
    assert [p.key for p in old67] == ["1", "2", "3"]
    assert [p.key for p in new67] == ["1", "2", "3", "4"]
    assert old67[1].text == new67[1].text == "削除"
    assert new67[3].text.startswith("当社は、契約者指定番号発信サービス利用契約者（第2種グループ発信"
                                    "サービスのプラン4に係る者に限ります。）が、株式会社NTTドコモ")


def test_denwa_14_64_and_14_65_2() -> None:
    for version in (DENWA_OLD, DENWA_NEW):
        m = unit_map(DENWA, version)
        assert m[P("article:14_64", "paragraph:1")].text == (
            "契約者指定番号発信サービス利用契約の申込をする者は、次の事項について記載のうえ当社が"
            "指定する方法により契約者指定番号発信サービス利用契約の申込を行っていただきます。"
        )
        assert len(_items(version, "article:14_64", "paragraph:1")) == 4
        paras = children(DENWA, version, P("article:14_65_2"), "paragraph")
        assert [p.key for p in paras] == ["1", "2", "3", "4", "5"]
        assert paras[1].text == "削除"
        assert paras[2].text.endswith("について登録を行うものとしします。")
        assert "第1項に規定する契約者指定番号発信サービス利用回線に係る電気通信番号の変更" in paras[2].text
        assert paras[4].text.endswith("を請求するものとしします。")
    assert unit_map(DENWA, DENWA_OLD)[P("article:14_64", "paragraph:1", "item:1")].text == (
        "契約者指定番号発信サービスの種別、種類、区別及び区分（プラン2に係る場合に限ります。）"
    )
    assert unit_map(DENWA, DENWA_NEW)[P("article:14_65_2", "paragraph:3")].text.startswith(
        "契約者指定番号発信サービス利用契約者（第2種グループ発信サービスのプラン1又はプラン3に係る"
        "者を除きます。）は、"
    )
    assert unit_map(DENWA, DENWA_OLD)[P("article:14_65_2", "paragraph:3")].text.startswith(
        "前項に規定するほか、契約者指定番号発信サービス利用契約者（第2種グループ発信サービスの"
        "プラン2に係る者に限ります。）は、"
    )


def test_denwa_4_2_table_and_notes() -> None:
    for version in (DENWA_OLD, DENWA_NEW):
        para = P("article:4_2", "paragraph:1")
        rows = children(DENWA, version, para, "row")
        assert [r.key for r in rows] == [
            "一般電話等サービス", "削除", "緊急通報用電話サービス", "契約者指定番号発信サービス",
        ]
        assert rows[1].text == "削除"
        assert rows[3].text.endswith("当社の電気通信設備を介して提供する電話等サービス")
        notes = children(DENWA, version, rows[3].path, "note")
        assert [(n.key, n.label) for n in notes] == [("1", "（注1）"), ("2", "(注2)")]
        assert notes[0].text.startswith("本欄に規定する当社が別に定める数は、")
        n1 = children(DENWA, version, notes[0].path, "row")
        assert [(r.key, r.text) for r in n1] == [
            ("第1種グループ発信サービス", "500"), ("第2種グループ発信サービス", ""),
        ]
        plans = children(DENWA, version, n1[1].path, "row")
        expected = [("プラン1", "3,000"), ("プラン2", "1,500"), ("プラン3", "1,500")]
        if version == DENWA_NEW:
            expected.append(("プラン4", "1,500"))
        assert [(r.key, r.text) for r in plans] == expected
        n2 = children(DENWA, version, notes[1].path, "row")
        assert [r.key for r in n2] == ["グループ発信サービス"]
        assert n2[0].text.startswith("携帯電話設備(電気通信番号規則第9条第1項に規定する")
    old_p = unit_map(DENWA, DENWA_OLD)[P("article:4_2", "paragraph:1")]
    new_p = unit_map(DENWA, DENWA_NEW)[P("article:4_2", "paragraph:1")]
    assert old_p.text == "電話等サービスには次の種類があります"  # as printed, no 。
    assert new_p.text == "電話等サービスには次の種類があります。"


def test_denwa_4_4_4_rows_and_remarks() -> None:
    para = P("article:4_4_4", "paragraph:1")
    old_rows = children(DENWA, DENWA_OLD, para, "row")
    new_rows = children(DENWA, DENWA_NEW, para, "row")
    assert [r.key for r in old_rows] == ["プラン1", "プラン2", "プラン3"]
    assert [r.key for r in new_rows] == ["プラン1", "プラン2", "プラン3", "プラン4"]
    assert old_rows[0].text == "プラン2、プラン3以外のもの"
    assert new_rows[0].text == "プラン2、プラン3、プラン4以外のもの"
    assert new_rows[3].text == (
        "プラン2のうち、契約者指定番号発信サービス利用契約に係るグループ発信サービス利用回線が、"
        "法人等における株式会社NTTドコモとの携帯電話等契約に係るもの"
    )
    remarks = (*para, ("remarks", ""))
    old_r = children(DENWA, DENWA_OLD, remarks, "item")
    new_r = children(DENWA, DENWA_NEW, remarks, "item")
    assert [r.key for r in old_r] == ["1", "2"]
    assert [r.key for r in new_r] == ["1", "2", "3", "4"]
    assert old_r[0].text == (
        "第2種グループ発信サービス（プラン2に限ります。）に係る契約を申し込む者は、当社のIP通信網"
        "サービス契約約款に規定する第6種シェアードIP-PBXサービスの契約を締結することを要します。"
    )
    assert new_r[0].text == (
        "第2種グループ発信サービス（プラン1又はプラン3を除きます。）に係る契約を申し込む者は、当社"
        "のIP通信網サービス契約約款に規定する第6種シェアードIP-PBXサービスの契約を締結することを"
        "要します。"
    )
    assert old_r[1].text.endswith("ただし、通話の発信に先立ち、「184」をダイヤルして行う通話について"
                                  "は、この限りではありません。")
    assert new_r[2].text == (
        "第2種グループ発信サービス（プラン4に限ります。）に係る契約を申し込む者は、TSR（株式会社"
        "東京商工リサーチ）が運営・管理しているD-U-N-S® Numberの払出を受けている必要があります。"
    )
    assert new_r[3].text.endswith(
        "当社はD-U-N-S® Numberが一致していることをもって名義が一致していることを確認します。"
    )


def test_denwa_14_65_4() -> None:
    old = unit_map(DENWA, DENWA_OLD)[P("article:14_65_4", "paragraph:1")].text
    new = unit_map(DENWA, DENWA_NEW)[P("article:14_65_4", "paragraph:1")].text
    assert "（プラン2のコース2又はプラン3を除きます。）" in old
    assert "（プラン2のコース2、プラン3又はプラン4を除きます。）" in new


# -- denwa: 料金表 -------------------------------------------------------------------------

T1 = P("appendix:料金表", "table:1")
ROW7 = (*T1, ("section", "1"), ("section", "1"), ("row", "(7)"))
ROW21 = (*T1, ("section", "2"), ("section", "1"), ("row", "(21)"))
CALL = "1のグループ発信サービス利用回線から発信した通話に関する料金"


@pytest.mark.parametrize("version", [DENWA_OLD, DENWA_NEW])
def test_denwa_tariff_structure(version: str) -> None:
    m = unit_map(DENWA, version)
    assert m[P("appendix:料金表", "section:通則")].text == "（略）"
    assert m[T1].caption == "料金"
    assert m[P("appendix:料金表", "table:2..7")].omitted
    assert m[(*T1, ("appendix", "通話料金表別表"))].omitted
    assert m[(*T1, ("section", "1"))].caption == "基本料金"
    assert m[(*T1, ("section", "1"))].omitted == (version == DENWA_NEW)  # new: 第1 基本料金（略）
    assert m[(*T1, ("section", "2"))].caption == "通話に関する料金"
    assert m[(*T1, ("section", "1"), ("section", "1"))].caption == "適用"
    assert m[(*T1, ("section", "1"), ("section", "2"))].caption == "料金額"
    assert m[(*T1, ("section", "1"), ("section", "2"))].omitted
    rows1 = children(DENWA, version, ROW7[:-1], "row")
    assert [(r.key, r.omitted) for r in rows1] == [
        ("(1)～(6)", True), ("(7)", False), ("(8)～(14)", True)
    ]
    rows2 = children(DENWA, version, ROW21[:-1], "row")
    assert [(r.key, r.omitted) for r in rows2] == [
        ("(1)~(20)", True), ("(21)", False), ("(22)～(24)", True)
    ]
    # (7)
    assert m[ROW7].caption == "最低利用期間内に契約の解除等があった場合の料金の適用"
    assert [s.key for s in children(DENWA, version, ROW7, "subitem")] == ["ア", "イ"]
    penalty = m[(*ROW7, ("subitem", "イ"), ("row", "違約金"))]
    assert (penalty.text, penalty.caption) == ("1,000円(不課税)", "1のグループ発信サービス利用回線ごとに")
    assert m[(*ROW7, ("subitem", "イ"))].text.endswith(
        "次表に定める違約金を当社が定める期日までに一括して支払っていただきます。"
    )
    # (21)
    assert m[ROW21].caption == "第2種グループ発信サービスを利用して行う通話に関する料金の適用"
    subs = children(DENWA, version, ROW21, "subitem")
    assert [(s.key, s.omitted) for s in subs] == [
        ("ア", True), ("イ", False), ("ウ", True), ("エ", False), ("オ～カ", True)
    ]
    i = (*ROW21, ("subitem", "イ"))
    assert [s.key for s in children(DENWA, version, i, "subitem")] == ["(ア)", "(イ)"]
    assert m[(*i, ("subitem", "(ア)"))].text == "プラン1及びプラン2のコース1に係るもの"
    assert m[(*i, ("subitem", "(ア)"), ("row", CALL))].cells == (CALL, "60秒までごとに", "30円(33円)")
    assert m[(*i, ("subitem", "(イ)"), ("row", CALL))].cells == (CALL, "30秒までごとに", "10円(11円)")


def test_denwa_tariff_old_new_differences() -> None:
    old, new = unit_map(DENWA, DENWA_OLD), unit_map(DENWA, DENWA_NEW)
    a_old = old[(*ROW7, ("subitem", "ア"))].text
    a_new = new[(*ROW7, ("subitem", "ア"))].text
    assert "（プラン2のコース2又はプラン3を除きます。）" in a_old
    assert "（プラン2のコース2、プラン3又はプラン4を除きます。）" in a_new
    i = (*ROW21, ("subitem", "イ"), ("subitem", "(イ)"))
    assert old[i].text == "プラン2のコース2及びプラン3に係るもの"
    assert new[i].text == "プラン2のコース2及びプラン3並びにプラン4に係るもの"
    e = (*ROW21, ("subitem", "エ"))
    assert old[e].text.startswith("イの規定にかかわらず、当社は、当社が別に定める電気通信番号への通話が"
                                  "イの場合に該当すると判断したときは")
    assert new[e].text.startswith("当社は、当社が別に定める電気通信番号への通話がイ(ア)に規定する通話"
                                  "に該当すると判断したときは")
    assert old[e].text.endswith("60秒までごとに30円(33円)とします。")
    assert new[e].text.endswith("60秒までごとに30円(33円)とします。")


def test_denwa_suppl_new_only() -> None:
    assert not [u for u in seed_units(DENWA, DENWA_OLD) if u.kind == "suppl"]
    m = unit_map(DENWA, DENWA_NEW)
    s = m[P("suppl:1")]
    assert (s.label, s.caption) == ("附則", "令和5年4月12日CAS1第000400000065-01号")
    p = m[P("suppl:1", "paragraph:1")]
    assert (p.label, p.text) == ("", "この改正規定は、令和5年4月17日から実施します。")
    assert normalize(p.text) in seed_text(DENWA, DENWA_NEW)


def test_denwa_omitted_units() -> None:
    def omitted(version: str) -> list[tuple[tuple[str, str], ...]]:
        return [u.path for u in seed_units(DENWA, version) if u.omitted]

    common = [
        P("toc:"), P("article:1..4"), P("article:4_3..4_4_3"), P("article:4_5..14_63_2"),
        P("article:14_65_3"), P("article:14_68..54"), P("appendix:別記"),
        P("appendix:料金表", "section:通則"),
    ]
    assert omitted(DENWA_OLD)[:8] == common
    assert omitted(DENWA_NEW)[:8] == common
    assert len(omitted(DENWA_OLD)) == 19
    assert len(omitted(DENWA_NEW)) == 20  # + 第1 基本料金（略）


# -- slips and notes ---------------------------------------------------------------------


def test_extraction_slips_refer_to_real_units() -> None:
    for slip in EXTRACTION_SLIPS:
        assert slip.path in unit_map(slip.doc, slip.version), slip
        assert 1 <= slip.seed_line <= len(seed_lines(slip.doc))
        assert slip.seed_shows and slip.reconstruction and slip.why


def test_slip_14_64_column_split() -> None:
    lines = seed_lines(DENWA)
    assert lines[116].endswith("申込を行って") and lines[120].endswith("申込を行って")
    assert lines[122] == "ていただきます。"
    assert lines[151] == "たいただきます。"
    slips = {(s.version, s.path): s for s in EXTRACTION_SLIPS}
    for version in (DENWA_OLD, DENWA_NEW):
        slip = slips[(version, P("article:14_64", "paragraph:1"))]
        assert slip.reconstruction == "申込を行っていただきます。"
        text = unit_map(DENWA, version)[slip.path].text
        assert text.endswith(slip.reconstruction)
        assert "行ってて" not in text and "行ってた" not in text
        assert normalize("行ってていただきます") not in seed_text(DENWA, version)
        assert normalize("行ってたいただきます") not in seed_text(DENWA, version)


def test_slip_21_cell_split_and_missing_a() -> None:
    slipped = {(s.version, s.path) for s in EXTRACTION_SLIPS}
    key_path = (*ROW21, ("subitem", "イ"), ("subitem", "(イ)"), ("row", CALL))
    for version in (DENWA_OLD, DENWA_NEW):
        assert (version, key_path) in slipped
        assert key_path in unit_map(DENWA, version)
    assert (DENWA_NEW, (*ROW21, ("subitem", "ア"))) in slipped
    assert (DENWA_OLD, (*ROW21, ("subitem", "ア"))) not in slipped
    # the "料金" fragment rows are consumed, not reported as units or text
    for version in (DENWA_OLD, DENWA_NEW):
        assert not [u for u in seed_units(DENWA, version) if u.text == "料金"]


def test_drafting_is_not_corrected() -> None:
    # identical in both columns: drafting, kept, and not listed as an extraction slip
    for version in (DENWA_OLD, DENWA_NEW):
        assert unit_map(DENWA, version)[P("article:14_65_2", "paragraph:5")].text.endswith(
            "ものとしします。"
        )
    assert not [s for s in EXTRACTION_SLIPS if "ものとしします" in s.seed_shows]
    for note in DRAFTING_NOTES:
        for version in note.versions:
            assert note.path in unit_map(note.doc, version), note
            assert normalize(note.printed) in subtree_text(note.doc, version, note.path), note


# -- the reader refuses a seed it does not recognise -------------------------------------


@pytest.fixture
def seed_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for name, _ in st.DOCUMENTS.values():
        (tmp_path / name).write_bytes((st.SEED_DIR / name).read_bytes())
    monkeypatch.setattr(st, "SEED_DIR", tmp_path)
    for fn in (st._lines, st._units, st.seed_text):
        fn.cache_clear()
    yield tmp_path
    monkeypatch.undo()
    for fn in (st._lines, st._units, st.seed_text):
        fn.cache_clear()


def _edit(path: Path, line: int, new: str) -> None:
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[line - 1] = new
    path.write_text("\n".join(lines), encoding="utf-8")


def test_copy_reads_the_same(seed_copy: Path) -> None:
    assert len(seed_units(DENWA, DENWA_NEW)) == 107


def test_changed_column_split_is_refused(seed_copy: Path) -> None:
    _edit(seed_copy / st.DOCUMENTS[DENWA][0], 123, "ていただきますよ。")
    with pytest.raises(st.SeedFormatError):
        seed_units(DENWA, DENWA_OLD)


def test_unexpected_paragraph_number_is_refused(seed_copy: Path) -> None:
    _edit(seed_copy / st.DOCUMENTS[RAKUTEN][0], 57, "9 契約者は、１の契約につき１人に限ります。")
    with pytest.raises(st.SeedFormatError):
        seed_units(RAKUTEN, RV)
