"""Static checks (`engine/analysis/static.py`): defects the engine finds by itself, with
witnesses the interpreter confirms — on a fixture that has one defect of each kind, and on
the bundled 電話等サービス契約約款."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from yakkan.cli.main import main
from yakkan.engine.analysis.static import static_checks
from yakkan.engine.runtime.evaluate import evaluate
from yakkan.engine.semantics.pipeline import analyse
from yakkan.engine.semantics.program import program_of
from yakkan.engine.semantics.rulebooks import rulebook_for
from yakkan.engine.syntax.load import load_file

Golden = Callable[[Path, str], None]
GOLDEN = Path(__file__).parent / "golden" / "static"

FIXTURE = """document fixture "静的検査の試験用約款" {
  version "1"
  effective 2020-01-01
}

fact a: bool "事実A"
fact b: bool "事実B"
fact kind: enum { k1 "種類1", k2 "種類2" } "種類"
enum Destination "通話先" { fixed "固定電話", mobile "携帯電話", intl "国際電話" }
fact calls: list {
  destination: Destination "通話先"
  duration: duration "通話時間"
} "通話"

article 1 "責任" {
  paragraph 1 {
    text "Aのときは、当社は責任を負います。"
    rule liability: duty when a
  }
  paragraph 2 {
    text "Bのときは、当社は責任を負いません。"
    rule liability: exemption when b
  }
  paragraph 3 {
    text "前2項の規定にかかわらず、Aであり、かつ、Aでないときは、当社は責任を負いません。"
    notwithstanding 「前2項」
    rule liability: exemption when a and not a
  }
  paragraph 4 {
    text "種類1又は種類2のときは、届け出るものとします。"
    rule notice: duty when kind == k1 or kind == k2
  }
}

appendix 別表 "料金表" {
  table 1 "通話料" {
    text "通話料は、次表のとおりとします。"
    covers c in calls
    row 固定 {
      text "固定電話 10円/1分"
      charge call_fixed "通話料（固定電話）" {
        amount sum(c in calls: units_started(c.duration, 1分) * 10円 where c.destination == fixed)
        tax excluded
        per use
      }
    }
    row 携帯 {
      text "携帯電話 20円/1分"
      charge call_mobile "通話料（携帯電話）" {
        amount sum(c in calls: units_started(c.duration, 1分) * 20円 where c.destination == mobile)
        tax excluded
        per use
      }
    }
  }
  table 2 "国際通話料" {
    text "国際電話の通話料は、次表のとおりとします。"
    covers c in calls where c.destination == intl
    row 1 {
      text "国際電話 50円/1分"
      charge call_intl "通話料（国際電話）" {
        amount sum(c in calls: units_started(c.duration, 1分) * 50円 where c.destination == intl)
        tax excluded
        per use
      }
    }
  }
}
"""


def _book(tmp_path: Path):  # type: ignore[no-untyped-def]
    f = tmp_path / "fixture.yk"
    f.write_text(FIXTURE, encoding="utf-8")
    src = load_file(str(f))
    assert src.doc is not None, src.diagnostics
    book, diags = analyse(src.doc)
    assert not [d for d in diags if d.severity == "error"], diags
    program_of(book)
    return f, book


def test_each_kind_of_defect_is_found_with_a_witness(tmp_path: Path) -> None:
    _f, book = _book(tmp_path)
    found = {(x.code, tuple(x.citations)) for x in static_checks(book)}
    assert ("static.dead", ("第1条第3項",)) in found
    assert ("static.always", ("第1条第4項",)) in found
    assert ("static.conflict", ("第1条第1項", "第1条第2項")) in found
    # 第3項 overrides the others (「前2項の規定にかかわらず」): no conflict is claimed for it
    assert not any(c == "static.conflict" and "第1条第3項" in cites for c, cites in found)
    conflict = next(x for x in static_checks(book) if x.code == "static.conflict")
    assert conflict.witness is not None
    r = evaluate(book, conflict.witness, dt.date(2020, 1, 1)).outcomes["liability"]
    assert {g.ground.citation for g in r.grounds} >= {"第1条第1項"}  # the duty applies


def test_the_bundled_plans_overlap_and_the_witness_shows_it() -> None:
    book = rulebook_for("denwa", dt.date(2023, 4, 17))
    overlaps = [x for x in static_checks(book) if x.code == "static.overlap"]
    assert overlaps, "プラン2 and プラン3 can hold at once (第4条の4の4第1項)"
    for x in overlaps:
        assert x.witness is not None
        defs = evaluate(book, x.witness, dt.date(2023, 4, 17)).definitions
        assert sum(1 for n in ("plan1", "plan2", "plan3", "plan4") if defs.get(n) is True) >= 2


def test_yakkan_check_reports_them_as_diagnostics_and_json(tmp_path: Path) -> None:
    f, _ = _book(tmp_path)
    r = CliRunner().invoke(main, ["check", str(f)])
    assert r.exit_code == 0, r.output  # warnings, not errors
    assert "warning[static.dead]" in r.output and "warning[static.conflict]" in r.output
    assert "これを示す事例" in r.output
    r = CliRunner().invoke(main, ["check", str(f), "--format", "json"])
    data = json.loads(r.output)
    codes = {x["code"] for x in data["static"]}
    assert {"static.dead", "static.always", "static.conflict"} <= codes
    assert all(x["witness"] is not None for x in data["static"]
               if x["code"] == "static.conflict")
    r = CliRunner().invoke(main, ["check", str(f), "--no-static"])
    assert "static." not in r.output


def test_a_call_priced_by_two_tariff_rows_is_found_and_the_witness_prices_it_twice() -> None:
    """プラン2 and プラン3 can hold at once (the overlap above), so a call of a プラン2 コース1
    service that is also プラン3 falls under 料金表第1表第2 1(21)イ(ア) and (イ) alike."""
    from yakkan.engine.features.charges import compute_charges
    when = dt.date(2023, 4, 17)
    book = rulebook_for("denwa", when)
    found = [x for x in static_checks(book) if x.code == "static.double-charge"]
    assert found, "the two call rows can price one call"
    x = found[0]
    assert x.witness is not None and x.witness.get("calls")
    report = compute_charges(book, x.witness, when)
    priced = [ln.name for ln in report.lines if ln.status == "charged"
              and ln.amount is not None and ln.amount > 0 and ln.name.startswith("call_")]
    assert len(x.witness["calls"]) == 1 and len(priced) >= 2, priced  # one call, two prices


def test_a_record_no_row_prices_is_a_gap_and_the_witness_is_priced_by_none(
        tmp_path: Path, golden: Golden, monkeypatch: pytest.MonkeyPatch) -> None:
    """別表第1表 says it prices calls (`covers c in calls`), but its rows price 固定電話 and
    携帯電話 only: a 国際電話 call is a gap. 第2表 covers 国際電話 calls only and prices them
    all: no gap there (the domain is what the table declares, not the whole list)."""
    from yakkan.engine.features.charges import compute_charges
    f, book = _book(tmp_path)
    gaps = [x for x in static_checks(book) if x.code == "static.gap"]
    assert [x.citations for x in gaps] == [["別表第1表"]]
    w = gaps[0].witness
    assert w is not None and [c["destination"] for c in w["calls"]] == ["intl"]
    # the interpreter: none of 第1表's rows prices the witness's call
    report = compute_charges(book, w, dt.date(2020, 1, 1))
    table1 = [ln for ln in report.lines if ln.name in ("call_fixed", "call_mobile")]
    assert table1 and all(not ln.amount for ln in table1), table1
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(main, ["check", f.name])
    assert r.exit_code == 0, r.output
    start = r.stderr.index("warning[static.gap]")
    line_start = r.stderr.rindex("\n", 0, start) + 1
    golden(GOLDEN / "static.gap.out", "".join(r.stderr[line_start:].splitlines(True)[:4]))
