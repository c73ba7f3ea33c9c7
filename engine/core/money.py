"""Japanese yen as :class:`~decimal.Decimal`: tax categories, consumption tax, prices as written.

Amounts are never floats. Unit prices may carry sen (8.49円/3分), so amounts are not assumed
to be whole yen; rounding happens only where a function says so, and the rounding mode is
always a parameter.

>>> format_jpy(add_tax(parse_jpy("30,000円")))
'33,000円'
>>> parse_price("6,980円/人/月～")
Price(amount=Decimal('6980'), lower_bound=True, tax=None, per=('人', '月'))
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from enum import StrEnum

from yakkan.engine.core.lazyre import LazyPattern
from yakkan.engine.core.numerals import NumeralError, normalize_width, to_int

__all__ = [
    "CONSUMPTION_TAX_RATE",
    "YEN",
    "MoneyError",
    "Price",
    "TaxCategory",
    "add_tax",
    "format_jpy",
    "parse_jpy",
    "parse_price",
    "round_yen",
    "tax_of",
    "units_started",
    "with_tax",
]


class MoneyError(ValueError):
    """A string that should be an amount or price is not one, or an amount is out of range."""


class TaxCategory(StrEnum):
    """How a price stands to consumption tax, by the words the documents use.

    ``TaxCategory("税抜")`` and ``TaxCategory("excluded")`` work as well (see :meth:`parse`).

    >>> TaxCategory.parse("税抜"), TaxCategory("not_taxable")
    (<TaxCategory.EXCLUDED: '税別'>, <TaxCategory.NOT_TAXABLE: '不課税'>)
    """

    EXCLUDED = "税別"
    INCLUDED = "税込"
    NOT_TAXABLE = "不課税"

    @classmethod
    def parse(cls, s: str) -> TaxCategory:
        """The category named by an English alias or a Japanese word, else :class:`MoneyError`."""
        category = _TAX_ALIASES.get(s.strip().lower())
        if category is None:
            names = "、".join(_TAX_ALIASES)
            raise MoneyError(f"expected a tax category ({names}), got {s!r}")
        return category

    @classmethod
    def _missing_(cls, value: object) -> TaxCategory | None:
        return _TAX_ALIASES.get(value.strip().lower()) if isinstance(value, str) else None


_TAX_ALIASES: dict[str, TaxCategory] = {
    "excluded": TaxCategory.EXCLUDED,
    "included": TaxCategory.INCLUDED,
    "not_taxable": TaxCategory.NOT_TAXABLE,
    "税別": TaxCategory.EXCLUDED,
    "税抜": TaxCategory.EXCLUDED,
    "税抜き": TaxCategory.EXCLUDED,
    "税込": TaxCategory.INCLUDED,
    "税込み": TaxCategory.INCLUDED,
    "不課税": TaxCategory.NOT_TAXABLE,
}

YEN = Decimal("1")
# 消費税 (national 7.8% + local 2.2%), standard rate since 2019-10-01.
CONSUMPTION_TAX_RATE = Decimal("0.10")


def _quantize(d: Decimal, quantum: Decimal | None, rounding: str) -> Decimal:
    return d if quantum is None else d.quantize(quantum, rounding=rounding)


def round_yen(d: Decimal, rounding: str = ROUND_DOWN) -> Decimal:
    """``d`` to whole yen; by default fractions are cut toward zero (1円未満切捨て).

    >>> round_yen(Decimal("9.339")), round_yen(Decimal("-9.9"))
    (Decimal('9'), Decimal('-9'))
    >>> round_yen(Decimal("9.5"), "ROUND_HALF_UP")
    Decimal('10')
    """
    return d.quantize(YEN, rounding=rounding)


def add_tax(
    amount: Decimal,
    rate: Decimal = CONSUMPTION_TAX_RATE,
    rounding: str = ROUND_DOWN,
    quantum: Decimal | None = YEN,
) -> Decimal:
    """The tax-included amount of a tax-excluded (税別) ``amount``.

    Assumed convention: the result is cut to ``quantum`` toward zero — by default whole yen,
    1円未満切捨て, as is customary. For unit prices in sen pass ``quantum=Decimal("0.01")``
    (8.49円 → 9.33円), or ``quantum=None`` for the exact value (9.339円). ``rounding`` takes the
    :mod:`decimal` rounding modes (``ROUND_HALF_UP`` for 四捨五入, ``ROUND_UP`` for 切上げ).

    >>> add_tax(Decimal(30)), add_tax(Decimal(10)), add_tax(Decimal("8.49"))
    (Decimal('33'), Decimal('11'), Decimal('9'))
    >>> add_tax(Decimal("8.49"), quantum=Decimal("0.01")), add_tax(Decimal("8.49"), quantum=None)
    (Decimal('9.33'), Decimal('9.3390'))
    """
    if rate < 0:
        raise MoneyError(f"a tax rate cannot be negative, got {rate}")
    return _quantize(amount * (1 + rate), quantum, rounding)


def tax_of(
    amount: Decimal,
    category: TaxCategory,
    rate: Decimal = CONSUMPTION_TAX_RATE,
    rounding: str = ROUND_DOWN,
    quantum: Decimal | None = YEN,
) -> Decimal:
    """The consumption tax on (税別) or contained in (税込) ``amount``; 0 if 不課税.

    Rounded as in :func:`add_tax`.

    >>> tax_of(Decimal(30), TaxCategory.EXCLUDED), tax_of(Decimal(33), TaxCategory.INCLUDED)
    (Decimal('3'), Decimal('3'))
    >>> tax_of(Decimal(1000), TaxCategory.NOT_TAXABLE)
    Decimal('0')
    """
    if rate < 0:
        raise MoneyError(f"a tax rate cannot be negative, got {rate}")
    match category:
        case TaxCategory.EXCLUDED:
            return _quantize(amount * rate, quantum, rounding)
        case TaxCategory.INCLUDED:
            return _quantize(amount * rate / (1 + rate), quantum, rounding)
        case TaxCategory.NOT_TAXABLE:
            return Decimal(0)


def with_tax(
    amount: Decimal,
    category: TaxCategory,
    rate: Decimal = CONSUMPTION_TAX_RATE,
    rounding: str = ROUND_DOWN,
    quantum: Decimal | None = YEN,
) -> Decimal:
    """What is paid for a price of ``amount`` in ``category``: tax added only if 税別.

    >>> with_tax(Decimal(30000), TaxCategory.EXCLUDED)
    Decimal('33000')
    >>> with_tax(Decimal(1000), TaxCategory.NOT_TAXABLE)
    Decimal('1000')
    """
    if category is TaxCategory.EXCLUDED:
        return add_tax(amount, rate, rounding, quantum)
    return amount


# --- Parsing and formatting ------------------------------------------------------------------

_NUMBER = r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?"
# 1億2,000万円, 30万円, 1万5千円, 8.49円: each part below the largest must fit under it.
_UNITS = (("兆", 10**12), ("億", 10**8), ("万", 10**4), ("千", 10**3), ("", 1))
_BODY_RE = LazyPattern("".join(f"(?:({_NUMBER}){u})?" for u, _ in _UNITS[:-1]) + f"({_NUMBER})?")
_MINUS = "-−▲△"
_LOWER_BOUND = "~〜"
_EXPECTED = "expected an amount in yen such as 1,500円, ¥89,000, 30万円 or 8.49円"


def _compact(s: str) -> str:
    return re.sub(r"\s+", "", normalize_width(s))


def _parse_body(body: str, original: str) -> Decimal:
    m = _BODY_RE.fullmatch(body)
    if body and m is not None:
        total = Decimal(0)
        previous: int | None = None
        for (unit_name, unit), part in zip(_UNITS, m.groups(), strict=True):
            if part is None:
                continue
            value = Decimal(part.replace(",", ""))
            if previous is not None and value * unit >= previous:
                raise MoneyError(f"{_EXPECTED}; {part}{unit_name} is too large in {original!r}")
            total += value * unit
            previous = unit
        return total
    try:
        return Decimal(to_int(body))  # kanji numerals: 三十万円, 千五百円
    except NumeralError:
        raise MoneyError(f"{_EXPECTED}, got {original!r}") from None


def parse_jpy(s: str) -> Decimal:
    """An amount in yen as written: 円 after it or ¥ before it, any width, 万/億 allowed.

    A "from" price (6,980円～) is not an amount: use :func:`parse_price` for it.

    >>> [str(parse_jpy(x)) for x in ("1,500円", "１，５００円", "¥89,000", "30万円", "8.49円")]
    ['1500', '1500', '89000', '300000', '8.49']
    """
    text = _compact(s)
    if any(c in text for c in _LOWER_BOUND):
        raise MoneyError(f"{s!r} is a 'from' price (～ marks a lower bound): use parse_price")
    negative = text[:1] in tuple(_MINUS)
    if negative:
        text = text[1:]
    if text[:1] in ("¥", "￥") and not text.endswith("円"):
        body = text[1:]
    elif text.endswith("円") and text[:1] not in ("¥", "￥"):
        body = text[:-1]
    else:
        raise MoneyError(f"{_EXPECTED} (one of 円 after or ¥ before the number), got {s!r}")
    amount = _parse_body(body, s)
    return -amount if negative else amount


_LEADING_NOTE_RE = LazyPattern(r"\(([^()]+)\)(.*)")
_TRAILING_NOTE_RE = LazyPattern(r"(.*?)\(([^()]+)\)")


@dataclass(frozen=True)
class Price:
    """A price as a table writes it: the amount, whether it is a "from" price (～), the tax
    category if the price says it (``1,000円(不課税)``) and what it is per (``/人/月``)."""

    amount: Decimal
    lower_bound: bool = False
    tax: TaxCategory | None = None
    per: tuple[str, ...] = ()


def parse_price(s: str) -> Price:
    """A price with its marks: ``6,980円/人/月～``, ``30,000円～/テナント/月``, ``1,000円(不課税)``.

    >>> parse_price("1,000円(不課税)").tax
    <TaxCategory.NOT_TAXABLE: '不課税'>
    """
    text = _compact(s)
    tax: TaxCategory | None = None
    note: str | None = None
    if m := _LEADING_NOTE_RE.fullmatch(text):
        note, text = m.group(1), m.group(2)
    elif m := _TRAILING_NOTE_RE.fullmatch(text):
        text, note = m.group(1), m.group(2)
    if note is not None:
        try:
            tax = TaxCategory.parse(note)
        except MoneyError:
            raise MoneyError(f"unknown note ({note}) in price {s!r}") from None
    # ～ after the amount or at the end: "from" (6,980円～). A leading ～ means "up to": refused.
    marks = [i for i, c in enumerate(text) if c in _LOWER_BOUND]
    if marks:
        i = marks[0]
        if len(marks) > 1 or i == 0 or not (i == len(text) - 1 or text[i - 1] == "円"):
            raise MoneyError(f"expected at most one ～, after 円 or at the end, in {s!r}")
        text = text[:i] + text[i + 1 :]
    amount_text, *per = text.split("/")
    if any(not p for p in per):
        raise MoneyError(f"empty unit after / in price {s!r}")
    return Price(parse_jpy(amount_text), bool(marks), tax, tuple(per))


def format_jpy(d: Decimal) -> str:
    """An amount as documents write it: thousands commas, 円, sen only if there are any.

    >>> format_jpy(Decimal(1500)), format_jpy(Decimal("8.49")), format_jpy(Decimal(-300))
    ('1,500円', '8.49円', '-300円')
    >>> format_jpy(Decimal("33.000"))
    '33円'
    """
    if not d.is_finite():
        raise MoneyError(f"not an amount: {d}")
    if d == d.to_integral_value():
        return f"{int(d):,}円"
    return f"{d.normalize():,f}円"


def units_started(quantity: Decimal | int, unit: Decimal | int) -> int:
    """How many units a quantity uses when every started unit counts (「60秒までごとに」).

    >>> [units_started(s, 60) for s in (0, 1, 60, 61)]
    [0, 1, 1, 2]
    """
    try:
        q, u = Decimal(quantity), Decimal(unit)
    except (InvalidOperation, TypeError):
        raise MoneyError(f"expected numbers, got {quantity!r} and {unit!r}") from None
    if not (q.is_finite() and u.is_finite()) or q < 0 or u <= 0:
        raise MoneyError(f"expected a quantity >= 0 and a unit > 0, got {quantity} and {unit}")
    whole, rest = divmod(q, u)
    return int(whole) + (1 if rest else 0)
