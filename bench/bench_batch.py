"""Benchmark: portfolio-scale decisions — DuckDB against the interpreter and plain Python.

    .venv/bin/pip install -e '.[test,bench]'
    .venv/bin/python bench/bench_batch.py [--rows 1000000 10000000] [--repeat 3]

For each table size (generated プラン4-style applications of 電話等サービス契約約款
2023-04-17, with unknown facts mixed in), in one run:

* **DuckDB, 1 and 2 threads**: the `application` decision validated and decided in SQL
  exactly as `yakkan batch` does for Parquet (`features/batch_native.py`: the row checks,
  the program compiled for the file's columns), the result consumed by an aggregate (no
  output file), decisions per second as the median of `--repeat` runs — twice, as DuckDB
  computes only what the aggregate reads: the value with its applying grounds ("value +
  grounds"), and all four outputs `yakkan batch` writes, the undetermined grounds and the
  missing facts too ("all four");
* **the end-to-end command** `yakkan batch denwa IN.parquet -o OUT.parquet --outcome
  application` in a fresh process: wall time and peak memory (max RSS);
* baselines measured on a 20,000-row sample of the same table: the tracing interpreter
  loop, the compiled Python backend loop, and a hand-written Python function (the plain
  baseline), as decisions per second; cedarpy's `is_authorized_batch` on
  `../shared/anchors/plan4.cedar` (the same 4 grounds) if installed.

Ratios are against the interpreter loop measured in the same run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb

from yakkan.engine.features.batch import Layout, facts_of_row
from yakkan.engine.features.batch_native import _duck_col, _validated, program_query
from yakkan.engine.runtime.compiled import compiled_of
from yakkan.engine.runtime.evaluate import evaluate
from yakkan.engine.runtime.sql import DUCKDB
from yakkan.engine.semantics.rulebooks import rulebook_for

ROOT = Path(__file__).resolve().parent.parent
ANCHORS = ROOT.parent / "shared" / "anchors"
AS_OF = dt.date(2023, 5, 1)
OUTCOME = "application"


def generate(path: str, n: int) -> None:
    con = duckdb.connect()
    con.execute(f"""COPY (SELECT 'r' || i AS id, DATE '{AS_OF}' AS as_of,
      CASE WHEN i % 7 = 0 THEN 'type1' ELSE 'type2' END AS "service.kind",
      (i % 3 = 0) AS "service.terminates_at_carrier",
      (i % 5 = 0) AS "service.one_number_per_line",
      CASE WHEN i % 11 = 0 THEN NULL ELSE (i % 2 = 0) END AS "service.docomo_corporate_contract",
      (i % 13 = 0) AS "applicant.paying_late",
      CASE WHEN i % 17 = 0 THEN NULL ELSE FALSE END AS "applicant.may_pay_late",
      (i % 4 <> 0) AS "applicant.contracts_shared_ip_pbx",
      (i % 9 <> 0) AS "applicant.duns_issued",
      (i % 19 <> 0) AS "applicant.name_matches_docomo_holder",
      FALSE AS "company.serious_hindrance"
      FROM range({n}) t(i)) TO '{path}' (FORMAT PARQUET)""")


def hand_written(f: dict[str, Any]) -> tuple[str | None, list[str]]:
    """第14条の65 (2023-04-17) by hand, Kleene-free (unknown → None): the plain baseline."""
    s, a = f.get("service", {}), f.get("applicant", {})
    kind = s.get("kind")
    plan2 = kind == "type2" and s.get("terminates_at_carrier")
    plan3 = kind == "type2" and s.get("one_number_per_line")
    plan4 = plan2 and s.get("docomo_corporate_contract")
    plan1 = kind == "type2" and not (plan2 or plan3 or plan4)
    grounds = [c for c, hit in (
        ("1", a.get("paying_late") or a.get("may_pay_late")),
        ("5", not (plan1 or plan3) and not a.get("contracts_shared_ip_pbx")),
        ("6", plan4 and not a.get("duns_issued")),
        ("7", plan4 and not a.get("name_matches_docomo_holder")),
        ("8", f.get("company", {}).get("serious_hindrance"))) if hit]
    return ("may_refuse" if grounds else "accept"), grounds


def rate(n: int, seconds: list[float]) -> float:
    return n / statistics.median(seconds)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--repeat", type=int, default=3)
    ns = ap.parse_args()
    book = rulebook_for("denwa", AS_OF)
    lay = Layout.of("denwa")
    exe = str(Path(sys.executable).parent / "yakkan")
    with tempfile.TemporaryDirectory() as tmp:
        for n in ns.rows:
            src = f"{tmp}/in-{n}.parquet"
            generate(src, n)
            con = duckdb.connect()
            rel = con.sql(f"SELECT * FROM read_parquet('{src}') LIMIT 0")
            have = {n: _duck_col(n, t) for n, t in zip(rel.columns, rel.types, strict=True)}
            view = _validated(lay, have, f"read_parquet('{src}', file_row_number = true)",
                              AS_OF, DUCKDB)
            con.execute(f"CREATE VIEW v AS {view}").fetchall()
            q = program_query(book, [OUTCOME], DUCKDB, have,
                              "(SELECT * FROM v WHERE __error_code IS NULL)")
            o = OUTCOME
            count = f'count(*) FILTER (WHERE "{o}.value" = \'undetermined\')'
            aggs = {"value + grounds": f'SELECT {count}, sum(len("{o}.grounds")) FROM ({q})',
                    "all four": f'SELECT {count}, sum(len("{o}.grounds")), '
                                f'sum(len("{o}.undetermined")), sum(len("{o}.missing")) '
                                f"FROM ({q})"}
            print(f"\n{n:,} rows")
            duck: dict[str, float] = {}
            for what, agg in aggs.items():
                for threads in (1, 2):
                    con.execute(f"SET threads = {threads}").fetchall()
                    times = []
                    for _ in range(ns.repeat):
                        t = time.perf_counter()
                        res = con.sql(agg).fetchall()[0]
                        times.append(time.perf_counter() - t)
                    key = f"DuckDB {threads} thread(s), {what}"
                    duck[key] = rate(n, times)
                    print(f"  {key + ':':34} {duck[key]:>14,.0f} decisions/s "
                          f"(median of {ns.repeat}; {res[0]:,} undetermined)")
            # the command end to end, in a fresh process
            before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            t = time.perf_counter()
            subprocess.run([exe, "batch", "denwa", src, "-o", f"{tmp}/out.parquet",
                            "--outcome", OUTCOME], check=True, stdout=subprocess.DEVNULL,
                           env={**os.environ, "YAKKAN_CACHE": f"{tmp}/cache"})
            wall = time.perf_counter() - t
            peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            print(f"  yakkan batch (end to end, fresh process): {wall:.2f} s, "
                  f"{n / wall:,.0f} rows/s, peak RSS {max(peak, before) / 1024:,.0f} MiB")
            # baselines on a sample
            sample = min(n, 20_000)
            rows = con.sql(f"SELECT * FROM v WHERE __error_code IS NULL LIMIT {sample}") \
                .to_arrow_table().to_pylist()
            cases = [facts_of_row(r, book) for r in rows]
            c = compiled_of(book)
            loops: dict[str, Any] = {
                "interpreter loop": lambda cases=cases: [
                    evaluate(book, f, AS_OF, outcomes=[OUTCOME]) for f in cases],
                "compiled Python loop": lambda cases=cases, c=c: [
                    c.decide(f, AS_OF, [OUTCOME]) for f in cases],
                "plain Python (hand-written)": lambda cases=cases: [
                    hand_written(f) for f in cases],
            }
            rates: dict[str, float] = {}
            for name, fn in loops.items():
                times = []
                for _ in range(ns.repeat):
                    t = time.perf_counter()
                    fn()
                    times.append(time.perf_counter() - t)
                rates[name] = rate(len(cases), times)
            cedar = cedar_batch(cases, ns.repeat)
            if cedar is not None:
                rates["cedarpy is_authorized_batch (4 grounds)"] = cedar
            base = rates["interpreter loop"]
            for name, r in rates.items():
                print(f"  {name:42} {r:>14,.0f} decisions/s  {r / base:8.1f}× interpreter")
            for key, r in duck.items():
                print(f"  {key:42} {r:>14,.0f} decisions/s  {r / base:8.1f}× interpreter")


def cedar_batch(cases: list[dict[str, Any]], repeat: int) -> float | None:
    try:
        import cedarpy
    except ImportError:
        print("  (cedarpy not installed: pip install -e '.[bench]')")
        return None
    text = (ANCHORS / "plan4.cedar").read_text(encoding="utf-8")
    _ids = re.findall(r'@id\("([^"]+)"\)', text)
    entities = []
    requests = []
    for i, f in enumerate(cases[:5000]):
        a = f.get("applicant", {})
        attrs: dict[str, Any] = {
            "name": "甲", "line_contract_names": ["甲" if a.get("name_matches_docomo_holder")
                                                  else "乙"],
            "in_arrears": bool(a.get("paying_late") or a.get("may_pay_late")),
            "has_type6_ippbx": bool(a.get("contracts_shared_ip_pbx"))}
        if a.get("duns_issued"):
            attrs["duns_number"] = "12-345-6789"
        entities.append({"uid": {"type": "Applicant", "id": f"a{i}"}, "attrs": attrs,
                         "parents": []})
        requests.append({"principal": f'Applicant::"a{i}"', "action": 'Action::"apply"',
                         "resource": 'Plan::"p4"', "context": {}})
    entities.append({"uid": {"type": "Plan", "id": "p4"}, "attrs": {"plan_no": 4},
                     "parents": []})
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        cedarpy.is_authorized_batch(requests, text, entities)
        times.append(time.perf_counter() - t)
    return rate(len(requests), times)


if __name__ == "__main__":
    print(f"bench_batch {dt.date.today()} · python {sys.version.split()[0]} · "
          f"duckdb {duckdb.__version__} · {os.cpu_count()} CPUs")
    main()
