"""Activities of the follow-up workflows: all I/O, one transaction each, idempotent on
(followup_id, event_key)."""

from __future__ import annotations

import asyncio
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from config.settings import get_settings
from db.contract_models import Contract
from db.contracts import record_loan_disbursement, record_receipt
from db.errors import Invalid, ServiceError
from db.followup_models import (
    CalendarOverride,
    Followup,
    FollowupAction,
    FollowupEvent,
    MortgageDisbursement,
    WarningRecord,
)
from db.models import Subscription, User
from db.refund_registration import register_refund_case
from db.reminders import notify_action, notify_warning
from workflows.followup_contracts import (
    ApplyResult,
    DisbursementSpec,
    FollowupRecord,
    StartRefundCase,
)


def load_calendar_overrides(session: Session, *, since=None) -> dict:
    """The override table as {date: is_workday} (from `since` on, when given: an entered year is written
    out day by day, so a workflow's input carries only the days it can reach); callers pass it into
    workflow inputs."""
    stmt = select(CalendarOverride)
    if since is not None:
        stmt = stmt.where(CalendarOverride.day >= since)
    return {row.day: row.is_workday for row in session.scalars(stmt)}


class FollowupActivities:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._sessions = session_factory

    @activity.defn(name="apply_followup")
    def apply_followup(self, rec: FollowupRecord) -> ApplyResult:
        """Write a follow-up step; applied=False when the step was already written (a retry)."""
        with self._sessions.begin() as s:
            inserted = s.execute(
                pg_insert(FollowupEvent)
                .values(
                    followup_id=rec.followup_id, event_key=rec.event_key, kind=rec.event,
                    actor=rec.actor, at=rec.at, detail=rec.detail,
                )
                .on_conflict_do_nothing(index_elements=["followup_id", "event_key"])
                .returning(FollowupEvent.id)
            ).scalar_one_or_none()
            if inserted is None:
                escalated = False
                if rec.escalation is not None:
                    w = s.scalar(select(WarningRecord).where(WarningRecord.warning_key == rec.escalation.warning_key))
                    escalated = w is not None and w.escalated_at == rec.at
                return ApplyResult(applied=False, escalated=escalated)

            if rec.stage is not None:
                ins = pg_insert(Followup).values(
                    followup_id=rec.followup_id, kind=rec.kind, customer_id=rec.customer_id, stage=rec.stage,
                    detail=rec.detail, updated_at=rec.at,
                )
                # The projection's detail accumulates (jsonb ||): later keys win, earlier ones stay visible.
                s.execute(ins.on_conflict_do_update(
                    index_elements=["followup_id"],
                    set_={"stage": rec.stage, "detail": Followup.__table__.c.detail.op("||")(ins.excluded.detail),
                          "updated_at": rec.at},
                ))
            if rec.close_actions:
                s.execute(
                    update(FollowupAction)
                    .where(FollowupAction.followup_id == rec.followup_id, FollowupAction.action_key.in_(rec.close_actions))
                    .values(status="done")
                )
            for a in rec.actions:
                action_id = s.execute(
                    pg_insert(FollowupAction)
                    .values(followup_id=rec.followup_id, action_key=a.key, kind=a.kind, role=a.role,
                            message=a.message, detail=a.detail, due_at=a.due_at, status="open")
                    .on_conflict_do_nothing(index_elements=["followup_id", "action_key"])
                    .returning(FollowupAction.id)
                ).scalar()
                if action_id is not None:
                    notify_action(s, action_id=action_id, kind=a.kind, role=a.role, message=a.message, due_at=a.due_at,
                                  customer_id=rec.customer_id, at=rec.at)
            if rec.warning is not None:
                w = rec.warning
                raised = s.execute(
                    pg_insert(WarningRecord)
                    .values(
                        warning_key=w.warning_key, customer_id=rec.customer_id, case_ref=rec.followup_id,
                        level=w.level, rules=[{"rule": r.rule, "score": r.score, "detail": r.detail} for r in w.rules],
                        risk_score=w.risk_score, raised_at=w.raised_at, response_due=w.response_due,
                        respond_role=w.respond_role, escalate_to=w.escalate_to,
                    )
                    .on_conflict_do_nothing(index_elements=["warning_key"])
                    .returning(WarningRecord.id)
                ).scalar()
                if raised is not None:
                    notify_warning(s, s.get(WarningRecord, raised), escalated=False, at=rec.at)
            escalated = False
            if rec.escalation is not None:
                w = s.scalar(
                    select(WarningRecord).where(WarningRecord.warning_key == rec.escalation.warning_key).with_for_update()
                )
                if w is not None and w.responded_at is None and w.escalated_at is None:
                    w.escalated_at = rec.at
                    s.add(FollowupAction(
                        followup_id=rec.followup_id, action_key=f"escalation:{w.warning_key}", kind="escalation",
                        role=w.escalate_to,
                        message=f"{w.level} warning on {rec.followup_id} was not answered by {w.response_due.isoformat()}",
                        detail={"warning_id": w.id, "rules": w.rules}, status="open",
                    ))
                    notify_warning(s, w, escalated=True, at=rec.at)
                    escalated = True
            if rec.disbursement is not None:
                d = rec.disbursement
                s.execute(
                    pg_insert(MortgageDisbursement)
                    .values(loan_id=d.loan_id, amount=d.amount, disbursed_on=d.disbursed_on,
                            recorded_by=rec.actor, recorded_at=rec.at)
                    .on_conflict_do_nothing(index_elements=["loan_id"])
                )
                if d.subscription_id is not None:
                    self._disbursement_to_contract(s, rec, d)
            return ApplyResult(applied=True, escalated=escalated)

    @staticmethod
    def _disbursement_to_contract(s: Session, rec: FollowupRecord, d: DisbursementSpec) -> None:
        """The loan money is a payment on the contract. If the contract refuses it (no plan yet, an
        overpayment, ...), the mortgage step still stands and finance gets a to-do with the reason."""
        contract_id = s.scalar(select(Contract.id).where(Contract.subscription_id == d.subscription_id))
        if contract_id is None:
            return
        actor = s.get(User, d.recorded_by_user_id) if d.recorded_by_user_id else None
        try:
            if actor is None:
                raise Invalid("the disbursement has no recording user")
            with s.begin_nested():
                at = datetime.combine(d.disbursed_on, datetime.min.time(), tzinfo=rec.at.tzinfo)
                record_loan_disbursement(s, contract_id=contract_id, disbursed_at=at, amount=d.amount, actor=actor, now=rec.at)
                record_receipt(s, contract_id=contract_id, amount=d.amount, received_on=d.disbursed_on,
                               reference=f"按揭放款 {d.loan_id}", actor=actor, today=d.disbursed_on)
        except ServiceError as err:
            todo = FollowupAction(
                followup_id=rec.followup_id, action_key="disbursement_to_contract", kind="disbursement", role="finance",
                message=f"loan {d.loan_id} disbursed {d.amount} but it could not be recorded on the contract: {err.message}",
                detail={"contract_id": contract_id}, status="open",
            )
            s.add(todo)
            s.flush()
            notify_action(s, action_id=todo.id, kind=todo.kind, role=todo.role, message=todo.message, due_at=None,
                          customer_id=rec.customer_id, at=rec.at)

    @activity.defn(name="start_refund_from_followup")
    async def start_refund_from_followup(self, req: StartRefundCase) -> str:
        """Register a refund case for the subscription and start its workflow on this worker's task queue;
        the case id. Idempotent: the subscription's open case is returned if there is one (a retry, a duplicate).

        The registrant is the subscription's sales consultant — a person, so the refund case's four-eyes
        rules apply (the consultant may register but not take the intake)."""
        consultant_id = await asyncio.to_thread(self._consultant_of, req.subscription_id)
        try:
            case_id = await register_refund_case(
                session_factory=self._sessions, client=activity.client(), subscription_id=req.subscription_id,
                registered_by_user_id=consultant_id, task_queue=activity.info().task_queue,
                speedup=get_settings().estateflow_drill_speedup, origin=req.origin,
            )
        except ServiceError as err:  # not found / not active / no policy: a retry would not help
            raise ApplicationError(f"{req.followup_id}: no refund case started: {err}", type=type(err).__name__,
                                   non_retryable=True) from None
        activity.logger.info("%s: refund case %s (origin %s)", req.followup_id, case_id, req.origin)
        return str(case_id)

    def _consultant_of(self, subscription_id: int) -> int:
        with self._sessions() as s:
            sub = s.get(Subscription, subscription_id)
            if sub is None:
                raise ApplicationError(f"subscription {subscription_id} does not exist", type="NotFound",
                                       non_retryable=True)
            return sub.consultant_id
