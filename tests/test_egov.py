"""e-Gov 法令標準XML: export validates against the official XSD, import gives back the units.

The schema is read from ../shared/egov/ (or $YAKKAN_EGOV_XSD); validation really runs: a
deliberately broken export must fail it.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from lxml import etree

from yakkan.cli.main import main
from yakkan.engine.features.egov_export import export_egov, sidecar
from yakkan.engine.semantics.rulebooks import versions
from yakkan.engine.syntax import ast as A
from yakkan.engine.syntax.egov_import import apply_sidecar, import_law
from yakkan.engine.syntax.format import format_document
from yakkan.engine.syntax.load import load_file

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "egov"
XSD = Path(os.environ.get("YAKKAN_EGOV_XSD",
                          ROOT.parent / "shared" / "egov" / "XMLSchemaForJapaneseLaw_v3.xsd"))
FIELDS = ("kind", "key", "range_end", "status", "caption", "text", "proviso", "label")
BOOKS = [(b.doc.header.id, b.doc.header.version, b) for doc in ("denwa", "rakuten-miitel")
         for b in versions(doc)]


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    if not XSD.exists():
        pytest.fail(f"the e-Gov schema is missing: {XSD} (set YAKKAN_EGOV_XSD)")
    return etree.XMLSchema(etree.parse(str(XSD)))


def tree(units: list[A.Unit]) -> list[Any]:
    return [(tuple(getattr(u, f) for f in FIELDS), tree(u.children)) for u in units]


def tags(xml: bytes) -> set[str]:
    return {el.tag for el in etree.fromstring(xml).iter() if isinstance(el.tag, str)}


@pytest.mark.parametrize(("doc", "version", "book"), BOOKS, ids=[f"{d}@{v}" for d, v, _ in BOOKS])
def test_every_bundled_version_exports_valid_xml_and_round_trips(
        doc: str, version: str, book: Any, schema: etree.XMLSchema) -> None:
    xml = export_egov(book)
    root = etree.fromstring(xml)
    assert schema.validate(root), schema.error_log
    assert root.get("LawType") == "Misc"
    assert root.findtext("LawBody/LawTitle") == book.doc.header.title
    back, diags = import_law(xml, "x.xml", doc_id=doc, version=version)
    assert diags == []
    assert tree(back.units) == tree(book.doc.units)  # same unit tree, same texts
    # with the sidecar, nothing is lost: the clause file comes back as it was
    full, _ = import_law(xml, "x.xml", doc_id=doc, version=version)
    assert apply_sidecar(full, json.loads(json.dumps(sidecar(book))), "s.json") == []
    assert format_document(full) == format_document(book.doc)


def test_the_mapping_follows_the_issue(schema: etree.XMLSchema) -> None:
    book = next(b for d, v, b in BOOKS if v == "2023-04-17")
    root = etree.fromstring(export_egov(book))
    assert (root.get("Era"), root.get("Year"), root.get("Num")) == ("Heisei", "11", "24")
    assert root.findtext("LawNum") == "平成11年経企24号"
    art = root.find(".//Article[@Num='14_65_2']")
    assert art is not None
    assert art.findtext("ArticleCaption") == "（契約者指定番号発信サービス利用回線に係る電気通信番号の変更）"
    assert art.findtext("ArticleTitle") == "第14条の65の2"
    p2 = art.find("Paragraph[@Num='2']")
    assert p2 is not None and p2.findtext("ParagraphSentence/Sentence") == "削除"
    item = root.find(".//Article[@Num='14_65']/Paragraph[@Num='2']/Item[@Num='6']")
    assert item is not None and item.findtext("ItemTitle") == "(6)"
    deleted = root.find(".//Article[@Num='14_65']/Paragraph[@Num='2']/Item[@Num='2']")
    assert deleted is not None and deleted.get("Delete") == "true"
    omitted = root.find(".//Article[@Num='4_5:14_63_2']")
    assert omitted is not None and omitted.get("Hide") == "true"
    assert omitted.findtext("Paragraph/ParagraphSentence/Sentence") == "第4条の5～第14条の63の2（略）"
    proviso = root.findall(".//Remarks/Item[@Num='2']/ItemSentence/Sentence")
    assert [s.get("Function") for s in proviso] == ["main", "proviso"]
    assert proviso[1].text == "ただし、通話の発信に先立ち、「184」をダイヤルして行う通話については、この限りではありません。"
    rows = root.findall(".//Article[@Num='4_4_4']//TableStruct/Table/TableRow")
    assert [r.findtext("TableColumn/Sentence") for r in rows] == ["プラン1", "プラン2", "プラン3", "プラン4"]
    assert root.find(".//Article[@Num='4_4_4']//TableStruct/Remarks/RemarksLabel").text == "備考"
    suppl = root.find("LawBody/SupplProvision")
    assert suppl is not None and suppl.get("AmendLawNum") == "令和5年4月12日CAS1第000400000065-01号"
    cells = [c.findtext("Sentence") for c in root.iter("TableRow")
             if c.findtext("TableColumn/Sentence") == "1のグループ発信サービス利用回線から発信した通話に関する料金"
             for c in c.findall("TableColumn")]
    assert cells[:3] == ["1のグループ発信サービス利用回線から発信した通話に関する料金",
                         "60秒までごとに", "30円(33円)"]
    assert root.find("LawBody/AppdxTable[2]/AppdxTableTitle").text == "料金表"
    # every instruction names a unit of the sidecar's key space
    ids = [json.loads(pi.text)["id"] for pi in root.iter(etree.ProcessingInstruction)
           if pi.target == "yakkan" and "id" in json.loads(pi.text)]
    assert "article:14_65/paragraph:2/item:6" in ids and len(ids) == len(set(ids))


def test_a_broken_document_fails_validation(schema: etree.XMLSchema) -> None:
    book = BOOKS[0][2]
    root = etree.fromstring(export_egov(book))
    assert schema.validate(root)
    para = root.find(".//Paragraph")
    assert para is not None
    para.set("Num", "一")  # Paragraph/@Num is a positive integer
    assert not schema.validate(root)
    root = etree.fromstring(export_egov(book))
    root.remove(root.find("LawNum"))
    assert not schema.validate(root)


def test_sidecar_carries_the_logic_keyed_by_unit_path() -> None:
    book = next(b for d, v, b in BOOKS if v == "2023-04-17")
    data = sidecar(book)
    entry = data["units"]["article:14_65/paragraph:2/item:6"]
    assert entry["citation"] == "第14条の65第2項第6号"
    assert entry["logic"] == ["when plan4 and not applicant_duns_issued", "cites 「TSR D-U-N-S」"]
    assert "fact applicant.duns_issued: bool" in data["declarations"]
    assert data["effective"] == {"from": "2023-04-17", "until": None}


def _fixture_import(tmp_path: Path, name: str, doc: str, version: str) -> tuple[Result, Path]:
    out = tmp_path / "clauses" / doc / f"{version}.yk"
    out.parent.mkdir(parents=True)
    return run("import", str(FIXTURES / name), "-o", str(out)), out


@pytest.mark.parametrize(("name", "doc", "version"), [
    ("plain-law.xml", "shiken", "2023-04-01"), ("yakkan-tariff.xml", "tariff", "2024-04-01")])
def test_hand_written_fixtures_validate_and_import(
        tmp_path: Path, schema: etree.XMLSchema, name: str, doc: str, version: str) -> None:
    assert schema.validate(etree.parse(str(FIXTURES / name))), schema.error_log
    result, out = _fixture_import(tmp_path, name, doc, version)
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == (FIXTURES / name).with_suffix(".yk").read_text(
        encoding="utf-8")
    check = run("check", str(out))
    assert check.exit_code == 0, check.output
    assert "0 error(s), 0 warning(s)" in check.output


def test_fixtures_cover_every_element_the_exporter_emits() -> None:
    emitted = set().union(*(tags(export_egov(b)) for _, _, b in BOOKS))
    covered = set().union(*(tags((FIXTURES / f).read_bytes())
                            for f in ("plain-law.xml", "yakkan-tariff.xml")))
    assert emitted <= covered, sorted(emitted - covered)


def test_import_without_instructions_keeps_every_text_in_order() -> None:
    for doc, version, book in BOOKS:
        xml = re.sub(rb"<\?yakkan .*?\?>", b"", export_egov(book))
        back, _ = import_law(xml, "x.xml", doc_id=doc, version=version)
        def texts(d: A.Document) -> list[str]:
            return [u.full_text for _, u in d.iter_units() if u.text or u.proviso]
        assert texts(back) == texts(book.doc)


def test_must_show_denwa(tmp_path: Path, schema: etree.XMLSchema) -> None:
    xml = tmp_path / "denwa.xml"
    r = run("export", "denwa", "--as-of", "2023-05-01", "--format", "egov-xml", "-o", str(xml),
            "--sidecar", str(tmp_path / "denwa.json"))
    assert r.exit_code == 0, r.output
    assert schema.validate(etree.parse(str(xml))), schema.error_log
    out = tmp_path / "clauses" / "denwa" / "2023-04-17.yk"
    out.parent.mkdir(parents=True)
    r = run("import", str(xml), "-o", str(out))
    assert r.exit_code == 0, r.output
    # no error; the only warnings are the text's own drafting defects, which travel with it
    assert "0 error(s), 2 warning(s)" in r.output, r.output
    assert re.findall(r"warning\[([\w.-]+)\]", r.output) == ["draft.unbalanced-bracket"] * 2
    original = next(b for d, v, b in BOOKS if v == "2023-04-17").doc
    doc = load_file(out).doc  # the texts equal the original's, unit by unit
    assert doc is not None
    assert tree(doc.units) == tree(original.units)
    assert run("check", str(out)).exit_code == 0
    r = run("import", str(xml), "-o", str(out), "--sidecar", str(tmp_path / "denwa.json"))
    assert r.exit_code == 0, r.output
    assert out.read_text(encoding="utf-8") == (
        ROOT / "clauses" / "denwa" / "2023-04-17.yk").read_text(encoding="utf-8")


def test_export_to_stdout_and_unknown_version() -> None:
    r = run("export", "rakuten-miitel")
    assert r.exit_code == 0 and r.output.startswith("<?xml")
    r = run("export", "denwa", "--as-of", "2000-01-01")
    assert r.exit_code == 2 and "eval.no-version-in-force" in r.output


@pytest.mark.parametrize(("content", "code", "where"), [
    (b"<Law Era='Reiwa'>\n  <LawNum>x</LawNum>\n  <LawBody>\n</Law>\n", "import.malformed-xml",
     ":4:"),
    (b"<?xml version='1.0'?>\n<!DOCTYPE Law [<!ENTITY a 'aaaa'>]>\n<Law><LawBody/></Law>\n",
     "import.dtd-forbidden", ":1:"),
    (b"<?xml version='1.0'?>\n<html><body/></html>\n", "import.not-egov", ":2:"),
    (b"<Law/>", "import.not-egov", ":1:"),
    (b"", "import.malformed-xml", ":1:"),
])
def test_bad_xml_is_a_diagnostic_not_a_traceback(tmp_path: Path, content: bytes, code: str,
                                                  where: str) -> None:
    f = tmp_path / "bad.xml"
    f.write_bytes(content)
    out = tmp_path / "clauses" / "bad" / "v.yk"
    r = run("import", str(f), "-o", str(out))
    assert r.exit_code == 2, r.output
    assert code in r.output and f"bad.xml{where}" in r.output
    assert "Traceback" not in r.output and not out.exists()


def test_external_entities_are_never_fetched(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET", encoding="utf-8")
    f = tmp_path / "xxe.xml"
    f.write_text(f"<?xml version='1.0'?>\n<!DOCTYPE Law [<!ENTITY x SYSTEM 'file://{secret}'>]>"
                 "\n<Law><LawNum>&x;</LawNum><LawBody><LawTitle>t</LawTitle></LawBody></Law>\n",
                 encoding="utf-8")
    r = run("import", str(f), "--id", "x")
    assert r.exit_code == 2 and "SECRET" not in r.output
    assert "import.dtd-forbidden" in r.output


def test_import_needs_a_destination(tmp_path: Path) -> None:
    r = run("import", str(FIXTURES / "plain-law.xml"))
    assert r.exit_code == 2 and "-o clauses/<doc>/<version>.yk" in r.output
    r = run("import", str(tmp_path / "missing.xml"), "--id", "x")
    assert r.exit_code == 2 and "io.missing-file" in r.output
