"""The refund is paid, not just instructed (issue 14): finance records the payment against the case's refund
instruction. The amount must be the instruction's; a different one needs a reason and a second person's
approval before the instruction counts as paid. Paying closes the case's refund-payment task and shows on the
case's outcome and timeline."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from db.errors import Conflict, Forbidden, Invalid, NotFound
from db.evidence_models import CaseEvidence
from db.models import CaseEvent, RefundCase, RefundInstruction, Task, TaskStatus, User
from domain.refund import money

APPROVERS = ("finance", "manager")  # the second person for a payment of a different amount


def _instruction(session: Session, instruction_id: int) -> RefundInstruction:
    r = session.get(RefundInstruction, instruction_id, with_for_update=True)
    if r is None:
        raise NotFound(f"refund instruction {instruction_id} does not exist")
    return r


def record_payment(session: Session, *, instruction_id: int, amount: Decimal, paid_on: date, bank_reference: str,
                   voucher_evidence_id: int | None, difference_reason: str | None, actor: User, now: datetime,
                   today: date) -> RefundInstruction:
    r = _instruction(session, instruction_id)
    if r.status != "issued":
        raise Conflict(f"refund instruction {instruction_id} is already {r.status}")
    amount = money(amount)
    if amount <= 0:
        raise Invalid("the amount paid must be above zero")
    if paid_on > today:
        raise Invalid(f"the payment date {paid_on} is in the future")
    if paid_on < r.created_at.date():
        raise Invalid(f"the payment date {paid_on} is before the instruction was issued ({r.created_at.date()})")
    if not bank_reference.strip():
        raise Invalid("give the bank's reference (流水号) of the transfer")
    if voucher_evidence_id is not None and session.scalar(select(CaseEvidence.id).where(
            CaseEvidence.id == voucher_evidence_id, CaseEvidence.case_id == r.case_id)) is None:
        raise Invalid(f"evidence {voucher_evidence_id} is not a file of this case")
    differs = amount != r.amount
    reason = (difference_reason or "").strip()
    if differs and not reason:
        raise Invalid(f"the instruction is for {r.amount}; a payment of {amount} needs a reason, and a second "
                      "person approves it")
    r.paid_amount, r.paid_on, r.bank_reference = amount, paid_on, bank_reference.strip()
    r.voucher_evidence_id, r.paid_by, r.paid_recorded_at = voucher_evidence_id, actor.id, now
    r.difference_reason = reason or None
    detail = {"instruction_id": r.id, "amount": str(amount), "instructed": str(r.amount), "paid_on": paid_on.isoformat(),
              "bank_reference": r.bank_reference, **({"difference_reason": reason} if differs else {})}
    if differs:
        r.status = "pending_approval"
        _event(session, r.case_id, "refund_payment_recorded", actor, now, detail)
    else:
        _paid(session, r, actor, now, detail)
    session.flush()
    return r


def approve_difference(session: Session, *, instruction_id: int, actor: User, now: datetime) -> RefundInstruction:
    r = _instruction(session, instruction_id)
    if r.status != "pending_approval":
        raise Conflict(f"refund instruction {instruction_id} is {r.status}, not waiting for an approval")
    if actor.id == r.paid_by:
        raise Forbidden("four eyes: whoever recorded the payment may not approve its difference")
    r.difference_approved_by = actor.id
    _paid(session, r, actor, now, {"instruction_id": r.id, "amount": str(r.paid_amount), "instructed": str(r.amount),
                                   "difference_reason": r.difference_reason, "approved": True})
    session.flush()
    return r


def _paid(session: Session, r: RefundInstruction, actor: User, now: datetime, detail: dict) -> None:
    """issued → paid: the case's refund-payment task done, its outcome shows the payment, the timeline too."""
    r.status = "paid"
    session.execute(update(Task).where(Task.case_id == r.case_id, Task.task_key == "refund_payment",
                                       Task.status == TaskStatus.OPEN)
                    .values(status=TaskStatus.DONE, completed_at=now, completed_by=r.paid_by))
    case = session.get(RefundCase, r.case_id, with_for_update=True)  # the workflow never writes the outcome after B
    case.outcome = {**(case.outcome or {}), "refund_paid": {
        "amount": str(r.paid_amount), "paid_on": r.paid_on.isoformat() if r.paid_on else None,
        "bank_reference": r.bank_reference}}
    # The voucher is linked from the payment's own timeline entry (not only from its upload).
    _event(session, r.case_id, "refund_paid", actor, now, {**detail, "voucher_evidence_id": r.voucher_evidence_id})


def _event(session: Session, case_id: uuid.UUID, kind: str, actor: User, at: datetime, detail: dict) -> None:
    session.execute(pg_insert(CaseEvent).values(case_id=case_id, event_key=f"{kind}:{uuid.uuid4().hex}", kind=kind,
                                                actor=actor.username, at=at, detail=detail))
