"""Discounts on a subscription (issue 15): ordered rows applied exactly, the approval level, the filed price."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from domain.pricing import (
    AboveFiledPrice,
    DiscountRow,
    DiscountRowError,
    apply_discounts,
    approval_level,
    escalated,
    may_decide,
    quote,
)


def pct(v: str, reason: str = "开盘优惠") -> DiscountRow:
    return DiscountRow(reason, "percent", D(v))


def amt(v: str, reason: str = "老带新") -> DiscountRow:
    return DiscountRow(reason, "amount", D(v))


def test_rows_apply_in_order_percent_on_the_running_price_to_the_fen():
    final, rows = apply_discounts(D("1500000"), [pct("1"), amt("10000"), pct("0.5")])
    assert [r.deduction for r in rows] == [D("15000.00"), D("10000"), D("7375.00")]
    assert [r.price_after for r in rows] == [D("1485000.00"), D("1475000.00"), D("1467625.00")]
    assert final == D("1467625.00")
    # the order matters: the amount first leaves a different base for the percentages
    assert apply_discounts(D("1500000"), [amt("10000"), pct("1"), pct("0.5")])[0] == D("1467724.50")  # 1490000 → 1475100 → 1467724.50


def test_a_percent_is_rounded_half_up_to_the_fen():
    final, rows = apply_discounts(D("1234567.89"), [pct("1.33")])
    assert rows[0].deduction == D("16419.75")  # 16419.7529... → .75
    assert final == D("1218148.14")
    assert apply_discounts(D("100.50"), [pct("1")])[1][0].deduction == D("1.01")  # 1.005 → 1.01 (half-up)


def test_no_rows_is_the_list_price():
    assert apply_discounts(D("1500000"), []) == (D("1500000.00"), ())


@pytest.mark.parametrize("row, field, code", [
    (DiscountRow(" ", "amount", D("1")), "reason", "required"),
    (DiscountRow("x", "coupon", D("1")), "kind", "invalid"),
    (DiscountRow("x", "amount", D("0")), "value", "not_positive"),
    (DiscountRow("x", "amount", D("-5")), "value", "not_positive"),
    (DiscountRow("x", "amount", D("0.001")), "value", "too_precise"),
    (DiscountRow("x", "percent", D("100")), "value", "too_large"),
    (DiscountRow("x", "amount", D("1500000")), "value", "too_large"),
])
def test_a_bad_row_names_its_index_and_field(row, field, code):
    with pytest.raises(DiscountRowError) as e:
        apply_discounts(D("1500000"), [amt("1"), row])
    assert (e.value.index, e.value.field, e.value.code) == (1, field, code)
    assert "discount row 2" in str(e.value)


def test_money_is_never_a_float():
    with pytest.raises(DiscountRowError):
        apply_discounts(D("100"), [DiscountRow("x", "amount", 1.5)])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        apply_discounts(100.0, [])  # type: ignore[arg-type]


LIMIT = D("0.02")


@pytest.mark.parametrize("final, floor, level", [
    (D("1000000"), None, None),  # no discount
    (D("980000"), None, "manager"),  # exactly the manager's 2 %
    (D("979999.99"), None, "citygm"),  # a fen over it
    (D("990000"), D("995000"), "hqrisk"),  # below the floor, whatever the share
    (D("950000"), D("960000"), "hqrisk"),
    (D("960000"), D("960000"), "citygm"),  # at the floor is not below it
])
def test_the_approval_level_from_the_result(final, floor, level):
    assert approval_level(list_price=D("1000000"), final_price=final, floor_price=floor, manager_limit=LIMIT) == level


def test_the_price_never_exceeds_the_filed_price():
    with pytest.raises(AboveFiledPrice) as e:
        quote(list_price=D("1000000"), rows=[amt("1000")], floor_price=None, filed_price=D("990000"), manager_limit=LIMIT)
    assert "备案价" in str(e.value)
    q = quote(list_price=D("1000000"), rows=[amt("10000")], floor_price=D("900000"), filed_price=D("990000"),
              manager_limit=LIMIT)
    assert (q.final_price, q.discount, q.share, q.level, q.below_floor) == (D("990000.00"), D("10000.00"), D("0.010000"), "manager", False)


def test_escalation_ladder_and_who_decides():
    assert [escalated(x) for x in ("manager", "citygm", "hqrisk")] == ["citygm", "hqrisk", None]
    assert may_decide("citygm", "manager") and may_decide("hqrisk", "citygm")
    assert not may_decide("manager", "citygm") and not may_decide("sales", "manager")
