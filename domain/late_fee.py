"""Late fee on an overdue instalment (DOMAIN §4, Decision — late fee).

The contract's daily rate (default 0.05 % a day) on the overdue amount, counted from the day after
the due date to the day paid. The grace period postpones escalation, not the fee, so it plays no
part here. Pure: money is Decimal (a float is refused), time is an argument.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
DEFAULT_DAILY_RATE = Decimal("0.0005")


def as_date(value: object, name: str) -> date:
    # datetime is a subclass of date; refuse it so a timezone never shifts the day count silently.
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"{name} must be a date, not {type(value).__name__}")
    return value


def as_decimal(value: object, name: str) -> Decimal:
    """A Decimal from a Decimal or int; floats, bools, strings and non-finite values are refused."""
    if isinstance(value, float):
        raise TypeError(f"{name} must be a Decimal, not a float (money is never a float)")
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        raise TypeError(f"{name} must be a Decimal, not {type(value).__name__}")
    dec = Decimal(value)
    if not dec.is_finite():
        raise ValueError(f"{name} must be a finite number")
    return dec


def _as_decimal(value: object, name: str) -> Decimal:
    dec = as_decimal(value, name)
    if dec < 0:
        raise ValueError(f"{name} must not be negative")
    return dec


def days_overdue(due_date: date, paid_date: date) -> int:
    """Days from the day after `due_date` to `paid_date` inclusive; 0 when paid on or before the due date."""
    due = as_date(due_date, "due_date")
    paid = as_date(paid_date, "paid_date")
    return max((paid - due).days, 0)


def late_fee(
    *,
    overdue_amount: Decimal,
    due_date: date,
    paid_date: date,
    daily_rate: Decimal = DEFAULT_DAILY_RATE,
) -> Decimal:
    """overdue_amount × daily_rate × days overdue, rounded half-up to the fen.

    >>> late_fee(overdue_amount=Decimal("300000"), due_date=date(2026, 3, 2), paid_date=date(2026, 3, 20))
    Decimal('2700.00')
    """
    amount = _as_decimal(overdue_amount, "overdue_amount")
    rate = _as_decimal(daily_rate, "daily_rate")
    days = days_overdue(due_date, paid_date)
    return (amount * rate * days).quantize(CENT, rounding=ROUND_HALF_UP)
