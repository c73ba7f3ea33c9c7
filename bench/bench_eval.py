"""Benchmark: evaluation of one case, warm and cold.

    python bench/bench_eval.py [--repeat N]

* warm — `evaluate()` of the denwa (2023-04-17) application decision for a プラン4 case,
  producing the full justification tree (every ground with its condition value, the facts and
  definitions it read, the override), the rulebook already compiled; also with the tree
  turned into explain JSON;
* baseline — a hand-written plain-Python function deciding the same application (no
  justification), timed in the same run;
* cold — wall time of `yakkan explain CASE --format json` in a fresh process (compiled-rulebook
  cache warm, and with the cache disabled).
Figures are medians (with the interquartile range) and ratios against the baseline.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from yakkan.engine.features.explain import outcome_json, prepare
from yakkan.engine.runtime.evaluate import evaluate

ROOT = Path(__file__).resolve().parent.parent
CASE = ROOT / "examples" / "cases" / "denwa-plan4-no-duns.yaml"


def hand_written(f: dict[str, Any]) -> str:
    """第14条の65 (2023-04-17) by hand: the baseline, no explanation."""
    s, a = f["service"], f["applicant"]
    type2 = s["kind"] == "type2"
    plan2 = type2 and s["terminates_at_carrier"]
    plan3 = type2 and s["one_number_per_line"]
    plan4 = plan2 and s["docomo_corporate_contract"]
    plan1 = type2 and not (plan2 or plan3 or plan4)
    grounds = [
        a["paying_late"] or a["may_pay_late"],
        not (plan1 or plan3) and not a["contracts_shared_ip_pbx"],
        plan4 and not a["duns_issued"],
        plan4 and not a["name_matches_docomo_holder"],
        f["company"]["serious_hindrance"],
    ]
    return "may_refuse" if any(grounds) else "accept"


def timeit(fn: Callable[[], Any], repeat: int, inner: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        for _ in range(inner):
            fn()
        out.append((time.perf_counter() - t) / inner)
    return out


def stats(xs: list[float]) -> tuple[float, float]:
    q = statistics.quantiles(xs, n=4)
    return statistics.median(xs), q[2] - q[0]


def cold(args: list[str], env: dict[str, str], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run(args, env=env, check=True, stdout=subprocess.DEVNULL)
        out.append(time.perf_counter() - t)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=15)
    ns = ap.parse_args()
    p = prepare(str(CASE))
    book, facts, as_of = p.book, p.facts, p.as_of
    assert hand_written(facts) == evaluate(book, facts, as_of).outcomes["application"].value

    def warm() -> Any:
        return evaluate(book, facts, as_of, outcomes=["application"])

    def warm_json() -> Any:
        r = evaluate(book, facts, as_of, outcomes=["application"])
        return outcome_json(book, r.outcomes["application"], [])

    rows = [
        ("baseline: hand-written function", timeit(lambda: hand_written(facts), ns.repeat, 2000)),
        ("warm evaluate (justification tree)", timeit(warm, ns.repeat, 200)),
        ("warm evaluate + explain JSON", timeit(warm_json, ns.repeat, 100)),
    ]
    base = stats(rows[0][1])[0]
    print(f"{'measure':40} {'median':>12} {'IQR':>10} {'× baseline':>12}")
    for name, xs in rows:
        m, iqr = stats(xs)
        print(f"{name:40} {m * 1e6:10.2f}µs {iqr * 1e6:8.2f}µs {m / base:12.1f}")
    exe = str(Path(sys.executable).parent / "yakkan")
    args = [exe, "explain", str(CASE), "--format", "json"]
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "YAKKAN_CACHE": tmp}
        subprocess.run(args, env=env, check=True, stdout=subprocess.DEVNULL)  # fill the cache
        crow = [("cold `yakkan explain` (cache warm)", cold(args, env, max(5, ns.repeat // 3))),
                ("cold `yakkan explain` (cache off)",
                 cold(args, {**env, "YAKKAN_CACHE": "off"}, max(5, ns.repeat // 3))),
                ("baseline: `python -c pass`",
                 cold([sys.executable, "-c", "pass"], env, max(5, ns.repeat // 3)))]
    pbase = stats(crow[2][1])[0]
    for name, xs in crow:
        m, iqr = stats(xs)
        print(f"{name:40} {m * 1e3:10.1f}ms {iqr * 1e3:8.1f}ms {m / pbase:12.1f}")


if __name__ == "__main__":
    main()
