"""Contracts and payment plans (DOMAIN §3, §4): filing deadline, plan validation, receipt allocation,
late fees per instalment. Pure: money is Decimal (floats are refused), time is an argument."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from domain.late_fee import (
    DEFAULT_DAILY_RATE,
    as_date,
    as_decimal,
    days_overdue,
    late_fee,
)

CENT = Decimal("0.01")
FILING_DAYS = 30  # 备案 within 30 days of online signing (DOMAIN §3)


class PaymentError(ValueError):
    """A payment rule was broken; the message is meant for a person."""


class PaymentMethod(StrEnum):
    FULL = "full"  # 全款
    INSTALMENT = "instalment"  # 分期
    COMMERCIAL_LOAN = "commercial_loan"  # 商业贷款
    PROVIDENT_FUND_LOAN = "provident_fund_loan"  # 公积金贷款
    COMBINATION = "combination"  # 组合贷款


LOAN_METHODS = frozenset({PaymentMethod.COMMERCIAL_LOAN, PaymentMethod.PROVIDENT_FUND_LOAN, PaymentMethod.COMBINATION})


class FilingStatus(StrEnum):
    FILED = "filed"
    OVERDUE = "overdue"
    DUE_SOON = "due_soon"
    PENDING = "pending"


_date = as_date  # the same refusals as the late fee: a datetime would let a timezone shift the day


def _money(value: object, name: str) -> Decimal:
    return as_decimal(value, name).quantize(CENT, rounding=ROUND_HALF_UP)


# --- filing (备案) -------------------------------------------------------------------------------

def filing_due(signed_on: date) -> date:
    """The last day the contract may be filed: 30 days after online signing."""
    return _date(signed_on, "signed_on") + timedelta(days=FILING_DAYS)


def filing_status(*, due: date, filed_on: date | None, today: date, soon_days: int = 7) -> FilingStatus:
    """Filed; overdue (today past the due date, not filed); due soon (within `soon_days`); or pending."""
    _date(due, "due")
    _date(today, "today")
    if filed_on is not None:
        return FilingStatus.FILED
    if today > due:
        return FilingStatus.OVERDUE
    if (due - today).days <= soon_days:
        return FilingStatus.DUE_SOON
    return FilingStatus.PENDING


def contract_stage(*, loan_disbursed: bool) -> str:
    """The refund tier stage the contract puts the purchase in (domain.refund.ContractStage values)."""
    return "loan_disbursed" if loan_disbursed else "online_signed"


# --- the payment plan ------------------------------------------------------------------------------

@dataclass(frozen=True)
class PlannedInstalment:
    due_on: date
    amount_due: Decimal
    label: str = ""


def validate_plan(
    *, method: PaymentMethod, instalments: Sequence[PlannedInstalment], price: Decimal, deposit: Decimal
) -> list[PlannedInstalment]:
    """The instalments in payment order (due date, then as given); PaymentError unless they add up to
    price minus deposit exactly, every amount is above zero, and a 全款 plan has a single instalment."""
    price, deposit = _money(price, "price"), _money(deposit, "deposit")
    if not instalments:
        raise PaymentError("a payment plan needs at least one instalment")
    method = PaymentMethod(method)
    if method == PaymentMethod.FULL and len(instalments) != 1:
        raise PaymentError(f"a 全款 (full payment) plan has exactly one instalment, not {len(instalments)}")
    for i, ins in enumerate(instalments, 1):
        _date(ins.due_on, f"instalment {i} due_on")
        if _money(ins.amount_due, f"instalment {i} amount_due") <= 0:
            raise PaymentError(f"instalment {i}: the amount due must be above zero")
    total = sum((_money(i.amount_due, "amount_due") for i in instalments), Decimal("0.00"))
    expected = price - deposit
    if total != expected:
        raise PaymentError(
            f"the instalments add up to {total}, but price {price} minus deposit {deposit} is {expected} "
            f"(difference {total - expected})"
        )
    order = sorted(range(len(instalments)), key=lambda k: (instalments[k].due_on, k))
    return [
        PlannedInstalment(instalments[k].due_on, _money(instalments[k].amount_due, "amount_due"), instalments[k].label)
        for k in order
    ]


# --- receipts --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Outstanding:
    key: Hashable  # the instalment's id (or anything that names it)
    due_on: date
    outstanding: Decimal


@dataclass(frozen=True)
class Allocation:
    key: Hashable
    amount: Decimal
    days_overdue: int
    late_fee: Decimal


def allocate(
    *, amount: Decimal, instalments: Sequence[Outstanding], received_on: date, daily_rate: Decimal = DEFAULT_DAILY_RATE
) -> list[Allocation]:
    """Apply a receipt to the instalments oldest due first (ties: in the order given).

    Each part paid after its due date carries the late fee of DOMAIN §4 on that part, from the day after
    the due date to the receipt date. An overpayment (more than everything outstanding) is refused:
    PaymentError — money the plan does not ask for is not silently kept.
    """
    amount = _money(amount, "amount")
    _date(received_on, "received_on")
    if amount <= 0:
        raise PaymentError("a receipt must be above zero")
    open_ = [i for i in instalments if _money(i.outstanding, "outstanding") > 0]
    total = sum((_money(i.outstanding, "outstanding") for i in open_), Decimal("0.00"))
    if amount > total:
        raise PaymentError(f"the receipt of {amount} exceeds everything outstanding ({total}); overpayments are refused")
    order = sorted(range(len(open_)), key=lambda k: (open_[k].due_on, k))
    left = amount
    out: list[Allocation] = []
    for k in order:
        if left <= 0:
            break
        ins = open_[k]
        part = min(left, _money(ins.outstanding, "outstanding"))
        left -= part
        out.append(
            Allocation(
                key=ins.key,
                amount=part,
                days_overdue=days_overdue(ins.due_on, received_on),
                late_fee=late_fee(overdue_amount=part, due_date=ins.due_on, paid_date=received_on, daily_rate=daily_rate),
            )
        )
    return out


def accruing_late_fee(*, outstanding: Decimal, due_on: date, as_of: date, daily_rate: Decimal = DEFAULT_DAILY_RATE) -> Decimal:
    """The late fee the unpaid part of an instalment has run up by `as_of` (if it were paid that day)."""
    outstanding = _money(outstanding, "outstanding")
    if outstanding <= 0:
        return Decimal("0.00")
    return late_fee(overdue_amount=outstanding, due_date=due_on, paid_date=as_of, daily_rate=daily_rate)


# --- the mortgage's clock (issue 15) ---------------------------------------------------------------

MORTGAGE_DOCUMENTS_WORKING_DAYS = 5  # documents due 5 working days after the request (DOMAIN §5 example)
MORTGAGE_DOCUMENTS_FALLBACK_DAYS = 7  # beyond the calendar's data: the 3–7 days convention, in calendar days
STAGE_DEADLINES = {"awaiting_documents": "documents_due", "under_review": "approval_expected_by"}


def mortgage_documents_due(requested_on: date, overrides=None) -> tuple[date, str]:
    """(due date, basis): 5 working days after the request on the calendar in force ("working_days"), or,
    where the calendar has no data, 7 calendar days ("calendar_days") — never a Monday–Friday guess."""
    from domain.calendar import CalendarNotCovered, add_working_days

    _date(requested_on, "requested_on")
    try:
        return add_working_days(requested_on, MORTGAGE_DOCUMENTS_WORKING_DAYS, overrides=overrides), "working_days"
    except CalendarNotCovered:
        return requested_on + timedelta(days=MORTGAGE_DOCUMENTS_FALLBACK_DAYS), "calendar_days"


def stage_deadline(stage: str, *, documents_due: date | None, approval_expected_by: date | None) -> date | None:
    """The deadline of the mortgage's current stage, where the stage has one."""
    key = STAGE_DEADLINES.get(stage)
    return {"documents_due": documents_due, "approval_expected_by": approval_expected_by}.get(key) if key else None


def stalled(deadline: date | None, today: date) -> bool:
    """A mortgage is stalled when its stage's deadline has passed (the deadline day itself is still on time)."""
    return deadline is not None and _date(today, "today") > deadline
