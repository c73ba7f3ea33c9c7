"""`yakkan test`: expect blocks checked with readable diffs, JUnit XML, provision coverage
(text, JSON, HTML) and `--update`, which rewrites only the expect block."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import yaml
from click.testing import CliRunner, Result

from yakkan.cli.main import main
from yakkan.engine.features.testing import read_case, rewrite_expect

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "examples" / "cases"
N_CASES = len(list(CASES.glob("*.yaml")))
NO_DUNS = CASES / "denwa-plan4-no-duns.yaml"
FULL_OFFICE = CASES / "charge-rakuten-full-office.yaml"


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, ["--no-color", *args])


def _wrong_citation(tmp_path: Path) -> Path:
    """denwa-plan4-no-duns with 第7号 expected where the text gives 第6号 (D-U-N-S)."""
    text = NO_DUNS.read_text(encoding="utf-8")
    old = "    application: [第14条の65第2項第6号]\n"
    assert old in text
    f = tmp_path / "wrong-citation.yaml"
    f.write_text("# a comment that must survive --update\n"
                 + text.replace(old, "    application: [第14条の65第2項第7号]  # 誤り\n"),
                 encoding="utf-8")
    return f


def test_the_example_cases_pass_with_a_summary_line_and_a_junit_file(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    r = cli("test", str(CASES), "--junit", str(junit))
    assert r.exit_code == 0, r.output
    assert r.output.strip().splitlines()[-1] == f"{N_CASES} passed, 0 failed"
    root = ET.parse(junit).getroot()
    assert root.tag == "testsuites"
    assert root.get("tests") == str(N_CASES) and root.get("failures") == "0"
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert {"denwa@2023-04-01", "denwa@2023-04-17", "rakuten-miitel@2025-04-01"} <= set(suites)
    names = [tc.get("name") for tc in root.iter("testcase")]
    assert "denwa-plan4-no-duns.yaml" in names and len(names) == N_CASES
    # the two cases that expect an error evaluate nothing and still pass
    assert "denwa-no-version-1999.yaml" in names


def test_a_wrong_expected_citation_fails_with_a_diff(tmp_path: Path) -> None:
    f = _wrong_citation(tmp_path)
    junit = tmp_path / "j.xml"
    r = cli("test", str(f), "--junit", str(junit))
    assert r.exit_code == 1, r.output
    out = r.output
    assert f"FAIL {f}:" in out and "プラン4の申込" in out
    assert "expect.grounds.application: application does not cite 第14条の65第2項第7号" in out
    assert "    - 第14条の65第2項第7号" in out  # expected, not among the grounds
    assert "    + 第14条の65第2項第6号" in out  # what applies instead
    # where the expected ground is instead, with the condition that failed
    assert "第14条の65第2項第7号 does not apply: plan4［true］ and not " \
           "applicant_name_matches［true］" in out
    assert out.strip().splitlines()[-1] == "0 passed, 1 failed"
    tc = ET.parse(junit).getroot().find(".//testcase")
    assert tc is not None
    failure = tc.find("failure")
    assert failure is not None and "第14条の65第2項第7号" in (failure.get("message") or "")
    assert "+ 第14条の65第2項第6号" in (failure.text or "")


def test_outcome_charge_and_flag_mismatches_show_expected_and_actual(tmp_path: Path) -> None:
    text = FULL_OFFICE.read_text(encoding="utf-8")
    text = text.replace("miitel_view: '2940'", "miitel_view: '2941'") \
        .replace("final: true", "final: false").replace("total: '301316.98'", "total: '1'")
    f = tmp_path / "office.yaml"
    f.write_text(text, encoding="utf-8")
    g = tmp_path / "outcome.yaml"
    g.write_text(NO_DUNS.read_text(encoding="utf-8").replace(
        "outcomes: {application: may_refuse", "outcomes: {application: accept"),
        encoding="utf-8")
    r = cli("test", str(tmp_path))
    assert r.exit_code == 1
    out = r.output
    assert "expect.charges.lines.miitel_view: charge miitel_view is 2940, expected 2941" in out
    assert "- miitel_view: 2941" in out and "+ miitel_view: 2940" in out
    assert "- total: 1" in out and "+ total: 301316.98" in out
    assert "- final: false" in out and "+ final: true" in out
    assert "expect.outcomes.application: application is may_refuse, expected accept" in out
    assert "grounds: 第14条の65第2項第6号" in out
    assert out.strip().splitlines()[-1] == "0 passed, 2 failed"


def test_errors_expected_and_unexpected(tmp_path: Path) -> None:
    (tmp_path / "wrong-code.yaml").write_text(
        "document: denwa\nas_of: 1999-01-01\nfacts: {}\nexpect: {error: case.unknown-field}\n",
        encoding="utf-8")
    (tmp_path / "typo.yaml").write_text(
        "document: denwa\nas_of: 2023-05-01\nfacts: {applicant: {duns_isued: false}}\n"
        "expect: {outcomes: {application: accept}}\n", encoding="utf-8")
    (tmp_path / "evaluates.yaml").write_text(
        "document: denwa\nas_of: 2023-05-01\nfacts: {}\n"
        "expect: {error: eval.no-version-in-force}\n", encoding="utf-8")
    r = cli("test", "--format", "json", str(tmp_path))
    assert r.exit_code == 1
    data = json.loads(r.output)
    by = {Path(c["path"]).name: c for c in data["cases"]}
    assert by["wrong-code.yaml"]["status"] == "failed"
    assert by["wrong-code.yaml"]["mismatches"][0]["actual"] == ["eval.no-version-in-force"]
    assert by["typo.yaml"]["status"] == "error"
    assert by["typo.yaml"]["diagnostics"][0]["code"] == "case.unknown-field"
    assert by["evaluates.yaml"]["status"] == "failed"
    assert by["evaluates.yaml"]["mismatches"][0]["key"] == "error"
    assert data["summary"] == {**data["summary"], "passed": 0, "failed": 3, "errors": 1}


def test_unusable_input_exits_2_with_diagnostics(tmp_path: Path) -> None:
    r = cli("test", str(tmp_path / "nowhere"))
    assert r.exit_code == 2 and "error[io.missing-file]" in r.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("document: denwa\nfacts: {}\nexpect:\n  outcome: {application: accept}\n",
                   encoding="utf-8")
    r = cli("test", str(bad))
    assert r.exit_code == 2
    assert f"{bad}:3:1: error[test.bad-expect]: unknown key `expect.outcome`" in r.output
    assert "did you mean `outcomes`?" in r.output
    assert "Traceback" not in r.output
    bad.write_text("document: denwa\nfacts: {}\nexpect:\n  charges: {total: abc, final: 1}\n",
                   encoding="utf-8")
    r = cli("test", str(bad))
    assert r.exit_code == 2
    assert "`expect.charges.final` must be true or false" in r.output
    assert "`expect.charges.total` must be an amount" in r.output


def test_a_file_without_expect_is_skipped(tmp_path: Path) -> None:
    shutil.copy(NO_DUNS, tmp_path / "a.yaml")
    (tmp_path / "plain.yaml").write_text("document: denwa\nfacts: {}\n", encoding="utf-8")
    r = cli("test", str(tmp_path))
    assert r.exit_code == 0
    assert r.output.strip().splitlines()[-1] == "1 passed, 0 failed, 1 skipped"


def test_coverage_lists_provisions_never_reached(tmp_path: Path) -> None:
    r = cli("test", "--coverage", str(CASES))
    assert r.exit_code == 0, r.output
    out = r.output
    assert "denwa 2023-04-17（2023-04-17～） 電話等サービス契約約款" in out
    assert "未到達（never reached）" in out
    # 第4条の2 注2 defines designated_lines, which no ground or charge of a case reads
    assert "第4条の2「契約者指定番号発信サービス」注2「グループ発信サービス」  " \
        "[define designated_lines]" in out
    # only rakuten cases, with denwa asked for: every denwa provision is never reached
    r = cli("test", "--coverage", "--format", "json", "--doc", "denwa",
            str(CASES / "rakuten-app-accept.yaml"))
    data = json.loads(r.output)
    cov = {(v["document"], v["version"]): v for v in data["coverage"]}
    denwa = cov[("denwa", "2023-04-17")]
    assert denwa["cases"] == [] and denwa["total"] > 30
    assert denwa["counts"]["never_reached"] == denwa["total"]
    rak = cov[("rakuten-miitel", "2025-04-01")]
    assert rak["cases"] == [str(CASES / "rakuten-app-accept.yaml")]
    first = next(p for p in rak["provisions"] if p["citation"] == "第4条第1項")
    assert first["status"] == "applying" and "application: accept" in first["roles"]
    refused = next(p for p in rak["provisions"] if p["citation"] == "第4条第2項第1号")
    assert refused["status"] == "not_applying"


def test_coverage_from_the_whole_suite_sees_each_state() -> None:
    r = cli("test", "--coverage", "--format", "json", str(CASES))
    data = json.loads(r.output)
    assert data["summary"]["passed"] == N_CASES
    statuses = {p["status"] for v in data["coverage"] for p in v["provisions"]}
    assert {"applying", "not_applying", "never_reached"} <= statuses
    new = next(v for v in data["coverage"] if v["version"] == "2023-04-17")
    duns = next(p for p in new["provisions"] if p["citation"] == "第14条の65第2項第6号")
    assert duns["status"] == "applying"
    assert str(CASES / "denwa-plan4-no-duns.yaml") in duns["cases"]["applying"]
    # a charge row is covered through its charge line
    rak = next(v for v in data["coverage"] if v["document"] == "rakuten-miitel")
    rows = [p for p in rak["provisions"] if p["kind"] == "row"]
    assert rows and any(r["status"] == "applying" for r in rows)
    assert any(role.startswith("charge ") for r in rows for role in r["roles"])


def test_coverage_html_is_self_contained_and_escaped(tmp_path: Path) -> None:
    f = _wrong_citation(tmp_path)
    f.write_text(f.read_text(encoding="utf-8").replace(
        "title: 'プラン4の申込", "title: '<script>alert(1)</script>プラン4の申込"),
        encoding="utf-8")
    page = tmp_path / "cov.html"
    r = cli("test", "--coverage-html", str(page), str(f), str(CASES / "denwa-plan4-accept.yaml"))
    assert r.exit_code == 1
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert "<script" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "http://" not in html and "https://" not in html
    assert "条項カバレッジ" in html and "第14条の65第2項第6号" in html
    assert "1 passed, 1 failed" in html
    assert "未到達（never reached）" in html


def test_update_rewrites_only_the_expect_block(tmp_path: Path) -> None:
    f = _wrong_citation(tmp_path)
    before = f.read_text(encoding="utf-8")
    r = cli("test", str(f))
    assert r.exit_code == 1 and f.read_text(encoding="utf-8") == before  # never unasked
    r = cli("test", "--update", str(f))
    assert r.exit_code == 0, r.output
    assert f"updated {f}: expect.{{grounds.application}}" in r.output
    after = f.read_text(encoding="utf-8")
    # the only change: the wrong citation becomes the one that applies
    old_lines, new_lines = before.splitlines(), after.splitlines()
    assert len(old_lines) == len(new_lines)
    changed = [(a, b) for a, b in zip(old_lines, new_lines, strict=True) if a != b]
    assert changed == [("    application: [第14条の65第2項第7号]  # 誤り",
                        "    application: [第14条の65第2項第6号]")]
    assert after.startswith("# a comment that must survive --update\n")
    assert "1 passed, 0 failed" in cli("test", str(f)).output


def test_update_keeps_charge_lines_as_written(tmp_path: Path) -> None:
    f = tmp_path / "office.yaml"
    text = FULL_OFFICE.read_text(encoding="utf-8")
    f.write_text(text.replace("miitel_view: '2940'", "miitel_view: '2941'"), encoding="utf-8")
    r = cli("test", "--update", str(f))
    assert r.exit_code == 0, r.output
    assert f.read_text(encoding="utf-8") == text


def test_update_of_an_error_expectation_keeps_a_trailing_comment(tmp_path: Path) -> None:
    f = tmp_path / "err.yaml"
    f.write_text("document: denwa\nas_of: 1999-01-01\nfacts: {}\n"
                 "expect: {error: case.unknown-field}  # 施行前\n", encoding="utf-8")
    assert cli("test", "--update", str(f)).exit_code == 0
    assert f.read_text(encoding="utf-8").endswith(
        "expect: {error: eval.no-version-in-force}  # 施行前\n")


def test_every_example_rewrites_to_itself() -> None:
    for path in sorted(CASES.glob("*.yaml")):
        case = read_case(str(path))
        assert case is not None
        text, notes = rewrite_expect(case, case.raw)
        assert text == case.text and notes == [], path.name


def test_update_of_a_json_case_replaces_only_the_expect_value(tmp_path: Path) -> None:
    f = tmp_path / "case.json"
    text = ('{\n  "document": "denwa", "as_of": "2023-05-01",\n'
            '  "title": "\\"expect\\": not this one",\n'
            '  "facts": {"service": {"kind": "type2", "terminates_at_carrier": true,\n'
            '    "docomo_corporate_contract": true}, "applicant": {"duns_issued": false,\n'
            '    "contracts_shared_ip_pbx": true, "name_matches_docomo_holder": true,\n'
            '    "paying_late": false, "may_pay_late": false},\n'
            '    "company": {"serious_hindrance": false}},\n'
            '  "expect": {"outcomes": {"application": "accept"}}\n}\n')
    f.write_text(text, encoding="utf-8")
    r = cli("test", str(f))
    assert r.exit_code == 1 and "application is may_refuse, expected accept" in r.output
    assert cli("test", "--update", str(f)).exit_code == 0
    assert f.read_text(encoding="utf-8") == text.replace(
        '"expect": {"outcomes": {"application": "accept"}}',
        '"expect": {"outcomes": {"application": "may_refuse"}}')


def test_a_blank_expect_is_filled_in_by_update(tmp_path: Path) -> None:
    f = tmp_path / "new.yaml"
    head = NO_DUNS.read_text(encoding="utf-8").split("expect:")[0]
    f.write_text(head + "expect:\n", encoding="utf-8")
    r = cli("test", str(f))
    assert r.exit_code == 1 and "expects nothing" in r.output
    assert cli("test", "--update", str(f)).exit_code == 0
    after = f.read_text(encoding="utf-8")
    assert after.startswith(head)
    exp = yaml.safe_load(after)["expect"]
    assert exp["outcomes"]["application"] == "may_refuse"
    assert exp["outcomes"]["application_requirement"] == "requirement_unmet"
    assert "not_applicable" not in exp["outcomes"].values()
    assert exp["grounds"]["application"] == ["第14条の65第2項第6号"]
    assert "1 passed, 0 failed" in cli("test", str(f)).output
