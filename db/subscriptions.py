"""Subscriptions (认购). The caller owns the transaction: nothing here commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timezone
from decimal import Decimal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.discount_models import SubscriptionAckFile, SubscriptionCoBuyer
from db.errors import Conflict, Invalid, NotFound
from db.ledger import set_unit_state
from db.reminders import schedule_signing
from db.models import Customer, Subscription, SubscriptionStatus, Unit, UnitState, User
from domain.refund import ContractStage, DepositKind, money
from domain.units import (
    TransitionError,
    check_deposit,
    check_transition,
    signing_deadline,
)

# The hold (保留) a unit is in while a discount request for it awaits approval.
PENDING_HOLD = "认购待审批 #{request_id}"


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
    price: Decimal | None = None,
    co_buyer_ids: Sequence[int] = (),
    ack_file_id: int | None = None,
    held_for_request: int | None = None,
    actor: str | None = None,
) -> Subscription:
    """Sell a unit: a row lock on the unit serialises competing attempts, and the partial unique index
    on active subscriptions per unit is the database's last word — a unit is never sold twice.

    `price`: the approved price after discounts (default: the unit's list total). `held_for_request`: the
    discount request whose hold (保留) the unit is in; the approved request turns it into the sale."""
    unit = session.get(Unit, unit_id, with_for_update=True)
    if unit is None:
        raise NotFound(f"unit {unit_id} does not exist")
    if session.get(Customer, customer_id) is None:
        raise Invalid(f"customer {customer_id} does not exist")
    if held_for_request is not None:
        if unit.state != UnitState.HELD or unit.hold_reason != PENDING_HOLD.format(request_id=held_for_request):
            raise Conflict(f"unit {unit.code} is no longer held for discount request {held_for_request} "
                           f"(it is {unit.state})")
        to_state = UnitState.SUBSCRIBED.value
    else:
        try:
            to_state = check_transition("subscribe", current=unit.state, role=consultant.role)
        except TransitionError as e:
            raise Conflict(f"unit {unit.code}: {e}") from None
    sale_price = Decimal(unit.total_price) if price is None else price
    try:
        check_deposit(kind=deposit_kind.value, deposit=deposit_amount, price=sale_price)
        sign_by = signing_deadline(today=today, requested=deadline)
    except TransitionError as e:
        raise Invalid(str(e)) from None
    sub = Subscription(
        unit_id=unit.id,
        customer_id=customer_id,
        consultant_id=consultant.id,
        price=money(sale_price),
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
    for co_party_id in dict.fromkeys(co_buyer_ids):
        session.add(SubscriptionCoBuyer(subscription_id=sub.id, co_party_id=co_party_id))
    if ack_file_id is not None:
        ack = session.get(SubscriptionAckFile, ack_file_id, with_for_update=True)
        if ack is None or ack.customer_id != customer_id or ack.subscription_id is not None:
            raise Invalid(f"acknowledgment file {ack_file_id} is not an unused file of this buyer")
        ack.subscription_id = sub.id
    if held_for_request is not None:
        unit.hold_reason = None
    set_unit_state(session, unit, to_state, actor=actor or consultant.username, reason=f"认购 #{sub.id}")
    schedule_signing(session, subscription_id=sub.id, unit_id=unit.id, customer_id=customer_id, consultant_id=consultant.id,
                     deadline=sign_by, now=datetime.now(timezone.utc))
    session.flush()
    return sub
