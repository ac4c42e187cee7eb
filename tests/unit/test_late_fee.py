"""Late fee (DOMAIN §4, Decision — late fee)."""

from datetime import date, datetime
from decimal import Decimal

import pytest

from domain.late_fee import days_overdue, late_fee

DUE = date(2026, 3, 2)


def test_domain_example_300000_paid_18_days_late_costs_2700():
    fee = late_fee(overdue_amount=Decimal("300000"), due_date=DUE, paid_date=date(2026, 3, 20))
    assert fee == Decimal("2700.00")
    assert str(fee) == "2700.00"


@pytest.mark.parametrize(
    "paid, days",
    [
        (date(2026, 3, 20), 18),
        (date(2026, 3, 3), 1),  # the day after the due date is the first day
        (date(2026, 3, 2), 0),  # paid on the due date
        (date(2026, 2, 20), 0),  # paid early
        (date(2026, 4, 1), 30),  # across a month end
        (date(2027, 3, 2), 365),
    ],
)
def test_days_overdue_counts_from_the_day_after_the_due_date(paid, days):
    assert days_overdue(DUE, paid) == days


@pytest.mark.parametrize(
    "paid",
    [date(2026, 3, 2), date(2026, 3, 1), date(2025, 12, 31)],
)
def test_same_day_or_early_payment_costs_nothing(paid):
    fee = late_fee(overdue_amount=Decimal("300000"), due_date=DUE, paid_date=paid)
    assert fee == Decimal("0.00")
    assert fee.as_tuple().exponent == -2


@pytest.mark.parametrize(
    "amount, rate, paid, expected",
    [
        (Decimal("1010"), Decimal("0.0005"), date(2026, 3, 3), Decimal("0.51")),  # 0.505 → half up, not to even
        (Decimal("1001"), Decimal("0.0005"), date(2026, 3, 3), Decimal("0.50")),  # 0.5005 → 0.50
        (Decimal("1030"), Decimal("0.0005"), date(2026, 3, 3), Decimal("0.52")),  # 0.515 → 0.52
        (Decimal("123456.78"), Decimal("0.0005"), date(2026, 3, 12), Decimal("617.28")),  # 617.2839
        (Decimal("200000"), Decimal("0.0003"), date(2026, 3, 9), Decimal("420.00")),  # contract's own rate
        (Decimal("0"), Decimal("0.0005"), date(2026, 3, 20), Decimal("0.00")),
        (300000, Decimal("0.0005"), date(2026, 3, 20), Decimal("2700.00")),  # int amount accepted
    ],
)
def test_late_fee_rounds_half_up_to_the_fen(amount, rate, paid, expected):
    assert late_fee(overdue_amount=amount, due_date=DUE, paid_date=paid, daily_rate=rate) == expected


@pytest.mark.parametrize(
    "kwargs",
    [
        {"overdue_amount": 300000.0},
        {"overdue_amount": Decimal("300000"), "daily_rate": 0.0005},
        {"overdue_amount": "300000"},
        {"overdue_amount": True},
    ],
)
def test_float_or_non_decimal_money_is_refused(kwargs):
    with pytest.raises(TypeError):
        late_fee(due_date=DUE, paid_date=date(2026, 3, 20), **kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"overdue_amount": Decimal("-1")},
        {"overdue_amount": Decimal("300000"), "daily_rate": Decimal("-0.0005")},
        {"overdue_amount": Decimal("NaN")},
        {"overdue_amount": Decimal("Infinity")},
    ],
)
def test_negative_or_non_finite_amounts_are_refused(kwargs):
    with pytest.raises(ValueError):
        late_fee(due_date=DUE, paid_date=date(2026, 3, 20), **kwargs)


@pytest.mark.parametrize(
    "due, paid",
    [
        (datetime(2026, 3, 2, 12, 0), date(2026, 3, 20)),
        (DUE, "2026-03-20"),
    ],
)
def test_dates_must_be_plain_dates(due, paid):
    with pytest.raises(TypeError):
        days_overdue(due, paid)


def test_late_fee_arguments_are_keyword_only():
    with pytest.raises(TypeError):
        late_fee(Decimal("300000"), DUE, date(2026, 3, 20))  # type: ignore[misc]
