"""Domain assumptions (`assume NAME "label" = EXPR`): the solver respects them — no witness
of the semantic diff (outcomes and charges) or of a static check breaks one — while the
static check of overlapping alternatives still reports what the text itself leaves open, and
`explain` warns about a case that breaks one (deciding it as written)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from yakkan.cli.main import main
from yakkan.engine.analysis.smt import nest
from yakkan.engine.features.explain import explain_case
from yakkan.engine.runtime.evaluate import broken_assumptions
from yakkan.engine.semantics.rulebooks import versions
from yakkan.engine.syntax.format import format_document
from yakkan.engine.syntax.load import load_file


def _plan2_and_3(facts: dict[str, Any]) -> bool:
    return facts.get("service.kind") == "type2" and \
        facts.get("service.terminates_at_carrier") is True and \
        facts.get("service.one_number_per_line") is True


def test_no_diff_witness_breaks_an_assumption() -> None:
    r = CliRunner().invoke(main, ["diff", "denwa", "--from", "2023-04-01", "--to", "2023-04-17",
                                  "--format", "json"])
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    old, new = versions("denwa")
    witnesses = [*data["witnesses"], *data["charge_witnesses"]]
    assert len(witnesses) > 10
    for w in witnesses:
        assert not _plan2_and_3(w["facts"]), w
        for book in (old, new):
            assert broken_assumptions(book, nest(w["facts"], book.facts),
                                      book.doc.header.effective_from) == []


def test_the_text_s_overlap_is_still_reported_with_the_assumption_named() -> None:
    r = CliRunner().invoke(main, ["check", "denwa", "--format", "json"])
    assert r.exit_code == 0, r.stderr
    found = [f for f in json.loads(r.stdout)["static"] if f["code"] == "static.overlap"
             and "「プラン2」と「プラン3」の両方" in f["message"]]
    assert len(found) == 2  # both versions
    assert all("assume one_plan" in " ".join(f["notes"]) for f in found)


def test_explain_warns_about_a_case_that_breaks_an_assumption(tmp_path: Path) -> None:
    case = tmp_path / "both.yaml"
    case.write_text("document: denwa\nas_of: 2023-05-01\nfacts:\n  service:\n    kind: type2\n"
                    "    terminates_at_carrier: true\n    one_number_per_line: true\n",
                    encoding="utf-8")
    data = explain_case(str(case))
    codes = [w["code"] for w in data["warnings"]]
    assert "case.breaks-assumption" in codes
    w = next(w for w in data["warnings"] if w["code"] == "case.breaks-assumption")
    assert w["assumption"] == "one_plan" and "前提" in w["message_ja"]
    ok = tmp_path / "one.yaml"
    ok.write_text(case.read_text(encoding="utf-8").replace("one_number_per_line: true",
                                                           "one_number_per_line: false"),
                  encoding="utf-8")
    assert "case.breaks-assumption" not in [w["code"] for w in explain_case(str(ok))["warnings"]]


def test_an_assumption_is_checked_as_a_condition_and_formatted_back(tmp_path: Path) -> None:
    src = tmp_path / "a.yk"
    src.write_text('document demo "試験" {}\n\nfact n: int "数"\n\n'
                   'assume small "数は100以下とする" = n <= 100\n'
                   'assume bad "真偽でない前提" = n + 1\n', encoding="utf-8")
    r = CliRunner().invoke(main, ["check", "--no-static", str(src)])
    assert r.exit_code == 1 and "type.not-bool" in r.stderr and "an assumption" in r.stderr
    doc = load_file(str(src)).doc
    assert doc is not None and [a.name for a in doc.assumptions] == ["small", "bad"]
    assert 'assume small "数は100以下とする" = n <= 100' in format_document(doc)


def test_a_record_that_contradicts_the_derived_value_is_warned_not_dropped(
        tmp_path: Path) -> None:
    """The D-U-N-S® Number given and the record that none was issued, or the holders' names
    and a reviewer's record that they differ: decided by the derived value, and warned."""
    case = tmp_path / "contra.yaml"
    case.write_text(
        "document: denwa\nas_of: 2023-05-01\nfacts:\n"
        "  service: {kind: type2, terminates_at_carrier: true, one_number_per_line: false,"
        " docomo_corporate_contract: true}\n"
        "  applicant: {duns: 98-765-4321, duns_issued: false, name: 株式会社甲,"
        " name_matches_docomo_holder: false}\n"
        "  lines:\n    - {number: 090-1111-1111, holder_name: ㈱甲, holder_duns: 98-765-4321,"
        " removed_on: null}\n", encoding="utf-8")
    data = explain_case(str(case))
    broken = sorted(w["assumption"] for w in data["warnings"]
                    if w["code"] == "case.breaks-assumption")
    assert broken == ["applicant_duns_record", "applicant_name_record"]
    app = next(o for o in data["outcomes"] if o["name"] == "application")
    cited = {g["citation"] for g in app["grounds"]}
    assert "第14条の65第2項第6号" not in cited and "第14条の65第2項第7号" not in cited


def test_no_counterfactual_breaks_an_assumption() -> None:
    """denwa-plan4-name-mismatch: the reviewer recorded that the names differ; recording also
    that the D-U-N-S® Numbers match would contradict it (`assume applicant_records`), so that
    change is not offered as what would change the outcome — and the outcome, decided, needs
    no further fact."""
    root = Path(__file__).resolve().parent.parent
    data = explain_case(str(root / "examples/cases/denwa-plan4-name-mismatch.yaml"))
    app = next(o for o in data["outcomes"] if o["name"] == "application")
    assert app["value"] == "may_refuse" and app["missing_facts"] == []
    changed = {c["path"] for f in app["counterfactuals"] for c in f["changes"]}
    assert changed and "applicant.duns_matches_docomo_holder" not in changed
