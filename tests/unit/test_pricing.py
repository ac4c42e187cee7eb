"""Unit pricing (DOMAIN §2), table-driven."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from domain.pricing import (
    PricingError,
    check_floor_price,
    floor_premium,
    parse_decimal,
    total_price,
    unit_price,
)


@pytest.mark.parametrize(
    "floor, reference, per_floor, expected",
    [(12, 10, D("50"), D("100.00")), (10, 10, D("50"), D("0.00")), (3, 10, D("30"), D("-210.00")), (1, 1, D("0"), D("0.00"))],
)
def test_floor_premium_above_and_below_the_reference(floor, reference, per_floor, expected):
    assert floor_premium(floor, reference_floor=reference, per_floor=per_floor) == expected


@pytest.mark.parametrize(
    "base, floor, orientation, view, expected",
    [
        (D("20000"), D("0"), D("0"), D("0"), D("20000.00")),
        (D("20000"), D("300"), D("200"), D("0"), D("20500.00")),
        (D("20000"), D("-300"), D("-150"), D("500"), D("20050.00")),
        (D("18888.885"), D("0"), D("0"), D("0"), D("18888.89")),  # half-up to the fen
    ],
)
def test_unit_price_is_base_plus_minus_premiums(base, floor, orientation, view, expected):
    assert unit_price(base, floor_premium=floor, orientation_premium=orientation, view_premium=view) == expected


@pytest.mark.parametrize(
    "area, price, expected",
    [
        (D("100.00"), D("20000.00"), D("2000000")),
        (D("89.37"), D("23456.78"), D("2096332")),  # 2,096,332.4286 → down
        (D("0.50"), D("1.01"), D("1")),  # 0.505 → half up
        (D("0.50"), D("0.99"), D("0")),  # 0.495 → down
        (D("123.45"), D("18000.00"), D("2222100")),
    ],
)
def test_total_is_area_times_unit_price_rounded_to_the_yuan(area, price, expected):
    got = total_price(area, price)
    assert got == expected and got.as_tuple().exponent == 0


@pytest.mark.parametrize(
    "call",
    [
        lambda: unit_price(20000.0),
        lambda: total_price(100.0, D("1")),
        lambda: total_price(D("100"), 1.5),
        lambda: floor_premium(3, reference_floor=1, per_floor=10.0),
    ],
)
def test_floats_are_refused(call):
    with pytest.raises(TypeError):
        call()


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: unit_price(D("0")), "base price"),
        (lambda: unit_price(D("100"), floor_premium=D("-100")), "above zero"),
        (lambda: total_price(D("0"), D("100")), "area"),
        (lambda: total_price(D("10"), D("-1")), "unit price"),
        (lambda: check_floor_price(total=D("100"), floor_price=D("101")), "above the list total"),
        (lambda: check_floor_price(total=D("100"), floor_price=D("0")), "above zero"),
        (lambda: parse_decimal("abc", "unit_price"), "not a number"),
        (lambda: parse_decimal("NaN", "unit_price"), "not a number"),
    ],
)
def test_impossible_prices_are_refused(call, message):
    with pytest.raises(PricingError, match=message):
        call()


@pytest.mark.parametrize(
    "raw, expected",
    [("20,000.50", D("20000.50")), (" 89.37 ", D("89.37")), (89.37, D("89.37")), (120, D("120")), (D("1.5"), D("1.5"))],
)
def test_parse_decimal_from_cells(raw, expected):
    assert parse_decimal(raw, "x") == expected


def test_floor_price_at_or_below_total_is_fine():
    check_floor_price(total=D("100"), floor_price=D("100"))
    check_floor_price(total=D("100"), floor_price=None)
