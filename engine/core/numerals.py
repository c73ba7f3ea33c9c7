"""Japanese numbers as written in 約款: character widths, kanji numerals, 枝番 keys, era dates.

Width conversion is jaconv's and kanji numerals are kanjize's; this module only decides what
it accepts and says clearly what it expected when it does not. The era table is our own
(kanjize and jaconv have none), so that 元年 and the last day of each era are handled here.

>>> to_int("十四"), to_int("１４")
(14, 14)
>>> article_label(parse_num_key("第十四条の六十五の二"))
'第14条の65の2'
>>> format_date(parse_date("令和元年5月1日"))
'2019-05-01（令和元年5月1日）'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

import jaconv

from yakkan.engine.core.lazyre import LazyPattern

__all__ = [
    "ERAS",
    "GREGORIAN_ADOPTION",
    "DateError",
    "Era",
    "NumeralError",
    "article_label",
    "format_date",
    "format_num_key",
    "normalize_width",
    "parse_date",
    "parse_num_key",
    "to_int",
    "to_wareki",
]


class NumeralError(ValueError):
    """A string that should be a number (or an article number) is not one."""


class DateError(ValueError):
    """A string that should be a date is not one, or names a day that does not exist."""


def normalize_width(s: str) -> str:
    """Full-width ASCII letters, digits and symbols to half-width; kana and kanji unchanged.

    >>> normalize_width("第１４条（ＡＢＣ）　カナ")
    '第14条(ABC) カナ'
    """
    return str(jaconv.z2h(s, kana=False, ascii=True, digit=True))


# Characters kanjize reads as numerals: digits (ordinary and 大字), 十百千 and 万億兆.
_KANJI_NUMERAL_CHARS = "〇零一二三四五六七八九壱弐参肆伍陸漆捌玖十拾百陌佰千阡仟万萬億兆"
_NUMERAL = f"[0-9{_KANJI_NUMERAL_CHARS}]+"
_NUMERAL_RE = LazyPattern(_NUMERAL)


def to_int(s: str) -> int:
    """A non-negative integer written in half-width, full-width or kanji numerals.

    >>> [to_int(x) for x in ("14", "１４", "十四", "一", "二十三", "百", "二〇二三", "3万")]
    [14, 14, 14, 1, 23, 100, 2023, 30000]
    >>> to_int("十四条")
    Traceback (most recent call last):
    ...
    yakkan.engine.core.numerals.NumeralError: expected an integer such as 14, １４ or 十四, got '十四条'
    """
    text = normalize_width(s).strip()
    expected = f"expected an integer such as 14, １４ or 十四, got {s!r}"
    if text.isascii() and text.isdigit():
        return int(text)
    if not _NUMERAL_RE.fullmatch(text):
        raise NumeralError(expected)
    import kanjize  # only for kanji numerals (its import costs every run milliseconds)
    try:
        return int(kanjize.kanji2number(text))
    except ValueError as e:
        raise NumeralError(f"{expected} ({e})") from e


# An e-Gov ``Num`` key: positive numbers joined by "_" (第14条の65の2 → "14_65_2").
_KEY_RE = LazyPattern(r"[1-9][0-9]*(?:_[1-9][0-9]*)*")
# 第十四条の六十五, 14の65の2, 第７号の２ … (the unit, if written, follows the first number).
_LABEL_RE = LazyPattern(rf"第?({_NUMERAL})[条項号]?((?:の{_NUMERAL})*)")


def parse_num_key(s: str) -> str:
    """An article (or paragraph, item) number as written, to its e-Gov ``Num`` key.

    枝番 are joined with "_" as in the 法令標準XMLスキーマ (``Article Num="14_65_2"``).

    >>> [parse_num_key(x) for x in ("14の65の2", "第１４条の６５", "十四条の六十五", "14_65_2")]
    ['14_65_2', '14_65', '14_65', '14_65_2']
    """
    text = re.sub(r"\s+", "", normalize_width(s))
    if _KEY_RE.fullmatch(text):
        return text
    m = _LABEL_RE.fullmatch(text)
    if m is None:
        raise NumeralError(
            f"expected an article number such as 第14条の65の2, 14の65の2 or 14_65_2, got {s!r}"
        )
    parts = [m.group(1), *m.group(2).split("の")[1:]]
    numbers = [to_int(p) for p in parts]
    if 0 in numbers:
        raise NumeralError(f"article numbers start at 1, got {s!r}")
    return "_".join(str(n) for n in numbers)


def _key_numbers(key: str) -> list[int]:
    if not _KEY_RE.fullmatch(key):
        raise NumeralError(f"expected a Num key such as 14_65_2, got {key!r}")
    return [int(p) for p in key.split("_")]


def format_num_key(key: str, unit: str = "", *, kanji: bool = False) -> str:
    """A Num key written back with の; ``unit`` (条, 項, 号) goes after the first number.

    >>> format_num_key("14_65_2"), format_num_key("14_65_2", "条")
    ('14の65の2', '14条の65の2')
    >>> format_num_key("7_2", "号", kanji=True)
    '七号の二'
    """
    keys = _key_numbers(key)
    if kanji:
        import kanjize
        numbers = [str(kanjize.number2kanji(n)) for n in keys]
    else:
        numbers = [str(n) for n in keys]
    return "の".join([numbers[0] + unit, *numbers[1:]])


def article_label(key: str, *, kanji: bool = False) -> str:
    """The citation of an article from its Num key.

    >>> article_label("14_65_2"), article_label("4_4_4", kanji=True)
    ('第14条の65の2', '第四条の四の四')
    """
    return "第" + format_num_key(key, "条", kanji=kanji)


# --- Era dates -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Era:
    """A Japanese era (元号) and the first day of it (Gregorian)."""

    name: str
    letter: str
    start: date


# The official first days; each era ends the day before the next one starts.
ERAS: tuple[Era, ...] = (
    Era("明治", "M", date(1868, 10, 23)),
    Era("大正", "T", date(1912, 7, 30)),
    Era("昭和", "S", date(1926, 12, 25)),
    Era("平成", "H", date(1989, 1, 8)),
    Era("令和", "R", date(2019, 5, 1)),
)
_ERA_BY_NAME = {e.name: e for e in ERAS} | {e.letter: e for e in ERAS}
# Japan used a lunisolar calendar until 明治5年12月2日; the next day was 明治6年1月1日 (1873-01-01).
# Era dates before it do not map onto Gregorian dates by year offset, so they are refused.
GREGORIAN_ADOPTION = date(1873, 1, 1)
# Single-character era signs (㍾㍽㍼㍻㋿) spelled out.
_ERA_SIGNS = str.maketrans({"㍾": "明治", "㍽": "大正", "㍼": "昭和", "㍻": "平成", "㋿": "令和"})
_WEEKDAYS = "月火水木金土日"

_ISO_RE = LazyPattern(r"([0-9]{4})([-/.])([0-9]{1,2})\2([0-9]{1,2})")
_YMD = rf"({_NUMERAL})年({_NUMERAL})月({_NUMERAL})日"
_WESTERN_RE = LazyPattern(_YMD)
_ERA_NAMES = "|".join(e.name for e in ERAS)
_WAREKI_RE = LazyPattern(rf"({_ERA_NAMES})(元|{_NUMERAL})年({_NUMERAL})月({_NUMERAL})日")
_ERA_LETTERS = "".join(e.letter for e in ERAS)
_WAREKI_SHORT_RE = LazyPattern(
    rf"([{_ERA_LETTERS}])(元|[0-9]{{1,2}})([-/.])([0-9]{{1,2}})\3([0-9]{{1,2}})", re.IGNORECASE
)
_WITH_NOTE_RE = LazyPattern(r"(.+)\(([^()]+)\)")

_EXPECTED = "expected a date such as 2023-04-17, 2023/4/17, 2023年4月17日 or 令和5年4月17日"


def _make_date(year: int, month: int, day: int, original: str) -> date:
    if not 1 <= year <= 9999:
        raise DateError(f"{_EXPECTED}; year {year} is out of range in {original!r}")
    if not 1 <= month <= 12:
        raise DateError(f"{_EXPECTED}; month must be 1 to 12, got {month} in {original!r}")
    import calendar  # imported where it is used: it imports locale
    last = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last:
        raise DateError(
            f"{_EXPECTED}; {year}年{month}月 has days 1 to {last}, got {day} in {original!r}"
        )
    return date(year, month, day)


def _era_date(era: Era, year: int, month: int, day: int, original: str) -> date:
    """The Gregorian date of ``era`` ``year``年``month``月``day``日, checked against the era."""
    if year < 1:
        raise DateError(f"era years start at 1 (元年), got {era.name}{year}年 in {original!r}")
    d = _make_date(era.start.year + year - 1, month, day, original)
    if d < GREGORIAN_ADOPTION:
        raise DateError(
            f"{original!r} is before 明治6年1月1日 (1873-01-01), when Japan adopted the Gregorian "
            "calendar; write such dates as Western dates"
        )
    index = ERAS.index(era)
    if d < era.start:
        raise DateError(
            f"{original!r} is before {era.name} began ({era.start.isoformat()}); "
            f"that day is {to_wareki(d)}"
        )
    if index + 1 < len(ERAS) and d >= ERAS[index + 1].start:
        last_day = ERAS[index + 1].start - timedelta(days=1)
        raise DateError(
            f"{original!r} is after {era.name} ended (its last day is {to_wareki(last_day)}); "
            f"that day is {to_wareki(d)}"
        )
    return d


def _parse_plain(text: str, original: str) -> date:
    if m := _ISO_RE.fullmatch(text):
        return _make_date(int(m.group(1)), int(m.group(3)), int(m.group(4)), original)
    if m := _WESTERN_RE.fullmatch(text):
        y, mo, d = (to_int(g) for g in m.groups())
        return _make_date(y, mo, d, original)
    if m := _WAREKI_RE.fullmatch(text):
        era = _ERA_BY_NAME[m.group(1)]
        year = 1 if m.group(2) == "元" else to_int(m.group(2))
        return _era_date(era, year, to_int(m.group(3)), to_int(m.group(4)), original)
    if m := _WAREKI_SHORT_RE.fullmatch(text):
        era = _ERA_BY_NAME[m.group(1).upper()]
        year = 1 if m.group(2) == "元" else int(m.group(2))
        return _era_date(era, year, int(m.group(4)), int(m.group(5)), original)
    raise DateError(f"{_EXPECTED}, got {original!r}")


def parse_date(s: str) -> date:
    """A date written in Western or Japanese-era form, in any width or in kanji numerals.

    Also accepted: an era abbreviation (``R5.4.17``), an era sign (``㋿5年4月17日``), a weekday
    in brackets (``2023年4月17日（月）``, checked) and this module's own :func:`format_date`
    output (both halves checked to agree).

    >>> parse_date("令和五年四月十七日"), parse_date("２０２３年４月１７日")
    (datetime.date(2023, 4, 17), datetime.date(2023, 4, 17))
    >>> parse_date("平成31年5月1日")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    yakkan.engine.core.numerals.DateError: '平成31年5月1日' is after 平成 ended ...令和元年5月1日
    """
    text = re.sub(r"\s+", "", normalize_width(s).translate(_ERA_SIGNS))
    m = _WITH_NOTE_RE.fullmatch(text)
    if m is None:
        return _parse_plain(text, s)
    d = _parse_plain(m.group(1), s)
    note = m.group(2)
    if note in _WEEKDAYS:
        if _WEEKDAYS[d.weekday()] != note:
            raise DateError(
                f"{s!r}: {d.isoformat()} is a {_WEEKDAYS[d.weekday()]}曜日, not a {note}曜日"
            )
        return d
    if _parse_plain(note, s) != d:
        raise DateError(f"{s!r}: the two dates given do not agree")
    return d


def to_wareki(d: date) -> str:
    """The Japanese-era form of a date, with 元年 for an era's first year.

    >>> to_wareki(date(2023, 4, 17)), to_wareki(date(2019, 5, 1)), to_wareki(date(2019, 4, 30))
    ('令和5年4月17日', '令和元年5月1日', '平成31年4月30日')
    """
    if d < GREGORIAN_ADOPTION:
        raise DateError(
            f"no Japanese-era date for {d.isoformat()}: before 1873-01-01 Japan used a "
            "lunisolar calendar"
        )
    era = next(e for e in reversed(ERAS) if d >= e.start)  # exists: d >= 1873 > 明治's start
    year = d.year - era.start.year + 1
    return f"{era.name}{'元' if year == 1 else year}年{d.month}月{d.day}日"


def format_date(d: date) -> str:
    """A date shown both ways: ISO first, the era form in full-width brackets.

    Dates before 1873-01-01 have no era form here (see :data:`GREGORIAN_ADOPTION`) and are
    shown in ISO form only.

    >>> format_date(date(2023, 4, 17))
    '2023-04-17（令和5年4月17日）'
    """
    if d < GREGORIAN_ADOPTION:
        return d.isoformat()
    return f"{d.isoformat()}（{to_wareki(d)}）"
