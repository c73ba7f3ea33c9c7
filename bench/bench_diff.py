"""Wall time of `yakkan diff denwa --from 2023-04-16 --to 2023-04-17` (semantic pass
included), median of N runs, against a baseline measured in the same run: the structural
diff alone (alignment, classification, character runs). Both start from the same resolved
rulebooks (loading is measured once, separately), so the ratio is the cost of the semantic
pass: z3 searches for witness cases, their re-verification by the interpreter, and the
equivalence proofs. Every diff is computed afresh (`reuse=False`): the memo of `compute_diff`
would serve the second run of a measurement in milliseconds.

    python bench/bench_diff.py [-n 7] [--doc denwa] [--from 2023-04-16] [--to 2023-04-17]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from collections.abc import Callable

from yakkan.engine.analysis.diff import compute_diff
from yakkan.engine.semantics.resolve import Derived, Rulebook
from yakkan.engine.semantics.rulebooks import rulebook_for
from yakkan.renderers.diff_render import render_diff


def _fresh(book: Rulebook) -> Rulebook:
    book.derived = Derived()  # compiled grounds and counterfactual caches: measure them too
    return book


def timed(fn: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", type=int, default=7, help="runs per measurement (median reported)")
    ap.add_argument("--doc", default="denwa")
    ap.add_argument("--from", dest="from_", default="2023-04-16")
    ap.add_argument("--to", default="2023-04-17")
    a = ap.parse_args(argv)
    d_from, d_to = dt.date.fromisoformat(a.from_), dt.date.fromisoformat(a.to)

    t0 = time.perf_counter()
    old, new = rulebook_for(a.doc, d_from), rulebook_for(a.doc, d_to)
    load = time.perf_counter() - t0

    def structural() -> object:
        return compute_diff(_fresh(old), d_from, _fresh(new), d_to, semantic=False,
                            reuse=False)

    def full() -> object:
        d = compute_diff(_fresh(old), d_from, _fresh(new), d_to, semantic=True, reuse=False)
        return render_diff(d, "md")

    structural()  # warm imports and caches of the standard library
    base = timed(structural, a.n)
    sem = timed(full, a.n)
    d = compute_diff(old, d_from, new, d_to, semantic=True, reuse=False)
    mb, ms = statistics.median(base), statistics.median(sem)
    print(f"document {a.doc}: {old.doc.header.version} → {new.doc.header.version} "
          f"({len(d.changes())} changes, {len(d.witnesses())} witnesses, "
          f"{len(d.equivalences)} equivalences)")
    print(f"load + resolve (once, cached after): {load * 1000:8.1f} ms")
    print(f"structural diff (baseline), median of {a.n}: {mb * 1000:8.1f} ms  "
          f"[{min(base) * 1000:.1f} – {max(base) * 1000:.1f}]")
    print(f"full diff + md render,     median of {a.n}: {ms * 1000:8.1f} ms  "
          f"[{min(sem) * 1000:.1f} – {max(sem) * 1000:.1f}]")
    print(f"ratio full / structural: {ms / mb:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
