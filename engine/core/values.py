"""Runtime values: observed absence (`ABSENT`), and values as JSON (Decimal as a string,
dates ISO, durations as written: 61秒).

A fact has one of three states in a case: unknown (left out: `None` at run time), a value,
or **observed absence** — the case states that the event did not happen or the record has
no such value (`null` in a case file: a line never removed, a contract not terminated).
`ABSENT` is a known value: comparing it orders nothing (`removed_on <= d` is false: a line
never removed was not removed by `d`), equality with a value is false, arithmetic and
builtins give `ABSENT` again, and `present(x)` asks for it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from yakkan.engine.core.periods import Duration


class Absent:
    """The one value of observed absence (see the module's docstring)."""

    _instance: Absent | None = None

    def __new__(cls) -> Absent:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ABSENT"

    def __reduce__(self) -> str:
        return "ABSENT"  # pickles as the module-level singleton

    def __bool__(self) -> bool:
        raise TypeError("ABSENT has no truth value: compare it, or ask present(x)")


ABSENT = Absent()


# the types of the values JSON holds as they are (most values): a caller converting many
# values tests `type(v) in PLAIN` before calling `jsonable`
PLAIN = frozenset({str, bool, int, float, type(None)})


def jsonable(v: Any) -> Any:
    """A runtime value (or nest of them) as JSON-ready data, losslessly for Decimals;
    unknown is `null`, observed absence `{"absent": true}` (see `case_jsonable`)."""
    if type(v) in PLAIN:  # most values: as they are
        return v
    if v is ABSENT:
        return {"absent": True}  # unknown is null; observed absence is stated
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, Duration):
        return str(v)
    if isinstance(v, list | tuple):
        return [jsonable(x) for x in v]
    if isinstance(v, dict):
        return {k: jsonable(x) for k, x in v.items()}
    return v


def case_jsonable(v: Any) -> Any:
    """Facts as a case file writes them: observed absence is `null`, unknowns are left out."""
    if v is ABSENT:
        return None
    if isinstance(v, dict):
        return {k: case_jsonable(x) for k, x in v.items() if x is not None}
    if isinstance(v, list | tuple):
        return [case_jsonable(x) for x in v]
    return jsonable(v)
