"""`yakkan batch`: the decision program as SQL (DuckDB) and as compiled Python, at table scale.

* every example case, as one row of a JSON Lines table, gets from `yakkan batch` the value,
  applying grounds, undetermined grounds and missing facts that `yakkan explain` gives;
* DuckDB against the compiled backend on 20,000 seeded random rows per bundled version
  (unknown facts, observed absence, lists of records, dates near the rules' boundaries) and
  against the reference interpreter on 1,000 of them — on all 20,000 with `-m slow`, which
  `.ci/run` runs: 0 mismatches on value, grounds, undetermined grounds and missing facts;
* rows in = rows out, in order; a row with a bad value is reported, never dropped; an unknown
  column is a diagnostic with exit 2; CSV and Parquet give the same answers as JSON Lines;
  `--template`, `--compare` and `--errors` do what the README says.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from yakkan.cli.main import main
from yakkan.engine.core import ir as I
from yakkan.engine.core.values import ABSENT
from yakkan.engine.features.batch import Engine, Layout, Row, all_outcomes
from yakkan.engine.features.explain import explain_case
from yakkan.engine.runtime.case import ABSENT_OK, read_case_data
from yakkan.engine.runtime.compiled import compiled_of
from yakkan.engine.runtime.evaluate import compared_literals, evaluate
from yakkan.engine.runtime.sql import AS_OF
from yakkan.engine.semantics.resolve import Rulebook
from yakkan.engine.semantics.rulebooks import versions

ROOT = Path(__file__).resolve().parents[1]
CASES = sorted((ROOT / "examples" / "cases").glob("*.yaml"))
DOCS = ("denwa", "rakuten-miitel")
ROWS_PER_VERSION = 20_000
ROWS_DEFAULT = 4_000  # the default run; `-m slow` checks ROWS_PER_VERSION against the interpreter


def _flat(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _json_default(o: Any) -> Any:
    return o.isoformat() if isinstance(o, dt.date) else str(o)


def example_rows(doc: str) -> list[tuple[Path, dict[str, Any]]]:
    """Every example case of `doc` that decides (not an input error by design), as a row."""
    out = []
    for path in CASES:
        data, _ = read_case_data(str(path))
        if data.get("document") != doc or (data.get("expect") or {}).get("error"):
            continue
        row = {"id": path.stem, **({"as_of": data["as_of"]} if data.get("as_of") else {})}
        row.update(_flat(data.get("facts") or {}))
        out.append((path, row))
    return out


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False, default=_json_default) + "\n"
                            for r in rows), encoding="utf-8")


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("doc", DOCS)
def test_batch_gives_what_explain_gives_for_every_example_case(doc: str, tmp_path: Path) -> \
        None:
    rows = example_rows(doc)
    assert len(rows) >= 10
    src, out = tmp_path / "cases.jsonl", tmp_path / "out.jsonl"
    _write_jsonl(src, [r for _, r in rows])
    res = CliRunner().invoke(main, ["batch", doc, str(src), "-o", str(out)])
    assert res.exit_code == 0, res.output
    got = _read_jsonl(out)
    assert len(got) == len(rows)  # rows in = rows out
    assert [g["id"] for g in got] == [r["id"] for _, r in rows]  # in input order
    compared = 0
    for (path, _row), g in zip(rows, got, strict=True):
        assert g["error_code"] is None, (path.stem, g["error_message"])
        want = explain_case(str(path), with_counterfactuals=False)
        for o in want["outcomes"]:
            n = o["name"]
            assert (g[f"{n}.value"], g[f"{n}.grounds"], g[f"{n}.undetermined"],
                    g[f"{n}.missing"]) == (
                o["value"], [x["citation"] for x in o["grounds"]],
                [x["citation"] for x in o["undetermined"]],
                [m["path"] if isinstance(m, dict) else m for m in o["missing_facts"]]), \
                (path.stem, n)
            compared += 1
    assert compared > 100
    summary = res.output.splitlines()[0]
    assert summary.startswith(f"入力 {len(rows)}行：判断 ")


# ---- DuckDB against the interpreter on random rows ------------------------------------------

def _random_value(rng: random.Random, book: Rulebook, path: str, t: I.YType,
                  as_of: dt.date) -> Any:
    r = rng.random()
    if r < 0.25:
        return None  # unknown
    if r < 0.35 and t.base in ABSENT_OK:
        return ABSENT
    if t.base == "bool":
        return rng.random() < 0.5
    if t.base == "enum":
        return rng.choice([m.name for m in t.members])
    lits = compared_literals(book, path)
    if t.base in ("int", "decimal", "money", "percent"):
        pts = [int(v) for v in lits if isinstance(v, int | Decimal) and not isinstance(v, bool)]
        n = rng.choice([*(max(0, p + d) for p in pts for d in (-1, 0, 1)), 0, 1, 2,
                        rng.randint(0, 5000)])
        return n if t.base == "int" else Decimal(n)
    if t.base == "date":
        days = [as_of, *(v for v in lits if isinstance(v, dt.date))]
        return rng.choice(days) + dt.timedelta(days=rng.randint(-60, 60))
    if t.ident == "duns":
        return rng.choice(["12-345-6789", "98-765-4321"])
    if t.base == "text":
        return rng.choice(["", "株式会社甲", "㈱甲", "甲株式会社", "a'b\\c"])
    if t.base == "list":
        recs = []
        for _ in range(rng.randint(0, 3)):
            rec = {}
            for f in t.fields:
                if f.type.base == "duration":
                    continue
                v = _random_value(rng, book, f"{path}.{f.name}", f.type, as_of)
                if v is not None:
                    rec[f.name] = v
            recs.append(rec)
        return recs
    return None


def random_facts(rng: random.Random, book: Rulebook, as_of: dt.date) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    for path, decl in book.facts.items():
        if decl.type.base == "duration":
            continue
        v = _random_value(rng, book, path, decl.type, as_of)
        if v is None:
            continue
        node = facts
        for p in decl.path[:-1]:
            node = node.setdefault(p, {})
        node[decl.path[-1]] = v
    return facts


BOOKS = [b for d in DOCS for b in versions(d)]


def _differential(book: Rulebook, n_rows: int, against_interpreter: int) -> None:
    """DuckDB on `n_rows` random rows against the compiled backend (held equal to the
    interpreter by tests/test_compiled.py), and the first `against_interpreter` rows against
    the interpreter itself."""
    rng = random.Random(f"{book.doc.header.id}{book.doc.header.version}")
    as_of = book.doc.header.effective_from or dt.date(2024, 1, 1)
    lay = Layout.of(book.doc.header.id)
    names = list(all_outcomes(lay))
    rows = [Row(i, i, as_of, random_facts(rng, book, as_of)) for i in range(n_rows)]
    got = Engine("duckdb", lay, names).decide(book, rows)
    fast = Engine("python", lay, names).decide(book, rows)
    assert len(got) == len(rows) == len(fast)
    mismatches = [(r.row, k) for r, g, f in zip(rows, got, fast, strict=True)
                  for k in f if g[k] != f[k]]
    assert mismatches == [], f"DuckDB ≠ compiled on {len(mismatches)}, e.g. {mismatches[:3]}"
    undetermined = 0
    for r, g in zip(rows[:against_interpreter], got, strict=False):
        for n, o in evaluate(book, r.raw, as_of).outcomes.items():
            want = (o.value, [x.ground.citation for x in o.grounds],
                    [x.ground.citation for x in o.undetermined], o.missing_facts)
            have = (g[f"{n}.value"], g[f"{n}.grounds"], g[f"{n}.undetermined"],
                    g[f"{n}.missing"])
            undetermined += o.value == "undetermined"
            if have != want:
                mismatches.append((r.row, n))
    assert mismatches == [], f"DuckDB ≠ interpreter on {len(mismatches)}: {mismatches[:3]}"
    assert undetermined > against_interpreter  # unknowns were exercised


IDS = [f"{b.doc.header.id}@{b.doc.header.version}" for b in BOOKS]


@pytest.mark.parametrize("book", BOOKS, ids=IDS)
def test_duckdb_decides_as_the_compiled_backend_and_the_interpreter(book: Rulebook) -> None:
    _differential(book, ROWS_DEFAULT, 500)


@pytest.mark.slow
@pytest.mark.parametrize("book", BOOKS, ids=IDS)
def test_duckdb_decides_as_the_interpreter_on_every_random_row(book: Rulebook) -> None:
    _differential(book, ROWS_PER_VERSION, ROWS_PER_VERSION)


@pytest.mark.parametrize("book", BOOKS, ids=IDS)
def test_a_parquet_file_without_some_columns_decides_as_the_compiled_backend(
        book: Rulebook, tmp_path: Path) -> None:
    """The Parquet path compiles the program for the file's columns (a fact with no column
    is unknown on every row, and a quantifier over such a list unknown outright): random
    rows of each version with a random part of the columns left out — lists of records among
    them — decide as the compiled backend decides the same facts."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from yakkan.engine.features.batch import canonical_row, facts_of_row
    from yakkan.engine.runtime.sql import ABSENT_SUFFIX
    doc = book.doc.header.id
    lay = Layout.of(doc)
    names = [o for o in all_outcomes(lay) if o in compiled_of(book).outcomes]
    as_of = book.doc.header.effective_from or dt.date(2024, 1, 1)
    lists = [p for p, d in book.facts.items() if d.type.base == "list"]
    compared = 0
    for seed in range(2):
        rng = random.Random(f"without-{doc}-{book.doc.header.version}-{seed}")
        # the first run leaves out every list, the second keeps them; both a third of the rest
        gone = {p for p in book.facts if (p in lists and seed == 0) or
                (p not in lists and rng.random() < 1 / 3)}
        schema = lay.arrow_schema(book)
        fields = [pa.field("id", pa.string()), pa.field("as_of", pa.date32()),
                  *(f for f in schema if f.name not in ("__row", AS_OF)
                    and f.name.removesuffix(ABSENT_SUFFIX) not in gone)]
        recs, rows = [], []
        for i in range(1500):
            rec = canonical_row(random_facts(rng, book, as_of), book)
            rec = {k: v for k, v in rec.items() if k.removesuffix(ABSENT_SUFFIX) not in gone}
            rows.append(Row(i, f"r{i}", as_of, facts_of_row(rec, book)))
            recs.append({**rec, "id": f"r{i}", "as_of": as_of})
        src, out = tmp_path / f"in{seed}.parquet", tmp_path / f"out{seed}.parquet"
        pq.write_table(pa.Table.from_pylist(recs, schema=pa.schema(fields)), src)
        res = _run(doc, str(src), "-o", str(out))
        assert res.exit_code == 0, res.output
        got = pq.read_table(out).to_pylist()
        want = Engine("python", lay, names).decide(book, rows)
        assert len(got) == len(want) == len(rows)
        # (the random values ignore declared ranges: a row outside one is rejected instead)
        valid = [(g, w) for g, w in zip(got, want, strict=True) if g["error_code"] is None]
        assert all(g["error_message"].split(": ")[1].startswith("outside") for g in got
                   if g["error_code"] is not None)
        mismatches = [(g["id"], k, g[k], w[k]) for g, w in valid for k in w if g[k] != w[k]]
        assert mismatches == [], f"{len(mismatches)} mismatches, e.g. {mismatches[:3]}"
        compared += len(valid)
    assert compared > 2000


# ---- the file formats, the errors, the other modes ------------------------------------------

def _run(*args: str) -> Any:
    return CliRunner().invoke(main, ["batch", *args])


def test_a_bad_value_is_reported_not_dropped(tmp_path: Path) -> None:
    rows = [r for _, r in example_rows("denwa")[:3]]
    rows[1] = {**rows[1], "service.kind": "type9"}  # a typo'd enum member
    rows.append({"id": "no-version", "as_of": "2000-01-01"})
    src, out, errs = tmp_path / "in.jsonl", tmp_path / "out.jsonl", tmp_path / "errors.csv"
    _write_jsonl(src, rows)
    res = _run("denwa", str(src), "-o", str(out), "--errors", str(errs))
    assert res.exit_code == 0, res.output
    got = _read_jsonl(out)
    assert len(got) == 4
    assert got[1]["error_code"] == "case.invalid-fact"
    assert "service.kind" in got[1]["error_message"]
    assert got[1]["application.value"] is None  # never decided
    assert got[3]["error_code"] == "eval.no-version-in-force"
    assert got[0]["error_code"] is None and got[2]["error_code"] is None
    assert res.output.startswith("入力 4行：") and "・不受理（入力誤り） 2\n" in res.output
    assert len(errs.read_text(encoding="utf-8").splitlines()) == 3  # header + 2


def test_an_unknown_column_is_a_diagnostic_with_exit_2(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    _write_jsonl(src, [{"id": 1, "applicant.duns_isued": True}])
    res = _run("denwa", str(src), "-o", str(tmp_path / "out.jsonl"))
    assert res.exit_code == 2
    assert "batch.unknown-column" in res.output and "applicant.duns_issued" in res.output
    assert "Traceback" not in res.output


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_csv_and_parquet_give_what_json_lines_gives(fmt: str, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq
    rows = [r for _, r in example_rows("denwa")]
    src = tmp_path / "in.jsonl"
    _write_jsonl(src, rows)
    assert _run("denwa", str(src), "-o", str(tmp_path / "a.jsonl")).exit_code == 0
    want = _read_jsonl(tmp_path / "a.jsonl")
    lay = Layout.of("denwa")
    cols = [c for c in lay.columns() if any(c in r for r in rows)]
    other = tmp_path / f"in.{fmt}"
    if fmt == "csv":
        import csv
        with other.open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(cols)
            for r in rows:  # null (absence) → the __absent companion column
                w.writerow(["" if r.get(c) is None else
                            json.dumps(r[c], ensure_ascii=False, default=_json_default)
                            if isinstance(r[c], list) else
                            str(r[c]).lower() if isinstance(r[c], bool) else str(r[c])
                            for c in cols])
    else:
        table = pa.Table.from_pylist([{c: (r.get(c) if isinstance(r.get(c), list | bool | int)
                                           else str(r[c]) if r.get(c) is not None else None)
                                       for c in cols} for r in rows])  # lists: native
        pq.write_table(table, other)
    res = _run("denwa", str(other), "-o", str(tmp_path / "b.jsonl"))
    assert res.exit_code == 0, res.output
    got = _read_jsonl(tmp_path / "b.jsonl")
    absent_rows = {i for i, r in enumerate(rows)  # null: absence in JSON, unknown here
                   if "null" in json.dumps(r, default=_json_default)}
    assert len(absent_rows) < len(rows) / 2
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        if i in absent_rows:
            continue  # an empty cell is unknown there; covered by the __absent columns below
        g.pop("row")
        w.pop("row")
        assert g == w, (i, g["id"])


def test_the_template_lists_every_column_and_reads_back_as_no_rows(tmp_path: Path) -> None:
    t = tmp_path / "t.parquet"
    res = _run("denwa", "--template", str(t))
    assert res.exit_code == 0, res.output
    assert "applicant.duns_issued  BOOLEAN" in res.output
    assert "contract.terminated_on__absent  BOOLEAN" in res.output
    res = _run("denwa", str(t), "-o", str(tmp_path / "o.parquet"))
    assert res.exit_code == 0, res.output
    assert res.output.startswith("入力 0行：判断 0・未確定 0・不受理（入力誤り） 0")


def test_compare_reports_the_rows_an_amendment_changes(tmp_path: Path) -> None:
    rows = [r for _, r in example_rows("denwa")]
    src, out = tmp_path / "in.jsonl", tmp_path / "changes.jsonl"
    _write_jsonl(src, rows)
    res = _run("denwa", str(src), "--compare", "2023-04-10", "2023-04-20", "-o", str(out))
    assert res.exit_code == 0, res.output
    changes = _read_jsonl(out)
    # the amendment widened 第14条の65第2項第5号 to type1 services (a slip the text makes)
    hit = [c for c in changes if c["id"] == "denwa-amend-type1-no-pbx-new"
           and c["outcome"] == "application"]
    assert hit and hit[0]["before"] == "accept" and hit[0]["after"] == "may_refuse"
    assert "第14条の65第2項第5号" in hit[0]["after.grounds"]
    assert "利用契約の申込の承諾（application）: 承諾する（accept） → 承諾しないことがある" \
        "（may_refuse）" in res.output


def test_the_python_engine_agrees_with_duckdb(tmp_path: Path) -> None:
    rows = [r for _, r in example_rows("rakuten-miitel")]
    src = tmp_path / "in.jsonl"
    _write_jsonl(src, rows)
    outs = []
    for eng in ("duckdb", "python"):
        out = tmp_path / f"{eng}.jsonl"
        assert _run("rakuten-miitel", str(src), "-o", str(out), "--engine", eng).exit_code == 0
        outs.append(_read_jsonl(out))
    assert outs[0] == outs[1]


def test_a_csv_row_with_a_value_beyond_the_header_is_rejected(tmp_path: Path) -> None:
    """A cell beyond the header is in no column: with a value it rejects its row (before, a
    traceback); empty, it holds nothing and is no matter; a short row's missing cells are
    unknown."""
    src = tmp_path / "in.csv"
    src.write_text("id,service.kind\nx,type2,surplus\ny,type1,,\nz\n", encoding="utf-8")
    res = _run("denwa", str(src), "-o", str(tmp_path / "o.jsonl"), "--outcome", "application")
    assert res.exit_code == 0, res.output
    got = _read_jsonl(tmp_path / "o.jsonl")
    assert [(g["id"], g["error_code"]) for g in got] == [
        ("x", "batch.malformed-row"), ("y", None), ("z", None)]
    assert got[0]["error_message"] == "a cell beyond the header's 2 columns holds a value " \
                                      "('surplus')"


def test_absence_in_csv_is_the_absent_column(tmp_path: Path) -> None:
    """`null` in JSON Lines (as in a case file) and `<path>__absent = true` in CSV both say
    the contract was not terminated; an empty cell says nothing (unknown)."""
    base = {"id": "x", "as_of": "2023-05-01", "service.kind": "type2",
            "service.terminates_at_carrier": True, "service.course": "course1",
            "lines": [{"number": "090", "registered_on": "2023-04-20", "removed_on": None}]}
    src = tmp_path / "in.jsonl"
    _write_jsonl(src, [{**base, "contract.terminated_on": None}, base])
    assert _run("denwa", str(src), "-o", str(tmp_path / "a.jsonl")).exit_code == 0
    a = _read_jsonl(tmp_path / "a.jsonl")
    csv_src = tmp_path / "in.csv"
    lines = json.dumps([{"number": "090", "registered_on": "2023-04-20",
                         "removed_on__absent": True}])
    csv_src.write_text(
        "id,as_of,service.kind,service.terminates_at_carrier,service.course,lines,"
        "contract.terminated_on,contract.terminated_on__absent\n"
        f"x,2023-05-01,type2,true,course1,\"{lines.replace(chr(34), chr(34) * 2)}\",,true\n"
        f"x,2023-05-01,type2,true,course1,\"{lines.replace(chr(34), chr(34) * 2)}\",,\n",
        encoding="utf-8")
    assert _run("denwa", str(csv_src), "-o", str(tmp_path / "b.jsonl")).exit_code == 0
    b = _read_jsonl(tmp_path / "b.jsonl")
    assert [{k: v for k, v in r.items() if k != "row"} for r in a] == \
        [{k: v for k, v in r.items() if k != "row"} for r in b]
    # absence and unknown differ somewhere: the test can tell them apart
    assert {k: v for k, v in a[0].items() if k != "row"} != \
        {k: v for k, v in a[1].items() if k != "row"}


def test_parquet_goes_through_duckdb_with_every_check_in_sql(tmp_path: Path) -> None:
    """The Parquet path never decides a bad row and never drops one: an enum typo, a
    negative count, a value with its `__absent` flag, a date no version covers."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    good = {"id": "ok", "as_of": dt.date(2023, 5, 1), "service.kind": "type2",
            "service.terminates_at_carrier": True, "service.docomo_corporate_contract": True,
            "applicant.duns_issued": False, "contract.terminated_on": None,
            "contract.terminated_on__absent": True}
    rows = [good, {**good, "id": "typo", "service.kind": "type9"},
            {**good, "id": "both", "contract.terminated_on": dt.date(2023, 5, 2)},
            {**good, "id": "old", "as_of": dt.date(2000, 1, 1)}]
    src = tmp_path / "in.parquet"
    pq.write_table(pa.Table.from_pylist(rows), src)
    res = _run("denwa", str(src), "-o", str(tmp_path / "out.jsonl"), "--outcome", "application")
    assert res.exit_code == 0, res.output
    got = _read_jsonl(tmp_path / "out.jsonl")
    assert [g["id"] for g in got] == ["ok", "typo", "both", "old"]
    assert got[0]["error_code"] is None
    assert got[0]["application.value"] == "may_refuse"  # no D-U-N-S number: 第14条の65第2項第6号
    assert "第14条の65第2項第6号" in got[0]["application.grounds"]
    assert got[1]["error_code"] == "case.invalid-fact" and "service.kind" in \
        got[1]["error_message"]
    assert got[2]["error_code"] == "case.invalid-fact" and "__absent" in got[2]["error_message"]
    assert got[3]["error_code"] == "eval.no-version-in-force"
    assert all(g["application.value"] is None for g in got[1:])
    assert res.output.startswith("入力 4行：判断 1・未確定 0・不受理（入力誤り） 3")
    # a column of the wrong kind is a diagnostic for the whole file
    pq.write_table(pa.table({"applicant.duns_issued": ["yes"]}), tmp_path / "bad.parquet")
    res = _run("denwa", str(tmp_path / "bad.parquet"), "-o", str(tmp_path / "o.parquet"))
    assert res.exit_code == 2 and "batch.column-type" in res.output, res.output


# ---- Spark (pytest -m spark: needs pyspark and Java; .ci/run installs both) -----------------

@pytest.mark.spark
@pytest.mark.parametrize("book", BOOKS, ids=IDS)
def test_spark_decides_as_duckdb_on_a_sample(book: Rulebook) -> None:
    rng = random.Random(f"spark{book.doc.header.id}{book.doc.header.version}")
    as_of = book.doc.header.effective_from or dt.date(2024, 1, 1)
    lay = Layout.of(book.doc.header.id)
    names = list(all_outcomes(lay))
    rows = [Row(i, i, as_of, random_facts(rng, book, as_of)) for i in range(400)]
    duck = Engine("duckdb", lay, names).decide(book, rows)
    spark = Engine("spark", lay, names).decide(book, rows)
    assert len(spark) == len(duck) == len(rows)
    diffs = [(r.row, k, s[k], d[k]) for r, s, d in zip(rows, spark, duck, strict=True)
             for k in d if s[k] != d[k]]
    assert diffs == [], f"Spark ≠ DuckDB on {len(diffs)}, e.g. {diffs[:3]}"


def test_unusable_files_are_diagnostics_with_exit_2(tmp_path: Path) -> None:
    """A missing input, a table that is not UTF-8, an output folder that does not exist, a
    file that is not Parquet: each a diagnostic and exit 2, never a traceback (exit 70)."""
    one = tmp_path / "one.jsonl"
    one.write_text('{"id": 1}\n', encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"id\n\xff\xfe\n")
    fake = tmp_path / "fake.parquet"
    fake.write_text("not parquet", encoding="utf-8")
    cases = [
        ([str(tmp_path / "nope.jsonl"), "-o", str(tmp_path / "o.jsonl")], "io.missing-file"),
        ([str(bad), "-o", str(tmp_path / "o.jsonl")], "io.not-utf8"),
        ([str(one), "-o", str(tmp_path / "no" / "o.jsonl")], "io.unwritable"),
        ([str(one), "-o", str(tmp_path / "no" / "o.parquet")], "io.unwritable"),
        ([str(fake), "-o", str(tmp_path / "o.jsonl")], "batch.unreadable"),
        ([str(one), "-o", str(tmp_path / "o.txt")], "batch.format"),
    ]
    for args, code in cases:
        r = _run("denwa", *args)
        assert r.exit_code == 2, (code, r.output)
        assert code in r.output and "Traceback" not in r.output, r.output

def test_rows_of_every_version_in_one_parquet_file_decide_as_the_compiled_backend(
        tmp_path: Path) -> None:
    """Rows of both versions of denwa, interleaved in one file, go through both programs in
    one pipeline and each takes its own version's outputs: as the compiled backend decides
    each row under its version."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from yakkan.engine.features.batch import arrow_type, canonical_row, facts_of_row
    from yakkan.engine.features.batch_native import _types
    from yakkan.engine.runtime.sql import ABSENT_SUFFIX
    doc = "denwa"
    lay = Layout.of(doc)
    assert len(lay.books) == 2
    fields = [pa.field("id", pa.string()), pa.field("as_of", pa.date32())]
    for path, t in _types(lay).items():  # every version's columns and record fields
        fields.append(pa.field(path, arrow_type(t)))
        if t.base in ABSENT_OK:
            fields.append(pa.field(path + ABSENT_SUFFIX, pa.bool_()))
    rng = random.Random(f"versions-{doc}")
    recs, want = [], []
    for i in range(2000):
        book = lay.books[i % 3 == 0]  # a third under the newer version
        day = book.doc.header.effective_from
        assert day is not None
        rec = canonical_row(random_facts(rng, book, day), book)
        names = [o for o in all_outcomes(lay) if o in compiled_of(book).outcomes]
        want.append(Engine("python", lay, names).decide(
            book, [Row(i, f"r{i}", day, facts_of_row(rec, book))])[0])
        recs.append({**rec, "id": f"r{i}", "as_of": day})
    src, out = tmp_path / "in.parquet", tmp_path / "out.parquet"
    pq.write_table(pa.Table.from_pylist(recs, schema=pa.schema(fields)), src)
    res = _run(doc, str(src), "-o", str(out))
    assert res.exit_code == 0, res.output
    got = pq.read_table(out).to_pylist()
    assert [g["id"] for g in got] == [r["id"] for r in recs]
    valid = [(g, w) for g, w in zip(got, want, strict=True) if g["error_code"] is None]
    assert all(g["error_message"].split(": ")[1].startswith("outside") for g in got
               if g["error_code"] is not None)  # (random values ignore declared ranges)
    assert len(valid) > 1500 and {g["version"] for g, _ in valid} == \
        {b.doc.header.version for b in lay.books}
    mismatches = [(g["id"], k, g[k], w[k]) for g, w in valid for k in w if g[k] != w[k]]
    assert mismatches == [], f"{len(mismatches)} mismatches, e.g. {mismatches[:3]}"
    # an outcome only the other version has is NULL in a row's output, never another's
    for g, w in valid:
        assert all(g[k] is None for k in g if k.endswith(".value")
                   and k not in w), g["id"]


@pytest.mark.parametrize("dates", ["one version", "two versions"])
def test_a_large_parquet_table_is_written_in_input_order(dates: str, tmp_path: Path) -> None:
    """The Parquet path streams its output (no table kept, no sort when the rows fall under
    one version; a sort that spills when they fall under several): row k of every output
    format is input row k, rejected rows in place, the errors in order, the counts adding
    up to what the file holds — on a table of several row groups decided by two threads."""
    import duckdb
    n = 150_000
    src = tmp_path / "in.parquet"
    when = ("DATE '2023-05-01'" if dates == "one version" else
            "CASE WHEN i % 3 = 0 THEN DATE '2023-04-05' ELSE DATE '2023-05-01' END")
    duckdb.connect().execute(f"""COPY (SELECT 'r' || i AS id, {when} AS as_of,
        CASE WHEN i % 1000 = 7 THEN 'type9' WHEN i % 7 = 0 THEN 'type1' ELSE 'type2' END
          AS "service.kind",
        (i % 3 = 0) AS "service.terminates_at_carrier",
        CASE WHEN i % 11 = 0 THEN NULL ELSE (i % 2 = 0) END AS "applicant.paying_late"
        FROM range({n}) t(i)) TO '{src}' (FORMAT PARQUET, ROW_GROUP_SIZE 20000)""")
    con = duckdb.connect()
    for fmt in ("parquet", "csv", "jsonl"):
        out, errs = tmp_path / f"out.{fmt}", tmp_path / f"errors.{fmt}"
        res = _run("denwa", str(src), "-o", str(out), "--errors", str(errs),
                   "--outcome", "application")
        assert res.exit_code == 0, res.output
        reader = {"parquet": "read_parquet", "csv": "read_csv", "jsonl": "read_json"}[fmt]
        got = con.sql(f"SELECT row, id, error_code, \"application.value\" FROM "
                      f"{reader}('{out}')").fetchall()
        assert [g[0] for g in got] == list(range(1, n + 1))
        assert [g[1] for g in got] == [f"r{i}" for i in range(n)]
        bad = [g for g in got if g[2] is not None]
        assert [g[1] for g in bad] == [f"r{i}" for i in range(7, n, 1000)]
        assert all(g[3] is None for g in bad) and all(g[3] is not None for g in got
                                                      if g[2] is None)
        assert [e[0] for e in con.sql(f"SELECT id FROM {reader}('{errs}')").fetchall()] == \
            [g[1] for g in bad]
        undetermined = sum(g[3] == "undetermined" for g in got)
        assert res.output.startswith(
            f"入力 {n:,}行：判断 {n - len(bad) - undetermined:,}・未確定 {undetermined:,}・"
            f"不受理（入力誤り） {len(bad):,}\n"), res.output



def test_parquet_rows_fall_under_the_version_explain_would_choose(tmp_path: Path) -> None:
    """The SQL routing of rows to versions (batch_native) is `load.select_version`'s: the
    day before the first version, both ends of each period, a date long after."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from yakkan.engine.core.diagnostics import YakkanError
    from yakkan.engine.semantics.rulebooks import rulebook_for
    days = [dt.date(2023, 3, 31), dt.date(2023, 4, 1), dt.date(2023, 4, 16),
            dt.date(2023, 4, 17), dt.date(2030, 1, 1)]
    src = tmp_path / "days.parquet"
    pq.write_table(pa.Table.from_pylist([{"id": str(d), "as_of": d} for d in days]), src)
    res = _run("denwa", str(src), "-o", str(tmp_path / "o.jsonl"), "--outcome", "application")
    assert res.exit_code == 0, res.output
    got = {g["id"]: g["version"] for g in _read_jsonl(tmp_path / "o.jsonl")}
    for d in days:
        try:
            want: str | None = rulebook_for("denwa", d).doc.header.version
        except YakkanError:
            want = None
        assert got[str(d)] == want, d


def test_a_rejected_row_has_the_case_files_message_and_hint_per_cell(tmp_path: Path) -> None:
    """A bad cell gets the message and hint a case file gets for the same value (worded by
    `runtime/case.py`), named by its column; one message per bad cell; in JSON Lines and
    CSV alike."""
    from yakkan.engine.core.diagnostics import YakkanError
    from yakkan.engine.runtime.case import validate_facts
    from yakkan.engine.semantics.rulebooks import rulebook_for
    bad = {"service": {"kind": "type9"}, "applicant": {"duns_issued": "maybe"}}
    with pytest.raises(YakkanError) as caught:
        validate_facts(rulebook_for("denwa", dt.date(2023, 5, 1)), bad)
    want = {d.message.split("`: ", 1)[1]: d.hint for d in caught.value.diagnostics}
    assert len(want) == 2 and all(want.values())  # each has a hint
    src = tmp_path / "in.jsonl"
    _write_jsonl(src, [{"id": "x", "as_of": "2023-05-01", "service.kind": "type9",
                        "applicant.duns_issued": "maybe"}])
    csv_src = tmp_path / "in.csv"
    csv_src.write_text("id,as_of,service.kind,applicant.duns_issued\n"
                       "x,2023-05-01,type9,maybe\n", encoding="utf-8")
    for s in (src, csv_src):
        res = _run("denwa", str(s), "-o", str(tmp_path / "o.jsonl"))
        assert res.exit_code == 0, res.output
        (got,) = _read_jsonl(tmp_path / "o.jsonl")
        assert got["error_code"] == "case.invalid-fact"
        cells = got["error_message"].split("; ")
        assert [c.split(": ", 1)[0] for c in cells] == ["service.kind",
                                                        "applicant.duns_issued"]
        for (msg, hint), cell in zip(want.items(), cells, strict=True):
            assert cell.split(": ", 1)[1] == f"{msg} ({hint})", s


def test_parquet_records_are_read_by_field_name_and_nothing_is_dropped(tmp_path: Path) -> None:
    """A record field of a list column is read by its name: one that is no field of the list
    is a diagnostic for the file (never silently dropped); one only another version has is
    a row error for a row of this version; a field of the wrong kind is a diagnostic."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    call = {"duration": "45秒", "domestic": True, "excluded": False, "to_special_number": True}
    rows = [{"id": "old", "as_of": dt.date(2023, 4, 10), "calls": [{**call,
                                                                  "judged_under_i": True}]},
            {"id": "new", "as_of": dt.date(2023, 5, 1), "calls": [{**call,
                                                                  "judged_under_i": True}]}]
    src = tmp_path / "in.parquet"
    pq.write_table(pa.Table.from_pylist(rows), src)
    res = _run("denwa", str(src), "-o", str(tmp_path / "o.jsonl"))
    assert res.exit_code == 0, res.output
    old, new = _read_jsonl(tmp_path / "o.jsonl")
    assert old["error_code"] is None and old["version"] == "2023-04-01"
    assert new["error_code"] == "case.invalid-fact"
    assert "calls[].judged_under_i" in new["error_message"]
    for bad, code in (({**call, "judged_under": True}, "batch.unknown-column"),
                      ({**call, "domestic": "yes"}, "batch.column-type")):
        pq.write_table(pa.Table.from_pylist([{"id": "x", "calls": [bad]}]), src)
        res = _run("denwa", str(src), "-o", str(tmp_path / "o.jsonl"))
        assert res.exit_code == 2 and code in res.output, res.output
        assert "Traceback" not in res.output
