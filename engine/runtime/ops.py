"""ops: what each value operation of the IR means at run time — shared by every Python backend.

The tracing interpreter (`evaluate.py`) and the compiled backend (`compiled.py`) both call
these, so a comparison of a date with an observed absence, the arithmetic of dates and
durations, a quantifier's fold and an outcome's set of possible values mean one thing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from yakkan.engine.core import ir as I
from yakkan.engine.core.kinds import Value
from yakkan.engine.core.periods import Duration, add_months
from yakkan.engine.core.values import ABSENT


def fact_at(facts: Any, path: Sequence[str]) -> Any:
    """The value at a fact path of a case (nested dicts), or None (unknown) where the case
    says nothing."""
    node = facts
    for p in path:
        if not isinstance(node, dict):
            return None
        node = node.get(p)
        if node is None:
            return None
    return node


class EvalError(Exception):
    """A rule whose evaluation cannot proceed (e.g. adding a date to text): a rule bug."""


def truth(v: Any) -> bool | None:
    """A condition's value: true, false or unknown — anything else is a rule bug."""
    if v is None or isinstance(v, bool):
        return v
    raise EvalError(f"a condition gave {v!r}, not true/false")


def kleene_and(vals: list[bool | None]) -> bool | None:
    if False in vals:  # truth values only (bool or None): nothing else equals False
        return False
    return None if None in vals else True


def kleene_or(vals: list[bool | None]) -> bool | None:
    if True in vals:
        return True
    return None if None in vals else False


def kleene_source(op: str, vals: Sequence[str]) -> str:
    """Kleene's and/or (`kleene_and`/`kleene_or`) of the truth values the Python names
    `vals` hold, as a Python expression: what the generated backends write instead of a
    call."""
    stop, other = ("False", "True") if op == "and" else ("True", "False")
    hit = " or ".join(f"{v} is {stop}" for v in vals)
    unk = " or ".join(f"{v} is None" for v in vals)
    return f"{stop} if ({hit}) else (None if ({unk}) else {other})"


def literal(e: I.Lit) -> Any:
    if e.type == "duration":
        n = int(e.value)  # type: ignore[arg-type]
        unit = e.unit or "day"
        if unit in ("second", "minute", "hour"):
            return Duration(seconds=n * {"second": 1, "minute": 60, "hour": 3600}[unit])
        if unit == "day":
            return Duration(days=n)
        return Duration(months=n * (12 if unit == "year" else 1))
    if e.type == "percent":
        return Decimal(e.value) / 100  # type: ignore[arg-type]
    return e.value


def dur_key(d: Duration) -> tuple[int, int]:
    return (d.months, d.days * 86400 + d.seconds)


def compare(op: str, a: Any, b: Any) -> bool:
    if a is ABSENT or b is ABSENT:
        # observed absence orders nothing and equals only itself
        same = a is b
        return same if op == "==" else (not same) if op == "!=" else False
    if isinstance(a, Duration) and isinstance(b, Duration):
        a, b = dur_key(a), dur_key(b)
    elif isinstance(a, Duration) and isinstance(b, int | Decimal):
        a = a.seconds + a.days * 86400
    try:
        if op == "==":
            return bool(a == b)
        if op == "!=":
            return bool(a != b)
        if op == "<":
            return bool(a < b)
        if op == "<=":
            return bool(a <= b)
        if op == ">":
            return bool(a > b)
        return bool(a >= b)
    except TypeError as err:
        raise EvalError(f"cannot compare {a!r} {op} {b!r}") from err


def arith_value(op: str, a: Any, b: Any) -> Any:
    """Arithmetic on two values as evaluated: unknown where either is, absent where either
    is (stated as absent)."""
    if a is None or b is None:
        return None
    if a is ABSENT or b is ABSENT:
        return ABSENT
    return arith(op, a, b)


def negate(v: Any) -> Any:
    return v if v is None or v is ABSENT else -v


def member(a: Any, options: list[Any]) -> bool | None:
    """Whether `a` is one of `options` (values as evaluated): unknown where `a` is, or
    where it is none of the known options and some option is unknown."""
    if a is None:
        return None
    if a in [o for o in options if o is not None]:
        return True
    return None if any(o is None for o in options) else False


def arith(op: str, a: Any, b: Any) -> Any:
    if isinstance(a, dt.date) and isinstance(b, Duration):
        if b.months:
            a = add_months(a, b.months if op == "+" else -b.months)
        days = b.days + b.seconds // 86400
        return a + dt.timedelta(days=days if op == "+" else -days)
    if isinstance(a, dt.date) and isinstance(b, dt.date) and op == "-":
        return (a - b).days
    if isinstance(a, dt.date) and isinstance(b, int):
        return a + dt.timedelta(days=b if op == "+" else -b)
    if isinstance(a, Duration) and isinstance(b, Duration):
        sign = 1 if op == "+" else -1
        return Duration(seconds=a.seconds + sign * b.seconds, days=a.days + sign * b.days,
                        months=a.months + sign * b.months)
    if isinstance(a, float) or isinstance(b, float):
        a, b = Decimal(str(a)), Decimal(str(b))
    if (isinstance(a, int) and isinstance(b, Decimal)) or (isinstance(a, Decimal) and
                                                           isinstance(b, int)):
        a, b = Decimal(a), Decimal(b)
    try:
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if b == 0:
            return None
        return Decimal(a) / Decimal(b)
    except TypeError as err:
        raise EvalError(f"cannot compute {a!r} {op} {b!r}") from err


def fold(q: str, counted: bool, results: list[Any]) -> Any:
    """A quantifier's value from the values of its records (`counted`: `count` has a body,
    so it counts the records whose body is true). Unknown where a record's value is."""
    if q == "all":
        if any(v is False for v in results):
            return False
        return None if any(v is None for v in results) else True
    if q == "any":
        if any(v is True for v in results):
            return True
        return None if any(v is None for v in results) else False
    if q == "count":
        if counted:
            if any(v is None for v in results):
                return None
            return sum(1 for v in results if v)
        return len(results)
    if any(v is None for v in results):
        return None
    results = [v for v in results if v is not ABSENT]
    if q == "sum":
        total: Any = Decimal(0)
        for v in results:
            total = total + v
        return total
    if not results:
        return None
    return min(results) if q == "min" else max(results)


def possible(conds: Sequence[bool | None], values: Sequence[Value], default: Value) -> \
        tuple[Value, ...]:
    """The values a decision rule (`ir.Priority`) may take, strongest first, from the values
    of its branch conditions: Kleene-exact — each branch still open before the first that
    holds, and that one's value (or the default when none holds)."""
    out: list[Value] = []
    for c, v in zip(conds, values, strict=True):
        if c is False:
            continue
        if c is True and not out:
            return (v,)  # the common case: the first branch open holds
        if v not in out:
            out.append(v)
        if c is True:
            return tuple(out)
    if default not in out:
        out.append(default)
    return tuple(out)
