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
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from activities.followups import load_calendar_overrides
from api.access import access_of, check_body_scope, project_filter
from api.clock import china_today
from api.deps import ClientDep, SessionDep, SettingsDep, release_connection, require_roles
from api.strict import RequestModel
from api.temporal_calls import rpc_timeout, run_async, run_update
from db.errors import Conflict, Forbidden, Invalid, NotFound
from db.contract_models import Contract
from db.contracts import claim_payment_followup, record_receipt
from db.followup_models import Followup, WarningRecord
from db.models import Customer, Subscription, SubscriptionStatus, User
from db.warnings import sweep_customer_warnings
from domain.payments import LOAN_METHODS, PaymentMethod, mortgage_documents_due, stage_deadline
from domain.payments import stalled as mortgage_stalled
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
    user: Annotated[User, Depends(require_roles("sales", "manager", "citygm", "hqrisk", "ops"))],
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
    contract_id: int
    requested_on: date  # the day the documents were requested from the buyer
    bank: str = Field(min_length=1, max_length=64)
    loan_amount: Decimal = Field(gt=0, max_digits=14, decimal_places=2)
    loan_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,48}$")  # default: from the contract


class StageChangeIn(RequestModel):
    to_stage: MortgageStage
    note: str = ""
    rejection_cause: str = ""
    disbursed_amount: Decimal | None = Field(default=None, gt=0, max_digits=14, decimal_places=2)
    disbursed_on: date | None = None


class MortgageOut(BaseModel):
    loan_id: str
    stage: MortgageStage
    contract_id: int | None = None
    contract_no: str | None = None
    customer_id: int | None = None
    bank: str | None = None
    loan_amount: Decimal | None = None
    requested_on: date | None = None
    documents_due: date | None = None  # shown while the documents are awaited
    documents_due_basis: str | None = None  # working_days / calendar_days (beyond the calendar's data)
    documents_expected_by: date | None = None
    approval_expected_by: date | None = None
    stage_deadline: date | None = None
    stalled: bool = False  # past its stage's deadline
    rejection_cause: str | None = None
    warning_key: str | None = None
    updated_at: datetime | None = None


def _actor(user: User) -> Actor:
    return Actor(user_id=user.id, username=user.username, role=user.role)


def _update(client: Client, workflow_id: str, update: Any, payload: Any, result_type: type) -> Any:
    return run_update(
        client, workflow_id=workflow_id, update=update, payload=payload, result_type=result_type,
        not_found="the follow-up's workflow has finished or does not exist",
    )


def _status_out(s: MortgageStatus) -> MortgageOut:
    return MortgageOut(loan_id=s.loan_id, stage=s.stage, documents_expected_by=s.documents_expected_by,
                       documents_due=s.documents_expected_by if s.stage == MortgageStage.AWAITING_DOCUMENTS else None,
                       approval_expected_by=s.approval_expected_by, warning_key=s.warning_key)


def _field(field: str, code: str, message: str) -> dict:
    return {"field": f"body.{field}", "code": code, "message": message}


def _invalid(errors: list[dict]) -> Invalid:
    err = Invalid(errors[0]["message"])
    err.errors = tuple(errors)
    return err


def mortgage_out(row: Followup, today: date) -> MortgageOut:
    d = row.detail or {}
    stage = MortgageStage(row.stage)
    docs = date.fromisoformat(d["documents_due"]) if d.get("documents_due") else None
    approval = date.fromisoformat(d["approval_expected_by"]) if d.get("approval_expected_by") else None
    deadline = stage_deadline(stage, documents_due=docs, approval_expected_by=approval)
    return MortgageOut(
        loan_id=row.followup_id.removeprefix("mortgage-"), stage=stage, contract_id=d.get("contract_id"),
        contract_no=d.get("contract_no"), customer_id=row.customer_id, bank=d.get("bank"),
        loan_amount=Decimal(d["loan_amount"]) if d.get("loan_amount") else None,
        requested_on=date.fromisoformat(d["requested_on"]) if d.get("requested_on") else None,
        documents_due=docs if stage == MortgageStage.AWAITING_DOCUMENTS else None,
        documents_due_basis=d.get("documents_due_basis"), documents_expected_by=docs,
        approval_expected_by=approval, stage_deadline=deadline, stalled=mortgage_stalled(deadline, today),
        rejection_cause=d.get("rejection_cause"), updated_at=row.updated_at,
    )


@router.post("/api/mortgages", response_model=MortgageOut, status_code=status.HTTP_201_CREATED,
             summary="Open the follow-up of a contract's loan from the documents request date (one workflow per loan)")
def open_mortgage(
    body: MortgageCreate,
    session: SessionDep,
    client: ClientDep,
    settings: SettingsDep,
    user: Annotated[User, Depends(require_roles(*MORTGAGE_ROLES))],
) -> MortgageOut:
    check_body_scope(session, user, contract_id=body.contract_id)
    c = session.get(Contract, body.contract_id, with_for_update=True)  # one opening per contract at a time
    if c is None:
        raise NotFound(f"contract {body.contract_id} does not exist")
    sub = session.get(Subscription, c.subscription_id)
    today = china_today()
    errors = []
    if body.requested_on > today:
        errors.append(_field("requested_on", "future", f"the request date {body.requested_on} is in the future"))
    if body.requested_on < c.signed_on:
        errors.append(_field("requested_on", "before_contract",
                             f"the request date {body.requested_on} is before the contract was signed ({c.signed_on})"))
    financed = Decimal(c.price) - Decimal(c.deposit_amount)
    if body.loan_amount > financed:
        errors.append(_field("loan_amount", "above_price",
                             f"the loan {body.loan_amount} is more than the price minus the deposit ({financed})"))
    if errors:
        raise _invalid(errors)
    if sub is None or sub.status != SubscriptionStatus.ACTIVE:
        raise Conflict(f"contract {c.contract_no}'s subscription is no longer active")
    if c.payment_method is not None and PaymentMethod(c.payment_method) not in LOAN_METHODS:
        raise Conflict(f"contract {c.contract_no} is paid by {c.payment_method}, which has no loan")
    if c.loan_disbursed_at is not None:
        raise Conflict(f"the loan of contract {c.contract_no} was already disbursed")
    mine = session.scalars(select(Followup).where(Followup.kind == "mortgage",
                                                  Followup.detail["contract_id"].as_integer() == c.id)).all()
    for m in mine:
        if m.stage not in (MortgageStage.REJECTED, MortgageStage.DISBURSED):
            raise Conflict(f"contract {c.contract_no} already has a mortgage in progress: loan "
                           f"{m.followup_id.removeprefix('mortgage-')} ({m.stage})")
    loan_id = body.loan_id or f"C{c.id}-{len(mine) + 1}"
    overrides = load_calendar_overrides(session, since=body.requested_on)
    due, basis = mortgage_documents_due(body.requested_on, overrides)
    detail = {"contract_id": c.id, "contract_no": c.contract_no, "subscription_id": c.subscription_id,
              "requested_on": body.requested_on.isoformat(), "documents_due": due.isoformat(),
              "documents_due_basis": basis, "bank": body.bank, "loan_amount": str(body.loan_amount)}
    now = datetime.now(timezone.utc)
    if session.get(Followup, mortgage_workflow_id(loan_id)) is not None:
        raise Conflict(f"loan {loan_id} already has a follow-up")
    row = Followup(followup_id=mortgage_workflow_id(loan_id), kind="mortgage", customer_id=sub.customer_id,
                   stage=MortgageStage.AWAITING_DOCUMENTS, detail=detail, updated_at=now)
    session.add(row)
    session.flush()
    inp = MortgageInput(loan_id=loan_id, customer_id=sub.customer_id, contract_ref=c.contract_no,
                        bank=body.bank, loan_amount=body.loan_amount, opened_at=now,
                        calendar_overrides=tuple(CalendarOverrideEntry(d, w) for d, w in sorted(overrides.items())),
                        subscription_id=c.subscription_id, requested_on=body.requested_on, documents_due=due,
                        contract_id=c.id)

    async def start():
        return await client.start_workflow(MortgageWorkflow.run, inp, id=mortgage_workflow_id(loan_id),
                                           task_queue=settings.temporal_task_queue, rpc_timeout=rpc_timeout(),
                                           id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE)

    try:
        run_async(start)  # started before the commit, as a refund registration is
    except WorkflowAlreadyStartedError:
        session.rollback()
        raise Conflict(f"loan {loan_id} already has a follow-up") from None
    except BaseException:
        session.rollback()
        raise
    session.commit()
    return mortgage_out(row, today)


@router.get("/api/mortgages", response_model=list[MortgageOut],
            summary="The mortgage pipeline: loans by stage, with their stage's deadline and whether they stalled")
def list_mortgages(
    session: SessionDep,
    user: Annotated[User, Depends(require_roles(*MORTGAGE_ROLES, "manager", "citygm"))],
    project_id: int | None = None,
    contract_id: int | None = None,
    as_of: date | None = None,
) -> list[MortgageOut]:
    stmt = (select(Followup).join(Customer, Customer.id == Followup.customer_id)
            .where(Followup.kind == "mortgage").order_by(Followup.updated_at.desc()))
    where = project_filter(Customer.project_id, user)
    if where is not None:
        stmt = stmt.where(where)
    if project_id is not None:
        stmt = stmt.where(Customer.project_id == project_id)
    if contract_id is not None:
        stmt = stmt.where(Followup.detail["contract_id"].as_integer() == contract_id)
    today = as_of or china_today()
    return [mortgage_out(r, today) for r in session.scalars(stmt.limit(500))]


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
    _: Annotated[User, Depends(require_roles(*MORTGAGE_ROLES, "manager", "citygm", "ops"))],
) -> MortgageOut:
    row = session.get(Followup, mortgage_workflow_id(loan_id))
    if row is None:
        raise NotFound(f"loan {loan_id} has no follow-up")
    return mortgage_out(row, china_today())


# ---- payment plans ----------------------------------------------------------------------------

PLAN_STARTERS = ("finance",)
RESPONDERS = ("sales", "manager")


class PaymentPlanCreate(RequestModel):
    contract_id: int  # the plan is the contract's own instalments: one follow-up per contract
    grace_days: int = Field(default=7, ge=7, le=10)  # DOMAIN §4: 7–10 days, per project


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
             summary="Follow up a contract's payment plan: its own instalments, one follow-up per contract")
def open_payment_plan(
    body: PaymentPlanCreate,
    session: SessionDep,
    client: ClientDep,
    settings: SettingsDep,
    user: Annotated[User, Depends(require_roles(*PLAN_STARTERS))],
) -> PlanOut:
    check_body_scope(session, user, contract_id=body.contract_id)
    plan_id = f"C{body.contract_id}"
    c, open_ = claim_payment_followup(session, contract_id=body.contract_id, followup_id=payment_plan_workflow_id(plan_id))
    sub = session.get(Subscription, c.subscription_id)
    if sub is None or sub.status != SubscriptionStatus.ACTIVE:
        session.rollback()
        raise Conflict(f"contract {c.contract_no}'s subscription is no longer active")
    inp = PaymentPlanInput(
        plan_id=plan_id, customer_id=sub.customer_id, contract_ref=c.contract_no,
        instalments=tuple(Instalment(r.seq, r.due_on, Decimal(r.amount_due) - Decimal(r.amount_paid)) for r in open_),
        grace_days=body.grace_days, daily_rate=Decimal(c.daily_late_fee_rate), subscription_id=c.subscription_id,
    )

    async def start():
        return await client.start_workflow(PaymentFollowupWorkflow.run, inp, id=payment_plan_workflow_id(plan_id),
                                           task_queue=settings.temporal_task_queue, rpc_timeout=rpc_timeout(),
                                           id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE)

    try:
        run_async(start)  # started before the commit; the contract row stays locked meanwhile
    except WorkflowAlreadyStartedError:
        pass  # started by an earlier request whose commit was lost: the same contract's one follow-up
    except BaseException:
        session.rollback()
        raise
    session.commit()
    return PlanOut(plan_id=plan_id, seq=open_[0].seq, state="pending", run_no=1)


@router.post("/api/payment-plans/{plan_id}/payments", response_model=PlanOut, summary="Record an instalment paid")
def record_payment(
    plan_id: str, body: PaymentIn, session: SessionDep, client: ClientDep,
    user: Annotated[User, Depends(require_roles("finance"))],
) -> PlanOut:
    """The instalment paid: on the contract as a receipt (allocated, with its late fee) and in the follow-up,
    together — the receipt is written first and committed only once the follow-up accepted the payment."""
    payload = PaymentReceived(_actor(user), body.seq, body.amount, body.paid_on)
    c = session.scalar(select(Contract).where(Contract.payment_followup_id == payment_plan_workflow_id(plan_id)))
    if c is None:  # a plan followed up before issue 15 (its own instalments): the follow-up only
        release_connection(session)
        return _plan_out(_update(client, payment_plan_workflow_id(plan_id), PaymentFollowupWorkflow.record_payment,
                                 payload, PlanStatus))
    record_receipt(session, contract_id=c.id, amount=body.amount, received_on=body.paid_on,
                   reference=f"分期 {body.seq}", actor=user, today=china_today(), date_field="paid_on",
                   followup_id=c.payment_followup_id)
    try:
        out = _update(client, payment_plan_workflow_id(plan_id), PaymentFollowupWorkflow.record_payment, payload,
                      PlanStatus)
    except BaseException:
        session.rollback()
        raise
    session.commit()
    return _plan_out(out)


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
