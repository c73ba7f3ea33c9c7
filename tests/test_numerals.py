"""Tests of yakkan.engine.core.numerals: widths, kanji numerals, 枝番 keys, era dates."""

from __future__ import annotations

import doctest
from datetime import date, timedelta

import jaconv
import kanjize
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from yakkan.engine.core import numerals
from yakkan.engine.core.numerals import (
    DateError,
    NumeralError,
    article_label,
    format_date,
    format_num_key,
    normalize_width,
    parse_date,
    parse_num_key,
    to_int,
    to_wareki,
)


def test_doctests() -> None:
    result = doctest.testmod(numerals)
    assert result.attempted > 0
    assert result.failed == 0


# --- widths ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_text", "expected"),
    [
        ("１４", "14"),
        ("ＡＢＣ－１", "ABC-1"),
        ("（略）", "(略)"),
        ("第１４条の６５", "第14条の65"),
        ("カナ・かな・漢字", "カナ・かな・漢字"),  # kana and kanji are left alone
        ("ｶﾅ", "ｶﾅ"),  # half-width kana is not widened either
        ("abc 123", "abc 123"),
    ],
)
def test_normalize_width(given_text: str, expected: str) -> None:
    assert normalize_width(given_text) == expected


# --- integers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_text", "expected"),
    [
        ("14", 14),
        ("１４", 14),
        ("十四", 14),  # 10 + 4
        ("一", 1),
        ("二十三", 23),  # 2×10 + 3
        ("百", 100),
        ("六十五", 65),  # 6×10 + 5
        ("千九百八十九", 1989),  # 1000 + 9×100 + 8×10 + 9
        ("二〇二三", 2023),  # digit by digit
        ("3万", 30000),
        ("0", 0),
        ("〇", 0),
        (" 14 ", 14),
    ],
)
def test_to_int(given_text: str, expected: int) -> None:
    assert to_int(given_text) == expected


@pytest.mark.parametrize("bad", ["", "abc", "1.5", "-3", "十十", "万", "十四条", "1,000", "元"])
def test_to_int_rejects(bad: str) -> None:
    with pytest.raises(NumeralError, match="expected an integer"):
        to_int(bad)


def test_numeral_error_is_value_error() -> None:
    assert issubclass(NumeralError, ValueError)
    assert issubclass(DateError, ValueError)


@given(st.integers(min_value=0, max_value=10**12))
def test_to_int_reads_kanji_and_full_width(n: int) -> None:
    assert to_int(kanjize.number2kanji(n)) == n
    assert to_int(jaconv.h2z(str(n), digit=True)) == n
    assert to_int(str(n)) == n


# --- article numbers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_text", "expected"),
    [
        ("14の65の2", "14_65_2"),
        ("第１４条の６５", "14_65"),
        ("4の4の4", "4_4_4"),
        ("十四条の六十五", "14_65"),
        ("14_65_2", "14_65_2"),
        ("第14条の65の2", "14_65_2"),
        ("第十四条の六十五の二", "14_65_2"),
        ("第4条の4の4", "4_4_4"),
        ("第30条の2", "30_2"),
        ("第54条", "54"),
        ("27", "27"),
        ("第七号の二", "7_2"),
        ("第 14 条の 65", "14_65"),
    ],
)
def test_parse_num_key(given_text: str, expected: str) -> None:
    assert parse_num_key(given_text) == expected


@pytest.mark.parametrize(
    "bad", ["", "第", "第14条の", "14__2", "14_0", "01_2", "第14条第2項", "14の65条", "第十四条の"]
)
def test_parse_num_key_rejects(bad: str) -> None:
    with pytest.raises(NumeralError):
        parse_num_key(bad)


def test_parse_num_key_rejects_article_zero() -> None:
    with pytest.raises(NumeralError, match="start at 1"):
        parse_num_key("第〇条")


def test_format_num_key_and_article_label() -> None:
    assert format_num_key("14_65_2") == "14の65の2"
    assert format_num_key("14_65_2", "条") == "14条の65の2"
    assert format_num_key("7_2", "号", kanji=True) == "七号の二"
    assert article_label("14_65_2") == "第14条の65の2"
    assert article_label("54") == "第54条"
    assert article_label("4_4_4", kanji=True) == "第四条の四の四"
    assert article_label("14_65", kanji=True) == "第十四条の六十五"


@pytest.mark.parametrize("bad", ["", "14-65", "14_", "0", "第14条", "14_01"])
def test_article_label_rejects_non_keys(bad: str) -> None:
    with pytest.raises(NumeralError, match="Num key"):
        article_label(bad)


keys = st.lists(st.integers(min_value=1, max_value=9999), min_size=1, max_size=4).map(
    lambda ns: "_".join(map(str, ns))
)


@given(keys, st.booleans())
def test_article_label_round_trip(key: str, kanji: bool) -> None:
    assert parse_num_key(article_label(key, kanji=kanji)) == key
    assert parse_num_key(format_num_key(key)) == key


# --- dates -------------------------------------------------------------------------------------

APRIL_17 = date(2023, 4, 17)


@pytest.mark.parametrize(
    ("given_text", "expected"),
    [
        ("2023-04-17", APRIL_17),
        ("2023/4/17", APRIL_17),
        ("2023.4.17", APRIL_17),
        ("2023年4月17日", APRIL_17),
        ("２０２３年４月１７日", APRIL_17),
        ("二〇二三年四月十七日", APRIL_17),
        ("令和5年4月17日", APRIL_17),  # 令和1 = 2019, so 令和5 = 2019 + 5 - 1 = 2023
        ("令和５年４月１７日", APRIL_17),
        ("令和五年四月十七日", APRIL_17),
        ("令和 5年 4月 17日", APRIL_17),
        ("㋿5年4月17日", APRIL_17),
        ("R5.4.17", APRIL_17),
        ("r5/4/17", APRIL_17),
        ("2023年4月17日（月）", APRIL_17),  # 2023-04-17 was a Monday
        ("2023-04-17（令和5年4月17日）", APRIL_17),
        ("令和元年5月1日", date(2019, 5, 1)),
        ("R元.5.1", date(2019, 5, 1)),
        ("平成31年4月30日", date(2019, 4, 30)),  # 1989 + 31 - 1 = 2019, the last day of 平成
        ("平成元年1月8日", date(1989, 1, 8)),
        ("昭和64年1月7日", date(1989, 1, 7)),  # 1926 + 64 - 1 = 1989
        ("昭和元年12月25日", date(1926, 12, 25)),
        ("大正15年12月24日", date(1926, 12, 24)),  # 1912 + 15 - 1 = 1926
        ("大正元年7月30日", date(1912, 7, 30)),
        ("明治45年7月29日", date(1912, 7, 29)),  # 1868 + 45 - 1 = 1912
        ("明治6年1月1日", date(1873, 1, 1)),  # 1868 + 6 - 1 = 1873
        ("2024年2月29日", date(2024, 2, 29)),  # leap year
    ],
)
def test_parse_date(given_text: str, expected: date) -> None:
    assert parse_date(given_text) == expected


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("2023-02-30", "2023年2月 has days 1 to 28"),
        ("2023年2月29日", "2023年2月 has days 1 to 28"),
        ("2023-13-01", "month must be 1 to 12"),
        ("2023-04-00", "has days 1 to 30"),
        ("令和0年1月1日", "元年"),
        ("平成31年5月1日", "平成 ended .*平成31年4月30日.*令和元年5月1日"),
        ("昭和64年1月8日", "昭和 ended .*平成元年1月8日"),
        ("令和元年4月30日", "before 令和 began .*平成31年4月30日"),
        ("明治5年12月31日", "Gregorian"),
        ("2023年4月17日（火）", "月曜日, not a 火曜日"),
        ("2023-04-17（令和5年4月18日）", "do not agree"),
        ("23/4/17", "expected a date"),
        ("2023/04-17", "expected a date"),
        ("", "expected a date"),
        ("4月17日", "expected a date"),
        ("令和5年4月", "expected a date"),
        ("2023年4月17日から", "expected a date"),
    ],
)
def test_parse_date_rejects(bad: str, message: str) -> None:
    with pytest.raises(DateError, match=message):
        parse_date(bad)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (APRIL_17, "令和5年4月17日"),
        (date(2019, 5, 1), "令和元年5月1日"),
        (date(2019, 4, 30), "平成31年4月30日"),
        (date(1989, 1, 8), "平成元年1月8日"),
        (date(1989, 1, 7), "昭和64年1月7日"),
        (date(1926, 12, 25), "昭和元年12月25日"),
        (date(1926, 12, 24), "大正15年12月24日"),
        (date(1912, 7, 30), "大正元年7月30日"),
        (date(1912, 7, 29), "明治45年7月29日"),
        (date(1873, 1, 1), "明治6年1月1日"),
        (date(2100, 12, 31), "令和82年12月31日"),  # 2100 - 2019 + 1 = 82
    ],
)
def test_to_wareki(day: date, expected: str) -> None:
    assert to_wareki(day) == expected


def test_to_wareki_refuses_lunisolar_dates() -> None:
    with pytest.raises(DateError, match="lunisolar"):
        to_wareki(date(1872, 12, 31))


def test_format_date() -> None:
    assert format_date(APRIL_17) == "2023-04-17（令和5年4月17日）"
    assert format_date(date(2019, 5, 1)) == "2019-05-01（令和元年5月1日）"
    assert format_date(date(1872, 12, 31)) == "1872-12-31"


@given(st.dates(min_value=date(1989, 1, 8), max_value=date(2100, 12, 31)))
def test_wareki_round_trip_heisei_onwards(d: date) -> None:
    assert parse_date(to_wareki(d)) == d
    assert parse_date(format_date(d)) == d
    assert parse_date(d.isoformat()) == d
    assert parse_date(jaconv.h2z(f"{d.year}年{d.month}月{d.day}日", digit=True)) == d


@given(st.dates(min_value=date(1873, 1, 1), max_value=date(2100, 12, 31)))
def test_wareki_round_trip_meiji_onwards(d: date) -> None:
    assert parse_date(to_wareki(d)) == d


@given(st.dates(min_value=date(2019, 5, 1), max_value=date(2100, 12, 31)))
def test_reiwa_year_is_western_year_minus_2018(d: date) -> None:
    year = d.year - 2018
    assert to_wareki(d) == f"令和{'元' if year == 1 else year}年{d.month}月{d.day}日"


@given(st.dates(min_value=date(1873, 1, 2), max_value=date(2100, 12, 31)))
@example(date(1912, 7, 30))
@example(date(1926, 12, 25))
@example(date(1989, 1, 8))
@example(date(2019, 5, 1))
@example(date(2019, 4, 30))
def test_era_changes_exactly_on_era_start_days(d: date) -> None:
    starts = {e.start: e.name for e in numerals.ERAS}
    this, before = to_wareki(d)[:2], to_wareki(d - timedelta(days=1))[:2]
    if this != before:
        assert starts.get(d) == this
        assert to_wareki(d)[2:4] == "元年"
    else:
        assert d not in starts
