"""How long parsing takes: parse + lower every bundled clause file, against two baselines.

    python bench/bench_parse.py [--repeat N] [FILE …]

Measured in one run, interleaved round by round so that drift hits all alike:

* `read + splitlines` — read every file and split it into lines (the floor: I/O and decode);
* `lark parse`        — read and run the Lark LALR parser only (syntax tree, no AST);
* `parse + lower`     — read and `parse_document` (syntax tree, lowering to the pydantic
                        AST, comment attachment): what every command pays per file.

The parser's tables are built once before timing (the first call of `parser()`), as in any
long-running process. Reported: median and interquartile range over the rounds, and the
ratio of each median to the baseline's.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from yakkan.engine.syntax.load import bundled_root
from yakkan.engine.syntax.parse import parse_document, parser

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "golden" / "fmt"


def clause_files() -> tuple[list[Path], str]:
    files = sorted(bundled_root().glob("*/*.yk"))
    if files:
        return files, "bundled clause files"
    return sorted(FIXTURES.glob("*.yk")), "fmt fixtures (no bundled clause file yet)"


def read_split(files: list[Path]) -> None:
    for f in files:
        f.read_bytes().decode("utf-8").splitlines()


def lark_only(files: list[Path]) -> None:
    p = parser()
    for f in files:
        p.parse(f.read_bytes().decode("utf-8").removeprefix("\ufeff"), start="start")


def parse_lower(files: list[Path]) -> None:
    for f in files:
        doc, _ = parse_document(f.read_bytes().decode("utf-8").removeprefix("\ufeff"), str(f))
        assert doc is not None, f"{f} does not parse"


def timed(fn: Callable[[list[Path]], None], files: list[Path]) -> float:
    gc.collect()
    start = time.perf_counter()
    fn(files)
    return time.perf_counter() - start


def summary(xs: list[float]) -> tuple[float, float]:
    """Median and interquartile range."""
    q1, med, q3 = statistics.quantiles(xs, n=4, method="inclusive")
    return med, q3 - q1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=20, help="rounds to time (default 20)")
    ap.add_argument("files", nargs="*", type=Path, help="files to parse (default: bundled)")
    args = ap.parse_args(argv)
    if args.repeat < 2:
        ap.error("--repeat needs at least 2 rounds")
    files, what = (args.files, "given files") if args.files else clause_files()
    if not files:
        print("no .yk files to parse", file=sys.stderr)
        return 1
    size = sum(f.stat().st_size for f in files)
    lines = sum(len(f.read_bytes().splitlines()) for f in files)

    steps: list[tuple[str, Callable[[list[Path]], None]]] = [
        ("read + splitlines", read_split), ("lark parse", lark_only),
        ("parse + lower", parse_lower),
    ]
    for _, fn in steps:  # warm up: parser tables, imports, file cache
        fn(files)
    times: dict[str, list[float]] = {name: [] for name, _ in steps}
    for _ in range(args.repeat):
        for name, fn in steps:
            times[name].append(timed(fn, files))

    base, _ = summary(times[steps[0][0]])
    print(f"{len(files)} {what}, {size / 1024:.0f} KiB, {lines} lines; "
          f"{args.repeat} rounds; Python {sys.version.split()[0]}")
    print(f"{'step':<20} {'median ms':>10} {'IQR ms':>8} {'× baseline':>11} {'lines/s':>10}")
    for name, _ in steps:
        med, iqr = summary(times[name])
        print(f"{name:<20} {med * 1e3:>10.2f} {iqr * 1e3:>8.2f} {med / base:>11.1f} "
              f"{lines / med:>10,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
