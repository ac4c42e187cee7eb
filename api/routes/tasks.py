"""The caller's open tasks, and completing one: workflow steps go to the workflow as updates."""

from __future__ import annotations

import time
import uuid
from decimal import Decimal
from datetime import date, datetime, timezone
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from api.access import acting_person
from api.deps import STAFF, CipherDep, ClientDep, SessionDep, SettingsDep, release_connection, require_roles
from api.idempotency import IdempotencyKey, fingerprint, key_digest, remember, replay
from api.routes.refund_cases import task_out
from api.schemas import StepOut, TaskCompletion, TaskDetail, TaskOut, TaskPage, TaskReassign
from api.temporal_calls import run_update
from db.commissions import loss_estimate
from db.customers import identity_matches
from db.errors import Conflict, Forbidden, Invalid, NotFound
from db.models import CaseEvent, Customer, RefundCase, RefundInstruction, Task, TaskStatus, User
from db.refund_cases import open_task_rows, task_and_case
from db.refund_payments import record_payment
from db.tasks import claim, eligible, inbox, reassign, release
from domain.calendar import CHINA, china_date
from domain.identity import InvalidIdentity
from domain.paging import BadCursor
from domain.refund import LossAssessment
from workflows.contracts import (
    Actor,
    ArchiveSubmission,
    AssessmentSubmission,
    BuyerChoice,
    BuyerRefusal,
    ContractCancellation,
    GmDecision,
    IntakeSubmission,
    OfferedOption,
    SolutionOffer,
    VoidDecision,
)
from workflows.refund_case import RefundCaseWorkflow

router = APIRouter(prefix="/api/tasks", tags=["tasks"])

# Tasks that record a fact without a workflow step: acknowledged in PostgreSQL only.
DB_ONLY_KINDS = {"escalation", "review_meeting", "refund_payment", "dispute"}


@router.get("", response_model=TaskPage, summary="The caller's inbox: tasks they claimed and their pools' open tasks",
            description="Nearest deadline first (tasks without one last). `view`: `mine` (claimed by me), `pool` "
            "(unclaimed, in my role pools: each role I hold, in the projects where I hold it), `all` (both). Pages by "
            "`cursor` (the previous page's `next_cursor`); `total` counts every match.")
def my_tasks(
    session: SessionDep,
    user: Annotated[User, Depends(require_roles(*STAFF))],
    view: Literal["all", "mine", "pool"] = "all",
    kind: str | None = Query(default=None, max_length=32),
    case_id: uuid.UUID | None = None,
    project_id: int | None = None,
    overdue: bool | None = None,
    limit: int = Query(default=50, ge=1, le=200),
    cursor: str | None = Query(default=None, max_length=200),
) -> TaskPage:
    now = datetime.now(timezone.utc)
    try:
        rows, total, nxt = inbox(session, user, view=view, kind=kind, case_id=case_id, project_id=project_id,
                                 overdue=overdue, limit=limit, cursor=cursor, now=now)
    except BadCursor as e:
        raise Invalid(str(e)) from None
    items = [task_out(t, case_no, now, name) for t, case_no, name in rows]
    release_connection(session)
    return TaskPage(items=items, total=total, next_cursor=nxt)


def _not_yours(role: str) -> Forbidden:
    return Forbidden(key="task.not_yours", params={"role": role})


@router.get("/{task_id}", response_model=TaskDetail, summary="One of the caller's tasks (or of their project, for its manager), open or done",
            responses={403: {"description": "The task is another role's (`forbidden`)."}})
def one_task(task_id: int, session: SessionDep, user: Annotated[User, Depends(require_roles(*STAFF))]) -> TaskDetail:
    claimant = User.__table__.alias("claimant")
    row = session.execute(
        select(Task, RefundCase.case_no, User.display_name, claimant.c.display_name)
        .join(RefundCase, RefundCase.id == Task.case_id)
        .outerjoin(User, User.id == Task.completed_by)
        .outerjoin(claimant, claimant.c.id == Task.claimed_by)
        .where(Task.id == task_id)
    ).first()
    if row is None:
        raise NotFound(key="record.not_found", params={"record": "task", "id": task_id})
    task, case_no, completed_by_name, claimed_by_name = row
    # Its pool's people see it, and the project's manager (who may reassign it).
    if not eligible(user.access, task) and "manager" not in user.access.roles_in(task.project_id):  # type: ignore[attr-defined]
        raise _not_yours(task.role)
    out = task_out(task, case_no, datetime.now(timezone.utc), claimed_by_name)
    return TaskDetail(**out.model_dump(), status=task.status, completed_at=task.completed_at,
                      completed_by_name=completed_by_name)


def _claim_answer(session: Session, task: Task) -> TaskOut:
    case_no = session.scalar(select(RefundCase.case_no).where(RefundCase.id == task.case_id))
    name = session.scalar(select(User.display_name).where(User.id == task.claimed_by)) if task.claimed_by else None
    out = task_out(task, case_no, datetime.now(timezone.utc), name)
    session.commit()
    return out


@router.post("/{task_id}/claim", response_model=TaskOut, summary="Claim a task of one of my pools",
             description="Of concurrent claims exactly one wins; the others get 409 naming who holds it.")
def claim_task(task_id: int, session: SessionDep, user: Annotated[User, Depends(require_roles(*STAFF))]) -> TaskOut:
    return _claim_answer(session, claim(session, user, task_id, datetime.now(timezone.utc)))


@router.post("/{task_id}/release", response_model=TaskOut, summary="Give a claimed task back to its pool",
             description="By the person who holds it, or by a manager of the task's project.")
def release_task(task_id: int, session: SessionDep, user: Annotated[User, Depends(require_roles(*STAFF))]) -> TaskOut:
    return _claim_answer(session, release(session, user, task_id, datetime.now(timezone.utc)))


@router.post("/{task_id}/reassign", response_model=TaskOut, summary="Give a task to another eligible person (manager)",
             description="A manager of the task's project, with a reason; recorded on the case's timeline.")
def reassign_task(task_id: int, body: TaskReassign, session: SessionDep,
                  user: Annotated[User, Depends(require_roles(*STAFF))]) -> TaskOut:
    return _claim_answer(session, reassign(session, user, task_id, body.user_id, body.reason, datetime.now(timezone.utc)))


def _require(value, key: str):
    """`value`, or a 422 with the message of `key` (a code of domain/messages.py without parameters)."""
    if value is None:
        raise Invalid(key=key)
    return value


@router.post(
    "/{task_id}/complete",
    response_model=StepOut,
    summary="Complete one of the caller's tasks",
    description="Of any number of concurrent completions of one task exactly one succeeds; the others get 409 "
    "with who completed it and when. A retry carrying the same Idempotency-Key (same person, same body) gets "
    "the first answer again.",
)
def complete_task(
    task_id: int,
    body: TaskCompletion,
    session: SessionDep,
    client: ClientDep,
    cipher: CipherDep,
    settings: SettingsDep,
    user: Annotated[User, Depends(require_roles(*STAFF))],
    idempotency_key: IdempotencyKey = None,
):
    fp = fingerprint(settings.secret_key, method="POST", path=f"/api/tasks/{task_id}/complete", body=body)
    if idempotency_key and (stored := replay(session, user_id=user.id, key=idempotency_key, fp=fp)) is not None:
        return stored
    task = task_and_case(session, task_id=task_id)  # the task and its case's columns, one query
    if task is None:
        raise NotFound(key="record.not_found", params={"record": "task", "id": task_id})
    if not eligible(user.access, task):  # type: ignore[attr-defined]
        raise _not_yours(task.role)
    mine = {user.id} | user.access.delegators  # type: ignore[attr-defined]  # and the colleagues I stand in for
    if task.claimed_by is not None and task.claimed_by not in mine and task.status == TaskStatus.OPEN:
        holder = session.scalar(select(User.display_name).where(User.id == task.claimed_by))
        raise Forbidden(key="task.claimed_by_other", params={"task_id": task_id, "holder": holder or "another person"})
    user.role = task.role  # the person acts in the task's role
    if task.kind == "refund_payment":
        out = _pay_refund(session, task, body, user)
    elif task.kind in DB_ONLY_KINDS:
        out = _complete_db_only(session, task, body, user)
    else:
        out = _complete_workflow_step(session, client, cipher, task, body, user, idempotency_key)
    if idempotency_key:
        remember(session, user_id=user.id, key=idempotency_key, fp=fp, status_code=200, body=out)
    else:
        release_connection(session)
    # Serialised here, as FastAPI would (response_model StepOut, by alias, to JSON bytes), so that the
    # response needs no second thread hop for its validation.
    return Response(content=out.model_dump_json(by_alias=True), media_type="application/json")


def _open_tasks(session: Session, case_id: uuid.UUID, case_no: str) -> list[TaskOut]:
    now = datetime.now(timezone.utc)
    return [task_out(t, case_no, now) for t in open_task_rows(session, case_id=case_id)]


def _pay_refund(session: Session, task, b: TaskCompletion, user: User) -> StepOut:
    """退款支付: the task is done when the payment recorded against the case's refund instruction is the
    instructed amount (or a different one a second person approved: POST /api/refund-instructions/{id}/payment/approve)."""
    instruction_id = session.scalar(select(RefundInstruction.id).where(RefundInstruction.case_id == task.case_id))
    if instruction_id is None:
        raise Conflict(key="refund.no_instruction")
    now = datetime.now(timezone.utc)
    r = record_payment(session, instruction_id=instruction_id, amount=_require(b.amount, "payment.amount_required"),
                       paid_on=_require(b.paid_on, "payment.date_required"),
                       bank_reference=_require(b.bank_reference, "payment.reference_required"),
                       voucher_evidence_id=b.voucher_evidence_id, difference_reason=b.difference_reason, actor=user,
                       now=now, today=china_date(now))
    status = r.status
    session.commit()
    return StepOut(case_id=str(task.case_id), stage=task.stage,
                   message="refund paid" if status == "paid" else "payment recorded; a second person must approve the difference",
                   open_tasks=_open_tasks(session, task.case_id, task.case_no))


def _db_only_event(session: Session, task, b: TaskCompletion) -> tuple[str, dict]:
    """What the person answered, for the timeline: an escalation's response (what was done), the review
    meeting's attendees and minutes, legal's handling of a dispute."""
    if task.kind == "escalation":
        return "escalation_answered", {"response": _require(b.note.strip() or None,
                                                            "task.escalation_response_required")}
    if task.kind == "review_meeting":
        attendees = _require(b.attendees or None, "task.attendees_required")
        names = dict(session.execute(select(User.id, User.display_name).where(User.id.in_(attendees))).all())
        if missing := sorted(set(attendees) - set(names)):
            raise Invalid(key="record.not_found", params={"record": "user", "id": ", ".join(map(str, missing))})
        return "review_meeting", {"attendees": [names[i] for i in attendees],
                                  "minutes": _require((b.minutes or "").strip() or None, "task.minutes_required")}
    return "dispute_handled", {"note": _require(b.note.strip() or None, "task.dispute_note_required")}


def _complete_db_only(session: Session, task, b: TaskCompletion, user: User) -> StepOut:
    """A fact recorded in PostgreSQL only: a conditional update, so one caller of many wins; what the person
    answered goes on the case's timeline in the same transaction."""
    kind, detail = _db_only_event(session, task, b)
    now = datetime.now(timezone.utc)
    won = session.execute(
        update(Task)
        .where(Task.id == task.id, Task.status == TaskStatus.OPEN)
        .values(status=TaskStatus.DONE, completed_at=now, completed_by=user.id)
        .returning(Task.id)
    ).first()
    if won is None:
        session.rollback()
        raise _taken(session, task.id)
    session.add(CaseEvent(case_id=task.case_id, event_key=f"{kind}:{task.id}", kind=kind, actor=user.username, at=now,
                          detail={"task_id": task.id, "task_kind": task.kind, **detail}))
    session.commit()
    return StepOut(
        case_id=str(task.case_id), stage=task.stage, message=f"{task.kind} done",
        open_tasks=_open_tasks(session, task.case_id, task.case_no),
    )


def _complete_workflow_step(
    session: Session, client, cipher, task, body: TaskCompletion, user: User, key: str | None
) -> StepOut:
    """The workflow decides: each request sends its own update, so of many concurrent ones the workflow
    accepts one and refuses the rest. A retry with the same Idempotency-Key sends the same update id,
    which Temporal answers with the first outcome instead of running it again."""
    if task.status != TaskStatus.OPEN and not (key and task.completed_by == user.id):
        raise _taken(session, task.id)
    actor = acting_person(session, user, user.role, task.project_id)
    step, payload = _workflow_step(task.kind, body, actor, task, session, cipher)
    override = _loss_override(session, task, body) if task.kind == "assessment" and actor.role == "finance" else None
    task_id, case_id, case_no, workflow_id = task.id, task.case_id, task.case_no, task.workflow_id
    update_id = f"task-{task_id}-" + (f"k{key_digest(user.id, key)}" if key else uuid.uuid4().hex)
    session.rollback()  # no connection held while the workflow runs the step
    try:
        result = run_update(client, workflow_id=workflow_id, update=step, payload=payload, update_id=update_id)
    except Conflict as refused:
        raise _taken(session, task_id, refused=refused) from None
    if override:
        _audit_override(session, case_id, user, override)
    return StepOut(
        case_id=result.case_id, stage=result.stage, message=result.message,
        open_tasks=_open_tasks(session, case_id, case_no),
    )


TAKEN_WAIT_S = 2.0  # the winner's write is committed within milliseconds of its acceptance


LOSS_FIELDS = ("commission_accrued", "advertising_allocation", "opportunity_cost")


def _loss_override(session: Session, task, b: TaskCompletion) -> dict | None:
    """Finance's figures that differ from the estimate the records give, with the reason given for them (None:
    they agree, or no reason was given — the web form, which shows the estimate, always asks for one; a client
    that never saw the estimate is not overriding it)."""
    reason = (b.override_reason or "").strip()
    if not reason:  # the estimate's queries only when there is an override to record
        return None
    est = loss_estimate(session, case_id=task.case_id, today=china_date(datetime.now(timezone.utc))).estimate
    given = {f: Decimal(getattr(b, f) or 0) for f in LOSS_FIELDS}
    differs = {f: {"estimate": str(getattr(est, f).amount), "given": f"{given[f]:.2f}"}
               for f in LOSS_FIELDS if given[f] != getattr(est, f).amount}
    return {"fields": differs, "reason": reason} if differs else None


def _audit_override(session: Session, case_id, user: User, override: dict) -> None:
    """The override in the case's timeline, written once the workflow has accepted the assessment."""
    session.execute(pg_insert(CaseEvent).values(
        case_id=case_id, event_key=f"loss_override:{uuid.uuid4().hex}", kind="loss_override", actor=user.username,
        at=datetime.now(timezone.utc), detail=override).on_conflict_do_nothing())
    session.commit()


def _taken(session: Session, task_id: int, *, refused: Conflict | None = None) -> Conflict:
    """409 naming who completed the task and when. When the workflow refused because another request's
    step is still being written, wait briefly for that write to name its author."""
    deadline = time.monotonic() + (TAKEN_WAIT_S if refused else 0)
    while True:
        row = session.execute(
            select(Task.status, Task.completed_at, User.display_name)
            .outerjoin(User, User.id == Task.completed_by)
            .where(Task.id == task_id)
        ).one()
        session.rollback()
        if row.status == TaskStatus.DONE and row.completed_at is not None:
            at = row.completed_at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")
            if row.display_name:
                return Conflict(key="task.already_completed", params={"task_id": task_id, "by": row.display_name, "at": at})
            return Conflict(key="task.already_completed_by_system", params={"task_id": task_id, "at": at})
        if row.status == TaskStatus.CANCELLED:
            return Conflict(key="task.cancelled", params={"task_id": task_id})
        if time.monotonic() >= deadline:
            return refused or Conflict(key="task.not_open_now", params={"task_id": task_id})
        time.sleep(0.05)


def assessment_submission(actor: Actor, b: TaskCompletion) -> AssessmentSubmission:
    """A department's assessment from the request (given first, or corrected)."""
    loss = None
    if actor.role == "finance":
        loss = LossAssessment(
            commission_accrued=_require(b.commission_accrued, "assessment.commission_required"),
            advertising_allocation=b.advertising_allocation or 0,
            opportunity_cost=b.opportunity_cost or 0,
        )
    return AssessmentSubmission(
        actor=actor, note=b.note, loss=loss, proposed_share=b.proposed_share, contract_confirmed=b.contract_confirmed,
        fault=b.fault, opinion_risk=b.opinion_risk, media_involved=b.media_involved, group_complaint=b.group_complaint,
    )


def _workflow_step(kind: str, b: TaskCompletion, actor: Actor, case, session, cipher):
    """`case` has the case's customer_id (the row from task_and_case)."""
    if kind == "intake":
        customer = session.get(Customer, case.customer_id)
        id_number = _require(b.id_number, "intake.id_required")
        mobile = _require(b.mobile, "intake.mobile_required")
        try:
            id_ok, phone_ok = identity_matches(cipher, customer, id_number=id_number, mobile=mobile, today=date.today())
        except InvalidIdentity as e:
            raise Invalid(str(e)) from None
        if not id_ok:
            raise Invalid(key="intake.id_mismatch")
        if not phone_ok:
            raise Invalid(key="intake.mobile_mismatch")
        return RefundCaseWorkflow.submit_intake, IntakeSubmission(
            actor=actor,
            reasons=tuple(_require(b.reasons, "intake.reason_required")),
            willing_to_consider=_require(b.willing_to_consider, "intake.willing_required"),
            id_verified=True,
            phone_verified=True,
            reason_text=b.reason_text,
            recording_ref=b.recording_ref,
        )
    if kind == "assessment":
        return RefundCaseWorkflow.submit_assessment, assessment_submission(actor, b)
    if kind == "gm_approval":
        return RefundCaseWorkflow.decide_gm, GmDecision(actor=actor, approve=_require(b.approve, "task.approve_required"), note=b.note)
    if kind == "solution":
        options = _require(b.options, "solution.options_required")
        return RefundCaseWorkflow.offer_solution, SolutionOffer(
            actor=actor,
            options=tuple(
                OfferedOption(kind=o.kind, description=o.description, compensation=o.compensation, fee_waiver=o.fee_waiver) for o in options
            ),
        )
    if kind == "choice" and b.refused:
        if b.option is not None:
            raise Invalid(key="choice.option_and_refusal")
        return RefundCaseWorkflow.record_refusal, BuyerRefusal(actor=actor, note=b.note)
    if kind == "void_approval":
        return RefundCaseWorkflow.decide_void, VoidDecision(
            actor=actor, approve=_require(b.approve, "task.approve_required"), note=b.note)
    if kind == "choice":
        if b.new_customer_id is not None and session.get(Customer, b.new_customer_id) is None:
            raise Invalid(key="choice.replacement_unknown", params={"customer_id": b.new_customer_id})
        return RefundCaseWorkflow.record_choice, BuyerChoice(
            actor=actor, kind=_require(b.option, "choice.option_required"), new_customer_id=b.new_customer_id, note=b.note
        )
    if kind == "contract_cancellation":
        return RefundCaseWorkflow.confirm_contract_cancelled, ContractCancellation(actor=actor, note=b.note)
    if kind == "archive":
        return RefundCaseWorkflow.submit_archive, ArchiveSubmission(
            actor=actor, summary=_require(b.summary, "archive.summary_required"), lessons=b.lessons
        )
    raise Conflict(key="task.kind_not_here", params={"kind": kind})
