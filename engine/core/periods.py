"""Counting periods the way 約款 and the 民法 (第140条〜第143条) do.

Two ways of fixing the first counted day (起算日) occur in the texts:

- 「…の日から起算して30日」: the text says 起算, so the named day itself is day 1.
- 「…から1か月」 without 起算: 民法第140条 (初日不算入) applies — the day of the event is not
  counted and the period starts the next day (unless it starts at 午前零時).

The functions here take the first counted day (``start``); choosing it is the caller's reading
of the text. Periods in days end on day ``n``; periods in months or years follow the calendar
(民法第143条).

>>> period_end_days(date(2023, 4, 17), 30)
datetime.date(2023, 5, 16)
>>> period_end_months(date(2023, 1, 31), 1)
datetime.date(2023, 2, 28)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

from yakkan.engine.core.lazyre import LazyPattern
from yakkan.engine.core.money import round_yen
from yakkan.engine.core.numerals import NumeralError, normalize_width, to_int

__all__ = [
    "INTEREST_YEAR_DAYS",
    "Duration",
    "PeriodError",
    "add_months",
    "days_inclusive",
    "late_interest",
    "parse_duration",
    "period_end",
    "period_end_days",
    "period_end_months",
    "within_days_from",
]


class PeriodError(ValueError):
    """A period that cannot be counted, or a string that is not a duration."""


def period_end_days(start: date, days: int) -> date:
    """The last day of a period of ``days`` days whose first counted day is ``start``.

    「登録の日から起算して30日」: the text says 起算, so the registration day is day 1
    (起算日を含む) and the last day is ``start + days - 1``. Where a text does not say 起算,
    民法第140条 (初日不算入) applies instead: pass the day after the event as ``start``.

    >>> period_end_days(date(2023, 4, 17), 1), period_end_days(date(2023, 4, 17), 30)
    (datetime.date(2023, 4, 17), datetime.date(2023, 5, 16))
    """
    if days < 1:
        raise PeriodError(f"a period in days needs at least 1 day, got {days}")
    return start + timedelta(days=days - 1)


def within_days_from(start: date, days: int, d: date) -> bool:
    """Whether ``d`` falls in the ``days``-day period whose first counted day is ``start``.

    「支払期日の翌日から起算して10日以内」: pass ``start = 支払期日 + 1日``.

    >>> due = date(2023, 4, 30)
    >>> within_days_from(due + timedelta(days=1), 10, date(2023, 5, 10))
    True
    >>> within_days_from(due + timedelta(days=1), 10, date(2023, 5, 11))
    False
    """
    return start <= d <= period_end_days(start, days)


def days_inclusive(first: date, last: date) -> int:
    """The number of days from ``first`` to ``last``, both counted; 0 if ``last < first``.

    「支払期日の翌日から起算して支払いの日の前日までの期間」: ``first = 支払期日 + 1日``,
    ``last = 支払いの日 - 1日``.

    >>> days_inclusive(date(2023, 5, 1), date(2023, 5, 10))
    10
    >>> days_inclusive(date(2023, 5, 1), date(2023, 4, 30))
    0
    """
    return max((last - first).days + 1, 0)


def _month_shift(d: date, months: int) -> tuple[int, int]:
    index = d.year * 12 + (d.month - 1) + months
    year, month0 = divmod(index, 12)
    if not 1 <= year <= 9999:
        raise PeriodError(f"{d.isoformat()} plus {months} months is out of the date range")
    return year, month0 + 1


def _days_in(year: int, month: int) -> int:
    import calendar  # imported where it is used: it imports locale
    return calendar.monthrange(year, month)[1]


def add_months(d: date, months: int) -> date:
    """The same day ``months`` months later (or earlier), or that month's last day if none.

    >>> add_months(date(2023, 1, 31), 1), add_months(date(2024, 1, 31), 1)
    (datetime.date(2023, 2, 28), datetime.date(2024, 2, 29))
    >>> add_months(date(2023, 3, 31), -1)
    datetime.date(2023, 2, 28)
    """
    year, month = _month_shift(d, months)
    return date(year, month, min(d.day, _days_in(year, month)))


def period_end_months(start: date, months: int) -> date:
    """The last day of a period of ``months`` months whose first counted day is ``start``.

    民法第143条: the period ends on the day before the day of the final month that corresponds
    to ``start`` (応当日の前日); if the final month has no such day, on that month's last day.
    A period counted from the 1st thus ends on the last day of a month (暦に従って計算する).
    Years are 12 months.

    >>> period_end_months(date(2023, 4, 17), 1), period_end_months(date(2023, 4, 1), 1)
    (datetime.date(2023, 5, 16), datetime.date(2023, 4, 30))
    >>> period_end_months(date(2023, 1, 30), 1), period_end_months(date(2024, 2, 29), 12)
    (datetime.date(2023, 2, 28), datetime.date(2025, 2, 28))
    """
    if months < 1:
        raise PeriodError(f"a period in months needs at least 1 month, got {months}")
    year, month = _month_shift(start, months)
    last_day = _days_in(year, month)
    if start.day > last_day:
        return date(year, month, last_day)
    return date(year, month, start.day) - timedelta(days=1)


# Assumed convention: 年14.6% is computed per day on a 365-day year, leap years included
# (閏年も365日), as 約款 and the tax and social insurance rules customarily do.
INTEREST_YEAR_DAYS = 365


def late_interest(
    principal: Decimal,
    annual_rate: Decimal,
    days: int,
    year_days: int = INTEREST_YEAR_DAYS,
    rounding: str = ROUND_DOWN,
) -> Decimal:
    """延滞利息: ``principal × annual_rate × days / year_days``, to whole yen.

    ``annual_rate`` is a fraction (年14.6% is ``Decimal("0.146")``). Assumed conventions: the year
    has :data:`INTEREST_YEAR_DAYS` (365) days even in leap years, and yen fractions are cut
    (1円未満切捨て, ``rounding=ROUND_DOWN``). ``days`` is usually :func:`days_inclusive` of the
    late period. 14.6% / 365 is exactly 0.04% a day:

    >>> late_interest(Decimal(100_000), Decimal("0.146"), 30)
    Decimal('1200')
    """
    if days < 0 or year_days < 1:
        raise PeriodError(f"expected days >= 0 and year_days >= 1, got {days} and {year_days}")
    if principal < 0 or annual_rate < 0:
        raise PeriodError(f"expected a principal and rate >= 0, got {principal} and {annual_rate}")
    return round_yen(principal * annual_rate * days / year_days, rounding)


# --- Durations as written ----------------------------------------------------------------------


@dataclass(frozen=True)
class Duration:
    """A length of time as a text states it, in the three parts that do not convert into each
    other: seconds (秒・分・時間), days (日・週) and months (か月・年, counted by the calendar)."""

    seconds: int = 0
    days: int = 0
    months: int = 0

    def __post_init__(self) -> None:
        for name in ("seconds", "days", "months"):
            value = getattr(self, name)
            if type(value) is not int or value < 0:
                raise PeriodError(f"Duration.{name} must be an int >= 0, got {value!r}")

    def __str__(self) -> str:
        """The canonical Japanese form, which :func:`parse_duration` reads back.

        >>> str(Duration(months=12)), str(Duration(seconds=180)), str(Duration(days=1, seconds=5))
        ('12ヶ月', '180秒', '1日5秒')
        """
        parts = ((self.months, "ヶ月"), (self.days, "日"), (self.seconds, "秒"))
        return "".join(f"{n}{unit}" for n, unit in parts if n) or "0日"


# Each unit: its spellings, the part it adds to and how many of that part one unit is.
# Listed largest first; in a string like 1年6ヶ月 the units must appear in this order.
_DURATION_UNITS: tuple[tuple[str, str, int], ...] = (
    ("年間?", "months", 12),
    ("(?:か|ヶ|ケ|カ|ヵ|箇|ｹ|ｶ)月間?", "months", 1),
    ("週間?", "days", 7),
    ("日間?", "days", 1),
    ("時間", "seconds", 3600),
    ("分間?", "seconds", 60),
    ("秒間?", "seconds", 1),
)
_DURATION_RE = LazyPattern(
    "([0-9〇零一二三四五六七八九十百千万]+)(?:"
    + "|".join(f"({spelling})" for spelling, _, _ in _DURATION_UNITS)
    + ")"
)


def parse_duration(s: str) -> Duration:
    """A duration as written: 60秒, 3分, 30日, 3ヶ月, 3か月, 1年, 1年6ヶ月, 三十日間 ….

    >>> parse_duration("3分"), parse_duration("1年")
    (Duration(seconds=180, days=0, months=0), Duration(seconds=0, days=0, months=12))
    """
    text = re.sub(r"\s+", "", normalize_width(s))
    totals = {"seconds": 0, "days": 0, "months": 0}
    pos, last_rank = 0, -1
    while pos < len(text):
        m = _DURATION_RE.match(text, pos)
        if m is None:
            break
        rank = next(i for i, g in enumerate(m.groups()[1:]) if g is not None)
        if rank <= last_rank:
            raise PeriodError(f"units out of order or repeated in duration {s!r}")
        _, part, factor = _DURATION_UNITS[rank]
        try:
            totals[part] += to_int(m.group(1)) * factor
        except NumeralError as e:
            raise PeriodError(f"bad number in duration {s!r}: {e}") from e
        pos, last_rank = m.end(), rank
    if pos == 0 or pos != len(text):
        raise PeriodError(f"expected a duration such as 60秒, 3分, 30日, 3ヶ月 or 1年, got {s!r}")
    return Duration(**totals)


def period_end(start: date, duration: Duration) -> date:
    """The last day of a period of ``duration`` whose first counted day is ``start``.

    Only periods in days (:func:`period_end_days`) or in months and years
    (:func:`period_end_months`) have a last day; anything else is a :class:`PeriodError`.

    >>> period_end(date(2023, 4, 17), parse_duration("30日"))
    datetime.date(2023, 5, 16)
    >>> period_end(date(2023, 4, 17), parse_duration("3ヶ月"))
    datetime.date(2023, 7, 16)
    """
    if duration.seconds == 0 and duration.months == 0 and duration.days > 0:
        return period_end_days(start, duration.days)
    if duration.seconds == 0 and duration.days == 0 and duration.months > 0:
        return period_end_months(start, duration.months)
    raise PeriodError(f"a period must be in days or in months to have a last day, got {duration}")
