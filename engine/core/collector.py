"""How often the cyclic garbage collector runs in yakkan's own processes.

CPython frees an object when its last reference goes; the collector is needed only for
reference cycles. Its young-generation pass runs every `threshold0` new containers (700 by
default) and walks the young ones still alive. An explanation builds thousands of dicts and
lists that live until it returns and makes no reference cycle (`tests/test_compiled.py` holds
every example explanation to that), so those passes free nothing: at the default they took
~4% of a warm explanation (`bench/bench_speed.py` reports both). yakkan's commands (the
CLI's `run`: one-shot runs, `yakkan serve`, `yakkan batch`) run the pass every `YOUNG` new
containers instead; a program embedding yakkan keeps its own settings unless it calls
`tune()`. A cycle made all the same is collected, later.
"""

from __future__ import annotations

import gc

__all__ = ["YOUNG", "tune"]

YOUNG = 10_000  # new containers between young-generation passes in yakkan's commands


def tune() -> None:
    """Run the young-generation pass every `YOUNG` new containers, where it ran more often;
    the older generations' thresholds, and a collector turned off, are left as they are."""
    young, older, oldest = gc.get_threshold()
    if 0 < young < YOUNG:
        gc.set_threshold(YOUNG, older, oldest)
