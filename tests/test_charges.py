"""Charges: every fee row and money provision of both documents, priced by hand from the text.

Each expected amount is derived from the seed text, with the arithmetic in a comment beside
it; the engine's output is never the source of an expectation. Cases come from
examples/cases/ where one exists, else from inline facts through `compute_charges`.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from yakkan.cli.main import main
from yakkan.engine.core.money import TaxCategory, add_tax, parse_jpy
from yakkan.engine.features.charges import ChargeReport, charges_json, compute_charges
from yakkan.engine.features.explain import Prepared, explain_case, prepare
from yakkan.engine.runtime.case import facts_dict, validate_facts
from yakkan.engine.runtime.evaluate import evaluate
from yakkan.engine.semantics.rulebooks import rulebook_for

ROOT = Path(__file__).parent.parent
CASES = sorted((ROOT / "examples" / "cases").glob("*.yaml"))

OLD = dt.date(2023, 4, 10)  # denwa 2023-04-01 (改正前, until 2023-04-16)
NEW = dt.date(2023, 5, 1)  # denwa 2023-04-17 (改正後)


def D(s: str | int) -> Decimal:
    """An amount as a test writes it: 1500, "8.49", "1,500円"."""
    if isinstance(s, str) and ("円" in s or "¥" in s):
        return parse_jpy(s)
    return Decimal(str(s).replace(",", ""))


def price(doc: str, day: dt.date, facts: dict[str, Any]) -> ChargeReport:
    """Price inline facts, validated against the version's vocabulary as a case file is."""
    book = rulebook_for(doc, day)
    return compute_charges(book, facts_dict(validate_facts(book, facts)), day)


def amount(r: ChargeReport, name: str) -> Decimal | None:
    return r.line(name).amount


def case(name: str) -> Path:
    p = ROOT / "examples" / "cases" / name
    assert p.exists(), f"example case {name} is missing"
    return p


def case_report(name: str) -> ChargeReport:
    p = prepare(str(case(name)))
    return compute_charges(p.book, p.facts, p.as_of)


# ==== denwa: 料金表第1表第2 1(21) 通話に関する料金 ==========================================

PLAN1 = {"kind": "type2", "terminates_at_carrier": False, "one_number_per_line": False}
PLAN1_NEW = {**PLAN1, "docomo_corporate_contract": False}
PLAN2_C1 = {"kind": "type2", "terminates_at_carrier": True, "one_number_per_line": False,
            "course": "course1"}
PLAN2_C2 = {**PLAN2_C1, "course": "course2"}
PLAN3 = {"kind": "type2", "terminates_at_carrier": False, "one_number_per_line": True}
PLAN4_C2 = {**PLAN2_C2, "docomo_corporate_contract": True}


def call(seconds: int, **kw: Any) -> dict[str, Any]:
    return {"duration": f"{seconds}秒", "domestic": True, "excluded": False,
            "to_special_number": False, **kw}


def calls_facts(service: dict[str, Any], *calls: dict[str, Any]) -> dict[str, Any]:
    return {"service": service, "lines": [], "calls": list(calls)}


def _new(service: dict[str, Any]) -> dict[str, Any]:
    return {"docomo_corporate_contract": False, **service}


@pytest.mark.parametrize("day", [OLD, NEW], ids=["old", "new"])
@pytest.mark.parametrize(("seconds", "units"), [(1, 1), (59, 1), (60, 1), (61, 2), (120, 2),
                                                 (121, 3)])
@pytest.mark.parametrize("service", [PLAN1, PLAN2_C1], ids=["plan1", "plan2-course1"])
def test_call_charge_a_60s_units(day: dt.date, seconds: int, units: int,
                                 service: dict[str, Any]) -> None:
    # (21)イ(ア) プラン1及びプラン2のコース1: 60秒までごとに30円(33円)
    # e.g. 60秒 → 1 unit × 30円 = 30円; 61秒 → 2 units of 60秒 × 30円 = 60円
    svc = _new(service) if day == NEW else service
    r = price("denwa", day, calls_facts(svc, call(seconds)))
    ln = r.line("call_charge_a")
    assert ln.status == "charged"
    assert ln.amount == units * D(30)
    assert ln.tax is TaxCategory.EXCLUDED
    assert ln.amount_with_tax == units * D(33)  # 30円(33円) per unit, printed
    assert r.line("call_charge_b").status == "not_applicable"
    assert r.total == units * D(30) and r.total_with_tax == units * D(33)


@pytest.mark.parametrize("day", [OLD, NEW], ids=["old", "new"])
@pytest.mark.parametrize(("seconds", "units"), [(1, 1), (30, 1), (31, 2), (60, 2), (61, 3)])
@pytest.mark.parametrize("service", [PLAN2_C2, PLAN3], ids=["plan2-course2", "plan3"])
def test_call_charge_b_30s_units(day: dt.date, seconds: int, units: int,
                                 service: dict[str, Any]) -> None:
    # (21)イ(イ) プラン2のコース2及びプラン3: 30秒までごとに10円(11円)
    # e.g. 30秒 → 1 unit 10円 (税込 11円); 31秒 → 2 units × 10円 = 20円 (税込 22円)
    svc = _new(service) if day == NEW else service
    r = price("denwa", day, calls_facts(svc, call(seconds)))
    ln = r.line("call_charge_b")
    assert ln.status == "charged"
    assert ln.amount == units * D(10)
    assert ln.amount_with_tax == units * D(11)  # 10円(11円) per unit, printed
    assert r.line("call_charge_a").status == "not_applicable"


def test_plan4_is_billed_per_30s_after_the_amendment() -> None:
    # 改正後 (21)イ(イ)「プラン2のコース2及びプラン3並びにプラン4に係るもの」:
    # 45秒 → 2 units of 30秒 × 10円 = 20円; 税込 22円 (case denwa-call-plan4-course2)
    r = case_report("denwa-call-plan4-course2.yaml")
    assert amount(r, "call_charge_b") == D(20)
    assert r.total == D(20) and r.total_with_tax == D(22)


def test_printed_tax_included_figures_match() -> None:
    # the tariff prints the 税込 figure beside each price: 30円(33円), 10円(11円)
    assert add_tax(D(30)) == D(33)
    assert add_tax(D(10)) == D(11)
    one_a = price("denwa", NEW, calls_facts(_new(PLAN1), call(60))).line("call_charge_a")
    one_b = price("denwa", NEW, calls_facts(_new(PLAN3), call(30))).line("call_charge_b")
    assert (one_a.amount, one_a.amount_with_tax) == (D(30), D(33))
    assert (one_b.amount, one_b.amount_with_tax) == (D(10), D(11))
    assert "消費税10%、1円未満切捨て" in one_a.assumptions


def test_only_domestic_and_not_excluded_calls_count() -> None:
    # イ本文: 国内通話に関する料金(当社が別に定める通話を除きます。)
    # 61秒 domestic → 60円; 61秒 international → not under イ; 61秒 excluded → not under イ
    r = price("denwa", NEW, calls_facts(_new(PLAN1), call(61), call(61, domestic=False),
                                        call(61, excluded=True)))
    assert amount(r, "call_charge_a") == D(60)


def test_call_breakdown_shows_each_call() -> None:
    r = price("denwa", NEW, calls_facts(_new(PLAN1), call(60), call(61)))
    ln = r.line("call_charge_a")
    # 60秒 → 30円, 61秒 → 60円
    assert [(b["path"], b["value"]) for b in ln.breakdown] == [("calls[0]", D(30)),
                                                                ("calls[1]", D(60))]


def test_special_number_old_version_any_call_under_i() -> None:
    # 改正前 (21)エ: イの規定にかかわらず … イの場合に該当すると判断したとき 60秒までごとに30円(33円)
    # プラン3 (otherwise 30秒/10円): 45秒 → 1 unit of 60秒 × 30円 = 30円 (case file)
    r = case_report("denwa-call-special-number-old.yaml")
    assert amount(r, "call_charge_e") == D(30)
    assert amount(r, "call_charge_b") == D(0)  # the call is not priced twice
    assert r.total_with_tax == D(33)


def test_special_number_new_version() -> None:
    # 改正後 (21)エ: イ(ア)に規定する通話に該当すると判断したとき 60秒までごとに30円(33円)
    # 91秒 → 2 units × 30円 = 60円; the ordinary 59秒 call → (ア) 1 unit 30円
    r = case_report("charge-denwa-special-number-new.yaml")
    assert amount(r, "call_charge_e") == D(60)
    assert amount(r, "call_charge_a") == D(30)
    assert r.total == D(90) and r.total_with_tax == D(99)


def test_special_number_61s_boundary() -> None:
    # エ: 60秒 → 30円; 61秒 → 2 units = 60円
    for secs, exp in ((60, 30), (61, 60)):
        c = call(secs, to_special_number=True, judged_as_i_a=True)
        r = price("denwa", NEW, calls_facts(_new(PLAN1), c))
        assert amount(r, "call_charge_e") == D(exp)
        assert amount(r, "call_charge_a") == D(0)


def test_plan4_on_course1_is_priced_by_both_rows_and_flagged() -> None:
    # プラン4 is 「プラン2のうち…」: a プラン4 on コース1 is literally both 「プラン2のコース1」
    # ((ア), 60秒/30円) and 「プラン4」((イ), 30秒/10円); the clause file encodes both as the
    # text reads. 45秒 → (ア) 1 unit 30円 + (イ) 2 units 20円 = 50円: the engine must say the
    # call is priced twice.
    svc = {**PLAN2_C1, "docomo_corporate_contract": True}
    r = price("denwa", NEW, calls_facts(svc, call(45)))
    assert amount(r, "call_charge_a") == D(30)
    assert amount(r, "call_charge_b") == D(20)
    assert r.warnings and r.warnings[0]["record"] == "calls[0]"
    assert set(r.warnings[0]["lines"]) == {"call_charge_a", "call_charge_b"}


def test_many_calls_case() -> None:
    # charge-denwa-plan2-course1-calls-new: 1+2+2+3+1 = 9 units × 30円 = 270円; 税込 297円
    r = case_report("charge-denwa-plan2-course1-calls-new.yaml")
    assert amount(r, "call_charge_a") == D(270)
    assert r.total_with_tax == D(297)


# ==== denwa: 料金表第1表第1 1(7) 違約金, 第14条の65の4 最低利用期間 ===========================

def lines_facts(service: dict[str, Any], *lines: dict[str, Any],
                terminated_on: str | None = None) -> dict[str, Any]:
    """Registered lines; the contract terminated on `terminated_on`, or stated not terminated
    (`null`: observed absence) — left out, whether it ended within the period is unknown."""
    f: dict[str, Any] = {"service": service, "calls": [], "lines": list(lines),
                         "contract": {"terminated_on": terminated_on}}
    return f


def test_minimum_period_unknown_termination_is_undetermined() -> None:
    # 第14条の65の4: a line counts when removed or the contract terminated within 30 days.
    # Left out, the termination date is unknown: the penalty is undetermined, not 0円; stated
    # absent (null), the line removed on day 31 completed the period.
    line = {"number": "090-2", "registered_on": "2023-03-20", "removed_on": "2023-04-19"}
    facts = lines_facts(PLAN1, line)
    del facts["contract"]
    r = price("denwa", OLD, facts)
    assert r.line("penalty").status == "undetermined"
    assert "contract.terminated_on" in r.line("penalty").missing_facts
    assert price("denwa", OLD, lines_facts(PLAN1, line)).line("penalty").status == \
        "not_applicable"


@pytest.mark.parametrize(("day", "service"), [(OLD, PLAN1), (NEW, _new(PLAN1)),
                                              (NEW, _new(PLAN2_C1))],
                         ids=["old-plan1", "new-plan1", "new-plan2-course1"])
def test_minimum_period_day30_vs_day31(day: dt.date, service: dict[str, Any]) -> None:
    # 第14条の65の4第2項: 登録の日から起算して30日 — the registration day is day 1.
    # registered 2023-03-20: day 30 = 2023-04-18, day 31 = 2023-04-19.
    reg = "2023-03-20"
    in_period = {"number": "090-1", "registered_on": reg, "removed_on": "2023-04-18"}
    after = {"number": "090-2", "registered_on": reg, "removed_on": "2023-04-19"}
    r30 = price("denwa", day, lines_facts(service, in_period))
    assert amount(r30, "penalty") == D(1000)  # 1回線 × 1,000円(不課税)
    r31 = price("denwa", day, lines_facts(service, after))
    assert r31.line("penalty").status == "not_applicable"  # 最低利用期間を満了したもの
    both = price("denwa", day, lines_facts(service, in_period, after))
    assert amount(both, "penalty") == D(1000)  # only the day-30 line counts
    assert [(b["path"], b["included"]) for b in both.line("penalty").breakdown] == [
        ("lines[0]", True), ("lines[1]", False)]  # the line that completed the period


def test_minimum_period_case_files() -> None:
    # denwa-min-period-day30: 05-01 登録, 05-30 削除 (day 30) → 1,000円
    # denwa-min-period-day31: 05-31 削除 (day 31) → no penalty
    assert amount(case_report("denwa-min-period-day30.yaml"), "penalty") == D(1000)
    assert case_report("denwa-min-period-day31.yaml").line("penalty").status == "not_applicable"


def test_penalty_is_not_taxable() -> None:
    # 1,000円(不課税) per line: 3 lines → 3,000円, no consumption tax
    r = case_report("denwa-penalty-several-lines.yaml")
    ln = r.line("penalty")
    assert ln.amount == D(3000)
    assert ln.tax is TaxCategory.NOT_TAXABLE
    assert ln.tax_amount == D(0) and ln.amount_with_tax == D(3000)
    assert r.tax["不課税"] == {"base": D(3000), "tax": D(0), "with_tax": D(3000)}
    assert r.total == r.total_with_tax == D(3000)
    assert ln.period == "one_time"  # 一括して支払っていただきます


def test_penalty_by_contract_termination() -> None:
    # 利用契約の解除 2023-04-12: line A registered 04-01 (day 30 = 04-30) → in period;
    # line B registered 03-01 (day 30 = 03-30) → completed the period, excluded.
    # 1 × 1,000円 = 1,000円. Neither line was removed (null: observed absence).
    r = price("denwa", OLD, lines_facts(
        PLAN1, {"number": "A", "registered_on": "2023-04-01", "removed_on": None},
        {"number": "B", "registered_on": "2023-03-01", "removed_on": None},
        terminated_on="2023-04-12"))
    assert amount(r, "penalty") == D(1000)


@pytest.mark.parametrize(("day", "service"), [
    (OLD, PLAN2_C2), (OLD, PLAN3), (NEW, _new(PLAN2_C2)), (NEW, _new(PLAN3)),
    (NEW, {**PLAN2_C1, "docomo_corporate_contract": True})],
    ids=["old-course2", "old-plan3", "new-course2", "new-plan3", "new-plan4"])
def test_no_minimum_period_for_excluded_plans(day: dt.date, service: dict[str, Any]) -> None:
    # 第14条の65の4第1項: プラン2のコース2又はプラン3（改正後: 、プラン3又はプラン4）を除きます
    r = price("denwa", day, lines_facts(
        service, {"number": "A", "registered_on": "2023-04-01", "removed_on": "2023-04-02"}))
    assert r.line("penalty").status == "not_applicable"


def test_penalty_and_calls_case() -> None:
    # charge-denwa-penalty-and-calls-old: 2 lines × 1,000円 + 61秒 → 60円 = 2,060円;
    # 税込 2,000円 (不課税) + 66円 = 2,066円
    r = case_report("charge-denwa-penalty-and-calls-old.yaml")
    assert amount(r, "penalty") == D(2000)
    assert amount(r, "call_charge_a") == D(60)
    assert r.subtotals["one_time"] == D(2000) and r.subtotals["usage"] == D(60)
    assert r.total == D(2060) and r.total_with_tax == D(2066)


# ==== rakuten-miitel: 別表 サービス料金表 ==================================================

RDAY = dt.date(2025, 6, 1)  # rakuten-miitel 2025-04-01 (附則: 2025年4月1日より実施)


def rfacts(**over: Any) -> dict[str, Any]:
    """A complete case: one 050 number, 11 full IDs (no 事務手数料), nothing else."""
    base: dict[str, Any] = {
        "numbers": [{"kind": "n050", "waiting_calls_needed": 0}], "calls": [],
        "full_seats": 11, "full_seats_at_contract": 11, "reduced_within_6_months": False,
        "view_seats": 0, "mobile_users": 0, "waiting_calls": 0, "queuing_seats": 0,
        "predictive_users": 0, "seat_map": False, "agent_list": False, "tenant_users": 11,
        "ivr_rules": 0, "ivr_used": 0, "storage_hours": 0, "storage_years": 1,
        "evasion": {"evaded": False}, "debt": {"overdue": False},
        "damages": {"liable_by_law": False},
    }
    base.update(over)
    return base


def rprice(**over: Any) -> ChargeReport:
    return price("rakuten-miitel", RDAY, rfacts(**over))


def test_rakuten_base_case_is_complete() -> None:
    # フル機能 6,980円 × 11人 = 76,780円 (～: lower bound) + 050番号 1,500円 = 78,280円
    # 税込: 78,280 × 1.1 = 86,108円
    r = rprice()
    assert r.complete and r.total == D(78280) and r.total_with_tax == D(86108)
    assert r.total_is_lower_bound  # 「6,980円/人/月～」
    assert r.final  # a lower bound is still final: nothing is quoted or unknown


@pytest.mark.parametrize(("kinds", "n050", "n0120"), [
    (["n050"], 1500, None),  # 1,500円/1番号
    (["n050", "n050", "n050"], 4500, None),  # 3 × 1,500円
    (["n0120"], None, 2500),  # 2,500円/1番号
    (["n0120", "n0800", "n050"], 1500, 5000),  # 0120 + 0800: 2 × 2,500円; 050: 1,500円
])
def test_number_monthly_fees(kinds: list[str], n050: int | None, n0120: int | None) -> None:
    r = rprice(numbers=[{"kind": k, "waiting_calls_needed": 0} for k in kinds])
    for name, want in (("basic_050", n050), ("basic_0120_0800", n0120)):
        ln = r.line(name)
        if want is None:
            assert ln.status == "not_applicable"
        else:
            assert ln.amount == D(want) and ln.period == "monthly"
            assert ln.amount_with_tax == add_tax(D(want))  # 1,500 → 1,650; 2,500 → 2,750


def test_at_least_one_number() -> None:
    # 電話番号使用料 050番号: 「最低でも、1番号の選択が必要です。」 — no number: no monthly
    # number fee, and the order requirement is unmet
    r = rprice(numbers=[])
    assert r.line("basic_050").status == "not_applicable"
    assert r.line("basic_0120_0800").status == "not_applicable"
    out = evaluate(r.book, rfacts(numbers=[]), RDAY).outcomes["order"]
    assert out.value == "requirement_unmet"
    ok = evaluate(r.book, rfacts(), RDAY).outcomes["order"]
    assert ok.value != "requirement_unmet"


def rcall(line: str, dest: str, seconds: int) -> dict[str, Any]:
    return {"line": line, "destination": dest, "duration": f"{seconds}秒"}


@pytest.mark.parametrize(("line", "dest", "seconds", "name", "want"), [
    # 050 固定電話 8.49円/3分: 180秒 → 1 unit = 8.49円; 181秒 → 2 units = 16.98円
    ("n050", "fixed", 180, "call_050_fixed", "8.49"),
    ("n050", "fixed", 181, "call_050_fixed", "16.98"),
    ("n050", "fixed", 1, "call_050_fixed", "8.49"),
    # 050 携帯電話/PHS 16.9円/1分: 60秒 → 16.9円; 61秒 → 2 units = 33.8円
    ("n050", "mobile", 60, "call_050_mobile", "16.9"),
    ("n050", "mobile", 61, "call_050_mobile", "33.8"),
    # 050 他社IP電話 かけ放題: 0円 however long
    ("n050", "other_ip", 3600, "call_050_other_ip", "0"),
    # 0120/0800 固定電話 7.0円/1分: 60秒 → 7円; 61秒 → 14円
    ("n0120", "fixed", 60, "call_0120_fixed", "7"),
    ("n0800", "fixed", 61, "call_0120_fixed", "14"),
    # 0120/0800 携帯電話/PHS 20.0円/1分: 61秒 → 40円
    ("n0120", "mobile", 61, "call_0120_mobile", "40"),
    # 0120/0800 他社IP電話 7.0円/1分: 120秒 → 14円; 121秒 → 21円
    ("n0800", "other_ip", 120, "call_0120_other_ip", "14"),
    ("n0120", "other_ip", 121, "call_0120_other_ip", "21"),
])
def test_ip_phone_call_rows(line: str, dest: str, seconds: int, name: str, want: str) -> None:
    r = rprice(numbers=[{"kind": "n050", "waiting_calls_needed": 0},
                        {"kind": "n0120", "waiting_calls_needed": 0}],
               calls=[rcall(line, dest, seconds)])
    ln = r.line(name)
    assert ln.status == "charged" and ln.amount == D(want) and ln.period == "usage"


def test_sen_amounts_and_their_tax() -> None:
    # the tax is truncated to whole yen, the tariff's sen stay:
    # 16.98円 (2 units): tax 1.698 → 1円, with tax 17.98円;
    # 8.49円 (1 unit): tax 0.849 → 0円, with tax 8.49円. The stated convention is on the line.
    r = rprice(calls=[rcall("n050", "fixed", 181)])
    ln = r.line("call_050_fixed")
    assert ln.amount_with_tax == D("17.98") and ln.tax_amount == D(1)
    assert "消費税10%、1円未満切捨て" in ln.assumptions
    assert any("端数" in a for a in ln.assumptions)
    one = rprice(calls=[rcall("n050", "fixed", 180)]).line("call_050_fixed")
    assert one.amount_with_tax == D("8.49") and one.tax_amount == D(0)


def test_050_calls_case() -> None:
    # rakuten-price-050-calls: 固定 7分 → 3 units, 3分 → 1, 288分 → 96: 100 × 8.49 = 849円;
    # 携帯 2分30秒 → 3 units, 7分 → 7: 10 × 16.9 = 169円; 他社IP かけ放題 0円
    r = case_report("rakuten-price-050-calls.yaml")
    assert amount(r, "call_050_fixed") == D(849)
    assert amount(r, "call_050_mobile") == D(169)
    assert amount(r, "call_050_other_ip") == D(0)


@pytest.mark.parametrize(("at_contract", "now", "reduced", "fee"), [
    (10, 10, False, True),  # ご契約時にフル機能IDが10ID以下 → ¥89,000
    (11, 11, False, False),  # 11 IDs, not reduced → none
    (1, 1, False, True),
    (12, 10, True, True),  # ご利用開始後6ヶ月以内に10人以下の契約になった → ¥89,000
])
def test_admin_fee_10_vs_11_ids(at_contract: int, now: int, reduced: bool, fee: bool) -> None:
    r = rprice(full_seats=now, full_seats_at_contract=at_contract,
               reduced_within_6_months=reduced)
    ln = r.line("admin_fee")
    if fee:
        # ¥89,000 税別, one time; 税込 97,900円
        assert ln.amount == D(89000) and ln.amount_with_tax == D(97900)
        assert ln.period == "one_time"
    else:
        assert ln.status == "not_applicable"
    # フル機能 6,980円/人/月～ × now
    assert r.line("miitel_full").amount == 6980 * now


def test_admin_fee_case() -> None:
    # rakuten-price-admin-fee-8-ids: 55,840 + 89,000 + 1,500 = 146,340円; 税込 160,974円
    r = case_report("rakuten-price-admin-fee-8-ids.yaml")
    assert amount(r, "admin_fee") == D(89000)
    assert r.total == D(146340) and r.total_with_tax == D(160974)


def test_per_seat_rows() -> None:
    # 閲覧のみ 980円 × 5 = 4,900; モバイル 500円 × 3 = 1,500; 待ち呼 1,500円 × 5 = 7,500;
    # キューイング 1,980円 × 11 = 21,780
    r = rprice(view_seats=5, mobile_users=3, waiting_calls=5, queuing_seats=11)
    assert amount(r, "miitel_view") == D(4900)
    assert amount(r, "mobile") == D(1500)
    assert amount(r, "waiting_call") == D(7500)
    assert amount(r, "queuing") == D(21780)
    # 78,280 + 4,900 + 1,500 + 7,500 + 21,780 = 113,960円
    assert r.total == D(113960)


@pytest.mark.parametrize(("users", "call_amt", "quoted"), [
    (20, 70000, False),  # 3,500円 × 20 = 70,000
    (99, 346500, False),  # 3,500円 × 99 = 346,500
    (100, None, True),  # ご利用人数が100人以上 → 別途お見積り
    (150, None, True),
])
def test_predictive_call(users: int, call_amt: int | None, quoted: bool) -> None:
    r = rprice(predictive_users=users, full_seats=users, full_seats_at_contract=users,
               tenant_users=users)
    names = ("predictive_call", "predictive_initial", "predictive_monthly")
    if quoted:
        for n in names:
            ln = r.line(n)
            assert ln.status == "quote" and ln.amount is None and "quote" in ln.flags
        assert not r.final  # never presented as a final total
        assert r.complete  # nothing is unknown: it is quoted
        assert all(ln.name not in names for ln in r.charged)
    else:
        assert amount(r, "predictive_call") == D(call_amt or 0)
        assert amount(r, "predictive_initial") == D(300000)  # 初期費用(税抜)30万円
        assert amount(r, "predictive_monthly") == D(50000)  # 月額(税抜)5万円
        assert r.line("predictive_initial").period == "one_time"
        assert r.final


def test_predictive_case() -> None:
    # rakuten-price-predictive: 139,600 + 70,000 + 300,000 + 50,000 + 1,500 = 561,100円
    r = case_report("rakuten-price-predictive.yaml")
    assert r.total == D(561100) and r.total_with_tax == D(617210)
    q = case_report("rakuten-price-predictive-quote.yaml")
    assert [ln.name for ln in q.quotes] == ["predictive_call", "predictive_initial",
                                             "predictive_monthly"]
    assert not q.final


@pytest.mark.parametrize(("users", "want"), [
    (1, 30000), (100, 30000),  # 100ユーザまでは月額30,000円
    (101, 30200),  # 30,000 + 1 × 200
    (120, 34000),  # 30,000 + 20 × 200
])
@pytest.mark.parametrize("name", ["seat_map", "agent_list"])
def test_seat_map_and_agent_list(users: int, want: int, name: str) -> None:
    r = rprice(seat_map=True, agent_list=True, tenant_users=users)
    ln = r.line(name)
    assert ln.amount == D(want) and "lower_bound" in ln.flags  # 30,000円～
    assert r.total_is_lower_bound


def test_seat_map_printed_tax_included() -> None:
    # シートマップ: 「月額30,000円(税込33,000円)」
    ln = rprice(seat_map=True, tenant_users=100).line("seat_map")
    assert ln.amount == D(30000) and ln.amount_with_tax == D(33000)


@pytest.mark.parametrize(("rules", "used", "ivr", "over"), [
    (2, 2, 38000, None),  # 19,000円 × 2; no overage
    (2, 3, 38000, 25000),  # 1個超過 × 25,000円
    (1, 4, 19000, 75000),  # 3個超過 × 25,000円
])
def test_ivr_and_overage(rules: int, used: int, ivr: int, over: int | None) -> None:
    r = rprice(ivr_rules=rules, ivr_used=used)
    assert amount(r, "ivr") == D(ivr)
    if over is None:
        assert r.line("ivr_overage").status == "not_applicable"
    else:
        assert amount(r, "ivr_overage") == D(over)


STORAGE = [  # 別表 データ保管料（ビッグデータバンク）: 総額 as printed, 1年 and 2年 columns
    (500, 0, 0), (1000, 28800, 57600), (2000, 105600, 211200), (3000, 151200, 302400),
    (4000, 192000, 384000), (5000, 228000, 456000), (6000, 259200, 518400),
    (7000, 285600, 571200), (8000, 307200, 614400), (9000, 324000, 648000),
    (10000, 336000, 672000),
]


@pytest.mark.parametrize(("hours", "one_year", "two_years"), STORAGE)
@pytest.mark.parametrize("years", [1, 2])
def test_storage_rows_as_printed(hours: int, one_year: int, two_years: int,
                                 years: int) -> None:
    r = rprice(storage_hours=hours, storage_years=years)
    storage = [ln for ln in r.charged if ln.name.startswith("storage_")]
    assert [ln.name for ln in storage] == [f"storage_{hours}h_{years}y"]
    assert storage[0].amount == D(one_year if years == 1 else two_years)
    assert storage[0].tax is TaxCategory.EXCLUDED  # 料金は全て税別金額表示


def test_storage_printed_totals_arithmetic() -> None:
    # the printed 総額 agree with 単価 × 時間 × 12 (× 2 for 2年) only from 5000時間相当 on:
    # 5000: 3.80 × 5000 × 12 = 228,000 ✓; but 2000: 4.60 × 2000 × 12 = 110,400 ≠ 105,600.
    units = {5000: "3.80", 6000: "3.60", 7000: "3.40", 8000: "3.20", 9000: "3.00",
             10000: "2.80"}
    for hours, one, two in STORAGE:
        assert two == 2 * one  # every 2年 total is twice the 1年 one
        if hours in units:
            assert D(units[hours]) * hours * 12 == one
    assert D("4.60") * 2000 * 12 != 105600  # the slip the clause file records


def test_storage_none() -> None:
    assert not [ln for ln in rprice(storage_hours=0).charged if ln.name.startswith("storage")]


# ==== rakuten-miitel: 第17条 cap, 第21条 割増金, 第22条 延滞利息 ===============================

def test_late_interest_day_10_vs_day_11() -> None:
    # 第22条: 10,000円, 支払期日 2025-05-31. ただし書: 翌日(06-01)から起算して10日以内
    # (06-01..06-10) に支払いがあれば延滞利息なし.
    base = {"overdue": True, "principal": "10,000円", "due": "2025-05-31"}
    day10 = rprice(debt={**base, "paid_on": "2025-06-10"})
    assert day10.line("late_interest").status == "not_applicable"
    # paid 06-11 (day 11): period 06-01 .. 06-10 = 10 days;
    # 10,000 × 0.146 × 10 / 365 = 40円
    day11 = rprice(debt={**base, "paid_on": "2025-06-11"})
    ln = day11.line("late_interest")
    assert ln.amount == D(40)
    assert ln.tax is TaxCategory.NOT_TAXABLE and ln.amount_with_tax == D(40)
    # the convention is stated once: by the line's own notes (365日, 1円未満), not again by
    # the engine's generic 「365日・1円未満切捨て」
    assert any("365日" in a for a in ln.assumptions) and "365日・1円未満切捨て" not in \
        ln.assumptions


@pytest.mark.parametrize(("principal", "paid_on", "want"), [
    # 06-01 .. 06-29 = 29 days: 10,000 × 0.146 × 29 / 365 = 116円
    ("10,000円", "2025-06-30", 116),
    # 06-01 .. 06-11 = 11 days: 12,345 × 0.146 × 11 / 365 = 54.318 → 54円 (切捨て)
    ("12,345円", "2025-06-12", 54),
    # 06-01 .. 07-14 = 30 + 14 = 44 days: 123,456 × 0.146 × 44 / 365 = 2,172.8256 → 2,172円
    ("123,456円", "2025-07-15", 2172),
])
def test_late_interest_amounts(principal: str, paid_on: str, want: int) -> None:
    r = rprice(debt={"overdue": True, "principal": principal, "due": "2025-05-31",
                     "paid_on": paid_on})
    assert amount(r, "late_interest") == D(want)


def test_late_interest_cases() -> None:
    assert amount(case_report("rakuten-late-interest-day-11.yaml"), "late_interest") == D(493)
    assert amount(case_report("rakuten-late-interest-44-days.yaml"),
                  "late_interest") == D(2172)


@pytest.mark.parametrize(("evaded", "surcharge"), [
    # 割増金 = 2 × 免れた額 + 消費税相当額: 2 × 10,000 = 20,000; + 2,000 = 22,000
    (10000, 22000),
    # 2 × 12,345 = 24,690; × 1.1 = 27,159円
    (12345, 27159),
])
def test_surcharge(evaded: int, surcharge: int) -> None:
    r = rprice(evasion={"evaded": True, "evaded_amount": f"{evaded}円"})
    ev, sur = r.line("evaded_amount"), r.line("surcharge")
    assert ev.amount == D(evaded)  # 「その免れた額のほか」: the evaded amount itself (税別)
    assert ev.amount_with_tax == add_tax(D(evaded))
    assert sur.amount == D(surcharge)
    assert sur.tax is TaxCategory.INCLUDED  # the amount already contains the tax
    assert sur.amount_with_tax == D(surcharge)
    assert sur.tax_amount is not None
    assert D(surcharge) - sur.tax_amount == 2 * evaded  # tax contained: the 消費税相当額


def test_surcharge_case() -> None:
    r = case_report("rakuten-surcharge.yaml")
    assert (amount(r, "evaded_amount"), amount(r, "surcharge")) == (D(10000), D(22000))


@pytest.mark.parametrize(("total", "consequential", "paid", "want"), [
    # 第17条第2項: min(500,000 − 150,000, 120,000) = 120,000 (過去12ヶ月の対価が上限)
    ("500,000円", "150,000円", "120,000円", 120000),
    # 100,000 − 0 = 100,000 < 120,000: the damage itself
    ("100,000円", "0円", "120,000円", 100000),
    # equal: 350,000 = 350,000
    ("400,000円", "50,000円", "350,000円", 350000),
])
def test_liability_cap(total: str, consequential: str, paid: str, want: int) -> None:
    r = rprice(damages={"liable_by_law": True, "total": total, "consequential": consequential},
               contractor={"paid_past_12_months": paid})
    assert amount(r, "liability_cap") == D(want)


def test_liability_cap_is_paid_by_the_company_never_billed() -> None:
    # 第17条第2項: 当社 pays up to what the contractor paid in the past 12 months — an amount
    # in the contractor's favour, listed apart and never added to the total
    r = case_report("rakuten-liability-cap.yaml")
    ln = r.line("liability_cap")
    assert ln.status == "company_pays" and ln.amount == D(120000)
    assert ln not in r.charged and r.total == D(0)


def test_liability_cap_not_applicable() -> None:
    assert rprice().line("liability_cap").status == "not_applicable"


# ==== flags ==================================================================================

def test_flag_lower_bound() -> None:
    # 「6,980円/人/月～」: the line and the total are lower bounds
    r = case_report("rakuten-price-seats-lower-bound.yaml")
    assert "lower_bound" in r.line("miitel_full").flags
    assert r.total_is_lower_bound and r.total == D(111100)


def test_flag_quote() -> None:
    # プレディクティブコール, ご利用人数 120 (≥ 100): 別途お見積り — no amount, never final
    p = prepare(str(case("rakuten-price-predictive-quote.yaml")))
    data = charges_json(p, evaluate(p.book, p.facts, p.as_of))
    quoted = [ln for ln in data["lines"] if ln["status"] == "quote"]
    assert [ln["name"] for ln in quoted] == ["predictive_call", "predictive_initial",
                                             "predictive_monthly"]
    assert all(ln["amount"] is None and "quote" in ln["flags"] for ln in quoted)
    assert data["final"] is False and data["complete"] is True


def test_flag_undetermined_rakuten() -> None:
    # the number of full IDs is not given: フル機能 and 事務手数料 cannot be priced
    f = rfacts()
    del f["full_seats"], f["full_seats_at_contract"]
    r = price("rakuten-miitel", RDAY, f)
    assert r.line("miitel_full").status == "undetermined"
    assert r.line("miitel_full").missing_facts == ["full_seats"]
    assert r.line("admin_fee").status == "undetermined"
    assert r.total == D(1500) and not r.complete and not r.final


# ==== flags: undetermined ====================================================================

def test_undetermined_call_duration() -> None:
    # a call whose duration the case does not give: the line cannot be priced
    r = price("denwa", NEW, calls_facts(_new(PLAN1), call(61), {"domestic": True,
                                                                 "excluded": False,
                                                                 "to_special_number": False}))
    ln = r.line("call_charge_a")
    assert ln.status == "undetermined"
    assert "calls[1].duration" in ln.missing_facts
    assert ln not in r.charged and r.total == D(0)
    assert not r.complete and not r.final


def test_undetermined_plan() -> None:
    # the plan is unknown: neither (ア) nor (イ) can be decided; the facts are listed
    facts = {"lines": [], "calls": [call(61)]}
    r = price("denwa", NEW, facts)
    ln = r.line("call_charge_a")
    assert ln.status == "undetermined"
    assert "service.kind" in ln.missing_facts
    p = Prepared("<inline>", r.book, facts_dict(validate_facts(r.book, facts)), NEW, None, None)
    data = charges_json(p, evaluate(p.book, p.facts, p.as_of))
    assert data["complete"] is False and data["final"] is False
    assert "call_charge_a" in [u["name"] for u in data["undetermined"]]
    assert data["total"] == "0"


# ==== engine semantics on a small document of its own ========================================

SYNTHETIC = """document syn "合成料金表" {
  version "1"
  effective 2024-01-01
}
fact users: int "利用人数"
appendix 別表 "料金表" {
  row 基本 {
    text "月額 980円（税込）"
    charge basic "基本料" { amount 980円 tax included per month }
  }
  row 席 {
    text "6,980円/人/月～"
    charge seats "席料" {
      amount 6980円 * users
      when users > 0
      tax excluded
      per month
      lower_bound
      quote when users >= 100
      assume "人数は月末時点"
    }
  }
}
"""


@pytest.fixture
def synthetic(tmp_path: Path) -> Path:
    p = tmp_path / "syn.yk"
    p.write_text(SYNTHETIC, encoding="utf-8")
    return p


def _syn(path: Path, users: int | None) -> ChargeReport:
    book = rulebook_for(str(path), dt.date(2024, 2, 1))
    facts = {} if users is None else {"users": users}
    return compute_charges(book, facts, dt.date(2024, 2, 1))


def test_tax_included_line(synthetic: Path) -> None:
    # 980円 税込: tax contained 980 × 10/110 = 89.09 → 89円; before tax 891円
    r = _syn(synthetic, 0)
    ln = r.line("basic")
    assert (ln.amount, ln.tax_amount, ln.amount_with_tax) == (D(980), D(89), D(980))
    assert r.total == D(891) and r.total_with_tax == D(980)
    assert r.line("seats").status == "not_applicable"


def test_lower_bound_quote_and_unknown_on_one_row(synthetic: Path) -> None:
    # 3 users: 6,980 × 3 = 20,940 (～); total 20,940 + 891 = 21,831 (lower bound);
    # 税込: 20,940 × 1.1 = 23,034 + 980 = 24,014
    r = _syn(synthetic, 3)
    assert r.total == D(21831) and r.total_with_tax == D(24014) and r.total_is_lower_bound
    assert "人数は月末時点" in r.line("seats").assumptions
    q = _syn(synthetic, 100)  # quote when users >= 100
    assert q.line("seats").status == "quote" and not q.total_is_lower_bound and not q.final
    u = _syn(synthetic, None)  # unknown users: when and quote are unknown
    assert u.line("seats").status == "undetermined" and u.line("seats").missing_facts == ["users"]
    assert u.total == D(891) and not u.complete


def test_durations_dumped_by_pydantic_are_restored() -> None:
    # `model_dump` turns a Duration into a dict; compute_charges accepts such facts too
    from yakkan.engine.core.periods import Duration
    from yakkan.engine.features.charges import restore_durations
    assert restore_durations({"calls": [{"duration": {"seconds": 61, "days": 0, "months": 0}}]}) \
        == {"calls": [{"duration": Duration(seconds=61)}]}


# ==== example cases, CLI, JSON ===============================================================

def _charge_expect(path: Path) -> dict[str, Any] | None:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    exp = (data.get("expect") or {}).get("charges")
    return exp if isinstance(exp, dict) else None


PRICED = [p for p in CASES if _charge_expect(p) is not None]


def test_there_are_priced_cases_of_our_own() -> None:
    own = [p for p in PRICED if p.name.startswith("charge-")]
    assert len(own) >= 6, own


@pytest.mark.parametrize("path", PRICED, ids=[p.stem for p in PRICED])
def test_example_case_charges(path: Path) -> None:
    """Each priced case's `expect.charges`: total, total_with_tax, flags and line amounts
    (under `lines:` or, as older cases write them, as keys beside `total`)."""
    exp = dict(_charge_expect(path) or {})
    r = case_report(path.name)
    lines = dict(exp.pop("lines", {}) or {})
    flags = {k: exp.pop(k) for k in ("final", "complete", "total_is_lower_bound") if k in exp}
    totals = {k: exp.pop(k) for k in ("total", "total_with_tax") if k in exp}
    lines.update(exp)  # the remaining keys name lines
    for name, want in lines.items():
        ln = r.line(name)
        if want in ("quote", "undetermined", "not_applicable"):
            assert ln.status == want, f"{path.name}: {name} is {ln.status}"
            continue
        assert ln.status in ("charged", "company_pays"), \
            f"{path.name}: {name} is {ln.status} ({ln.error})"
        assert ln.amount == D(want), f"{path.name}: {name} = {ln.amount}, expected {want}"
    if "total" in totals:
        assert r.total == D(totals["total"]), f"{path.name}: total {r.total}"
    if "total_with_tax" in totals:
        assert r.total_with_tax == D(totals["total_with_tax"]), \
            f"{path.name}: total_with_tax {r.total_with_tax}"
    for k, v in flags.items():
        assert getattr(r, k) == v, f"{path.name}: {k} is {getattr(r, k)}"


def _has_charge_lines(path: Path) -> bool:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if (data.get("expect") or {}).get("error"):
        return False  # a case that must not evaluate (no version in force, …)
    r = case_report(path.name)
    return bool(r.charged or r.quotes or r.by_status("company_pays"))


CHARGED = [p for p in CASES if _has_charge_lines(p)]


def test_most_cases_have_charge_lines() -> None:
    assert set(PRICED) <= set(CHARGED) or not PRICED
    assert len(CHARGED) >= len(PRICED)


@pytest.mark.parametrize("path", CHARGED, ids=[p.stem for p in CHARGED])
def test_cli_charge_runs_over_cases_with_charge_lines(path: Path) -> None:
    res = CliRunner().invoke(main, ["charge", str(path)])
    assert res.exit_code == 0, res.output
    assert "合計（税抜）" in res.output and "合計（税込）" in res.output


@pytest.mark.parametrize("name", ["rakuten-price-predictive-quote.yaml",
                                  "charge-rakuten-unknown-seats.yaml",
                                  "charge-rakuten-full-office.yaml"])
@pytest.mark.parametrize("fmt", ["text", "json", "md", "html"])
def test_cli_charge_every_format_runs(name: str, fmt: str) -> None:
    res = CliRunner().invoke(main, ["charge", str(case(name)), "--format", fmt])
    assert res.exit_code == 0, res.output
    if fmt != "json":
        assert "別途お見積り" in res.output or "未確定" in res.output or "～" in res.output


@pytest.mark.parametrize("fmt", ["json", "md", "html"])
def test_cli_charge_formats(fmt: str, tmp_path: Path) -> None:
    p = case("charge-denwa-penalty-and-calls-old.yaml")
    out = tmp_path / f"out.{fmt}"
    res = CliRunner().invoke(main, ["charge", str(p), "--format", fmt, "-o", str(out)])
    assert res.exit_code == 0, res.output
    text = out.read_text(encoding="utf-8")
    if fmt == "json":
        data = json.loads(text)
        assert data["total"] == "2060" and data["total_with_tax"] == "2066"
        assert set(data) >= {"lines", "subtotals", "tax", "total", "total_with_tax", "final",
                             "total_is_lower_bound", "undetermined", "assumptions"}
        pen = next(ln for ln in data["lines"] if ln["name"] == "penalty")
        assert pen["citation"].startswith("料金表第1表第1")
        assert pen["tax"] == "不課税" and pen["amount"] == "2000"
    elif fmt == "md":
        assert "| 項目 |" in text and "2,066円" in text
    else:
        assert text.startswith("<!DOCTYPE html>") and "2,066円" in text
        assert "<script" not in text


def test_html_escapes(tmp_path: Path) -> None:
    from yakkan.engine.features.charges import report_json
    from yakkan.renderers.charges_render import render_charges
    d = report_json(case_report("charge-denwa-penalty-and-calls-old.yaml"))
    d["lines"][0]["label"] = "<b>x</b>"
    html = render_charges(d, "html")
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html


def test_explain_json_carries_charges() -> None:
    data = explain_case(str(case("charge-denwa-penalty-and-calls-old.yaml")),
                        with_counterfactuals=False)
    assert data["charges"]["total"] == "2060"


def test_rounding_is_stated_once_and_as_the_figures_apply_it() -> None:
    """#19: a line states how it rounds once (its own note, else the engine's convention),
    and no note claims a rounding its figures do not show (17.98円 税込 is not 「税込で切捨て」)."""
    from yakkan.engine.features.charges import compute_charges
    from yakkan.engine.features.explain import prepare

    for case in sorted((ROOT / "examples" / "cases").glob("charge-*.yaml")):
        p = prepare(str(case))
        for ln in compute_charges(p.book, p.facts, p.as_of).lines:
            tax_rounding = [a for a in ln.assumptions if "10%" in a and "1円未満" in a]
            assert len(tax_rounding) <= 1, (case.name, ln.name, ln.assumptions)
            interest = [a for a in ln.assumptions if "365日" in a]
            assert len(interest) <= 1, (case.name, ln.name, ln.assumptions)
            if ln.amount_with_tax is not None and ln.amount_with_tax % 1:
                assert not any("税込額で切捨て" in a for a in ln.assumptions), \
                    (case.name, ln.name, ln.amount_with_tax, ln.assumptions)
