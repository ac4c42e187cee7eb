"""Activities of the refund workflow: all I/O, one transaction each, idempotent on (case, step)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from db.ledger import retention_remaining, set_unit_state
from db.models import (
    CaseEvent,
    Customer,
    IntakeForm,
    KnowledgeBaseEntry,
    Notification,
    Project,
    RefundCase,
    RefundInstruction,
    RegionalBrief,
    RetentionLedgerEntry,
    SlaBreach,
    Subscription,
    SubscriptionStatus,
    Task,
    TaskStatus,
    Unit,
    UnitState,
)
from domain.refund import retention_draw_allowed
from workflows.contracts import (
    CasePatch,
    CompletionSpec,
    ErrorType,
    RetentionDraw,
    StepRecord,
    TransferSpec,
)

SENSITIVE_TAG = "敏感"


class RefundActivities:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._sessions = session_factory

    @activity.defn(name="apply_step")
    def apply_step(self, rec: StepRecord) -> bool:
        """Apply a step's writes; False when this step was already applied (a retry)."""
        case_id = uuid.UUID(rec.case_id)
        with self._sessions.begin() as s:
            inserted = s.execute(
                pg_insert(CaseEvent)
                .values(case_id=case_id, event_key=rec.event_key, kind=rec.kind, actor=rec.actor, at=rec.at, detail=rec.detail)
                .on_conflict_do_nothing(index_elements=["case_id", "event_key"])
                .returning(CaseEvent.id)
            ).first()
            if inserted is None:
                return False
            case = s.get(RefundCase, case_id, with_for_update=True)
            if case is None:
                raise ApplicationError(f"refund case {rec.case_id} does not exist", type="NotFound", non_retryable=True)
            if rec.close_tasks:
                s.execute(
                    update(Task)
                    .where(Task.case_id == case_id, Task.task_key.in_(rec.close_tasks), Task.status == TaskStatus.OPEN)
                    .values(status=TaskStatus.DONE, completed_at=rec.at, completed_by=rec.completed_by)
                )
            for t in rec.open_tasks:
                s.execute(
                    pg_insert(Task)
                    .values(case_id=case_id, task_key=t.key, kind=t.kind, role=t.role, title=t.title, due_at=t.due_at, created_at=rec.at)
                    .on_conflict_do_nothing(index_elements=["case_id", "task_key"])
                )
            for n in rec.notifications:
                s.execute(
                    pg_insert(Notification)
                    .values(case_id=case_id, notification_key=n.key, role=n.role, message=n.message, created_at=rec.at)
                    .on_conflict_do_nothing(index_elements=["case_id", "notification_key"])
                )
            if rec.breach is not None:
                b = rec.breach
                s.add(SlaBreach(case_id=case_id, sla=b.sla, due_at=b.due_at, breached_at=b.breached_at, escalated_to=b.escalated_to))
            if rec.intake is not None:
                i = rec.intake
                s.add(
                    IntakeForm(
                        case_id=case_id,
                        reasons=list(i.reasons),
                        reason_text=i.reason_text,
                        willing_to_consider=i.willing_to_consider,
                        id_verified=i.id_verified,
                        phone_verified=i.phone_verified,
                        recording_ref=i.recording_ref,
                        submitted_by=i.submitted_by,
                        submitted_at=i.submitted_at,
                    )
                )
            if rec.draw is not None:
                self._draw(s, case_id, rec.draw)
            if rec.cancel_subscription_id is not None:
                s.execute(
                    update(Subscription)
                    .where(Subscription.id == rec.cancel_subscription_id, Subscription.status == SubscriptionStatus.ACTIVE)
                    .values(status=SubscriptionStatus.CANCELLED)
                )
            if rec.refund is not None:
                r = rec.refund
                s.execute(
                    pg_insert(RefundInstruction)
                    .values(case_id=case_id, customer_id=r.customer_id, amount=r.amount, share=r.share, route=r.route, policy_version=r.policy_version)
                    .on_conflict_do_nothing(index_elements=["case_id"])
                )
                s.execute(
                    pg_insert(Task)
                    .values(
                        case_id=case_id,
                        task_key="refund_payment",
                        kind="refund_payment",
                        role="finance",
                        title=f"退款指令 {r.amount} 元 — 案件 {case.case_no}",
                        created_at=rec.at,
                    )
                    .on_conflict_do_nothing(index_elements=["case_id", "task_key"])
                )
            if rec.transfer is not None:
                self._transfer(s, rec.transfer)
            if rec.completion is not None:
                self._complete(s, case, rec.completion, rec.at, rec.actor)
            self._patch(case, rec.patch)
            case.updated_at = rec.at
        return True

    @staticmethod
    def _patch(case: RefundCase, patch: CasePatch) -> None:
        for name in CasePatch.__dataclass_fields__:
            value = getattr(patch, name)
            if value is None:
                continue
            if isinstance(value, tuple):
                value = list(value)
            setattr(case, name, value)

    @staticmethod
    def _draw(s: Session, case_id: uuid.UUID, draw: RetentionDraw) -> None:
        # The project row lock serialises draws, so two cases cannot both take the last yuan.
        project = s.get(Project, draw.project_id, with_for_update=True)
        if project is None:
            raise ApplicationError(f"project {draw.project_id} does not exist", type=ErrorType.INVALID, non_retryable=True)
        remaining = retention_remaining(s, draw.project_id)
        if not retention_draw_allowed(remaining=remaining, amount=draw.amount):
            raise ApplicationError(
                f"the retention pool of {project.name} has {remaining:.2f} CNY left; "
                f"a compensation of {draw.amount:.2f} CNY cannot be drawn",
                type=ErrorType.CONFLICT,
                non_retryable=True,
            )
        s.add(RetentionLedgerEntry(project_id=draw.project_id, case_id=case_id, amount=-draw.amount, memo=draw.memo))

    @staticmethod
    def _transfer(s: Session, t: TransferSpec) -> None:
        old = s.get(Subscription, t.subscription_id, with_for_update=True)
        if old is None or old.status != SubscriptionStatus.ACTIVE:
            raise ApplicationError("the subscription is no longer active", type=ErrorType.CONFLICT, non_retryable=True)
        if s.get(Customer, t.new_customer_id) is None:
            raise ApplicationError(
                f"customer {t.new_customer_id} does not exist; register the replacement buyer first",
                type=ErrorType.INVALID,
                non_retryable=True,
            )
        old.status = SubscriptionStatus.TRANSFERRED
        s.flush()  # the old row leaves the partial unique index before the new one enters it
        s.add(
            Subscription(
                unit_id=old.unit_id,
                customer_id=t.new_customer_id,
                consultant_id=old.consultant_id,
                price=old.price,
                deposit_amount=old.deposit_amount,
                deposit_kind=old.deposit_kind,
                paid_amount=old.paid_amount,
                stage=old.stage,
                status=SubscriptionStatus.ACTIVE,
                transferred_from_id=old.id,
                fee_waived=t.fee_waiver,
            )
        )

    @staticmethod
    def _complete(s: Session, case: RefundCase, c: CompletionSpec, at: datetime, actor: str) -> None:
        customer = s.get(Customer, c.customer_id, with_for_update=True)
        if customer is not None and SENSITIVE_TAG not in (customer.tags or []):
            customer.tags = [*(customer.tags or []), SENSITIVE_TAG]
        s.add(
            KnowledgeBaseEntry(
                case_id=case.id,
                title=f"退房案件 {case.case_no} (路径 {c.path})",
                body=f"{c.summary}\n\n复盘要点: {c.lessons}".strip(),
                tags=["退房", f"路径{c.path}"],
            )
        )
        s.add(RegionalBrief(case_id=case.id, body=c.brief))
        unit = s.get(Unit, c.unit_id, with_for_update=True)
        if unit is not None and unit.state == UnitState.REFUNDING:
            if c.release_unit:
                set_unit_state(s, unit, UnitState.AVAILABLE, actor=actor, reason=f"退房完成 {case.case_no}", at=at)
            else:
                back = unit.state_before_refund or UnitState.SUBSCRIBED
                set_unit_state(s, unit, back, actor=actor, reason=f"退房案件 {case.case_no} 路径 {c.path}: 继续履约", at=at)
            unit.state_before_refund = None
        case.closed_at = at
        case.retain_until = at + timedelta(days=c.retention_days)


def activity_list(session_factory: sessionmaker[Session]) -> list:
    acts = RefundActivities(session_factory)
    return [acts.apply_step]
