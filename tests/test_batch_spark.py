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
    assert "300 rows: " in summary and f"{len(rejected)} rejected" in summary
