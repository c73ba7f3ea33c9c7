"""Tests of yakkan.engine.core.money: tax categories, consumption tax, yen amounts and prices."""

from __future__ import annotations

import doctest
from decimal import ROUND_HALF_UP, ROUND_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yakkan.engine.core import money
from yakkan.engine.core.money import (
    CONSUMPTION_TAX_RATE,
    MoneyError,
    Price,
    TaxCategory,
    add_tax,
    format_jpy,
    parse_jpy,
    parse_price,
    round_yen,
    tax_of,
    units_started,
    with_tax,
)

D = Decimal


def test_doctests() -> None:
    result = doctest.testmod(money)
    assert result.attempted > 0
    assert result.failed == 0


# --- tax categories ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("excluded", TaxCategory.EXCLUDED),
        ("EXCLUDED", TaxCategory.EXCLUDED),
        ("included", TaxCategory.INCLUDED),
        ("not_taxable", TaxCategory.NOT_TAXABLE),
        ("税別", TaxCategory.EXCLUDED),
        ("税抜", TaxCategory.EXCLUDED),
        ("税抜き", TaxCategory.EXCLUDED),
        ("税込", TaxCategory.INCLUDED),
        ("税込み", TaxCategory.INCLUDED),
        ("不課税", TaxCategory.NOT_TAXABLE),
        (" 税込 ", TaxCategory.INCLUDED),
    ],
)
def test_tax_category_aliases(label: str, expected: TaxCategory) -> None:
    assert TaxCategory.parse(label) is expected
    assert TaxCategory(label) is expected


def test_tax_category_values_are_the_japanese_words() -> None:
    assert [c.value for c in TaxCategory] == ["税別", "税込", "不課税"]
    assert str(TaxCategory.INCLUDED) == "税込"


@pytest.mark.parametrize("bad", ["", "非課税", "tax", "内税"])
def test_tax_category_rejects(bad: str) -> None:
    with pytest.raises(MoneyError, match="expected a tax category"):
        TaxCategory.parse(bad)
    with pytest.raises(ValueError, match="not a valid TaxCategory"):
        TaxCategory(bad)


# --- consumption tax ---------------------------------------------------------------------------


def test_rate_is_ten_percent() -> None:
    assert D("0.10") == CONSUMPTION_TAX_RATE


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (D(30), D(33)),  # 30 × 1.10 = 33.00 (60秒までごとに30円 (33円))
        (D(10), D(11)),  # 10 × 1.10 = 11.00 (30秒までごとに10円 (11円))
        (D(30000), D(33000)),  # 30,000円(税込 33,000円), 別表 シートマップ
        (D(1), D(1)),  # 1.10 → 1
        (D(9), D(9)),  # 9.90 → 9
        (D(15), D(16)),  # 16.50 → 16
        (D("8.49"), D(9)),  # 9.339 → 9 (whole yen by default)
        (D(0), D(0)),
        (D(-30), D(-33)),  # refunds: cut toward zero, symmetric
        (D(-15), D(-16)),  # -16.5 → -16
    ],
)
def test_add_tax_to_whole_yen(amount: Decimal, expected: Decimal) -> None:
    assert add_tax(amount) == expected


def test_add_tax_quantum_and_rounding() -> None:
    assert add_tax(D("8.49"), quantum=D("0.01")) == D("9.33")  # 9.339 cut to sen
    assert add_tax(D("8.49"), quantum=None) == D("9.339")  # exact
    assert add_tax(D("16.9"), quantum=D("0.01")) == D("18.59")  # 16.9 × 1.1 = 18.59
    assert add_tax(D(15), rounding=ROUND_HALF_UP) == D(17)  # 16.5 → 17 (四捨五入)
    assert add_tax(D(1), rounding=ROUND_UP) == D(2)  # 1.1 → 2 (切上げ)
    assert add_tax(D(100), rate=D("0.08")) == D(108)  # reduced rate
    assert add_tax(D(100), rate=D(0)) == D(100)


def test_add_tax_rejects_negative_rate() -> None:
    with pytest.raises(MoneyError, match="negative"):
        add_tax(D(100), rate=D("-0.1"))
    with pytest.raises(MoneyError, match="negative"):
        tax_of(D(100), TaxCategory.EXCLUDED, rate=D("-0.1"))


@pytest.mark.parametrize(
    ("amount", "category", "expected"),
    [
        (D(30), TaxCategory.EXCLUDED, D(3)),  # 30 × 0.10
        (D(15), TaxCategory.EXCLUDED, D(1)),  # 1.5 → 1
        (D(33), TaxCategory.INCLUDED, D(3)),  # 33 × 0.10 / 1.10 = 3
        (D(1100), TaxCategory.INCLUDED, D(100)),  # 1100 × 0.10 / 1.10 = 100
        (D(980), TaxCategory.INCLUDED, D(89)),  # 98 / 1.1 = 89.09… → 89
        (D(1000), TaxCategory.NOT_TAXABLE, D(0)),  # 違約金 1,000円(不課税)
    ],
)
def test_tax_of(amount: Decimal, category: TaxCategory, expected: Decimal) -> None:
    assert tax_of(amount, category) == expected


@pytest.mark.parametrize(
    ("amount", "category", "expected"),
    [
        (D(30000), TaxCategory.EXCLUDED, D(33000)),
        (D(33000), TaxCategory.INCLUDED, D(33000)),
        (D(1000), TaxCategory.NOT_TAXABLE, D(1000)),
    ],
)
def test_with_tax(amount: Decimal, category: TaxCategory, expected: Decimal) -> None:
    assert with_tax(amount, category) == expected


@given(st.integers(min_value=0, max_value=10**9))
def test_tax_added_equals_tax_on_whole_yen(n: int) -> None:
    # For whole-yen prices, floor(n × 1.1) = n + floor(n × 0.1): the total and the tax agree.
    amount = D(n)
    assert add_tax(amount) == amount + tax_of(amount, TaxCategory.EXCLUDED)
    assert amount <= add_tax(amount) <= amount * D("1.1")


# --- parsing amounts ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_text", "expected"),
    [
        ("1,500円", D(1500)),
        ("１，５００円", D(1500)),
        ("1,500 円", D(1500)),  # as the PDF extraction spaces it
        ("¥89,000", D(89000)),
        ("￥89,000", D(89000)),
        ("30万円", D(300000)),
        ("30 万円", D(300000)),
        ("5万円", D(50000)),
        ("1万5千円", D(15000)),  # 1×10,000 + 5×1,000
        ("1億2,000万円", D(120000000)),  # 1×10^8 + 2,000×10^4
        ("1.5万円", D(15000)),
        ("三十万円", D(300000)),
        ("千五百円", D(1500)),
        ("8.49円", D("8.49")),
        ("16.9円", D("16.9")),
        ("0円", D(0)),
        ("-300円", D(-300)),
        ("−300円", D(-300)),
        ("▲300円", D(-300)),
        ("1500円", D(1500)),
        ("1234567円", D(1234567)),
    ],
)
def test_parse_jpy(given_text: str, expected: Decimal) -> None:
    assert parse_jpy(given_text) == expected


def test_parse_jpy_keeps_sen_exact() -> None:
    assert parse_jpy("8.49円").as_tuple() == D("8.49").as_tuple()


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("6,980円～", "parse_price"),
        ("6,980円〜", "parse_price"),
        ("1500", "円 after or ¥ before"),
        ("¥1,500円", "円 after or ¥ before"),
        ("", "円 after or ¥ before"),
        ("円", "expected an amount"),
        ("15,00円", "expected an amount"),
        ("1,5000円", "expected an amount"),
        ("1.2.3円", "expected an amount"),
        ("1万20000円", "too large"),  # 20,000 does not fit under 万
        ("1億1万万円", "expected an amount"),
        ("別途お見積り", "expected an amount"),
        ("30ドル", "expected an amount"),
    ],
)
def test_parse_jpy_rejects(bad: str, message: str) -> None:
    with pytest.raises(MoneyError, match=message):
        parse_jpy(bad)


@pytest.mark.parametrize(
    ("given_text", "expected"),
    [
        ("6,980円～", Price(D(6980), lower_bound=True)),
        ("6,980 円/人/月～", Price(D(6980), lower_bound=True, per=("人", "月"))),
        ("30,000 円～/テナント/月", Price(D(30000), lower_bound=True, per=("テナント", "月"))),
        ("1,500 円/番号/月", Price(D(1500), per=("番号", "月"))),
        ("8.49 円/3 分", Price(D("8.49"), per=("3分",))),
        ("1,000円(不課税)", Price(D(1000), tax=TaxCategory.NOT_TAXABLE)),
        ("(税抜)30万円", Price(D(300000), tax=TaxCategory.EXCLUDED)),
        ("6,980円～(税別)", Price(D(6980), lower_bound=True, tax=TaxCategory.EXCLUDED)),
        ("¥89,000", Price(D(89000))),
    ],
)
def test_parse_price(given_text: str, expected: Price) -> None:
    assert parse_price(given_text) == expected


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("～2,000円", "at most one ～"),  # a leading ～ means "up to", not "from"
        ("1円～～", "at most one ～"),
        ("1～円", "at most one ～"),
        ("1円/", "empty unit"),
        ("30円(33円)", "unknown note"),
        ("人/1円", "expected an amount"),
    ],
)
def test_parse_price_rejects(bad: str, message: str) -> None:
    with pytest.raises(MoneyError, match=message):
        parse_price(bad)


# --- formatting --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (D(1500), "1,500円"),
        (D("8.49"), "8.49円"),
        (D(-300), "-300円"),
        (D(0), "0円"),
        (D("-0"), "0円"),
        (D(999), "999円"),
        (D(1000), "1,000円"),
        (D("1234567.5"), "1,234,567.5円"),
        (D("33.000"), "33円"),  # 30 × 1.100 computed exactly
        (D("8.490"), "8.49円"),
        (D("1E+3"), "1,000円"),
    ],
)
def test_format_jpy(amount: Decimal, expected: str) -> None:
    assert format_jpy(amount) == expected


@pytest.mark.parametrize("bad", [D("NaN"), D("Infinity")])
def test_format_jpy_rejects_non_finite(bad: Decimal) -> None:
    with pytest.raises(MoneyError):
        format_jpy(bad)


@given(st.decimals(min_value=-(10**12), max_value=10**12, places=2, allow_nan=False))
def test_format_parse_round_trip(amount: Decimal) -> None:
    assert parse_jpy(format_jpy(amount)) == amount


# --- rounding and units ------------------------------------------------------------------------


def test_round_yen() -> None:
    assert round_yen(D("9.339")) == D(9)
    assert round_yen(D("9.999")) == D(9)
    assert round_yen(D("-9.9")) == D(-9)  # toward zero
    assert round_yen(D("9.5"), ROUND_HALF_UP) == D(10)
    assert round_yen(D("9.4"), ROUND_HALF_UP) == D(9)
    assert round_yen(D("9.001"), ROUND_UP) == D(10)
    assert round_yen(D(12)) == D(12)


@pytest.mark.parametrize(
    ("quantity", "unit", "expected"),
    [
        (0, 60, 0),  # no call, nothing started
        (1, 60, 1),  # the first unit is started
        (59, 60, 1),
        (60, 60, 1),  # exactly one unit
        (61, 60, 2),  # one past: a second unit started
        (120, 60, 2),
        (121, 60, 3),
        (30, 30, 1),
        (31, 30, 2),
        (D("60.5"), 60, 2),
        (D("1.2"), D("0.5"), 3),  # 0.5, 1.0, 1.5
        (D("1.0"), D("0.5"), 2),
    ],
)
def test_units_started(quantity: Decimal | int, unit: Decimal | int, expected: int) -> None:
    assert units_started(quantity, unit) == expected


def test_call_charge_per_started_60_seconds() -> None:
    # A 125-second call on プラン1 (60秒までごとに30円): ⌈125/60⌉ = 3 units, 3 × 30 = 90円 税別,
    # 90 × 1.10 = 99円 税込.
    charge = units_started(125, 60) * D(30)
    assert charge == D(90)
    assert add_tax(charge) == D(99)


@pytest.mark.parametrize(("quantity", "unit"), [(1, 0), (1, -60), (-1, 60), (D("NaN"), 60)])
def test_units_started_rejects(quantity: Decimal | int, unit: Decimal | int) -> None:
    with pytest.raises(MoneyError):
        units_started(quantity, unit)


@given(
    st.decimals(min_value=0, max_value=10**9, places=3, allow_nan=False),
    st.decimals(min_value=D("0.001"), max_value=10**6, places=3, allow_nan=False),
)
def test_units_started_covers_quantity_with_less_than_one_unit_to_spare(
    q: Decimal, u: Decimal
) -> None:
    n = units_started(q, u)
    assert n * u >= q
    if q > 0:
        assert (n - 1) * u < q
    else:
        assert n == 0


@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=1, max_value=10**6))
def test_units_started_on_ints_is_ceiling_division(q: int, u: int) -> None:
    assert units_started(q, u) == -(-q // u)
