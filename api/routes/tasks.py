"""The caller's open tasks, and completing one: workflow steps go to the workflow as updates."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy import select

from api.deps import STAFF, CipherDep, ClientDep, SessionDep, require_roles
from api.routes.refund_cases import case_open_tasks, task_out
from api.schemas import StepOut, TaskCompletion, TaskOut
from api.temporal_calls import run_update
from db.customers import identity_matches
from db.errors import Conflict, Forbidden, Invalid, NotFound
from db.models import Customer, RefundCase, Task, TaskStatus, User
from domain.identity import InvalidIdentity
from domain.refund import LossAssessment
from workflows.contracts import (
    Actor,
    ArchiveSubmission,
    AssessmentSubmission,
    BuyerChoice,
    ContractCancellation,
    GmDecision,
    IntakeSubmission,
    OfferedOption,
    SolutionOffer,
)
from workflows.refund_case import RefundCaseWorkflow

router = APIRouter(prefix="/api/tasks", tags=["tasks"])

# Tasks that record a fact without a workflow step: acknowledged in PostgreSQL only.
DB_ONLY_KINDS = {"escalation", "review_meeting", "refund_payment"}


@router.get("", response_model=list[TaskOut], summary="The caller's open tasks, nearest deadline first")
def my_tasks(session: SessionDep, user: Annotated[User, Depends(require_roles(*STAFF))]) -> list[TaskOut]:
    rows = session.execute(
        select(Task, RefundCase.case_no)
        .join(RefundCase, RefundCase.id == Task.case_id)
        .where(Task.role == user.role, Task.status == TaskStatus.OPEN)
        .order_by(Task.due_at.asc().nulls_last(), Task.id)
        .limit(500)
    ).all()
    now = datetime.now(timezone.utc)
    return [task_out(t, case_no, now) for t, case_no in rows]


def _require(value, message: str):
    if value is None:
        raise Invalid(message)
    return value


@router.post("/{task_id}/complete", response_model=StepOut, summary="Complete one of the caller's tasks")
def complete_task(
    task_id: int,
    body: TaskCompletion,
    session: SessionDep,
    client: ClientDep,
    cipher: CipherDep,
    user: Annotated[User, Depends(require_roles(*STAFF))],
) -> StepOut:
    task = session.get(Task, task_id)
    if task is None:
        raise NotFound(f"task {task_id} does not exist")
    if task.role != user.role:
        raise Forbidden(f"this task is for {task.role}, not {user.role}")
    if task.status != TaskStatus.OPEN:
        raise Conflict(f"task {task_id} is already {task.status}")
    case = session.get(RefundCase, task.case_id)
    assert case is not None
    actor = Actor(user_id=user.id, username=user.username, role=user.role)
    if task.kind in DB_ONLY_KINDS:
        task.status = TaskStatus.DONE
        task.completed_at = datetime.now(timezone.utc)
        task.completed_by = user.id
        session.commit()
        return StepOut(
            case_id=str(case.id), stage=case.stage, message=f"{task.kind} done",
            open_tasks=case_open_tasks(session, case_id=case.id, case_no=case.case_no),
        )
    update, payload = _workflow_step(task.kind, body, actor, case, session, cipher)
    case_id, case_no, workflow_id = case.id, case.case_no, case.workflow_id
    session.rollback()  # release the read snapshot while the workflow's activity writes the step
    result = run_update(client, workflow_id=workflow_id, update=update, payload=payload, update_id=f"task-{task_id}")
    return StepOut(
        case_id=result.case_id, stage=result.stage, message=result.message,
        open_tasks=case_open_tasks(session, case_id=case_id, case_no=case_no),
    )


def _workflow_step(kind: str, b: TaskCompletion, actor: Actor, case: RefundCase, session, cipher):
    if kind == "intake":
        customer = session.get(Customer, case.customer_id)
        id_number = _require(b.id_number, "scan or type the buyer's ID number to verify identity")
        mobile = _require(b.mobile, "give the buyer's mobile number for phone verification")
        try:
            id_ok, phone_ok = identity_matches(cipher, customer, id_number=id_number, mobile=mobile, today=date.today())
        except InvalidIdentity as e:
            raise Invalid(str(e)) from None
        if not id_ok:
            raise Invalid("the ID number does not match the buyer on record")
        if not phone_ok:
            raise Invalid("the mobile number does not match the buyer on record")
        return RefundCaseWorkflow.submit_intake, IntakeSubmission(
            actor=actor,
            reasons=tuple(_require(b.reasons, "choose at least one main reason")),
            willing_to_consider=_require(b.willing_to_consider, "record whether the buyer would consider alternatives"),
            id_verified=True,
            phone_verified=True,
            reason_text=b.reason_text,
            recording_ref=b.recording_ref,
        )
    if kind == "assessment":
        loss = None
        if actor.role == "finance":
            loss = LossAssessment(
                commission_accrued=_require(b.commission_accrued, "finance must give the commission accrued"),
                advertising_allocation=b.advertising_allocation or 0,
                opportunity_cost=b.opportunity_cost or 0,
            )
        return RefundCaseWorkflow.submit_assessment, AssessmentSubmission(
            actor=actor, note=b.note, loss=loss, proposed_share=b.proposed_share, contract_confirmed=b.contract_confirmed,
            fault=b.fault, opinion_risk=b.opinion_risk, media_involved=b.media_involved, group_complaint=b.group_complaint,
        )
    if kind == "gm_approval":
        return RefundCaseWorkflow.decide_gm, GmDecision(actor=actor, approve=_require(b.approve, "approve must be true or false"), note=b.note)
    if kind == "solution":
        options = _require(b.options, "give the options offered to the buyer (at least two)")
        return RefundCaseWorkflow.offer_solution, SolutionOffer(
            actor=actor,
            options=tuple(
                OfferedOption(kind=o.kind, description=o.description, compensation=o.compensation, fee_waiver=o.fee_waiver) for o in options
            ),
        )
    if kind == "choice":
        if b.new_customer_id is not None and session.get(Customer, b.new_customer_id) is None:
            raise Invalid(f"customer {b.new_customer_id} does not exist; register the replacement buyer first")
        return RefundCaseWorkflow.record_choice, BuyerChoice(
            actor=actor, kind=_require(b.option, "record which option the buyer chose (A, B or C)"), new_customer_id=b.new_customer_id, note=b.note
        )
    if kind == "contract_cancellation":
        return RefundCaseWorkflow.confirm_contract_cancelled, ContractCancellation(actor=actor, note=b.note)
    if kind == "archive":
        return RefundCaseWorkflow.submit_archive, ArchiveSubmission(
            actor=actor, summary=_require(b.summary, "the archive needs a summary for the knowledge base"), lessons=b.lessons
        )
    raise Conflict(f"tasks of kind {kind} cannot be completed here")
