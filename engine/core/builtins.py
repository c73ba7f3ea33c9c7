"""The fixed table of builtin functions an expression may call (`Call.fn`).

Each builtin is pure and Kleene-strict: an unknown (None) argument gives an unknown result,
and an observed absence (`values.ABSENT`) gives `ABSENT` (a comparison, `same_name`, gives
false: an absent name is nobody's name, as `==` with absence is false); except `known`, which asks whether
the case says anything (a value or its absence), and `present`, which asks whether there is
a value (true), observed absence (false) or nothing known (unknown). Nothing outside this
table can be called.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from yakkan.engine.core.money import add_tax, units_started
from yakkan.engine.core.periods import Duration, days_inclusive, late_interest, period_end
from yakkan.engine.core.textnorm import same_name
from yakkan.engine.core.values import ABSENT


def seconds_of(d: Any) -> Decimal:
    if isinstance(d, Duration):
        if d.months:
            raise ValueError("a duration in months has no fixed number of seconds")
        return Decimal(d.seconds + d.days * 86400)
    return Decimal(d)


def _units_started(q: Any, unit: Any) -> int:
    return units_started(seconds_of(q), seconds_of(unit))


def _period_end(start: dt.date, dur: Any) -> dt.date:
    if isinstance(dur, int):
        dur = Duration(days=dur)
    return period_end(start, dur)


def _interest(principal: Decimal, rate: Decimal, days: Any) -> Decimal:
    return late_interest(Decimal(principal), Decimal(rate), int(days))


def _add_days(d: dt.date, n: Any) -> dt.date:
    return d + dt.timedelta(days=int(n))


def _len(xs: list[Any]) -> int:
    return len(xs)


def _min(*xs: Any) -> Any:
    return min(xs)


def _max(*xs: Any) -> Any:
    return max(xs)


def _tax_included(x: Decimal) -> Decimal:
    return add_tax(Decimal(x))


def _days(d: Any) -> int:
    if isinstance(d, Duration):
        return d.days
    return int(d)


BUILTINS: dict[str, tuple[Callable[..., Any], str, str]] = {
    # name: (function, result type, description)
    "units_started": (_units_started, "int", "per started unit (60秒までごとに)"),
    "period_end": (_period_end, "date", "last day of a period counted from its first day (起算)"),
    "days_between": (days_inclusive, "int", "days from first to last, both included"),
    "add_days": (_add_days, "date", "a date n days later (negative: earlier)"),
    "interest": (_interest, "money", "interest for days at an annual rate (365-day year)"),
    "tax_included": (_tax_included, "money", "amount with 10% consumption tax, yen truncated"),
    "len": (_len, "int", "number of records in a list"),
    "min": (_min, "any", "the smaller"),
    "max": (_max, "any", "the larger"),
    "days": (_days, "int", "a duration in days"),
    "same_name": (same_name, "bool",
                  "two names (名義) are the same under core/textnorm.name_key: NFKC and width, "
                  "whitespace, 法人格 abbreviations ((株)/㈱ = 株式会社 …)"),
}
STRICT_EXEMPT = {"known", "present"}
COMPARISONS = frozenset({"same_name"})  # false, not absent, where an argument is absent


def call(fn: str, args: list[Any]) -> Any:
    """Apply a builtin with Kleene strictness (unknown in → unknown out; absent → absent)."""
    if fn == "known":
        return args[0] is not None
    if fn == "present":
        return None if args[0] is None else args[0] is not ABSENT
    if any(a is None for a in args):
        return None
    if any(a is ABSENT for a in args):
        # a comparison: an absent name is the same as no name (as `==` with absence)
        return False if fn in COMPARISONS else ABSENT
    return BUILTINS[fn][0](*args)


NAMES = (*BUILTINS, "known", "present")
