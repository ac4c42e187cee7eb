"""Contracts (商品房买卖合同): online signing, filing, loan disbursement, payment plans and receipts.
Keyword-only functions; the caller owns the transaction: nothing here commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.commissions import accrue_commission
from db.contract_models import Contract, Instalment, Receipt, ReceiptAllocation
from db.errors import Conflict, Forbidden, Invalid, NotFound
from db.ledger import set_unit_state
from db.reminders import schedule_filing, schedule_instalments
from db.work_calendar import filing_deadline
from db.models import Subscription, SubscriptionStatus, Unit, UnitState, User
from domain.late_fee import DEFAULT_DAILY_RATE
from domain.payments import (
    LOAN_METHODS,
    Outstanding,
    PaymentError,
    PaymentMethod,
    PlannedInstalment,
    allocate,
    contract_stage,
    validate_plan,
)
from domain.refund import ContractStage, money
from domain.units import TransitionError, check_transition
from workflows.followup_contracts import payment_plan_id


def _field_invalid(field: str, code: str, message: str) -> Invalid:
    err = Invalid(message)
    err.errors = ({"field": f"body.{field}", "code": code, "message": message},)
    return err


def get_contract(session: Session, *, contract_id: int, for_update: bool = False) -> Contract:
    c = session.get(Contract, contract_id, with_for_update=for_update)
    if c is None:
        raise NotFound(f"contract {contract_id} does not exist")
    if for_update:
        session.refresh(c)
    return c


def sign_contract(
    session: Session, *, subscription_id: int, contract_no: str, signed_on: date, signer: User, today: date,
    daily_late_fee_rate: Decimal = DEFAULT_DAILY_RATE,
) -> Contract:
    """网签: the contract row, subscription → online_signed and unit → 已签约, together.
    The unit row is locked first, so signing and a refund registration for the unit serialise."""
    sub = session.get(Subscription, subscription_id)
    if sub is None:
        raise NotFound(f"subscription {subscription_id} does not exist")
    unit = session.get(Unit, sub.unit_id, with_for_update=True)
    assert unit is not None
    session.refresh(sub)
    session.refresh(unit)
    if sub.status != SubscriptionStatus.ACTIVE:
        raise Conflict(f"subscription {subscription_id} is {sub.status}, not active")
    if sub.stage != ContractStage.DEPOSIT_PAID:
        raise Conflict(f"subscription {subscription_id} is already {sub.stage}")
    if signed_on > today:
        raise Invalid(f"the signing date {signed_on} is in the future")
    if signed_on < sub.subscribed_at.date():
        raise Invalid(f"the signing date {signed_on} is before the subscription ({sub.subscribed_at.date()})")
    if not contract_no.strip():
        raise Invalid("the contract number is required")
    try:
        to_state = check_transition("sign", current=unit.state, role=signer.role)
    except TransitionError as e:
        raise Conflict(f"unit {unit.code}: {e}") from None
    c = Contract(
        subscription_id=sub.id,
        unit_id=unit.id,
        contract_no=contract_no.strip(),
        price=sub.price,
        deposit_amount=sub.deposit_amount,
        daily_late_fee_rate=daily_late_fee_rate,
        signed_on=signed_on,
        signed_by=signer.id,
        filing_due=filing_deadline(session, signed_on)[0],  # 30 days, then art. 203 on the calendar in force
    )
    session.add(c)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict(f"contract number {contract_no} or subscription {subscription_id} already has a contract") from None
    sub.stage = ContractStage.ONLINE_SIGNED.value
    set_unit_state(session, unit, to_state, actor=signer.username, reason=f"网签 合同 {c.contract_no}")
    schedule_filing(session, contract_id=c.id, contract_no=c.contract_no, unit_id=unit.id, customer_id=sub.customer_id,
                    signer_id=signer.id, filing_due=c.filing_due, now=datetime.now(timezone.utc))
    accrue_commission(session, c)  # commission at the sales policy's rates in force now (db/commissions.py)
    session.flush()
    return c


def file_contract(session: Session, *, contract_id: int, filed_on: date, actor: User, today: date) -> Contract:
    """备案: unit 已签约 → 已备案. Filing after the due date is allowed (the record shows it was late)."""
    c = get_contract(session, contract_id=contract_id)
    unit = session.get(Unit, c.unit_id, with_for_update=True)
    assert unit is not None
    session.refresh(unit)
    session.refresh(c)
    if c.filed_on is not None:
        raise Conflict(f"contract {c.contract_no} was already filed on {c.filed_on}")
    if filed_on > today:
        raise Invalid(f"the filing date {filed_on} is in the future")
    if filed_on < c.signed_on:
        raise Invalid(f"the filing date {filed_on} is before the signing date {c.signed_on}")
    try:
        to_state = check_transition("file", current=unit.state, role=actor.role)
    except TransitionError as e:
        raise Conflict(f"unit {unit.code}: {e}") from None
    c.filed_on = filed_on
    c.filed_by = actor.id
    set_unit_state(session, unit, to_state, actor=actor.username, reason=f"备案 合同 {c.contract_no}")
    session.flush()
    return c


def record_loan_disbursement(
    session: Session, *, contract_id: int, disbursed_at: datetime, amount: Decimal | None, actor: User, now: datetime
) -> Contract:
    """放款: recorded on the contract; the subscription's stage becomes loan_disbursed."""
    if actor.role != "finance":
        raise Forbidden("only finance records a loan disbursement")
    c = get_contract(session, contract_id=contract_id, for_update=True)
    sub = session.get(Subscription, c.subscription_id)
    unit = session.get(Unit, c.unit_id)
    assert sub is not None and unit is not None
    if c.loan_disbursed_at is not None:
        raise Conflict(f"the loan of contract {c.contract_no} was already recorded as disbursed")
    if sub.status != SubscriptionStatus.ACTIVE:
        raise Conflict(f"subscription {sub.id} is {sub.status}, not active")
    if unit.state == UnitState.REFUNDING:
        raise Conflict(f"unit {unit.code} has a refund case in progress")
    if disbursed_at.tzinfo is None:
        raise Invalid("disbursed_at needs a timezone")
    if disbursed_at > now:
        raise Invalid(f"the disbursement time {disbursed_at} is in the future")
    if c.payment_method is not None and PaymentMethod(c.payment_method) not in LOAN_METHODS:
        raise Conflict(f"contract {c.contract_no} is paid by {c.payment_method}, which has no loan")
    if amount is not None and money(amount) <= 0:
        raise Invalid("the loan amount must be above zero")
    c.loan_disbursed_at = disbursed_at
    c.loan_amount = money(amount) if amount is not None else None
    sub.stage = ContractStage.LOAN_DISBURSED.value
    session.flush()
    return c


def instalments_of(session: Session, *, contract_id: int) -> list[Instalment]:
    return list(session.scalars(select(Instalment).where(Instalment.contract_id == contract_id).order_by(Instalment.seq)))


def receipts_of(session: Session, *, contract_id: int) -> list[Receipt]:
    return list(session.scalars(select(Receipt).where(Receipt.contract_id == contract_id).order_by(Receipt.id)))


def allocations_of(session: Session, *, contract_id: int) -> list[ReceiptAllocation]:
    return list(
        session.scalars(
            select(ReceiptAllocation)
            .join(Receipt, Receipt.id == ReceiptAllocation.receipt_id)
            .where(Receipt.contract_id == contract_id)
            .order_by(ReceiptAllocation.id)
        )
    )


def received_total(session: Session, *, contract_id: int) -> Decimal:
    total = session.scalar(select(func.coalesce(func.sum(Receipt.amount), 0)).where(Receipt.contract_id == contract_id))
    return money(Decimal(total))


def set_payment_plan(
    session: Session, *, contract_id: int, method: PaymentMethod, instalments: Sequence[PlannedInstalment], actor: User
) -> list[Instalment]:
    """The plan: instalments adding up to price minus deposit (Invalid otherwise). A plan may be replaced
    until the first receipt is recorded; after that it is fixed (Conflict)."""
    c = get_contract(session, contract_id=contract_id, for_update=True)
    try:
        ordered = validate_plan(method=method, instalments=instalments, price=Decimal(c.price), deposit=Decimal(c.deposit_amount))
    except (PaymentError, TypeError) as e:
        raise Invalid(str(e)) from None
    if PaymentMethod(method) not in LOAN_METHODS and c.loan_disbursed_at is not None:
        raise Conflict(f"a loan was already disbursed for contract {c.contract_no}; the plan must include a loan")
    if c.payment_followup_id is not None:
        raise Conflict(f"contract {c.contract_no} is followed up by payment plan {c.payment_followup_id}; "
                       "its instalments can no longer be replaced")
    if session.scalar(select(func.count()).select_from(Receipt).where(Receipt.contract_id == c.id)):
        raise Conflict(f"contract {c.contract_no} already has receipts; its payment plan can no longer be replaced")
    for old in instalments_of(session, contract_id=c.id):
        session.delete(old)
    session.flush()
    rows = [
        Instalment(contract_id=c.id, seq=i, label=p.label, due_on=p.due_on, amount_due=p.amount_due, amount_paid=Decimal("0.00"))
        for i, p in enumerate(ordered, 1)
    ]
    session.add_all(rows)
    c.payment_method = PaymentMethod(method).value
    session.flush()
    customer_id = session.scalar(select(Subscription.customer_id).where(Subscription.id == c.subscription_id))
    schedule_instalments(session, contract_no=c.contract_no, unit_id=c.unit_id, customer_id=customer_id,
                         signer_id=c.signed_by, instalments=rows, now=datetime.now(timezone.utc))
    return rows


def record_receipt(
    session: Session, *, contract_id: int, amount: Decimal, received_on: date, reference: str, actor: User, today: date,
    date_field: str = "received_on", followup_id: str | None = None,
) -> Receipt:
    """Finance records money received; it is allocated to the instalments oldest due first, each late part
    with its late fee (domain.payments.allocate). An overpayment is refused (Invalid). A contract with a payment
    follow-up takes its money only through it (`followup_id`: the follow-up recording the instalment paid), never
    behind its back — the follow-up would go on warning about an instalment already paid (Conflict naming it)."""
    if actor.role != "finance":
        raise Forbidden("only finance records receipts")
    c = get_contract(session, contract_id=contract_id, for_update=True)  # serialises receipts per contract
    if c.payment_followup_id is not None and c.payment_followup_id != followup_id:
        raise Conflict(key="contract.receipt_followed_up",
                       params={"contract": c.contract_no, "plan": payment_plan_id(c.payment_followup_id)})
    sub = session.get(Subscription, c.subscription_id)
    assert sub is not None
    if sub.status != SubscriptionStatus.ACTIVE:
        raise Conflict(f"subscription {sub.id} is {sub.status}; receipts are no longer taken on contract {c.contract_no}")
    if received_on > today:
        raise _field_invalid(date_field, "future", f"the receipt date {received_on} is in the future")
    if received_on < c.signed_on:
        raise _field_invalid(date_field, "before_contract",
                             f"the receipt date {received_on} is before the contract was signed ({c.signed_on})")
    rows = instalments_of(session, contract_id=c.id)
    if not rows:
        raise Conflict(f"contract {c.contract_no} has no payment plan yet; set one before recording receipts")
    try:
        parts = allocate(
            amount=amount,
            instalments=[Outstanding(r.id, r.due_on, Decimal(r.amount_due) - Decimal(r.amount_paid)) for r in rows],
            received_on=received_on,
            daily_rate=Decimal(c.daily_late_fee_rate),
        )
    except (PaymentError, TypeError) as e:
        raise Invalid(str(e)) from None
    receipt = Receipt(contract_id=c.id, amount=money(amount), received_on=received_on, reference=reference, recorded_by=actor.id)
    session.add(receipt)
    session.flush()
    by_id = {r.id: r for r in rows}
    for p in parts:
        ins = by_id[p.key]
        ins.amount_paid = Decimal(ins.amount_paid) + p.amount
        session.add(ReceiptAllocation(receipt_id=receipt.id, instalment_id=ins.id, amount=p.amount, days_overdue=p.days_overdue, late_fee=p.late_fee))
    session.flush()
    return receipt


def contracts_by_filing(
    session: Session, *, today: date, overdue_only: bool = False, due_within_days: int | None = None, project_id: int | None = None,
    projects: frozenset[int] | None = None,
) -> list[Contract]:
    """Unfiled contracts whose filing is overdue (due before today), or — with due_within_days — overdue
    or due within that many days. With neither filter: every contract. `projects`: only those projects'
    (None: all)."""
    q = select(Contract)
    if overdue_only or due_within_days is not None:
        q = q.where(Contract.filed_on.is_(None))
        if due_within_days is not None:
            q = q.where(Contract.filing_due <= today + timedelta(days=due_within_days))
        else:
            q = q.where(Contract.filing_due < today)
    if project_id is not None or projects is not None:
        q = q.join(Unit, Unit.id == Contract.unit_id)
    if project_id is not None:
        q = q.where(Unit.project_id == project_id)
    if projects is not None:
        q = q.where(Unit.project_id.in_(sorted(projects) or [-1]))
    return list(session.scalars(q.order_by(Contract.filing_due, Contract.id)))


def contract_figures(session: Session, *, subscription_id: int) -> tuple[ContractStage, Decimal] | None:
    """For the refund snapshot: (stage, deposit + receipts) from the contract, or None without one."""
    c = session.scalar(select(Contract).where(Contract.subscription_id == subscription_id))
    if c is None:
        return None
    stage = ContractStage(contract_stage(loan_disbursed=c.loan_disbursed_at is not None))
    return stage, money(Decimal(c.deposit_amount) + received_total(session, contract_id=c.id))


def claim_payment_followup(session: Session, *, contract_id: int, followup_id: str) -> tuple[Contract, list[Instalment]]:
    """Mark the contract's one payment follow-up (locked row): Conflict naming the first when it has one,
    Conflict when there is no plan or nothing is left to pay. The open instalments are returned."""
    c = get_contract(session, contract_id=contract_id, for_update=True)
    if c.payment_followup_id is not None:
        raise Conflict(f"contract {c.contract_no} is already followed up by payment plan {c.payment_followup_id}; "
                       "one plan per contract")
    rows = instalments_of(session, contract_id=c.id)
    if not rows:
        raise Conflict(f"contract {c.contract_no} has no payment plan yet; set its instalments first")
    open_ = [r for r in rows if Decimal(r.amount_paid) < Decimal(r.amount_due)]
    if not open_:
        raise Conflict(f"contract {c.contract_no} is paid in full; there is nothing to follow up")
    c.payment_followup_id = followup_id
    session.flush()
    return c, open_
