"""Subscriptions (认购). The caller owns the transaction: nothing here commits."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.errors import Conflict, Invalid, NotFound
from db.ledger import set_unit_state
from db.reminders import schedule_signing
from db.models import Customer, Subscription, SubscriptionStatus, Unit, User
from domain.refund import ContractStage, DepositKind, money
from domain.units import (
    TransitionError,
    check_deposit,
    check_transition,
    signing_deadline,
)


def subscribe(
    session: Session,
    *,
    unit_id: int,
    customer_id: int,
    consultant: User,
    deposit_kind: DepositKind,
    deposit_amount: Decimal,
    today: date,
    co_resident_ack: bool = False,
    deadline: date | None = None,
) -> Subscription:
    """Sell a unit: a row lock on the unit serialises competing attempts, and the partial unique index
    on active subscriptions per unit is the database's last word — a unit is never sold twice."""
    unit = session.get(Unit, unit_id, with_for_update=True)
    if unit is None:
        raise NotFound(f"unit {unit_id} does not exist")
    if session.get(Customer, customer_id) is None:
        raise Invalid(f"customer {customer_id} does not exist")
    try:
        to_state = check_transition("subscribe", current=unit.state, role=consultant.role)
    except TransitionError as e:
        raise Conflict(f"unit {unit.code}: {e}") from None
    try:
        check_deposit(kind=deposit_kind.value, deposit=deposit_amount, price=Decimal(unit.total_price))
        sign_by = signing_deadline(today=today, requested=deadline)
    except TransitionError as e:
        raise Invalid(str(e)) from None
    sub = Subscription(
        unit_id=unit.id,
        customer_id=customer_id,
        consultant_id=consultant.id,
        price=unit.total_price,
        deposit_amount=money(deposit_amount),
        deposit_kind=deposit_kind.value,
        paid_amount=money(deposit_amount),
        stage=ContractStage.DEPOSIT_PAID.value,
        status=SubscriptionStatus.ACTIVE.value,
        co_resident_ack=co_resident_ack,
        signing_deadline=sign_by,
    )
    session.add(sub)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(f"unit {unit.code} already has an active subscription") from None
    set_unit_state(session, unit, to_state, actor=consultant.username, reason=f"认购 #{sub.id}")
    schedule_signing(session, subscription_id=sub.id, unit_id=unit.id, customer_id=customer_id, consultant_id=consultant.id,
                     deadline=sign_by, now=datetime.now(timezone.utc))
    session.flush()
    return sub
