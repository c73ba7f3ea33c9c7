"""Tests of yakkan.engine.core.periods: counting days and months, late interest, durations."""

from __future__ import annotations

import calendar
import dataclasses
import doctest
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yakkan.engine.core import periods
from yakkan.engine.core.periods import (
    INTEREST_YEAR_DAYS,
    Duration,
    PeriodError,
    add_months,
    days_inclusive,
    late_interest,
    parse_duration,
    period_end,
    period_end_days,
    period_end_months,
    within_days_from,
)

D = Decimal
ONE_DAY = timedelta(days=1)
dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31))


def test_doctests() -> None:
    result = doctest.testmod(periods)
    assert result.attempted > 0
    assert result.failed == 0


# --- days --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        # 「登録の日から起算して30日」, registered 2023-04-17: 17..30 April is 14 days, 1..16 May
        # 16 more, 14 + 16 = 30.
        (date(2023, 4, 17), 30, date(2023, 5, 16)),
        (date(2023, 4, 17), 1, date(2023, 4, 17)),  # a 1-day period is the start day alone
        (date(2023, 4, 17), 2, date(2023, 4, 18)),
        (date(2023, 12, 20), 30, date(2024, 1, 18)),  # 12 days of Dec (20..31) + 18 of Jan
        (date(2024, 2, 1), 30, date(2024, 3, 1)),  # 29 days of a leap February + 1 March
        (date(2023, 2, 1), 30, date(2023, 3, 2)),  # 28 days of February + 2 March
    ],
)
def test_period_end_days(start: date, days: int, expected: date) -> None:
    assert period_end_days(start, days) == expected


@pytest.mark.parametrize("days", [0, -1])
def test_period_end_days_rejects_empty_periods(days: int) -> None:
    with pytest.raises(PeriodError, match="at least 1 day"):
        period_end_days(date(2023, 4, 17), days)


def test_within_days_from_grace_period() -> None:
    # 「支払期日の翌日から起算して10日以内」, due 2023-04-30: counted 1..10 May.
    start = date(2023, 4, 30) + ONE_DAY
    assert not within_days_from(start, 10, date(2023, 4, 30))  # the due day itself: before it
    assert within_days_from(start, 10, date(2023, 5, 1))  # day 1
    assert within_days_from(start, 10, date(2023, 5, 10))  # day 10, the last
    assert not within_days_from(start, 10, date(2023, 5, 11))  # day 11: one past


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        (date(2023, 5, 1), date(2023, 5, 10), 10),
        (date(2023, 5, 1), date(2023, 5, 1), 1),
        (date(2023, 5, 1), date(2023, 4, 30), 0),  # empty: paid the day after the due day
        (date(2023, 5, 1), date(2023, 1, 1), 0),
        (date(2023, 1, 1), date(2023, 12, 31), 365),
        (date(2024, 1, 1), date(2024, 12, 31), 366),
    ],
)
def test_days_inclusive(first: date, last: date, expected: int) -> None:
    assert days_inclusive(first, last) == expected


@given(dates, st.integers(min_value=1, max_value=10_000))
def test_days_period_has_exactly_n_days(start: date, n: int) -> None:
    end = period_end_days(start, n)
    assert days_inclusive(start, end) == n
    assert within_days_from(start, n, end)
    assert not within_days_from(start, n, end + ONE_DAY)
    assert not within_days_from(start, n, start - ONE_DAY)


@given(dates, st.integers(min_value=1, max_value=400), dates)
def test_within_days_from_is_offset_test(start: date, n: int, d: date) -> None:
    assert within_days_from(start, n, d) == (0 <= (d - start).days < n)


# --- months ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("d", "months", "expected"),
    [
        (date(2023, 1, 31), 1, date(2023, 2, 28)),  # no 31 February: clamped
        (date(2024, 1, 31), 1, date(2024, 2, 29)),  # leap year
        (date(2023, 3, 31), -1, date(2023, 2, 28)),
        (date(2023, 5, 31), 1, date(2023, 6, 30)),
        (date(2023, 11, 15), 2, date(2024, 1, 15)),  # over the year end
        (date(2023, 1, 15), -1, date(2022, 12, 15)),
        (date(2023, 1, 15), -13, date(2021, 12, 15)),
        (date(2023, 4, 17), 0, date(2023, 4, 17)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2024, 2, 29), 48, date(2028, 2, 29)),
    ],
)
def test_add_months(d: date, months: int, expected: date) -> None:
    assert add_months(d, months) == expected


def test_add_months_out_of_range() -> None:
    with pytest.raises(PeriodError, match="out of the date range"):
        add_months(date(9999, 12, 1), 1)


@given(dates, st.integers(min_value=-1200, max_value=1200))
def test_add_months_keeps_the_day_or_clamps(d: date, months: int) -> None:
    result = add_months(d, months)
    assert (result.year * 12 + result.month) - (d.year * 12 + d.month) == months
    last = calendar.monthrange(result.year, result.month)[1]
    assert result.day == min(d.day, last)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2023, 4, 17), 1, date(2023, 5, 16)),  # 応当日 5/17, the day before
        (date(2023, 4, 17), 3, date(2023, 7, 16)),
        (date(2023, 4, 1), 1, date(2023, 4, 30)),  # from the 1st: the month's last day
        (date(2023, 4, 1), 3, date(2023, 6, 30)),
        (date(2023, 1, 1), 12, date(2023, 12, 31)),
        (date(2023, 1, 31), 1, date(2023, 2, 28)),  # no 2/31: the last day of February
        (date(2023, 1, 30), 1, date(2023, 2, 28)),  # no 2/30
        (date(2023, 1, 29), 1, date(2023, 2, 28)),  # no 2/29 in 2023
        (date(2024, 1, 29), 1, date(2024, 2, 28)),  # 2/29 exists in 2024: the day before it
        (date(2024, 1, 30), 1, date(2024, 2, 29)),  # no 2/30 in 2024: February's last day
        (date(2023, 3, 31), 1, date(2023, 4, 30)),  # no 4/31
        (date(2023, 3, 30), 1, date(2023, 4, 29)),  # 4/30 exists: the day before it
        (date(2024, 2, 29), 12, date(2025, 2, 28)),  # 1年 from 2/29: no 2025-02-29
        (date(2023, 12, 15), 1, date(2024, 1, 14)),
    ],
)
def test_period_end_months(start: date, months: int, expected: date) -> None:
    assert period_end_months(start, months) == expected


@pytest.mark.parametrize("months", [0, -1])
def test_period_end_months_rejects_empty_periods(months: int) -> None:
    with pytest.raises(PeriodError, match="at least 1 month"):
        period_end_months(date(2023, 4, 17), months)


@given(dates, st.integers(min_value=1, max_value=240))
def test_month_period_from_the_first_ends_on_a_month_end(start: date, months: int) -> None:
    first = start.replace(day=1)
    end = period_end_months(first, months)
    assert end == add_months(first, months) - ONE_DAY
    assert end.day == calendar.monthrange(end.year, end.month)[1]


@given(dates)
def test_one_month_period_is_28_to_31_days(start: date) -> None:
    assert 28 <= days_inclusive(start, period_end_months(start, 1)) <= 31


@given(dates, st.integers(min_value=1, max_value=240))
def test_month_period_ends_before_or_on_the_shifted_day(start: date, months: int) -> None:
    end = period_end_months(start, months)
    shifted = add_months(start, months)
    # The next period starts on the 応当日; only where there is none does the end fall on it.
    assert end in (shifted - ONE_DAY, shifted)
    assert end > start


# --- late interest -----------------------------------------------------------------------------

RATE = D("0.146")  # 年14.6%; 0.146 / 365 = 0.0004 exactly (0.04% a day)


def test_interest_year_is_365_days() -> None:
    assert INTEREST_YEAR_DAYS == 365


@pytest.mark.parametrize(
    ("principal", "days", "expected"),
    [
        (D(100_000), 30, D(1200)),  # 100,000 × 0.0004 × 30
        (D(10_000), 19, D(76)),  # 10,000 × 0.0004 × 19
        (D(12_345), 19, D(93)),  # 12,345 × 0.0076 = 93.822 → 93 (切捨て)
        (D(1_000), 1, D(0)),  # 0.4 → 0
        (D(100_000), 0, D(0)),
        (D(0), 30, D(0)),
        (D(100_000), 366, D(14640)),  # a leap year still counts 365 days: 366 × 40
    ],
)
def test_late_interest(principal: Decimal, days: int, expected: Decimal) -> None:
    assert late_interest(principal, RATE, days) == expected


def test_late_interest_parameters() -> None:
    assert late_interest(D(12_345), RATE, 19, rounding=ROUND_HALF_UP) == D(94)  # 93.822 → 94
    # 100,000 × 0.146 × 30 / 366 = 438,000 / 366 = 1,196.7… → 1,196
    assert late_interest(D(100_000), RATE, 30, year_days=366) == D(1196)


@pytest.mark.parametrize(
    ("principal", "rate", "days", "year_days"),
    [(D(1), RATE, -1, 365), (D(1), RATE, 1, 0), (D(-1), RATE, 1, 365), (D(1), D(-1), 1, 365)],
)
def test_late_interest_rejects(
    principal: Decimal, rate: Decimal, days: int, year_days: int
) -> None:
    with pytest.raises(PeriodError):
        late_interest(principal, rate, days, year_days)


def _interest_under_article_22(principal: Decimal, due: date, paid: date) -> Decimal:
    """第22条 as the functions compose: no interest if paid within 10 days from the day after
    the due day; otherwise from the day after the due day to the day before payment."""
    first = due + ONE_DAY
    if within_days_from(first, 10, paid):
        return D(0)
    return late_interest(principal, RATE, days_inclusive(first, paid - ONE_DAY))


def test_article_22_composition() -> None:
    due = date(2023, 4, 30)
    assert _interest_under_article_22(D(100_000), due, date(2023, 5, 10)) == D(0)  # day 10
    # Paid 5/11: late 5/1..5/10 = 10 days, 100,000 × 0.0004 × 10 = 400.
    assert _interest_under_article_22(D(100_000), due, date(2023, 5, 11)) == D(400)
    # Paid 5/31: 5/1..5/30 = 30 days, 1,200.
    assert _interest_under_article_22(D(100_000), due, date(2023, 5, 31)) == D(1200)


# --- durations ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_text", "expected"),
    [
        ("60秒", Duration(seconds=60)),
        ("30秒", Duration(seconds=30)),
        ("3分", Duration(seconds=180)),  # 3 × 60
        ("1時間", Duration(seconds=3600)),
        ("30日", Duration(days=30)),
        ("10日", Duration(days=10)),
        ("30日間", Duration(days=30)),
        ("三十日", Duration(days=30)),
        ("３０日", Duration(days=30)),
        ("2週間", Duration(days=14)),
        ("3ヶ月", Duration(months=3)),
        ("3か月", Duration(months=3)),
        ("3カ月", Duration(months=3)),
        ("3ヵ月", Duration(months=3)),
        ("3ケ月", Duration(months=3)),
        ("3箇月", Duration(months=3)),
        ("6 ヶ月", Duration(months=6)),
        ("12ヶ月", Duration(months=12)),
        ("1年", Duration(months=12)),
        ("1年6ヶ月", Duration(months=18)),  # 12 + 6
        ("1年12ヶ月", Duration(months=24)),  # odd but in order: 12 + 12
        ("1日5秒", Duration(seconds=5, days=1)),
        ("0日", Duration()),
    ],
)
def test_parse_duration(given_text: str, expected: Duration) -> None:
    assert parse_duration(given_text) == expected


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("", "expected a duration"),
        ("日", "expected a duration"),
        ("30", "expected a duration"),
        ("30日以内", "expected a duration"),
        ("1.5日", "expected a duration"),
        ("6ヶ月1年", "out of order"),
        ("3日3日", "out of order"),
        ("十十日", "bad number"),
    ],
)
def test_parse_duration_rejects(bad: str, message: str) -> None:
    with pytest.raises(PeriodError, match=message):
        parse_duration(bad)


@pytest.mark.parametrize(
    "kwargs", [{"seconds": -1}, {"days": -1}, {"months": -3}, {"days": True}, {"months": 1.5}]
)
def test_duration_rejects_bad_parts(kwargs: dict[str, object]) -> None:
    with pytest.raises(PeriodError, match="must be an int >= 0"):
        Duration(**kwargs)  # type: ignore[arg-type]


def test_duration_is_frozen() -> None:
    d = Duration(days=30)
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.days = 31  # type: ignore[misc]
    assert {d, Duration(days=30)} == {Duration(days=30)}


def test_duration_str() -> None:
    assert str(Duration(months=3)) == "3ヶ月"
    assert str(Duration(days=30)) == "30日"
    assert str(Duration(seconds=60)) == "60秒"
    assert str(Duration(seconds=5, days=1, months=2)) == "2ヶ月1日5秒"
    assert str(Duration()) == "0日"


parts = st.integers(min_value=0, max_value=10**6)


@given(parts, parts, parts)
def test_duration_str_round_trip(seconds: int, days: int, months: int) -> None:
    d = Duration(seconds=seconds, days=days, months=months)
    assert parse_duration(str(d)) == d


def test_period_end_of_durations() -> None:
    start = date(2023, 4, 17)
    assert period_end(start, parse_duration("30日")) == date(2023, 5, 16)
    assert period_end(start, parse_duration("3ヶ月")) == date(2023, 7, 16)
    assert period_end(start, parse_duration("1年")) == date(2024, 4, 16)
    assert period_end(start, parse_duration("2週間")) == date(2023, 4, 30)  # 17 + 14 - 1


@pytest.mark.parametrize("text", ["60秒", "1ヶ月10日", "0日"])
def test_period_end_rejects_mixed_or_empty(text: str) -> None:
    with pytest.raises(PeriodError, match="in days or in months"):
        period_end(date(2023, 4, 17), parse_duration(text))
