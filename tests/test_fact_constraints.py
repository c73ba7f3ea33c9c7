"""Fact ranges and patterns (`range LOW..HIGH`, `range LOW..`, `pattern "…"`): written and
formatted, checked when the document is resolved, and enforced wherever a case enters — the
case model, the JSON Schema, batch (row by row and in SQL for Parquet), the solver (static
checks, diff witnesses) and counterfactual proposals."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from yakkan.cli.main import main
from yakkan.engine.analysis.static import static_checks
from yakkan.engine.core.diagnostics import YakkanError
from yakkan.engine.runtime.case import json_schema, validate_facts
from yakkan.engine.semantics.pipeline import analyse
from yakkan.engine.semantics.program import program_of
from yakkan.engine.semantics.resolve import Rulebook
from yakkan.engine.syntax.format import format_document
from yakkan.engine.syntax.load import load_file

HEADER = """document fc "値域の試験" {
  version "2025-01-01"
  effective 2025-01-01
}
"""

VOCABULARY = HEADER + """
fact storage_years: int "保管期間（年）" range 1..2
fact temperature: int "温度" range -100..100
fact refund: money "返金額" range -5000円..
fact rate: percent "率" range 0%..14.6%
fact ratio: decimal "比" range -1.5..1.5
fact postal_code: text "郵便番号" pattern "[0-9]{3}-[0-9]{4}"
fact seats: int "席数"
fact lines: list {
  count: int "回線の数" range 0..10
  judgment name: text "名義" pattern "[^ ]+"
} "回線"

article 1 "保管" {
  text "保管期間が2年を超えるときは、承諾しないことがあります。"
  rule storage: may_refuse when storage_years > 2
}
article 2 "温度" {
  text "温度が零下50度未満のときは責任を負い、零下90度を超えるときは責任を負いません。"
  rule liability: duty when temperature < -50
}
article 3 "免責" {
  text "温度が零下90度を超えるときは、責任を負いません。"
  rule liability: exemption when temperature > -90
}
article 4 "席" {
  text "席数が負のときは、承諾しません。"
  rule seating: refuse when seats < 0
}
"""


def _load(tmp_path: Path, text: str) -> tuple[Path, Rulebook | None, list[Any]]:
    folder = tmp_path / "fc"
    folder.mkdir(exist_ok=True)
    f = folder / "2025-01-01.yk"
    f.write_text(text, encoding="utf-8")
    src = load_file(str(f))
    assert src.doc is not None, src.diagnostics
    book, diags = analyse(src.doc)
    return f, book, diags


@pytest.fixture
def book(tmp_path: Path) -> Rulebook:
    _f, b, diags = _load(tmp_path, VOCABULARY)
    assert b is not None
    assert not [d for d in diags if d.severity == "error"], diags
    program_of(b)
    return b


def _type(book: Rulebook, path: str) -> Any:
    return book.facts[path].type


# ---- written, formatted ----------------------------------------------------------------------

def test_the_constraints_are_read_as_written(book: Rulebook) -> None:
    assert _type(book, "storage_years").value_bounds() == (1, 2)
    assert _type(book, "temperature").value_bounds() == (-100, 100)
    assert _type(book, "refund").value_bounds() == (-5000, None)
    assert [str(x) for x in _type(book, "rate").value_bounds()] == ["0", "0.146"]
    assert _type(book, "postal_code").constraint.pattern == "[0-9]{3}-[0-9]{4}"
    assert _type(book, "seats").constraint is None
    assert _type(book, "seats").value_bounds() == (0, None)  # a count: 0 or more
    fields = {f.name: f.type for f in _type(book, "lines").fields}
    assert fields["count"].value_bounds() == (0, 10)
    assert fields["name"].constraint.pattern == "[^ ]+"


def test_the_formatter_writes_them_back_and_round_trips(tmp_path: Path) -> None:
    f, _b, _d = _load(tmp_path, VOCABULARY)
    src = load_file(str(f))
    assert src.doc is not None
    once = format_document(src.doc)
    for line in ('fact storage_years: int "保管期間（年）" range 1..2',
                 'fact temperature: int "温度" range -100..100',
                 'fact refund: money "返金額" range -5000円..',
                 'fact rate: percent "率" range 0%..14.6%',
                 'fact ratio: decimal "比" range -1.5..1.5',
                 'fact postal_code: text "郵便番号" pattern "[0-9]{3}-[0-9]{4}"',
                 '  count: int "回線の数" range 0..10'):
        assert line in once.splitlines(), line
    f.write_text(once, encoding="utf-8")
    again = load_file(str(f))
    assert again.doc is not None
    assert format_document(again.doc) == once
    assert again.doc.facts == src.doc.facts  # the same constraints, spans aside


def test_a_fact_may_still_be_named_range_or_pattern(tmp_path: Path) -> None:
    _f, b, diags = _load(tmp_path, HEADER + 'fact range: int "幅"\nfact pattern: text\n'
                         'article 1 { text "幅" rule r: may when range > 1 }\n')
    assert b is not None and not [d for d in diags if d.severity == "error"], diags
    assert set(b.facts) == {"range", "pattern"}


# ---- checked when resolved ------------------------------------------------------------------

@pytest.mark.parametrize(("decl", "code", "words"), [
    ('fact x: int "数" range 2..1', "type.empty-range", "is empty"),
    ('fact x: money range 10円..1円', "type.empty-range", "is empty"),
    ('fact x: bool "真偽" range 0..1', "type.bad-range", "not a bool"),
    ('fact x: date range 1..2', "type.bad-range", "not a date"),
    ('fact x: text range 1..2', "type.bad-range", "not a text"),
    ('fact x: int range 1.5..2', "type.bad-range", "is a decimal"),
    ('fact x: money range 0%..1%', "type.bad-range", "is a percent"),
    ('fact x: percent range 0..1', "type.bad-range", "is an int"),
    ('fact x: percent range -1%..', "type.bad-range", "negative"),
    ('fact x: int pattern "[0-9]+"', "type.bad-pattern", "not an int"),
    ('fact x: duns pattern "[0-9]+"', "type.bad-pattern", "not a duns"),
    ('fact x: text pattern "(a"', "type.bad-pattern", "not a regular expression"),
    ('fact x: text pattern "(?=a)a"', "type.bad-pattern", "look-around"),
    ('fact x: text pattern "(a)\\\\1"', "type.bad-pattern", "back-reference"),
    ('fact x: text pattern "' + "a" * 201 + '"', "type.bad-pattern", "too long"),
    ('fact l: list { n: int range 3..2 }', "type.empty-range", "is empty"),
])
def test_a_malformed_constraint_is_a_located_diagnostic(tmp_path: Path, decl: str, code: str,
                                                        words: str) -> None:
    _f, _b, diags = _load(tmp_path, HEADER + decl + '\narticle 1 { text "条" }\n')
    found = [d for d in diags if d.code == code]
    assert found, [(d.code, d.message) for d in diags]
    d = found[0]
    assert words in d.message and d.severity == "error" and d.hint
    assert d.span is not None and d.span.line == 5  # the declaration's line


@pytest.mark.parametrize("pattern", ["[0-9+*]+", "[(?=]x", "\\\\d{3}-\\\\d{4}", "(?:ab)+"])
def test_a_pattern_every_backend_matches_is_accepted(tmp_path: Path, pattern: str) -> None:
    _f, b, diags = _load(tmp_path, HEADER + f'fact x: text pattern "{pattern}"\n'
                         'article 1 { text "条" }\n')
    assert not [d for d in diags if d.severity == "error"], [d.message for d in diags]
    assert b is not None and b.facts["x"].type.constraint.pattern is not None


def test_check_exits_1_for_a_malformed_constraint(tmp_path: Path) -> None:
    f, _b, _d = _load(tmp_path, HEADER + 'fact x: int "数" range 2..1\n'
                      'article 1 { text "条" }\n')
    r = CliRunner().invoke(main, ["check", str(f.parent)])
    assert r.exit_code == 1 and "error[type.empty-range]" in r.output


# ---- the case model and the JSON Schema -----------------------------------------------------

def _diags(book: Rulebook, facts: dict[str, Any], text: str = "") -> list[Any]:
    with pytest.raises(YakkanError) as e:
        validate_facts(book, facts, "case.yaml", text)
    return e.value.diagnostics


def test_values_inside_the_range_are_accepted(book: Rulebook) -> None:
    m = validate_facts(book, {"storage_years": 2, "temperature": -100, "refund": -5000,
                              "rate": "14.6%", "ratio": -1.5, "postal_code": "100-0001",
                              "lines": [{"count": 10, "name": "甲"}]})
    assert m["storage_years"] == 2 and m["temperature"] == -100
    assert m["refund"] == -5000  # a negative amount: allowed here


@pytest.mark.parametrize(("facts", "where", "hint"), [
    ({"storage_years": 3}, "facts.storage_years", "range 1..2"),
    ({"storage_years": 0}, "facts.storage_years", "range 1..2"),
    ({"temperature": -101}, "facts.temperature", "range -100..100"),
    ({"refund": -5001}, "facts.refund", "range -5000円.."),
    ({"rate": "15%"}, "facts.rate", "range 0%..14.6%"),
    ({"rate": 0.15}, "facts.rate", "range 0%..14.6%"),
    ({"ratio": 1.6}, "facts.ratio", "range -1.5..1.5"),
    ({"postal_code": "1000001"}, "facts.postal_code", 'pattern "[0-9]{3}-[0-9]{4}"'),
    ({"postal_code": "100-0001\n"}, "facts.postal_code", "pattern"),  # the whole value
    ({"lines": [{"count": 11}]}, "facts.lines.0.count", "range 0..10"),
    ({"lines": [{"name": "甲 乙"}]}, "facts.lines.0.name", 'pattern "[^ ]+"'),
])
def test_a_value_outside_is_a_bad_value_naming_the_range(book: Rulebook, facts: dict[str, Any],
                                                         where: str, hint: str) -> None:
    (d,) = _diags(book, facts)
    assert d.code == "case.bad-value"
    assert d.message.startswith(f"`{where}`:")
    assert d.hint is not None and hint in d.hint


def test_the_type_checks_still_come_first(book: Rulebook) -> None:
    (d,) = _diags(book, {"storage_years": True})
    assert "true/false" in d.message  # not "outside the range"
    (d,) = _diags(book, {"storage_years": "2"})
    assert "without quotes" in (d.hint or "")
    (d,) = _diags(book, {"seats": -1})  # no range: a count is 0 or more
    assert "0 or more" in d.message


def test_a_case_file_outside_the_range_exits_2_located(tmp_path: Path) -> None:
    case = tmp_path / "case.yaml"
    case.write_text("document: rakuten-miitel\nas_of: 2025-05-01\nfacts:\n"
                    "  storage_hours: 500\n  storage_years: 3\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["charge", str(case)])
    assert r.exit_code == 2
    assert "case.yaml:5:3: error[case.bad-value]" in r.output
    assert "range 1..2" in r.output


def test_the_json_schema_carries_minimum_maximum_and_pattern(book: Rulebook) -> None:
    schema = json_schema(book)
    props = schema["$defs"]["Facts"]["properties"]

    def first(p: dict[str, Any]) -> dict[str, Any]:
        return p["anyOf"][0] if "anyOf" in p else p
    sy = first(props["storage_years"])
    assert (sy["type"], sy["minimum"], sy["maximum"]) == ("integer", 1, 2)
    t = first(props["temperature"])
    assert (t["minimum"], t["maximum"]) == (-100, 100)
    refund = first(props["refund"])["anyOf"][0]
    assert refund["minimum"] == -5000 and refund["type"] == "number"
    rate = first(props["rate"])["anyOf"][0]
    assert rate["maximum"] == pytest.approx(0.146) and rate["minimum"] == 0
    assert first(props["postal_code"])["pattern"] == "^(?:[0-9]{3}-[0-9]{4})$"
    record = schema["$defs"]["lines_record"]["properties"]
    assert (first(record["count"])["minimum"], first(record["count"])["maximum"]) == (0, 10)
    assert first(props["seats"])["minimum"] == 0  # counts: 0 or more without a range
    json.dumps(schema)  # plain JSON (no Decimal)


def test_yakkan_schema_of_the_bundled_document_bounds_storage_years() -> None:
    r = CliRunner().invoke(main, ["schema", "rakuten-miitel"])
    assert r.exit_code == 0
    props = json.loads(r.output)["$defs"]["Facts"]["properties"]
    sy = props["storage_years"]["anyOf"][0]
    assert (sy["minimum"], sy["maximum"]) == (1, 2)


# ---- batch ------------------------------------------------------------------------------------

ROWS = [
    {"id": "ok", "as_of": "2025-02-01", "storage_years": 2, "temperature": -5,
     "postal_code": "100-0001"},
    {"id": "years", "as_of": "2025-02-01", "storage_years": 3},
    {"id": "cold", "as_of": "2025-02-01", "temperature": -101},
    {"id": "postal", "as_of": "2025-02-01", "postal_code": "1000001"},
    {"id": "negative-ok", "as_of": "2025-02-01", "temperature": -100},
]
REJECTED = {"years": "storage_years", "cold": "temperature", "postal": "postal_code"}


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_batch_rows_outside_are_rejected_and_the_others_decided(tmp_path: Path, book: Rulebook,
                                                                fmt: str) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq
    _f, _b, _d = _load(tmp_path, VOCABULARY)
    src = tmp_path / f"rows.{fmt}"
    if fmt == "jsonl":
        src.write_text("".join(json.dumps(r) + "\n" for r in ROWS), encoding="utf-8")
    else:
        cols = ("id", "as_of", "storage_years", "temperature", "postal_code")
        types = {"storage_years": pa.int64(), "temperature": pa.int64()}
        pq.write_table(pa.table({c: pa.array([r.get(c) for r in ROWS], types.get(c))
                                 for c in cols}), src)
    out = tmp_path / "out.jsonl"
    r = CliRunner().invoke(main, ["batch", str(tmp_path / "fc"), str(src), "-o", str(out)])
    assert r.exit_code == 0, r.output
    got = {x["id"]: x for x in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    for rid, path in REJECTED.items():
        assert got[rid]["error_code"] == "case.invalid-fact", got[rid]
        assert path in got[rid]["error_message"]
    for rid in ("ok", "negative-ok"):
        assert got[rid]["error_code"] is None, got[rid]
        assert got[rid]["liability.value"] is not None


# ---- the solver and counterfactuals -----------------------------------------------------------

def test_the_solver_respects_declared_ranges_and_the_floor_of_counts(book: Rulebook) -> None:
    found = {(x.code, tuple(x.citations)): x for x in static_checks(book, dt.date(2025, 2, 1))}
    # storage_years > 2 cannot hold inside 1..2; seats < 0 cannot hold for a count
    assert ("static.dead", ("第1条",)) in found
    assert ("static.dead", ("第4条",)) in found
    # a negative temperature is allowed (range -100..100): 第2条 and 第3条 both apply to some
    # case, and the witness of their conflict is a valid case, inside the range
    conflict = found[("static.conflict", ("第2条", "第3条"))]
    assert conflict.witness is not None
    assert -90 < conflict.witness["temperature"] < -50
    validate_facts(book, conflict.witness)  # the case model accepts the witness


def test_without_the_range_the_same_condition_is_not_dead(tmp_path: Path) -> None:
    _f, b, _d = _load(tmp_path, VOCABULARY.replace(" range 1..2", ""))
    assert b is not None
    program_of(b)
    found = {(x.code, tuple(x.citations)) for x in static_checks(b, dt.date(2025, 2, 1))}
    assert ("static.dead", ("第1条",)) not in found


def test_counterfactuals_stay_inside_the_range(book: Rulebook, tmp_path: Path) -> None:
    from yakkan.engine.features.counterfactual import _options
    # 第1条 compares storage_years with 2: the candidates are 1, 2 and 3 — 3 is outside
    assert _options(book, "storage_years", 1, {"storage_years": 1}) == [2]
    assert -101 not in _options(book, "temperature", 0, {"temperature": 0})
    _f, b, _d = _load(tmp_path, VOCABULARY.replace(" range 1..2", ""))
    assert b is not None
    assert 3 in _options(b, "storage_years", 1, {"storage_years": 1})  # without the range
