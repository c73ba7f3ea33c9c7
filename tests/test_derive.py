"""#17 Derive, don't be told: names and D-U-N-S® Numbers compared line by line, typed
identifiers, the registration limit of 第4条の2（注1）, and every backend agreeing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from yakkan.cli.main import main
from yakkan.engine.core.textnorm import canonical_id, name_key, same_name
from yakkan.engine.runtime.evaluate import evaluate
from yakkan.engine.semantics.rulebooks import rulebook_for

CASES = Path(__file__).resolve().parent.parent / "examples" / "cases"
MISMATCH = CASES / "denwa-plan4-duns-mismatch-line2.yaml"
ABBREVIATED = CASES / "denwa-plan4-names-abbreviated-accept.yaml"
MALFORMED = CASES / "denwa-plan4-duns-malformed.yaml"


def cli(*args: str) -> Any:
    return CliRunner().invoke(main, ["--no-color", *args])


# ---- the standard library: names and identifiers -------------------------------------------

@pytest.mark.parametrize(("a", "b", "same"), [
    ("株式会社甲", "㈱甲", True),
    ("株式会社甲", "（株）甲", True),
    ("株式会社甲", "(株) 甲", True),
    ("株式会社　甲", "株式会社甲", True),
    ("有限会社丙", "(有)丙", True),
    ("合同会社丁", "(同)丁", True),
    ("ＡＢＣ株式会社", "ABC(株)", True),
    ("ｶﾌﾞｼｷｶﾞｲｼｬ甲", "カブシキガイシャ甲", True),
    ("株式会社甲", "甲株式会社", False),  # 前株 and 後株 are different names
    ("株式会社甲", "株式会社乙", False),
    ("abc株式会社", "ABC株式会社", False),  # no case folding
])
def test_same_name(a: str, b: str, same: bool) -> None:
    assert same_name(a, b) is same
    assert (name_key(a) == name_key(b)) is same


@pytest.mark.parametrize(("raw", "canon"), [
    ("123456789", "12-345-6789"), ("12-345-6789", "12-345-6789"),
    ("１２－３４５－６７８９", "12-345-6789"), (" 1-2-3-4-5-6-7-8-9 ", "12-345-6789"),
])
def test_duns_canonical(raw: str, canon: str) -> None:
    assert canonical_id("duns", raw) == canon


@pytest.mark.parametrize("raw", ["12-345-67890", "12345678", "12-345-678X", "-123456789",
                                 "12--3456789", ""])
def test_duns_malformed(raw: str) -> None:
    with pytest.raises(ValueError):
        canonical_id("duns", raw)


# ---- must show ------------------------------------------------------------------------------

def test_line_2_with_another_duns_may_refuse_naming_the_line() -> None:
    r = cli("explain", str(MISMATCH), "--format", "json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    app = next(o for o in data["outcomes"] if o["name"] == "application")
    assert app["value"] == "may_refuse"
    g = next(g for g in app["grounds"] if g["citation"] == "第14条の65第2項第7号")
    (lst,) = g["records"]
    assert (lst["list"], lst["records"], lst["failing"]) == ("lines", 3, 1)
    (rec,) = lst["shown"]
    # the JSON counts as the case file's paths do (from 0), a person from 1
    assert (rec["ref"], rec["index"], rec["ordinal"]) == ("lines[1]", 1, 2)
    assert rec["holds"] is False
    assert [c["op"] for c in rec["comparisons"]] == ["present", "present", "=="]
    cmp = rec["comparisons"][-1]
    assert cmp["holds"] is False
    assert [o["value"] for o in cmp["operands"]] == ["12-345-6789", "98-765-4321"]
    assert "2件目（090-2222-2222・株式会社乙）" in rec["text_ja"] and "≠" in rec["text_ja"]
    assert rec["text_ja"].endswith("⇒ 条件を満たさない")
    for fmt in ("text", "md", "html"):
        out = cli("explain", str(MISMATCH), "--format", fmt).output
        assert "2件目（090-2222-2222・株式会社乙）" in out and "12-345-6789" in out \
            and "98-765-4321" in out, fmt
        assert "lines[2]（" not in out and "lines[2]:" not in out, fmt  # paths as code only


def test_the_same_case_abbreviated_with_equal_numbers_is_accepted() -> None:
    r = cli("explain", str(ABBREVIATED), "--format", "json")
    data = json.loads(r.output)
    app = next(o for o in data["outcomes"] if o["name"] == "application")
    assert app["value"] == "accept"
    # the case differs from MISMATCH only in lines[2]
    a = json.loads(cli("explain", str(MISMATCH), "--format", "json").output)["case"]["facts"]
    b = data["case"]["facts"]
    assert a["applicant"] == b["applicant"] and a["lines"][0] == b["lines"][0]
    assert b["lines"][1]["holder_name"] == "㈱甲"


def test_a_ten_digit_duns_is_a_located_error() -> None:
    r = cli("explain", str(MALFORMED))
    assert r.exit_code == 2
    assert f"{MALFORMED}:9:51: error[case.bad-value]" in r.output
    assert "has 10" in r.output and "hint:" in r.output
    assert "Traceback" not in r.output


def test_a_duns_written_as_a_number_is_refused() -> None:
    book = rulebook_for("denwa", None)
    from yakkan.engine.core.diagnostics import YakkanError
    from yakkan.engine.runtime.case import validate_facts
    with pytest.raises(YakkanError) as e:
        validate_facts(book, {"applicant": {"duns": 123456789}}, "x.yaml", "")
    assert "as text" in str(e.value.diagnostics[0].message)


# ---- derivation and fallbacks ---------------------------------------------------------------

PLAN4 = {"service": {"kind": "type2", "terminates_at_carrier": True,
                     "one_number_per_line": False, "docomo_corporate_contract": True},
         "applicant": {"paying_late": False, "may_pay_late": False,
                       "contracts_shared_ip_pbx": True},
         "company": {"serious_hindrance": False}}


def decide(facts: dict[str, Any], outcome: str = "application") -> str:
    import datetime as dt

    from yakkan.engine.runtime.case import facts_dict, validate_facts
    book = rulebook_for("denwa", dt.date(2023, 5, 1))
    f = facts_dict(validate_facts(book, facts, "x.yaml", ""))
    return evaluate(book, f, dt.date(2023, 5, 1), outcomes=[outcome]).outcomes[outcome].value


def with_(base: dict[str, Any], **parts: Any) -> dict[str, Any]:
    out = json.loads(json.dumps(base))
    for k, v in parts.items():
        out.setdefault(k, {}).update(v) if isinstance(v, dict) else out.__setitem__(k, v)
    return out


def test_the_booleans_are_only_a_fallback() -> None:
    # old cases: only the recorded confirmation
    assert decide(with_(PLAN4, applicant={"duns_issued": True,
                                          "name_matches_docomo_holder": False})) == "may_refuse"
    assert decide(with_(PLAN4, applicant={"duns_issued": True,
                                          "name_matches_docomo_holder": True})) == "accept"
    # the data decide over a recorded confirmation that says otherwise
    facts = with_(PLAN4, applicant={"name": "株式会社甲", "duns": "98-765-4321",
                                    "name_matches_docomo_holder": True},
                  lines=[{"holder_name": "株式会社甲", "holder_duns": "12-345-6789"}])
    assert decide(facts) == "may_refuse"


def test_duns_decides_over_the_names_and_names_are_the_fallback() -> None:
    base = with_(PLAN4, applicant={"name": "株式会社甲", "duns": "98-765-4321"})
    # same number, differently written name: the company confirms by the number
    assert decide(with_(base, lines=[{"holder_name": "甲", "holder_duns": "987654321"}])) \
        == "accept"
    # the holder has no number (null): the names are compared
    assert decide(with_(base, lines=[{"holder_name": "㈱甲", "holder_duns": None}])) \
        == "accept"
    assert decide(with_(base, lines=[{"holder_name": "株式会社乙", "holder_duns": None}])) \
        == "may_refuse"
    # the holder's number is not stated: the match is unknown (and so the decision)
    assert decide(with_(base, lines=[{"holder_name": "株式会社甲"}])) == "undetermined"
    # the applicant's number stated absent: no D-U-N-S (第6号) and names compared
    no_duns = with_(PLAN4, applicant={"name": "株式会社甲", "duns": None},
                    lines=[{"holder_name": "株式会社甲", "holder_duns": "12-345-6789"}])
    assert decide(no_duns) == "may_refuse"
    assert decide(no_duns, "application_requirement") == "requirement_unmet"


@pytest.mark.parametrize(("kind", "plan", "limit"), [
    ("type1", {}, 500),
    ("type2", {"terminates_at_carrier": False, "one_number_per_line": False}, 3000),
    ("type2", {"terminates_at_carrier": True, "one_number_per_line": False}, 1500),
    ("type2", {"terminates_at_carrier": False, "one_number_per_line": True}, 1500),
    ("type2", {"terminates_at_carrier": True, "one_number_per_line": False,
               "docomo_corporate_contract": True}, 1500),
])
def test_registration_limit_at_and_one_over(kind: str, plan: dict[str, Any],
                                            limit: int) -> None:
    svc = {"kind": kind, **plan}
    if kind == "type2":
        svc.setdefault("docomo_corporate_contract", False)
    at = {"service": svc, "registration": {"count": limit}}
    over = {"service": svc, "registration": {"count": limit + 1}}
    assert decide(at, "registration_limit") == "not_applicable"
    assert decide(over, "registration_limit") == "requirement_unmet"


def test_registration_counts_lines_not_removed() -> None:
    svc = {"kind": "type1"}
    lines = [{"removed_on": None}] * 500 + [{"removed_on": "2023-04-20"}]
    assert decide({"service": svc, "lines": lines}, "registration_limit") == "not_applicable"
    lines = [{"removed_on": None}] * 501
    assert decide({"service": svc, "lines": lines}, "registration_limit") == \
        "requirement_unmet"
    # more lines than the limit and a removal not stated: unknown, never guessed
    lines = [{"removed_on": None}] * 500 + [{}]
    assert decide({"service": svc, "lines": lines}, "registration_limit") == "undetermined"
    # fewer lines than the limit: met whatever the removals
    assert decide({"service": svc, "lines": [{}, {}]}, "registration_limit") == \
        "not_applicable"


# ---- every backend ----------------------------------------------------------------------------

def test_parquet_sql_compares_names_and_numbers_as_the_interpreter(tmp_path: Path) -> None:
    """The Parquet path reads identifiers as written (full-width, hyphens anywhere) and the
    names through the same table: every row decided as the interpreter decides it; a
    malformed number is a rejected row, never a mismatch."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    base = {"as_of": "2023-05-01", "service.kind": "type2",
            "service.terminates_at_carrier": True, "service.one_number_per_line": False,
            "service.docomo_corporate_contract": True, "applicant.paying_late": False,
            "applicant.may_pay_late": False, "applicant.contracts_shared_ip_pbx": True,
            "company.serious_hindrance": False, "applicant.name": "株式会社甲",
            "applicant.duns": "98-765-4321"}
    line = {"number": None, "registered_on": None, "removed_on": None,
            "removed_on__absent": True, "currently_registered": None, "to_register": None,
            "employee_or_self": None, "mobile": None, "registered_elsewhere": None,
            "holder_name": None, "holder_duns": None, "holder_duns__absent": None}
    rows = [
        {**base, "id": "same", "lines": [{**line, "holder_name": "ｶﾌﾞｼｷｶﾞｲｼｬ",
                                          "holder_duns": "９８７６５４３２１"}]},
        {**base, "id": "other", "lines": [{**line, "holder_duns": "98-765-4321"},
                                           {**line, "holder_duns": "12-345-6789"}]},
        {**base, "id": "names", "lines": [{**line, "holder_name": "㈱ 甲",
                                           "holder_duns__absent": True}]},
        {**base, "id": "names-differ", "lines": [{**line, "holder_name": "甲株式会社",
                                                  "holder_duns__absent": True}]},
        {**base, "id": "bad", "lines": [{**line, "holder_duns": "98-765-43210"}]},
    ]
    src = tmp_path / "in.parquet"
    pq.write_table(pa.Table.from_pylist(rows), src)
    r = CliRunner().invoke(main, ["batch", "denwa", str(src), "-o", str(tmp_path / "o.jsonl"),
                                  "--outcome", "application"])
    assert r.exit_code == 0, r.output
    got = {g["id"]: g for g in map(json.loads, (tmp_path / "o.jsonl").read_text().splitlines())}
    assert got["same"]["application.value"] == "accept"
    assert got["other"]["application.value"] == "may_refuse"
    assert got["names"]["application.value"] == "accept"
    assert got["names-differ"]["application.value"] == "may_refuse"
    assert got["bad"]["error_code"] == "case.invalid-fact"
    assert "D-U-N-S" in got["bad"]["error_message"]
    assert got["bad"]["application.value"] is None


def test_schema_has_the_duns_pattern() -> None:
    r = cli("schema", "denwa")
    assert r.exit_code == 0
    s = r.output
    assert '"pattern"' in s and "D-U-N-S" in s
