"""Subscriptions with price control (issue 15): checking a subscription form, the discount request and its
rows, the unit's hold while it awaits approval, each approval step as the workflow writes it, and the
co-resident acknowledgment's signed file. The caller owns the transaction, except where a function says so."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from db.customer_models import CustomerCoParty
from db.discount_models import (
    DiscountRequest,
    DiscountRowRecord,
    DiscountStatus,
    DiscountStep,
    SubscriptionAckFile,
)
from db.errors import Conflict, Invalid, NotFound, ServiceError
from db.evidence import clean_filename, evidence_root, spool
from db.ledger import set_unit_state
from db.models import Customer, Unit, UnitState, User
from db.notices import write_notice
from db.sales_policy import sales_policy
from db.subscriptions import PENDING_HOLD, subscribe
from domain.calendar import china_date
from domain.identity import mask_name
from domain.pricing import AboveFiledPrice, DiscountRow, DiscountRowError, PricingError, Quote, quote
from domain.refund import DepositKind
from domain.sales_policy import SalesPolicy
from domain.units import TransitionError, check_deposit, check_transition, signing_deadline
from workflows.discount_approval import DiscountStepRecord, DiscountStepResult, discount_workflow_id


@dataclass
class SubscriptionForm:
    unit_id: int
    customer_id: int
    deposit_kind: DepositKind
    deposit_amount: Decimal
    discounts: list[DiscountRow] = field(default_factory=list)
    co_buyer_ids: list[int] = field(default_factory=list)
    co_resident_ack: bool = False
    co_resident_ack_file_id: int | None = None
    signing_deadline: date | None = None


@dataclass
class Checked:
    unit: Unit
    customer: Customer
    quote: Quote
    policy: SalesPolicy
    ack_required: bool


def _fail(errors: list[tuple[str, str, str]]) -> None:
    if errors:
        err = Invalid("; ".join(m for _, _, m in errors))
        err.errors = tuple({"field": f, "code": c, "message": m} for f, c, m in errors)
        raise err


def unit_quote(session: Session, unit: Unit, rows: list[DiscountRow], policy: SalesPolicy) -> Quote:
    """The unit's price after `rows` and the approval it needs; 422 per row / above the filed price."""
    try:
        return quote(list_price=Decimal(unit.total_price), rows=rows, floor_price=unit.floor_price,
                     filed_price=unit.filed_price, manager_limit=policy.manager_discount_limit)
    except DiscountRowError as e:
        _fail([(f"body.discounts.{e.index}.{e.field}", e.code, str(e))])
    except AboveFiledPrice as e:
        _fail([("body.discounts" if rows else "body.unit_id", "above_filed_price", str(e))])
    except PricingError as e:
        _fail([("body.unit_id", "invalid", str(e))])
    raise AssertionError("unreachable")


def co_residents(session: Session, customer_id: int) -> list[CustomerCoParty]:
    return list(session.scalars(select(CustomerCoParty).where(
        CustomerCoParty.customer_id == customer_id, CustomerCoParty.relation == "co_resident").order_by(CustomerCoParty.id)))


def check_form(session: Session, form: SubscriptionForm, user: User, *, today: date) -> Checked:
    """Everything a subscription form must satisfy, with the unit locked: 404 (unit), 409 (the unit is not for
    sale), 422 with each faulty field. The customer's visibility is the route's (404 before this)."""
    unit = session.get(Unit, form.unit_id, with_for_update=True)
    if unit is None:
        raise NotFound(f"unit {form.unit_id} does not exist")
    try:
        check_transition("subscribe", current=unit.state, role=user.role)
    except TransitionError as e:
        raise Conflict(f"unit {unit.code}: {e}") from None
    customer = session.get(Customer, form.customer_id)
    policy = sales_policy(session, unit.project_id)
    errors: list[tuple[str, str, str]] = []
    if customer is None or customer.project_id != unit.project_id:
        errors.append(("body.customer_id", "other_project", "the buyer is not a customer of this unit's project"))
    q = unit_quote(session, unit, form.discounts, policy)
    try:
        check_deposit(kind=form.deposit_kind.value, deposit=form.deposit_amount, price=q.final_price)
    except TransitionError as e:
        errors.append(("body.deposit_amount", "invalid", str(e)))
    try:
        signing_deadline(today=today, requested=form.signing_deadline)
    except TransitionError as e:
        errors.append(("body.signing_deadline", "invalid", str(e)))
    parties = {p.id: p for p in session.scalars(select(CustomerCoParty).where(
        CustomerCoParty.customer_id == form.customer_id))}
    if len(set(form.co_buyer_ids)) != len(form.co_buyer_ids):
        errors.append(("body.co_buyer_ids", "duplicate", "a co-buyer is named twice"))
    for i, cid in enumerate(form.co_buyer_ids):
        p = parties.get(cid)
        if p is None or p.relation != "co_owner":
            errors.append((f"body.co_buyer_ids.{i}", "not_co_owner",
                           f"{cid} is not a co-owner (共有人) registered with this buyer"))
    ack_required = policy.co_resident_ack_required and any(p.relation == "co_resident" for p in parties.values())
    if ack_required and not form.co_resident_ack:
        errors.append(("body.co_resident_ack", "required",
                       "the buyer has co-residents: the co-resident acknowledgment (共居人知情确认书) must be signed"))
    if form.co_resident_ack_file_id is not None:
        ack = session.get(SubscriptionAckFile, form.co_resident_ack_file_id)
        if ack is None or ack.customer_id != form.customer_id or ack.subscription_id is not None:
            errors.append(("body.co_resident_ack_file_id", "invalid",
                           "this file is not an unused acknowledgment uploaded for this buyer"))
        elif not form.co_resident_ack:
            errors.append(("body.co_resident_ack", "required", "a signed acknowledgment file was given: tick it as signed"))
    elif ack_required:
        errors.append(("body.co_resident_ack_file_id", "required",
                       "upload the signed co-resident acknowledgment (共居人知情确认书)"))
    _fail(errors)
    return Checked(unit, customer, q, policy, ack_required)


def create_request(session: Session, form: SubscriptionForm, checked: Checked, user: User, *, now: datetime) -> DiscountRequest:
    """The discount request with its rows, and the unit held (保留) for it; flushed, not committed."""
    q, unit = checked.quote, checked.unit
    req = DiscountRequest(
        project_id=unit.project_id, unit_id=unit.id, customer_id=form.customer_id, requested_by=user.id,
        requested_at=now, deposit_kind=form.deposit_kind.value, deposit_amount=form.deposit_amount,
        signing_deadline=form.signing_deadline, co_buyer_ids=list(form.co_buyer_ids),
        co_resident_ack=form.co_resident_ack, ack_file_id=form.co_resident_ack_file_id,
        list_price=q.list_price, final_price=q.final_price, floor_price=q.floor_price, filed_price=q.filed_price,
        level=q.level, current_level=q.level, step_minutes=checked.policy.discount_approval_minutes,
        status=DiscountStatus.PENDING, workflow_id=f"pending-{uuid.uuid4().hex}",
    )
    session.add(req)
    session.flush()
    req.workflow_id = discount_workflow_id(req.id)
    for r in q.rows:
        session.add(DiscountRowRecord(request_id=req.id, seq=r.seq, reason=r.reason[:200], kind=r.kind, value=r.value,
                                      deduction=r.deduction, price_after=r.price_after))
    unit.hold_reason = PENDING_HOLD.format(request_id=req.id)
    set_unit_state(session, unit, UnitState.HELD.value, actor=user.username, reason=unit.hold_reason, at=now)
    session.flush()
    return req


# ---------------------------------------------------------------- the workflow's writes


def _notify(session: Session, req: DiscountRequest, *, key: str, kind: str, role: str | None = None,
            users: list[int] | None = None, text: str, at: datetime, due_at: datetime | None = None) -> None:
    unit_code, name = session.execute(select(Unit.code, Customer.name).join(Customer, Customer.id == req.customer_id)
                                      .where(Unit.id == req.unit_id)).one()
    facts = {"stage": "discount_approval", "text": text, "unit": unit_code, "customer": mask_name(name),
             "amount": str(req.final_price), **({"due_at": due_at.isoformat()} if due_at else {})}
    write_notice(session, key=key, kind=kind, project_id=req.project_id, role=role, users=users or [], params=facts,
                 link="/approvals", at=at)


def apply_step(session: Session, rec: DiscountStepRecord) -> DiscountStepResult:
    """One step of the approval, idempotent on (request, seq, kind): a retry writes nothing twice."""
    req = session.get(DiscountRequest, rec.request_id, with_for_update=True)
    if req is None:
        raise NotFound(f"discount request {rec.request_id} does not exist")
    if rec.kind in ("open", "escalate"):
        if rec.kind == "escalate":
            prev = session.scalar(select(DiscountStep).where(DiscountStep.request_id == req.id,
                                                             DiscountStep.seq == rec.seq - 1))
            if prev is not None and prev.outcome is None:
                prev.outcome, prev.closed_at = "escalated", rec.at
        inserted = session.execute(
            pg_insert(DiscountStep).values(request_id=req.id, seq=rec.seq, role=rec.role, opened_at=rec.at,
                                           due_at=rec.due_at)
            .on_conflict_do_nothing(index_elements=["request_id", "seq"]).returning(DiscountStep.id)
        ).scalar()
        if inserted is not None and req.status == DiscountStatus.PENDING:
            req.current_level = rec.role
            if rec.kind == "open":
                _notify(session, req, key=f"discount:{req.id}:step:{rec.seq}", kind="task_opened", role=rec.role,
                        text=f"折扣审批 #{req.id}", at=rec.at, due_at=rec.due_at)
            else:
                _notify(session, req, key=f"discount:{req.id}:step:{rec.seq}", kind="sla_breach", role=rec.role,
                        text=f"折扣审批 #{req.id} 超时，升级至 {rec.role}", at=rec.at, due_at=rec.due_at)
        return DiscountStepResult(req.status, req.subscription_id)
    if rec.kind == "breach":
        _notify(session, req, key=f"discount:{req.id}:breach:{rec.seq}", kind="sla_breach", role=rec.role,
                text=f"折扣审批 #{req.id} 已超时", at=rec.at, due_at=rec.due_at)
        return DiscountStepResult(req.status, req.subscription_id)
    if rec.kind != "decide" or rec.actor is None:
        raise ValueError(f"unknown discount step {rec.kind}")
    if req.status != DiscountStatus.PENDING:  # a retry of a decision that was written
        return DiscountStepResult(req.status, req.subscription_id)
    step = session.scalar(select(DiscountStep).where(DiscountStep.request_id == req.id, DiscountStep.seq == rec.seq))
    a = rec.actor
    if step is not None:
        step.outcome = "approved" if rec.approve else "rejected"
        step.decided_by, step.on_behalf_of, step.closed_at, step.note = a.user_id, a.on_behalf_of, rec.at, rec.note or None
    req.decided_by, req.decided_at, req.decision_note = a.user_id, rec.at, rec.note or None
    message = ""
    if rec.approve:
        today = china_date(rec.at)
        try:
            with session.begin_nested():
                sub = subscribe(
                    session, unit_id=req.unit_id, customer_id=req.customer_id,
                    consultant=session.get(User, req.requested_by), deposit_kind=DepositKind(req.deposit_kind),
                    deposit_amount=req.deposit_amount, today=today, co_resident_ack=req.co_resident_ack,
                    deadline=req.signing_deadline if req.signing_deadline and req.signing_deadline > today else None,
                    price=req.final_price, co_buyer_ids=list(req.co_buyer_ids or ()), ack_file_id=req.ack_file_id,
                    held_for_request=req.id, actor=a.username,
                )
            req.status, req.subscription_id = DiscountStatus.APPROVED, sub.id
        except ServiceError as err:
            req.status, message = DiscountStatus.LAPSED, err.message
            req.decision_note = f"{rec.note}\n[lapsed] {message}".strip()
            _release(session, req, actor=a.username, at=rec.at)
    else:
        req.status = DiscountStatus.REJECTED
        _release(session, req, actor=a.username, at=rec.at)
    text = {"approved": f"折扣申请 #{req.id} 已批准", "rejected": f"折扣申请 #{req.id} 已驳回",
            "lapsed": f"折扣申请 #{req.id} 批准后未能认购"}[req.status]
    _notify(session, req, key=f"discount:{req.id}:decided", kind="followup_action", users=[req.requested_by],
            text=text, at=rec.at)
    session.flush()
    return DiscountStepResult(req.status, req.subscription_id, message)


def _release(session: Session, req: DiscountRequest, *, actor: str, at: datetime) -> None:
    """The unit back to 可售 if it is still held for this request."""
    unit = session.get(Unit, req.unit_id, with_for_update=True)
    if unit is not None and unit.state == UnitState.HELD and unit.hold_reason == PENDING_HOLD.format(request_id=req.id):
        unit.hold_reason = None
        set_unit_state(session, unit, UnitState.AVAILABLE.value, actor=actor, reason=f"折扣申请 #{req.id} 未通过", at=at)


# ---------------------------------------------------------------- the co-resident acknowledgment's file


def ack_file_path(data_dir: Path, ack: SubscriptionAckFile) -> Path:
    return evidence_root(data_dir) / "ack" / ack.stored_name


def add_ack_file(session: Session, *, customer: Customer, src: BinaryIO, filename: str | None, user: User,
                 data_dir: Path, max_bytes: int, now: datetime) -> SubscriptionAckFile:
    """Store the signed acknowledgment and commit its row; on any failure nothing is kept."""
    root = evidence_root(data_dir)
    spooled = spool(src, tmp_dir=root / ".tmp", max_bytes=max_bytes)
    final: Path | None = None
    try:
        stored = f"{uuid.uuid4().hex}{spooled.kind.ext}"
        ack = SubscriptionAckFile(
            project_id=customer.project_id, customer_id=customer.id, filename=clean_filename(filename, spooled.kind.ext),
            content_type=spooled.kind.content_type, size_bytes=spooled.size, sha256=spooled.sha256, stored_name=stored,
            uploaded_by=user.id, uploaded_at=now,
        )
        session.add(ack)
        session.flush()
        final = root / "ack" / stored
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(spooled.path, final)
        session.commit()
    except BaseException:
        session.rollback()
        spooled.path.unlink(missing_ok=True)
        if final is not None:
            final.unlink(missing_ok=True)
        raise
    session.refresh(ack)
    return ack


# ---------------------------------------------------------------- reading


def rows_of(session: Session, request_id: int) -> list[DiscountRowRecord]:
    return list(session.scalars(select(DiscountRowRecord).where(DiscountRowRecord.request_id == request_id)
                                .order_by(DiscountRowRecord.seq)))


def steps_of(session: Session, request_id: int) -> list[DiscountStep]:
    return list(session.scalars(select(DiscountStep).where(DiscountStep.request_id == request_id)
                                .order_by(DiscountStep.seq)))
