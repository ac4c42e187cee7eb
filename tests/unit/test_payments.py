"""Contracts and payments, pure rules: filing deadline, plan validation, allocation, late fees."""

from datetime import date, datetime
from decimal import Decimal

import pytest

from domain.payments import (
    Allocation,
    FilingStatus,
    Outstanding,
    PaymentError,
    PaymentMethod,
    PlannedInstalment,
    accruing_late_fee,
    allocate,
    contract_stage,
    filing_due,
    filing_status,
    validate_plan,
)

D = Decimal


# --- filing (备案 within 30 days of signing) --------------------------------------------------------

@pytest.mark.parametrize(
    "signed, due",
    [
        (date(2026, 3, 1), date(2026, 3, 31)),
        (date(2026, 2, 10), date(2026, 3, 12)),  # across a short February
        (date(2026, 12, 15), date(2027, 1, 14)),  # across a year end
        (date(2028, 2, 1), date(2028, 3, 2)),  # leap year
    ],
)
def test_filing_is_due_30_days_after_signing(signed, due):
    assert filing_due(signed) == due


def test_filing_due_refuses_a_datetime():
    with pytest.raises(TypeError):
        filing_due(datetime(2026, 3, 1))


@pytest.mark.parametrize(
    "today, filed, expected",
    [
        (date(2026, 3, 31), None, FilingStatus.DUE_SOON),  # the due day itself is still on time
        (date(2026, 4, 1), None, FilingStatus.OVERDUE),
        (date(2026, 3, 24), None, FilingStatus.DUE_SOON),  # 7 days before
        (date(2026, 3, 23), None, FilingStatus.PENDING),  # 8 days before
        (date(2026, 4, 20), date(2026, 4, 10), FilingStatus.FILED),  # filed (late) is filed
    ],
)
def test_filing_status(today, filed, expected):
    assert filing_status(due=date(2026, 3, 31), filed_on=filed, today=today, soon_days=7) == expected


def test_stage_follows_the_loan():
    assert contract_stage(loan_disbursed=False) == "online_signed"
    assert contract_stage(loan_disbursed=True) == "loan_disbursed"


# --- the plan ---------------------------------------------------------------------------------------

def test_plan_must_add_up_to_price_minus_deposit():
    plan = [PlannedInstalment(date(2026, 6, 1), D("1000000")), PlannedInstalment(date(2026, 3, 1), D("950000"))]
    out = validate_plan(method=PaymentMethod.INSTALMENT, instalments=plan, price=D("2000000"), deposit=D("50000"))
    assert [i.due_on for i in out] == [date(2026, 3, 1), date(2026, 6, 1)]  # in payment order
    assert [i.amount_due for i in out] == [D("950000.00"), D("1000000.00")]


def test_plan_a_fen_short_is_refused_with_the_difference():
    plan = [PlannedInstalment(date(2026, 3, 1), D("1949999.99"))]
    with pytest.raises(PaymentError, match="difference -0.01"):
        validate_plan(method=PaymentMethod.FULL, instalments=plan, price=D("2000000"), deposit=D("50000"))


def test_full_payment_is_one_instalment():
    plan = [PlannedInstalment(date(2026, 3, 1), D("950000")), PlannedInstalment(date(2026, 4, 1), D("1000000"))]
    with pytest.raises(PaymentError, match="exactly one"):
        validate_plan(method=PaymentMethod.FULL, instalments=plan, price=D("2000000"), deposit=D("50000"))


@pytest.mark.parametrize("bad", [[], [PlannedInstalment(date(2026, 3, 1), D("0")), PlannedInstalment(date(2026, 4, 1), D("1950000"))]])
def test_plan_needs_instalments_above_zero(bad):
    with pytest.raises(PaymentError):
        validate_plan(method=PaymentMethod.INSTALMENT, instalments=bad, price=D("2000000"), deposit=D("50000"))


def test_plan_refuses_float_money():
    with pytest.raises(TypeError):
        validate_plan(method=PaymentMethod.FULL, instalments=[PlannedInstalment(date(2026, 3, 1), 1950000.0)], price=D("2000000"), deposit=D("50000"))


# --- allocation -----------------------------------------------------------------------------------

PLAN = [
    Outstanding("second", date(2026, 4, 1), D("100000")),
    Outstanding("first", date(2026, 3, 2), D("300000")),
    Outstanding("third", date(2026, 5, 1), D("200000")),
]


def test_the_domain_example_300000_due_2026_03_02_paid_2026_03_20_costs_2700():
    parts = allocate(amount=D("300000"), instalments=PLAN, received_on=date(2026, 3, 20))
    assert parts == [Allocation("first", D("300000.00"), 18, D("2700.00"))]


def test_allocation_goes_oldest_due_first_and_splits_across_instalments():
    parts = allocate(amount=D("350000"), instalments=PLAN, received_on=date(2026, 3, 20))
    assert [(p.key, p.amount) for p in parts] == [("first", D("300000.00")), ("second", D("50000.00"))]
    # the second instalment is not due yet on 2026-03-20: no fee on it
    assert [(p.days_overdue, p.late_fee) for p in parts] == [(18, D("2700.00")), (0, D("0.00"))]


def test_late_fee_is_only_on_the_part_paid_late():
    parts = allocate(amount=D("100000"), instalments=[Outstanding(1, date(2026, 3, 2), D("300000"))], received_on=date(2026, 3, 12))
    assert parts == [Allocation(1, D("100000.00"), 10, D("500.00"))]


def test_paid_instalments_are_skipped_and_ties_keep_the_given_order():
    plan = [
        Outstanding("paid", date(2026, 1, 1), D("0")),
        Outstanding("a", date(2026, 3, 1), D("10")),
        Outstanding("b", date(2026, 3, 1), D("10")),
    ]
    parts = allocate(amount=D("15"), instalments=plan, received_on=date(2026, 2, 1))
    assert [(p.key, p.amount) for p in parts] == [("a", D("10.00")), ("b", D("5.00"))]


def test_exact_settlement_is_fine_and_overpayment_is_refused():
    total = sum(p.outstanding for p in PLAN)
    assert sum(p.amount for p in allocate(amount=total, instalments=PLAN, received_on=date(2026, 1, 1))) == total
    with pytest.raises(PaymentError, match="overpayments are refused"):
        allocate(amount=total + D("0.01"), instalments=PLAN, received_on=date(2026, 1, 1))


@pytest.mark.parametrize("amount", [D("0"), D("-1")])
def test_receipt_must_be_above_zero(amount):
    with pytest.raises(PaymentError):
        allocate(amount=amount, instalments=PLAN, received_on=date(2026, 1, 1))


def test_allocation_refuses_float_money_and_datetimes():
    with pytest.raises(TypeError):
        allocate(amount=100.0, instalments=PLAN, received_on=date(2026, 1, 1))
    with pytest.raises(TypeError):
        allocate(amount=D("100"), instalments=PLAN, received_on=datetime(2026, 1, 1))


def test_custom_daily_rate_applies():
    parts = allocate(amount=D("300000"), instalments=PLAN, received_on=date(2026, 3, 20), daily_rate=D("0.0003"))
    assert parts[0].late_fee == D("1620.00")


def test_accruing_late_fee_of_the_unpaid_part():
    assert accruing_late_fee(outstanding=D("300000"), due_on=date(2026, 3, 2), as_of=date(2026, 3, 20)) == D("2700.00")
    assert accruing_late_fee(outstanding=D("300000"), due_on=date(2026, 3, 2), as_of=date(2026, 3, 2)) == D("0.00")
    assert accruing_late_fee(outstanding=D("0"), due_on=date(2026, 3, 2), as_of=date(2026, 4, 2)) == D("0.00")
