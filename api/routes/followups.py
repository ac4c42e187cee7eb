"""Follow-ups: early warnings (list open, respond / downgrade) and mortgage cases (open, advance, read).

No business rules here: the level rules live in domain/warnings.py, the stage rules in the mortgage
workflow's validator (refusals come back as 403/409/422).
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status
from pydantic import BaseModel, Field
from sqlalchemy import and_, or_, select
from temporalio.client import Client
from temporalio.exceptions import WorkflowAlreadyStartedError

from activities.followups import load_calendar_overrides
from api.access import access_of, check_body_scope
from api.deps import ClientDep, SessionDep, SettingsDep, release_connection, require_roles
from api.strict import RequestModel
from api.temporal_calls import rpc_timeout, run_async, run_update
from db.errors import Conflict, Forbidden, Invalid, NotFound
from db.followup_models import Followup, WarningRecord
from db.models import Customer, User
from db.warnings import sweep_customer_warnings
from domain.warnings import DowngradeRefused, Level, check_downgrade
from workflows.followup_contracts import (
    Actor,
    BuyerResponse,
    CalendarOverrideEntry,
    Instalment,
    MortgageInput,
    MortgageStage,
    MortgageStatus,
    PaymentPlanInput,
    PaymentReceived,
    PlanStatus,
    StageChange,
    mortgage_workflow_id,
    payment_plan_workflow_id,
)
from workflows.mortgage import MortgageWorkflow
from workflows.payment_followup import PaymentFollowupWorkflow

router = APIRouter(tags=["followups"])

# Sales answer the yellow warnings of their own customers and the city GM receives escalations, so both
# read the list; a consultant sees only their own customers' warnings (as with the customers themselves).
WARNING_READERS = ("sales", "manager", "citygm", "hqrisk", "ops")
# Whoever the warning names (respond_role / escalate_to) may respond, and the site manager and HQ risk always.
ALWAYS_RESPOND = {"manager", "hqrisk"}
MORTGAGE_ROLES = ("finance", "sales")

class RuleOut(BaseModel):
    rule: str
    score: int
    detail: str = ""


class WarningOut(BaseModel):
    id: int
    customer_id: int | None
    case_ref: str
    level: Level
    rules: list[RuleOut]
    risk_score: int
    raised_at: datetime
    response_due: datetime
    overdue: bool
    respond_role: str
    escalate_to: str
    responded_at: datetime | None
    responded_by: int | None
    response_note: str | None
    downgraded_from: str | None
    downgrade_reason: str | None
    escalated_at: datetime | None


class WarningResponse(RequestModel):
    note: str = Field(min_length=1, max_length=2000)
    downgrade_to: Level | None = None
    downgrade_reason: str | None = Field(default=None, max_length=2000)


def warning_out(w: WarningRecord, now: datetime) -> WarningOut:
    return WarningOut(
        id=w.id, customer_id=w.customer_id, case_ref=w.case_ref, level=Level(w.level),
        rules=[RuleOut(**r) for r in w.rules], risk_score=w.risk_score, raised_at=w.raised_at,
        response_due=w.response_due, overdue=w.responded_at is None and w.response_due < now,
        respond_role=w.respond_role, escalate_to=w.escalate_to, responded_at=w.responded_at,
        responded_by=w.responded_by, response_note=w.response_note, downgraded_from=w.downgraded_from,
        downgrade_reason=w.downgrade_reason, escalated_at=w.escalated_at,
    )


@router.get("/api/warnings", response_model=list[WarningOut], summary="Early warnings, most urgent first")
def list_warnings(
    session: SessionDep,
    user: Annotated[User, Depends(require_roles(*WARNING_READERS))],
    open: bool = Query(default=True, description="only warnings nobody has responded to"),  # noqa: A002
) -> list[WarningOut]:
    stmt = select(WarningRecord).order_by(WarningRecord.response_due, WarningRecord.id)
    # A warning belongs to its customer's project (one without a customer: group-wide readers only); a
    # consultant sees only their own customers' warnings in a project where they are sales.
    access = access_of(user)
    sees_all = access.projects_for(tuple(r for r in WARNING_READERS if r != "sales"))
    own = access.projects_for(("sales",))
    if sees_all is not None:
        stmt = stmt.outerjoin(Customer, Customer.id == WarningRecord.customer_id).where(or_(
            Customer.project_id.in_(sorted(sees_all) or [-1]),
            and_(Customer.consultant_id == user.id, Customer.project_id.in_(sorted(own or ()) or [-1]) if own is not None
                 else Customer.consultant_id == user.id),
        ))
    if open:
        stmt = stmt.where(WarningRecord.responded_at.is_(None))
    now = datetime.now(timezone.utc)
    return [warning_out(w, now) for w in session.scalars(stmt)]


@router.post("/api/warnings/{warning_id}/respond", response_model=WarningOut, summary="Respond to a warning; a downgrade needs a reason")
def respond_to_warning(
    warning_id: int,
    body: WarningResponse,
    session: SessionDep,
    user: Annotated[User, Depends(require_roles("sales", "manager", "citygm", "hqrisk"))],
) -> WarningOut:
    # Row lock: the workflow's escalation activity checks `responded_at` under the same lock.
    w = session.scalar(select(WarningRecord).where(WarningRecord.id == warning_id).with_for_update())
    if w is None:
        raise NotFound(f"warning {warning_id} does not exist")
    if user.role not in ALWAYS_RESPOND | {w.respond_role, w.escalate_to}:
        raise Forbidden(f"role {user.role} may not respond to this {w.level} warning; {w.respond_role} responds")
    if w.responded_at is not None:
        raise Conflict(f"warning {warning_id} was already responded to at {w.responded_at.isoformat()}")
    if body.downgrade_to is not None:
        try:
            check_downgrade(Level(w.level), body.downgrade_to, body.downgrade_reason or "")
        except DowngradeRefused as err:
            raise Invalid(str(err)) from None
        w.downgraded_from, w.level, w.downgrade_reason = w.level, str(body.downgrade_to), body.downgrade_reason
    elif body.downgrade_reason:
        raise Invalid("a downgrade reason was given without a level to downgrade to")
    now = datetime.now(timezone.utc)
    w.responded_at, w.responded_by, w.response_note = now, user.id, body.note
    session.commit()
    return warning_out(w, now)


class SweepOut(BaseModel):
    evaluated: int
    changed: list[WarningOut]


@router.post("/api/warnings/sweep", response_model=SweepOut,
             summary="Re-evaluate the customer-based warnings of every recently active customer")
def sweep_warnings(
    session: SessionDep,
    _: Annotated[User, Depends(require_roles("ops", "manager"))],
) -> SweepOut:
    """The visits-dropped rule fires with no new record arriving, so it needs a sweep; a Temporal schedule
    can call `db.warnings.sweep_customer_warnings` (through an activity) instead of this endpoint later."""
    now = datetime.now(timezone.utc)
    result = sweep_customer_warnings(session, now)
    out = SweepOut(evaluated=result.evaluated, changed=[warning_out(w, now) for w in result.changed])
    session.commit()
    return out


# ---- mortgage cases ---------------------------------------------------------------------------


class MortgageCreate(RequestModel):
    loan_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,48}$")
    customer_id: int
    contract_ref: str = Field(min_length=1, max_length=64)
    bank: str = Field(min_length=1, max_length=64)
    loan_amount: Decimal = Field(gt=0, max_digits=14, decimal_places=2)


class StageChangeIn(RequestModel):
    to_stage: MortgageStage
    note: str = ""
    rejection_cause: str = ""
    disbursed_amount: Decimal | None = Field(default=None, gt=0, max_digits=14, decimal_places=2)
    disbursed_on: date | None = None


class MortgageOut(BaseModel):
    loan_id: str
    stage: MortgageStage
    documents_expected_by: date | None = None
    approval_expected_by: date | None = None
    warning_key: str | None = None


def _actor(user: User) -> Actor:
    return Actor(user_id=user.id, username=user.username, role=user.role)


def _update(client: Client, workflow_id: str, update: Any, payload: Any, result_type: type) -> Any:
    return run_update(
        client, workflow_id=workflow_id, update=update, payload=payload, result_type=result_type,
        not_found="the follow-up's workflow has finished or does not exist",
    )


def _status_out(s: MortgageStatus) -> MortgageOut:
    return MortgageOut(loan_id=s.loan_id, stage=s.stage, documents_expected_by=s.documents_expected_by,
                       approval_expected_by=s.approval_expected_by, warning_key=s.warning_key)


@router.post("/api/mortgages", response_model=MortgageOut, status_code=status.HTTP_201_CREATED,
             summary="Open the follow-up of a loan (one workflow per loan)")
def open_mortgage(
    body: MortgageCreate,
    session: SessionDep,
    client: ClientDep,
    settings: SettingsDep,
    user: Annotated[User, Depends(require_roles(*MORTGAGE_ROLES))],
) -> MortgageOut:
    check_body_scope(session, user, customer_id=body.customer_id)
    overrides = tuple(CalendarOverrideEntry(d, w) for d, w in sorted(load_calendar_overrides(session).items()))
    inp = MortgageInput(loan_id=body.loan_id, customer_id=body.customer_id, contract_ref=body.contract_ref,
                        bank=body.bank, loan_amount=body.loan_amount, opened_at=datetime.now(timezone.utc),
                        calendar_overrides=overrides)

    release_connection(session)  # the overrides are read: no connection held while the engine answers

    async def start():
        return await client.start_workflow(MortgageWorkflow.run, inp, id=mortgage_workflow_id(body.loan_id),
                                           task_queue=settings.temporal_task_queue, rpc_timeout=rpc_timeout())

    try:
        run_async(start)
    except WorkflowAlreadyStartedError:
        raise Conflict(f"loan {body.loan_id} already has a follow-up") from None
    return MortgageOut(loan_id=body.loan_id, stage=MortgageStage.AWAITING_DOCUMENTS)


@router.post("/api/mortgages/{loan_id}/stage", response_model=MortgageOut, summary="Record the loan's next stage")
def advance_mortgage(
    loan_id: str,
    body: StageChangeIn,
    client: ClientDep,
    user: Annotated[User, Depends(require_roles(*MORTGAGE_ROLES))],
) -> MortgageOut:
    change = StageChange(actor=_actor(user), to_stage=body.to_stage, note=body.note, rejection_cause=body.rejection_cause,
                         disbursed_amount=body.disbursed_amount, disbursed_on=body.disbursed_on)
    status_ = _update(client, mortgage_workflow_id(loan_id), MortgageWorkflow.advance, change, MortgageStatus)
    return _status_out(status_)


@router.get("/api/mortgages/{loan_id}", response_model=MortgageOut, summary="The loan's stage as last recorded")
def get_mortgage(
    loan_id: str,
    session: SessionDep,
    _: Annotated[User, Depends(require_roles(*MORTGAGE_ROLES, "manager", "ops"))],
) -> MortgageOut:
    row = session.get(Followup, mortgage_workflow_id(loan_id))
    if row is None:
        raise NotFound(f"loan {loan_id} has no follow-up")
    return MortgageOut(loan_id=loan_id, stage=MortgageStage(row.stage),
                       approval_expected_by=row.detail.get("approval_expected_by"))


# ---- payment plans ----------------------------------------------------------------------------

PLAN_STARTERS = ("finance",)
RESPONDERS = ("sales", "manager")


class InstalmentIn(RequestModel):
    seq: int = Field(ge=1)
    due_date: date
    amount: Decimal = Field(gt=0, max_digits=14, decimal_places=2)


class PaymentPlanCreate(RequestModel):
    plan_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,48}$")
    customer_id: int
    contract_ref: str = Field(min_length=1, max_length=64)
    instalments: list[InstalmentIn] = Field(min_length=1, max_length=600)
    grace_days: int = Field(default=7, ge=7, le=10)  # DOMAIN §4: 7–10 days, per project
    daily_rate: Decimal = Field(default=Decimal("0.0005"), ge=0, le=Decimal("0.01"))


class PaymentIn(RequestModel):
    seq: int
    amount: Decimal = Field(gt=0, max_digits=14, decimal_places=2)
    paid_on: date


class BuyerResponseIn(RequestModel):
    seq: int
    note: str = Field(default="", max_length=2000)


class PlanOut(BaseModel):
    plan_id: str
    seq: int | None
    state: str
    run_no: int


def _plan_out(s: PlanStatus) -> PlanOut:
    return PlanOut(plan_id=s.plan_id, seq=s.seq, state=s.state, run_no=s.run_no)


@router.post("/api/payment-plans", response_model=PlanOut, status_code=status.HTTP_201_CREATED,
             summary="Start following up a payment plan (one workflow per plan)")
def open_payment_plan(
    body: PaymentPlanCreate,
    session: SessionDep,
    client: ClientDep,
    settings: SettingsDep,
    user: Annotated[User, Depends(require_roles(*PLAN_STARTERS))],
) -> PlanOut:
    check_body_scope(session, user, customer_id=body.customer_id)
    release_connection(session)
    inst = sorted(body.instalments, key=lambda i: i.due_date)
    if [i.seq for i in inst] != list(range(1, len(inst) + 1)):
        raise Invalid("instalments must be numbered 1..n in due-date order")
    inp = PaymentPlanInput(
        plan_id=body.plan_id, customer_id=body.customer_id, contract_ref=body.contract_ref,
        instalments=tuple(Instalment(i.seq, i.due_date, i.amount) for i in inst),
        grace_days=body.grace_days, daily_rate=body.daily_rate,
    )

    async def start():
        return await client.start_workflow(PaymentFollowupWorkflow.run, inp, id=payment_plan_workflow_id(body.plan_id),
                                           task_queue=settings.temporal_task_queue, rpc_timeout=rpc_timeout())

    try:
        run_async(start)
    except WorkflowAlreadyStartedError:
        raise Conflict(f"payment plan {body.plan_id} is already followed up") from None
    return PlanOut(plan_id=body.plan_id, seq=1, state="pending", run_no=1)


@router.post("/api/payment-plans/{plan_id}/payments", response_model=PlanOut, summary="Record an instalment paid")
def record_payment(
    plan_id: str, body: PaymentIn, client: ClientDep, user: Annotated[User, Depends(require_roles("finance"))],
) -> PlanOut:
    payload = PaymentReceived(_actor(user), body.seq, body.amount, body.paid_on)
    return _plan_out(_update(client, payment_plan_workflow_id(plan_id), PaymentFollowupWorkflow.record_payment, payload, PlanStatus))


_RESPONSES = {
    "postpone": PaymentFollowupWorkflow.request_postponement,
    "inability": PaymentFollowupWorkflow.state_inability,
    "transfer": PaymentFollowupWorkflow.request_transfer,
}


@router.post("/api/payment-plans/{plan_id}/responses/{kind}", response_model=PlanOut,
             summary="The buyer's answer to an overdue instalment: postpone, inability or transfer")
def buyer_response(
    plan_id: str, kind: str, body: BuyerResponseIn, client: ClientDep,
    user: Annotated[User, Depends(require_roles(*RESPONDERS))],
) -> PlanOut:
    update = _RESPONSES.get(kind)
    if update is None:
        raise NotFound(f"unknown response {kind}; one of: {', '.join(_RESPONSES)}")
    payload = BuyerResponse(_actor(user), body.seq, body.note)
    return _plan_out(_update(client, payment_plan_workflow_id(plan_id), update, payload, PlanStatus))
