"""Refund cases: register, list, read, timeline, loss revision."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, status
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from temporalio.api.enums.v1 import EventType
from temporalio.service import RPCError, RPCStatusCode

from api.access import act_in, acting_person, project_filter
from api.deps import (
    REGISTRARS,
    STAFF,
    ClientDep,
    SessionDep,
    SettingsDep,
    registration_slot,
    release_connection,
    require_roles,
)
from api.idempotency import IdempotencyKey, claim, fingerprint, replay
from api.schemas import (
    AssessmentReturnIn,
    CaseDetail,
    CaseSummary,
    LossRevisionIn,
    RefundCaseCreate,
    RefundPreview,
    StepOut,
    TaskCompletion,
    TaskOut,
    Timeline,
    TimelineEntry,
    VoidRequestIn,
    WithdrawalIn,
)
from api.temporal_calls import rpc_timeout, run_async, run_update
from db.errors import Conflict, Forbidden, Invalid, NotFound, is_lock_timeout
from db.models import (
    Building,
    CaseEvent,
    Customer,
    RefundCase,
    Subscription,
    SubscriptionStatus,
    Task,
    Unit,
    User,
)
from db.evidence_models import CaseEvidence
from db.people import display_names
from db.refund_cases import contract_snapshot, get_case, open_task_rows, policy_of_version
from db.refund_registration import ORIGIN_API, register_in_session
from domain.identity import mask_name
from domain.refund import Fault, LossAssessment, quote_refund, still_open_why
from workflows.contracts import Actor, AssessmentReturn, CaseWithdrawal, LossRevision, VoidRequest
from workflows.refund_case import RefundCaseWorkflow

router = APIRouter(prefix="/api/refund-cases", tags=["refund cases"])


def ui_link(settings, case: RefundCase) -> str:
    base = f"{settings.temporal_ui_base}/namespaces/{settings.temporal_namespace}/workflows/{case.workflow_id}"
    return f"{base}/{case.run_id}/history" if case.run_id else base


def task_out(t: Task, case_no: str, now: datetime, claimed_by_name: str | None = None) -> TaskOut:
    """`t`: a Task or a row with its columns (project and claim columns optional)."""
    return TaskOut(
        id=t.id, case_id=t.case_id, case_no=case_no, kind=t.kind, role=t.role, title=t.title,
        due_at=t.due_at, overdue=bool(t.due_at and t.due_at < now), created_at=t.created_at,
        project_id=getattr(t, "project_id", None), claimed_by=getattr(t, "claimed_by", None),
        claimed_by_name=claimed_by_name, claimed_at=getattr(t, "claimed_at", None),
    )


def case_open_tasks(session, *, case_id: uuid.UUID, case_no: str) -> list[TaskOut]:
    now = datetime.now(timezone.utc)
    tasks = session.scalars(select(Task).where(Task.case_id == case_id, Task.status == "open").order_by(Task.id)).all()
    return [task_out(t, case_no, now) for t in tasks]


def _summary_fields(case: RefundCase, unit: Unit, building: Building, customer: Customer) -> dict:
    return dict(
        id=case.id, case_no=case.case_no, stage=case.stage, unit=f"{building.name}-{unit.code}",
        customer_name=mask_name(customer.name), customer_mobile=customer.mobile_masked,
        registered_at=case.registered_at, escalation_level=case.escalation_level, needs_gm=case.needs_gm,
        chosen_option=case.chosen_option, refund_amount=case.refund_amount,
    )


UNIT_BUSY = "another request is registering a refund for this unit right now; try again in a moment"


@router.post("", status_code=status.HTTP_201_CREATED, response_model=CaseDetail, summary="Register a refund request",
             dependencies=[Depends(registration_slot)],
             responses={404: {"description": "The unit or subscription does not exist (`not_found`)."}})
def create_case(
    payload: RefundCaseCreate,
    session: SessionDep,
    client: ClientDep,
    settings: SettingsDep,
    user: Annotated[User, Depends(require_roles(*REGISTRARS))],
    idempotency_key: IdempotencyKey = None,
):
    """The case row, the unit to 退房中 and the intake task in one transaction; the workflow starts
    before the commit, so a failed start leaves nothing written. A retry with the same Idempotency-Key
    gets the first 201 again.

    All of it in this route's thread, on the request's one connection: the unit's row lock is waited for
    at most lock_timeout (then 409, try again) and, once held, is held only while the engine starts the
    workflow (bounded: 503 if it does not answer) — never while waiting for a thread or a connection."""
    fp = fingerprint(settings.secret_key, method="POST", path="/api/refund-cases", body=payload)
    if idempotency_key and (stored := replay(
        session, user_id=user.id, key=idempotency_key, fp=fp,
        rebuild=lambda ref: read_case(uuid.UUID(ref["case_id"]), session, settings, user),
    )) is not None:
        return stored

    def keep_key(s, case_id: uuid.UUID) -> None:  # the key commits with the case, never after it
        claim(s, user_id=user.id, key=idempotency_key, fp=fp, status_code=201, ref={"case_id": str(case_id)})

    if payload.subscription_id is not None:
        sub_id = payload.subscription_id
        where = session.scalar(select(Unit.project_id).join(Subscription, Subscription.unit_id == Unit.id)
                               .where(Subscription.id == sub_id))
        if where is not None:
            act_in(user, where, f"subscription {sub_id} does not exist")
    else:
        where = session.scalar(select(Unit.project_id).where(Unit.id == payload.unit_id))
        if where is not None:
            act_in(user, where, f"unit {payload.unit_id} does not exist")
        sub_id = session.scalar(
            select(Subscription.id).where(Subscription.unit_id == payload.unit_id, Subscription.status == SubscriptionStatus.ACTIVE)
        )
        if sub_id is None:
            if session.get(Unit, payload.unit_id) is None:
                raise NotFound(f"unit {payload.unit_id} does not exist")
            raise Conflict(f"unit {payload.unit_id} has no active subscription: there is nothing to refund")
    try:
        case_id = register_in_session(
            session, client=client, run_on_loop=run_async, rpc_timeout=rpc_timeout(), subscription_id=sub_id,
            registered_by_user_id=user.id, task_queue=settings.temporal_task_queue,
            speedup=settings.estateflow_drill_speedup, origin=ORIGIN_API, existing_ok=False,
            before_commit=keep_key if idempotency_key else None,
        )
    except OperationalError as err:
        if is_lock_timeout(err):  # the registration already rolled back: the request holds nothing now
            raise Conflict(UNIT_BUSY, retry_after=1) from None
        raise
    out = read_case(case_id, session, settings, user)
    release_connection(session)  # the response is built: no connection kept through serialisation
    return out


@router.get("", response_model=list[CaseSummary], summary="List refund cases")
def list_cases(
    session: SessionDep,
    user: Annotated[User, Depends(require_roles(*STAFF))],
    stage: str | None = None,
    open_only: bool = False,
    escalated: bool | None = None,
    unit_id: int | None = None,
    project_id: int | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[CaseSummary]:
    q = (
        select(RefundCase, Unit, Building, Customer)
        .join(Unit, Unit.id == RefundCase.unit_id)
        .join(Building, Building.id == Unit.building_id)
        .join(Customer, Customer.id == RefundCase.customer_id)
        .order_by(RefundCase.registered_at.desc(), RefundCase.id.desc())
        .limit(limit)
        .offset(offset)
    )
    if stage:
        q = q.where(RefundCase.stage == stage)
    if open_only:
        q = q.where(RefundCase.stage != "closed")
    if escalated is not None:
        q = q.where((RefundCase.escalation_level > 0) if escalated else (RefundCase.escalation_level == 0))
    if unit_id is not None:
        q = q.where(RefundCase.unit_id == unit_id)
    if project_id is not None:
        q = q.where(RefundCase.project_id == project_id)
    mine = project_filter(RefundCase.project_id, user)
    if mine is not None:
        q = q.where(mine)
    out = [CaseSummary(**_summary_fields(*row)) for row in session.execute(q).all()]
    release_connection(session)
    return out


def refund_preview(session, case: RefundCase, sub: Subscription) -> RefundPreview | None:
    """What path B would refund under the case's policy, from the assessments so far (legal's fault,
    finance's proposed share), so approvers see the figure before the offer. None once the buyer chose."""
    if case.chosen_option is not None or case.stage == "closed" or (case.outcome or {}).get("path"):
        return None
    policy = policy_of_version(session, case.policy_version)
    if policy is None:
        return None
    snap = contract_snapshot(sub)
    share = case.assessments.get("finance", {}).get("proposed_share")
    try:
        q = quote_refund(
            policy, stage=snap.stage, deposit_kind=snap.deposit_kind,
            fault=Fault(case.assessments.get("legal", {}).get("fault", Fault.BUYER)),
            paid_amount=snap.paid_amount, deposit_amount=snap.deposit_amount,
            proposed_share=None if share is None else Decimal(share),
        )
    except ValueError as e:  # PolicyError included: a share below the tier, a stage without a tier
        return RefundPreview(route=None, share=None, amount=None, base=None, needs_gm=False, explanation=str(e))
    return RefundPreview(route=str(q.route), share=q.share, amount=q.amount, base=q.base, needs_gm=q.needs_gm, explanation=q.reason)


def _with_names(assessments: dict, names: dict[str, str]) -> dict:
    return {dept: {**a, "by_name": names.get(a.get("by"))} if isinstance(a, dict) else a for dept, a in assessments.items()}


def read_case(case_id: uuid.UUID, session, settings, user) -> CaseDetail:
    case = get_case(session, case_id=case_id)
    unit = session.get(Unit, case.unit_id)
    building = session.get(Building, unit.building_id)
    customer = session.get(Customer, case.customer_id)
    sub = session.get(Subscription, case.subscription_id)
    names = display_names(session, (a.get("by") for a in case.assessments.values() if isinstance(a, dict)))
    open_tasks = case_open_tasks(session, case_id=case.id, case_no=case.case_no)
    still_open = [{"task_id": t.id, "kind": t.kind, "title": t.title, "due_at": t.due_at,
                   "why": still_open_why(t.kind, "zh"), "why_en": still_open_why(t.kind, "en")}
                  for t in open_tasks] if case.stage == "closed" else []
    return CaseDetail(
        **_summary_fields(case, unit, building, customer),
        project_id=case.project_id, policy_version=case.policy_version, deadlines=case.deadlines,
        escalation_reasons=case.escalation_reasons, escalation_codes=case.escalation_codes or [],
        assessments=_with_names(case.assessments, names), options=case.options,
        outcome=case.outcome,
        loss_total=case.loss_total, closed_at=case.closed_at, retain_until=case.retain_until, workflow_id=case.workflow_id,
        temporal_ui_url=ui_link(settings, case), open_tasks=open_tasks, still_open=still_open,
        refund_preview=refund_preview(session, case, sub),
        # From the subscription record, for the intake form (认购时间 is pulled, not typed).
        subscribed_at=sub.subscribed_at, deposit_kind=sub.deposit_kind, deposit_amount=sub.deposit_amount,
        paid_amount=sub.paid_amount,
        registered_by=session.scalar(select(User.display_name).where(User.id == case.registered_by)),
        origin=session.scalar(select(CaseEvent.detail["origin"].as_string()).where(
            CaseEvent.case_id == case.id, CaseEvent.event_key == "origin")),
    )


@router.get("/{case_id}", response_model=CaseDetail, summary="A case: stage, deadlines, escalation, options, outcome")
def get_one(
    case_id: uuid.UUID, session: SessionDep, settings: SettingsDep, user: Annotated[User, Depends(require_roles(*STAFF))]
) -> CaseDetail:
    out = read_case(case_id, session, settings, user)
    release_connection(session)
    return out


_HISTORY_KINDS = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED: "workflow_started",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED: "update_accepted",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED: "update_completed",
    EventType.EVENT_TYPE_TIMER_FIRED: "timer_fired",
    EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: "activity_completed",
    EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED: "activity_failed",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED: "workflow_completed",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED: "workflow_terminated",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED: "workflow_failed",
}


@router.get("/{case_id}/timeline", response_model=Timeline, summary="Who did what when")
def timeline(
    case_id: uuid.UUID,
    session: SessionDep,
    client: ClientDep,
    settings: SettingsDep,
    user: Annotated[User, Depends(require_roles(*STAFF))],
) -> Timeline:
    case = get_case(session, case_id=case_id)
    events = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.at, CaseEvent.id)).all()
    names = display_names(session, [*(e.actor for e in events), *((e.detail or {}).get("on_behalf_of") for e in events)])
    registrant = session.get(User, case.registered_by)
    entries = [  # the story starts with the registration: who, when
        TimelineEntry(at=case.registered_at, source="case", kind="registered", actor=registrant.username,
                      actor_name=registrant.display_name, detail={"case_no": case.case_no, "unit_id": case.unit_id}),
    ] + [
        TimelineEntry(at=e.at, source="case", kind=e.kind, actor=e.actor, actor_name=names.get(e.actor), detail=e.detail,
                      on_behalf_of_name=names.get((e.detail or {}).get("on_behalf_of")))
        for e in events
    ]
    out = Timeline(case_id=case.id, workflow_id=case.workflow_id, temporal_ui_url=ui_link(settings, case), entries=entries)

    release_connection(session)  # read done: no connection held while the engine answers

    async def history():
        return await client.get_workflow_handle(case.workflow_id).fetch_history(rpc_timeout=rpc_timeout())

    try:
        hist = run_async(history)
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
        # The engine's retention deleted the run (its namespace keeps closed runs for a set time): the case's
        # own record is the story, and says so.
        out.engine_history = "expired"
        out.note = "the workflow engine's history of this case has expired (retention); the timeline is the case's record"
        return out
    for ev in hist.events:
        kind = _HISTORY_KINDS.get(ev.event_type)
        if kind is None:
            continue
        detail: dict = {"event_id": ev.event_id}
        if ev.HasField("workflow_execution_update_accepted_event_attributes"):
            detail["update"] = ev.workflow_execution_update_accepted_event_attributes.accepted_request.input.name
        if ev.HasField("timer_fired_event_attributes"):
            detail["timer_id"] = ev.timer_fired_event_attributes.timer_id
        entries.append(TimelineEntry(at=ev.event_time.ToDatetime(tzinfo=timezone.utc), source="workflow", kind=kind, actor="temporal", detail=detail))
    out.entries = sorted(entries, key=lambda e: e.at)
    return out


@router.post("/{case_id}/loss-revision", response_model=StepOut, summary="Finance revises the economic loss")
def revise_loss(
    case_id: uuid.UUID,
    body: LossRevisionIn,
    session: SessionDep,
    client: ClientDep,
    user: Annotated[User, Depends(require_roles("finance"))],
) -> StepOut:
    case = get_case(session, case_id=case_id)
    revision = LossRevision(
        actor=Actor(user_id=user.id, username=user.username, role=user.role),
        loss=LossAssessment(body.commission_accrued, body.advertising_allocation, body.opportunity_cost),
        proposed_share=body.proposed_share,
        note=body.note,
    )
    release_connection(session)  # the workflow's activity writes the case; this request holds nothing meanwhile
    result = run_update(
        client, workflow_id=case.workflow_id, update=RefundCaseWorkflow.revise_loss, payload=revision,
        update_id=f"loss-revision-{uuid.uuid4().hex}",
    )
    return StepOut(case_id=result.case_id, stage=result.stage, message=result.message)



def _case_step(session: Session, client, case_id: uuid.UUID, update, payload, what: str) -> StepOut:
    """A step on the case itself (not one of its tasks): sent to the workflow, whose validator decides."""
    case = get_case(session, case_id=case_id)
    workflow_id, case_no = case.workflow_id, case.case_no
    release_connection(session)
    result = run_update(client, workflow_id=workflow_id, update=update, payload=payload,
                        update_id=f"{what}-{uuid.uuid4().hex}")
    now = datetime.now(timezone.utc)
    return StepOut(case_id=result.case_id, stage=result.stage, message=result.message,
                   open_tasks=[task_out(t, case_no, now) for t in open_task_rows(session, case_id=case_id)])


def _acting_role(user: User, case_id: uuid.UUID, session: Session, allowed: tuple[str, ...]) -> tuple[str, int]:
    """The role the caller acts in on this case: the first of `allowed` they hold in its project."""
    project_id = session.scalar(select(RefundCase.project_id).where(RefundCase.id == case_id))
    held = user.access.roles_in(project_id)  # type: ignore[attr-defined]
    role = next((r for r in allowed if r in held), None)
    if role is None:
        raise Forbidden(f"this needs one of the roles {', '.join(allowed)} in the case's project")
    return role, project_id


@router.post("/{case_id}/withdraw", response_model=StepOut, summary="撤回: the buyer withdraws the request",
             description="Before the outcome only (409 after); the unit goes back to the state it had before the "
             "case, every open task is cancelled, nothing is paid; the archive still runs on its clock.")
def withdraw_case(case_id: uuid.UUID, body: WithdrawalIn, session: SessionDep, client: ClientDep,
                  user: Annotated[User, Depends(require_roles("frontdesk", "manager"))]) -> StepOut:
    role, project_id = _acting_role(user, case_id, session, ("manager", "frontdesk"))
    if body.evidence_ids:
        known = set(session.scalars(select(CaseEvidence.id).where(CaseEvidence.case_id == case_id,
                                                                  CaseEvidence.id.in_(body.evidence_ids))))
        if missing := sorted(set(body.evidence_ids) - known):
            raise Invalid(f"evidence {', '.join(map(str, missing))} is not a file of this case")
    payload = CaseWithdrawal(actor=acting_person(session, user, role, project_id), reason=body.reason,
                             evidence_ids=tuple(body.evidence_ids))
    return _case_step(session, client, case_id, RefundCaseWorkflow.withdraw, payload, "withdraw")


@router.post("/{case_id}/void", response_model=StepOut, summary="作废: ask for a registration made in error to be voided",
             description="A second person (another manager, or the city GM) approves it in the task it opens; "
             "then the unit goes back and nothing is paid.")
def void_case(case_id: uuid.UUID, body: VoidRequestIn, session: SessionDep, client: ClientDep,
              user: Annotated[User, Depends(require_roles("manager"))]) -> StepOut:
    role, project_id = _acting_role(user, case_id, session, ("manager",))
    payload = VoidRequest(actor=acting_person(session, user, role, project_id), reason=body.reason)
    return _case_step(session, client, case_id, RefundCaseWorkflow.request_void, payload, "void")


@router.post("/{case_id}/assessments/{department}/return", response_model=StepOut,
             summary="退回: return a department's assessment for rework, with a reason")
def return_assessment(case_id: uuid.UUID, department: Literal["finance", "legal", "marketing"], body: AssessmentReturnIn,
                      session: SessionDep, client: ClientDep,
                      user: Annotated[User, Depends(require_roles("manager"))]) -> StepOut:
    role, project_id = _acting_role(user, case_id, session, ("manager",))
    payload = AssessmentReturn(actor=acting_person(session, user, role, project_id), department=department, reason=body.reason)
    return _case_step(session, client, case_id, RefundCaseWorkflow.return_assessment, payload, "return")


@router.post("/{case_id}/assessments/{department}/correct", response_model=StepOut,
             summary="更正: the assessor corrects their own assessment before the solution is offered")
def correct_assessment(case_id: uuid.UUID, department: Literal["finance", "legal", "marketing"], body: TaskCompletion,
                       session: SessionDep, client: ClientDep,
                       user: Annotated[User, Depends(require_roles("finance", "legal", "marketing"))]) -> StepOut:
    from api.routes.tasks import assessment_submission  # (tasks imports this module)

    _, project_id = _acting_role(user, case_id, session, (department,))
    payload = assessment_submission(acting_person(session, user, department, project_id), body)
    return _case_step(session, client, case_id, RefundCaseWorkflow.correct_assessment, payload, "correct")
