"""`yakkan batch … --engine spark` on Parquet: the native Spark path (`spark.read.parquet`,
every row check and the decision in Spark SQL, the output written by Spark in row order)
gives exactly what the native DuckDB path gives — on the example rows and on a few hundred
seeded random rows with rejected rows among them (pytest -m spark: needs pyspark and Java).
"""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from test_batch import example_rows, random_facts

from yakkan.cli.main import main
from yakkan.engine.features.batch import Layout, canonical_row
from yakkan.engine.runtime.sql import AS_OF
from yakkan.engine.semantics.rulebooks import versions

pytestmark = pytest.mark.spark


def _run(*args: str) -> Any:
    return CliRunner().invoke(main, ["batch", *args])


def _rows_of(path: Path) -> list[dict[str, Any]]:
    """A JSON Lines output: one file (DuckDB) or a Spark output folder (part files in
    order)."""
    files = sorted(path.glob("part-*.json")) if path.is_dir() else [path]
    return [json.loads(x) for f in files for x in f.read_text(encoding="utf-8").splitlines()
            if x.strip()]


def _both(doc: str, src: Path, tmp: Path, *extra: str) -> tuple[list[Any], list[Any], str]:
    outs, texts = [], []
    for eng in ("duckdb", "spark"):
        out = tmp / f"{eng}.jsonl"
        res = _run(doc, str(src), "-o", str(out), "--engine", eng, *extra)
        assert res.exit_code == 0, res.output
        outs.append(_rows_of(out))
        texts.append(res.output)
    assert texts[0] == texts[1]  # the same summary, figure by figure
    return outs[0], outs[1], texts[0]


def test_spark_native_gives_what_duckdb_native_gives_on_the_example_rows(
        tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq
    rows = [r for _, r in example_rows("denwa")]
    cols = sorted({c for r in rows for c in r})
    src = tmp_path / "in.parquet"
    pq.write_table(pa.Table.from_pylist([{c: (r.get(c) if isinstance(r.get(c), list | bool | int)
                                              else str(r[c]) if r.get(c) is not None else None)
                                          for c in cols} for r in rows]), src)
    duck, spark, _ = _both("denwa", src, tmp_path)
    assert len(spark) == len(rows) and [g["row"] for g in spark] == list(range(1, len(rows) + 1))
    assert spark == duck


def _random_table(doc: str, n: int) -> tuple[Any, int]:
    """`n` random rows of the newest version in the canonical layout, a tenth of them
    spoiled in a way a row check must catch; the number spoiled."""
    import pyarrow as pa
    book = versions(doc)[-1]
    lay = Layout.of(doc)
    rng = random.Random(f"spark-native-{doc}")
    day = book.doc.header.effective_from or dt.date(2024, 1, 1)
    schema = lay.arrow_schema(book)
    fields = [pa.field("id", pa.string()), pa.field("as_of", pa.date32()),
              *(f for f in schema if f.name not in ("__row", AS_OF))]
    enums = [p for p, d in book.facts.items() if d.type.base == "enum"]
    ints = [p for p, d in book.facts.items() if d.type.base in ("int", "money")]
    recs, spoiled = [], 0
    for i in range(n):
        rec = canonical_row(random_facts(rng, book, day), book)
        rec.update(id=f"r{i}", as_of=day + dt.timedelta(days=rng.randint(0, 400)))
        if i % 10 == 3:
            how = rng.choice(["enum", "int", "date", "both"])
            both = [q for q in ints if q + "__absent" in rec]
            if how == "enum" and enums:
                rec[rng.choice(enums)] = "no_such_member"
            elif how == "int" and ints:
                rec[rng.choice(ints)] = -1
            elif how == "both" and both:  # a value and its absence at once
                q = rng.choice(both)
                rec[q], rec[q + "__absent"] = 1, True
            else:
                rec["as_of"] = dt.date(1999, 1, 1)  # no version in force
            spoiled += 1
        recs.append(rec)
    return pa.Table.from_pylist(recs, schema=pa.schema(fields)), spoiled


def test_spark_native_gives_what_duckdb_native_gives_on_random_rows(tmp_path: Path) -> None:
    """denwa's newest version (lists of records, dates, money); Spark plans each version's
    program for several seconds, so the sample stays small (rakuten-miitel's 70 outcomes take
    about a minute on a loaded two-core machine: `bench/` material, not a test's)."""
    import pyarrow.parquet as pq
    doc = "denwa"
    table, spoiled = _random_table(doc, 300)
    src = tmp_path / "in.parquet"
    pq.write_table(table, src)
    duck, spark, summary = _both(doc, src, tmp_path, "--errors",
                                 str(tmp_path / "errors.parquet"))
    assert len(duck) == len(spark) == 300
    diffs = [(d["row"], k, s.get(k), d[k]) for s, d in zip(spark, duck, strict=True)
             for k in d if s.get(k) != d[k]]
    assert diffs == [], f"Spark ≠ DuckDB on {len(diffs)}, e.g. {diffs[:3]}"
    rejected = [d for d in duck if d["error_code"] is not None]
    assert len(rejected) >= spoiled > 10  # every spoiled row is caught, none dropped
    assert {d["error_code"] for d in rejected} >= {"case.invalid-fact"}
    assert sum(d["error_code"] is None and any(
        d[k] == "undetermined" for k in d if k.endswith(".value")) for d in duck) > 0
    assert summary.startswith("入力 300行：") and \
        f"・不受理（入力誤り） {len(rejected)}\n" in summary


# ---- JSON Lines and CSV read by Spark, validated on the executors ------------------------------

def _spoiled_rows() -> list[dict[str, Any]]:
    """The example rows of denwa and, among them, rows each path must reject (never drop)."""
    rows = [r for _, r in example_rows("denwa")]
    rows[1] = {**rows[1], "service.kind": "type9"}  # an enum typo: the case model's hint
    rows[3] = {**rows[3], "as_of": "2000-01-01"}  # no version in force
    rows[5] = {**rows[5], "as_of": "the 5th"}  # not a date
    rows[7] = {**rows[7], "applicant.duns_issued": "maybe"}  # not a yes/no
    rows.append({"id": "old", "as_of": "2023-04-05",
                 "service.docomo_corporate_contract": True})  # no fact of that version
    return rows


def test_json_lines_read_by_spark_give_what_the_duckdb_path_gives(tmp_path: Path) -> None:
    """Every row in the output, in order, with the row path's codes and messages — a
    malformed line, a line that is no object and a blank line (numbered, not a row) among
    them; the same summary."""
    rows = _spoiled_rows()
    lines = [json.dumps(r, ensure_ascii=False, default=str) for r in rows]
    lines[4:4] = ['{"id": "broken", ', "[1, 2]", ""]
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    duck, spark, summary = _both("denwa", src, tmp_path, "--errors",
                                 str(tmp_path / "errors.jsonl"))
    assert len(spark) == len(rows) + 2  # the blank line is no row
    assert spark == duck
    codes = [g["error_code"] for g in spark if g["error_code"]]
    assert sorted(set(codes)) == ["batch.bad-date", "batch.malformed-row",
                                  "batch.not-in-version", "case.invalid-fact",
                                  "eval.no-version-in-force"]
    assert f"・不受理（入力誤り） {len(codes)}\n" in summary


def _csv_text(rows: list[dict[str, Any]], cols: list[str], more: list[list[str]],
              eol: str) -> str:
    import csv
    import io
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator=eol)
    w.writerow(cols)
    for r in rows:
        w.writerow(["" if r.get(c) is None else
                    json.dumps(r[c], ensure_ascii=False, default=str)
                    if isinstance(r[c], list) else
                    str(r[c]).lower() if isinstance(r[c], bool) else str(r[c]) for c in cols])
    w.writerows(more)
    return buf.getvalue()


@pytest.mark.parametrize("eol", ["\n", "\r\n", "mixed"])
def test_csv_read_by_spark_gives_what_the_duckdb_path_gives(eol: str, tmp_path: Path) -> None:
    """CSV cells as the `csv` module reads them: quotes doubled, a quoted cell with a line
    break (one record, numbered once), a JSON array in a cell, a short row, a cell beyond
    the header with a value (rejected) or without (nothing to drop)."""
    rows = _spoiled_rows()
    cols = ["id", "as_of", *sorted({c for r in rows for c in r} - {"id", "as_of"})]
    blank = [""] * (len(cols) - 2)
    more = [['multi\nline "id"', "2023-05-01"],  # a short row whose id spans two lines
            ["extra", "2023-05-01", *blank, "surplus"],
            ["empty-extra", "2023-05-01", *blank, "", ""]]
    src = tmp_path / "in.csv"
    text = _csv_text(rows, cols, more, "\r\n" if eol == "mixed" else eol)
    if eol == "mixed":  # every third line ends in \n alone (a quoted \r\n stays one)
        lines = text.split("\r\n")
        text = "".join(x + ("\n" if i % 3 == 2 else "\r\n") for i, x in enumerate(lines[:-1]))
    src.write_bytes(text.encode("utf-8"))
    duck, spark, _summary = _both("denwa", src, tmp_path)
    assert len(spark) == len(rows) + 3
    assert spark == duck
    assert [g["row"] for g in spark] == list(range(2, len(rows) + 5))
    assert spark[-3]["id"] == 'multi\nline "id"' and spark[-3]["error_code"] is None
    assert spark[-2]["error_code"] == "batch.malformed-row"
    assert spark[-1]["error_code"] is None


def test_a_csv_whose_lines_end_in_a_carriage_return_alone_is_exit_2_under_spark(
        tmp_path: Path) -> None:
    src = tmp_path / "mac.csv"
    src.write_bytes(b"id,service.kind\rx,type2\ry,type1\r")
    res = _run("denwa", str(src), "-o", str(tmp_path / "o.jsonl"), "--engine", "spark")
    assert res.exit_code == 2 and "batch.unreadable" in res.output, res.output


def test_a_column_that_is_no_fact_or_text_that_is_not_utf8_is_exit_2_under_spark(
        tmp_path: Path) -> None:
    bad_key = tmp_path / "key.jsonl"
    bad_key.write_text('{"id": 1}\n{"id": 2, "applicant.duns_isued": true}\n',
                       encoding="utf-8")
    bad_col = tmp_path / "col.csv"
    bad_col.write_text("id,applicant.duns_isued\n1,true\n", encoding="utf-8")
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes(b'{"id": "caf\xe9"}\n')
    for src, code, where in ((bad_key, "batch.unknown-column", "key.jsonl:2"),
                             (bad_col, "batch.unknown-column", "col.csv"),
                             (latin, "io.not-utf8", "latin.jsonl")):
        res = _run("denwa", str(src), "-o", str(tmp_path / "o.jsonl"), "--engine", "spark")
        assert res.exit_code == 2, res.output
        assert code in res.output and where in res.output and "Traceback" not in res.output
        assert not (tmp_path / "o.jsonl").exists()  # nothing written


# ---- a folder of part files, a glob --------------------------------------------------------------

def test_a_folder_of_parts_and_a_glob_are_one_table_in_name_order(tmp_path: Path) -> None:
    """Spark users' tables: a folder of part files (with `_SUCCESS`), or a glob; rows are
    numbered across the files in name order, and the answers are the single file's."""
    import pyarrow.parquet as pq
    table, _spoiled = _random_table("denwa", 240)
    whole = tmp_path / "whole.parquet"
    pq.write_table(table, whole)
    parts = tmp_path / "cases"
    parts.mkdir()
    (parts / "_SUCCESS").write_text("", encoding="utf-8")
    for i, at in enumerate((0, 100, 130)):  # uneven sizes: Spark packs parts into tasks by size
        n = (100, 30, 110)[i]
        pq.write_table(table.slice(at, n), parts / f"part-{i:05d}.parquet",
                       row_group_size=40)
    want = _rows_of(_spark_out("denwa", whole, tmp_path / "w.jsonl"))
    assert len(want) == 240
    for src in (parts, f"{parts}/*.parquet"):
        got = _rows_of(_spark_out("denwa", src, tmp_path / "p.jsonl"))
        assert got == want, src
    # JSON Lines in two parts: what the whole file gives (rows numbered by line across them)
    lines = [json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in _spoiled_rows()]
    one, folder = tmp_path / "one.jsonl", tmp_path / "lines"
    one.write_text("".join(lines), encoding="utf-8")
    folder.mkdir()
    (folder / "part-00000.json").write_text("".join(lines[:25]), encoding="utf-8")
    (folder / "part-00001.json").write_text("".join(lines[25:]), encoding="utf-8")
    res = _run("denwa", str(one), "-o", str(tmp_path / "one-out.jsonl"))
    assert res.exit_code == 0, res.output
    got = _rows_of(_spark_out("denwa", folder, tmp_path / "j.jsonl"))
    assert got == _rows_of(tmp_path / "one-out.jsonl") and len(got) == len(lines)


def _spark_out(doc: str, src: Path | str, out: Path) -> Path:
    res = _run(doc, str(src), "-o", str(out), "--engine", "spark")
    assert res.exit_code == 0, res.output
    return out


def test_a_folder_with_nothing_to_read_or_a_glob_with_no_match_is_exit_2(
        tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "README.txt").write_text("x", encoding="utf-8")
    for src, code in ((empty, "batch.format"), (f"{tmp_path}/none/*.parquet",
                                                "io.missing-file")):
        res = _run("denwa", str(src), "-o", str(tmp_path / "o.jsonl"), "--engine", "spark")
        assert res.exit_code == 2 and code in res.output, res.output
