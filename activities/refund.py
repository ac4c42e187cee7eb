"""Activities of the refund workflow: all I/O, one transaction each, idempotent on (case, step)."""

from __future__ import annotations

import functools
import uuid
from datetime import datetime, timedelta

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from db.ledger import retention_remaining, set_unit_state
from db.escalation import escalate_if_nobody_may
from db.notices import case_notice_facts, notice_kind, notify_opened_tasks, workflow_notice_facts, write_notice
from db.refund_cases import open_task_row
from db.models import (
    CaseEvent,
    Customer,
    IntakeForm,
    KnowledgeBaseEntry,
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
from domain.access import FOUR_EYES_KINDS
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
DATABASE_ERROR = "DatabaseError"  # a retryable ApplicationError type: PostgreSQL away, a statement cancelled
# apply_step writes through Core on the tables (no ORM unit of work, no identity map on the common path).
CASES = RefundCase.__table__
CASE_EVENTS = CaseEvent.__table__
TASKS = Task.__table__
# The hot statements are built once, with bind parameters, and executed with each step's values: building
# a statement per step (and the CTE's column proxies) cost more worker CPU than running it.
INSERT_TASKS = pg_insert(TASKS).on_conflict_do_nothing(index_elements=["case_id", "task_key"])
INSERT_INTAKE_FORM = insert(IntakeForm.__table__)
INSERT_SLA_BREACH = insert(SlaBreach.__table__)
_CLOSE_TASKS = (
    update(TASKS)
    .where(TASKS.c.case_id == bindparam("t_case_id"), TASKS.c.status == TaskStatus.OPEN)
    .values(status=TaskStatus.DONE, completed_at=bindparam("t_at"), completed_by=bindparam("t_by"))
)
CLOSE_TASK = _CLOSE_TASKS.where(TASKS.c.task_key == bindparam("t_key"))
CLOSE_TASKS = _CLOSE_TASKS.where(TASKS.c.task_key.in_(bindparam("t_keys", expanding=True)))


@functools.lru_cache(maxsize=128)
def _event_and_case(columns: tuple[str, ...]):
    """One statement: insert the step's event (the idempotency guard) and, only when it was new, set `columns`
    of the case row, returning its case_no and project_id; no row when the event was already there. Updating the row takes
    its lock first, as the SELECT ... FOR UPDATE this replaces did: one case's steps serialise. (A case that
    does not exist fails the event's foreign key.) Built once per set of columns; parameters ev_* and set_*."""
    event = (
        pg_insert(CASE_EVENTS)
        .values(
            case_id=bindparam("ev_case_id"), event_key=bindparam("ev_key"), kind=bindparam("ev_kind"),
            actor=bindparam("ev_actor"), at=bindparam("ev_at"), detail=bindparam("ev_detail", type_=CASE_EVENTS.c.detail.type),
        )
        .on_conflict_do_nothing(index_elements=["case_id", "event_key"])
        .returning(CASE_EVENTS.c.case_id)
        .cte("new_event")
    )
    return (
        update(CASES)
        .where(CASES.c.id == event.c.case_id)
        .values({c: bindparam(f"set_{c}", type_=CASES.c[c].type) for c in columns})
        .returning(CASES.c.case_no, CASES.c.project_id)
    )


def _insert_rows(conn, stmt, rows: list[dict]) -> None:
    """One INSERT for all rows (an ON CONFLICT insert given several parameter sets would be one round trip per
    row). One row: the statement as built once, compiled once; several: a multi-row VALUES, compiled each time
    (SQLAlchemy does not cache those; ~0.1 ms, less than the round trips it saves)."""
    if len(rows) == 1:
        conn.execute(stmt, rows[0])
    else:
        conn.execute(stmt.values(rows))


def database_error(rec: StepRecord, err: DBAPIError) -> ApplicationError:
    """A database failure as a short, retryable activity failure. SQLAlchemy's own exception carries the SQL,
    its parameters and, chained, the driver's exception with a second stack trace: over the server's 4 KB
    per-activity failure limit (limit.mutableStateActivityFailureSize.error), so the history and the UI
    showed only "Failure exceeds size limit." while PostgreSQL was down (found by the PostgreSQL drill,
    tests/faults/test_drills.py). The full error stays in the worker log."""
    orig = err.orig if err.orig is not None else err
    first = (str(orig).strip().splitlines() or [""])[0][:200]
    code = getattr(orig, "pgcode", None)
    return ApplicationError(
        f"apply_step {rec.event_key}: database error, retrying: {type(orig).__name__}"
        + (f" [{code}]" if code else "") + f": {first}",
        type=DATABASE_ERROR,
    )


class RefundActivities:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._sessions = session_factory

    @activity.defn(name="apply_step")
    def apply_step(self, rec: StepRecord) -> bool:
        """Apply a step's writes; False when this step was already applied (a retry)."""
        try:
            return self._apply_step(rec)
        except DBAPIError as err:
            activity.logger.warning("apply_step %s: %s", rec.event_key, err)
            raise database_error(rec, err) from None

    def _apply_step(self, rec: StepRecord) -> bool:
        """Core statements on the session's connection (no ORM unit of work on the common path): the event and
        the case row in one statement (_event_and_case), then the tasks; the rarer writes (draw, transfer,
        completion) use the session as before, in the same transaction."""
        case_id = uuid.UUID(rec.case_id)
        with self._sessions.begin() as s:
            conn = s.connection()
            values = self._patch_values(rec.patch)
            values["updated_at"] = rec.at
            if rec.completion is not None:
                values["closed_at"] = rec.at
                values["retain_until"] = rec.at + timedelta(days=rec.completion.retention_days)
            applied = conn.execute(_event_and_case(tuple(values)), {
                "ev_case_id": case_id, "ev_key": rec.event_key, "ev_kind": rec.kind, "ev_actor": rec.actor,
                "ev_at": rec.at, "ev_detail": rec.detail, **{f"set_{k}": v for k, v in values.items()},
            }).first()
            if applied is None:
                return False  # the event is already there: this step was applied by an earlier attempt
            case_no, project_id = applied
            if rec.close_tasks:
                keys = rec.close_tasks
                closing = {"t_case_id": case_id, "t_at": rec.at, "t_by": rec.completed_by}
                if len(keys) == 1:
                    conn.execute(CLOSE_TASK, {**closing, "t_key": keys[0]})
                else:
                    conn.execute(CLOSE_TASKS, {**closing, "t_keys": list(keys)})
            if rec.cancel_tasks or rec.cancel_open_tasks:  # no longer needed: cancelled, not done
                q = update(TASKS).where(TASKS.c.case_id == case_id, TASKS.c.status == TaskStatus.OPEN)
                if not rec.cancel_open_tasks:
                    q = q.where(TASKS.c.task_key.in_(rec.cancel_tasks))
                conn.execute(q.values(status=TaskStatus.CANCELLED, completed_at=rec.at))
            if rec.restore_unit:
                self._restore_unit(s, case_id, case_no, rec)
            if rec.open_tasks:
                _insert_rows(conn, INSERT_TASKS, [open_task_row(case_id, project_id, t, rec.at) for t in rec.open_tasks])
                for t in rec.open_tasks:  # a four-eyes step nobody at its level may take goes one level up
                    if t.kind in FOUR_EYES_KINDS:
                        escalate_if_nobody_may(s, case_id, project_id, t.key, t.kind, t.role, rec.at)
                notify_opened_tasks(s, case_id, project_id, [t.key for t in rec.open_tasks], rec.at)
            if rec.notifications:  # into the outbox, to the role's people of the project, with the case's facts
                facts = case_notice_facts(s, case_id)
                for n in rec.notifications:
                    write_notice(s, key=f"case:{case_id}:{n.key}", kind=notice_kind(n.key), project_id=project_id,
                                 role=n.role, params={**facts, **workflow_notice_facts(n.key, rec)},
                                 link=f"/case/{case_id}", case_id=case_id, at=rec.at)
            if rec.breach is not None:
                b = rec.breach
                conn.execute(INSERT_SLA_BREACH, dict(
                    case_id=case_id, sla=b.sla, due_at=b.due_at, breached_at=b.breached_at, escalated_to=b.escalated_to
                ))
            if rec.intake is not None:
                i = rec.intake
                conn.execute(INSERT_INTAKE_FORM, dict(
                    case_id=case_id,
                    reasons=list(i.reasons),
                    reason_text=i.reason_text,
                    willing_to_consider=i.willing_to_consider,
                    id_verified=i.id_verified,
                    phone_verified=i.phone_verified,
                    recording_ref=i.recording_ref,
                    submitted_by=i.submitted_by,
                    submitted_at=i.submitted_at,
                ))
            if rec.draw is not None:
                self._draw(s, case_id, rec.draw)
            if rec.cancel_subscription_id is not None:
                conn.execute(
                    update(Subscription.__table__)
                    .where(Subscription.id == rec.cancel_subscription_id, Subscription.status == SubscriptionStatus.ACTIVE)
                    .values(status=SubscriptionStatus.CANCELLED)
                )
            if rec.refund is not None:
                r = rec.refund
                conn.execute(
                    pg_insert(RefundInstruction.__table__)
                    .values(case_id=case_id, customer_id=r.customer_id, amount=r.amount, share=r.share, route=r.route, policy_version=r.policy_version)
                    .on_conflict_do_nothing(index_elements=["case_id"])
                )
                _insert_rows(conn, INSERT_TASKS, [dict(
                    case_id=case_id,
                    project_id=project_id,
                    task_key="refund_payment",
                    kind="refund_payment",
                    role="finance",
                    title=f"退款指令 {r.amount} 元 — 案件 {case_no}",
                    due_at=r.pay_by,
                    status=TaskStatus.OPEN,
                    created_at=rec.at,
                )])
                notify_opened_tasks(s, case_id, project_id, ["refund_payment"], rec.at)
            if rec.transfer is not None:
                self._transfer(s, rec.transfer)
            if rec.completion is not None:
                self._complete(s, case_id, case_no, rec.completion, rec.at, rec.actor)
        return True

    @staticmethod
    def _patch_values(patch: CasePatch) -> dict:
        """The case columns a step sets: every field of the patch that is not None."""
        values = {}
        for name in CasePatch.__dataclass_fields__:
            value = getattr(patch, name)
            if value is None:
                continue
            values[name] = list(value) if isinstance(value, tuple) else value
        return values

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
    def _restore_unit(s: Session, case_id: uuid.UUID, case_no: str, rec: StepRecord) -> None:
        """A withdrawn or voided case: the unit goes back to the state it had before the case."""
        unit_id = s.scalar(select(RefundCase.unit_id).where(RefundCase.id == case_id))
        unit = s.get(Unit, unit_id, with_for_update=True)
        if unit is not None and unit.state == UnitState.REFUNDING:
            back = unit.state_before_refund or UnitState.SUBSCRIBED
            set_unit_state(s, unit, back, actor=rec.actor, reason=f"退房案件 {case_no} {rec.kind}: 恢复原状态", at=rec.at)
            unit.state_before_refund = None

    @staticmethod
    def _complete(s: Session, case_id: uuid.UUID, case_no: str, c: CompletionSpec, at: datetime, actor: str) -> None:
        """The archive's records; closed_at and retain_until are set on the case with its patch. A voided
        registration leaves none: it was a mistake, not a case (its unit went back with the void)."""
        if c.path == "voided":
            return
        customer = s.get(Customer, c.customer_id, with_for_update=True)
        if customer is not None and SENSITIVE_TAG not in (customer.tags or []):
            customer.tags = [*(customer.tags or []), SENSITIVE_TAG]
        s.add(
            KnowledgeBaseEntry(
                case_id=case_id,
                title=f"退房案件 {case_no} (路径 {c.path})",
                body=f"{c.summary}\n\n复盘要点: {c.lessons}".strip(),
                tags=["退房", f"路径{c.path}"],
            )
        )
        s.add(RegionalBrief(case_id=case_id, body=c.brief))
        unit = s.get(Unit, c.unit_id, with_for_update=True)
        if unit is not None and unit.state == UnitState.REFUNDING:
            if c.release_unit:
                set_unit_state(s, unit, UnitState.AVAILABLE, actor=actor, reason=f"退房完成 {case_no}", at=at)
            else:
                back = unit.state_before_refund or UnitState.SUBSCRIBED
                set_unit_state(s, unit, back, actor=actor, reason=f"退房案件 {case_no} 路径 {c.path}: 继续履约", at=at)
            unit.state_before_refund = None


def activity_list(session_factory: sessionmaker[Session]) -> list:
    acts = RefundActivities(session_factory)
    return [acts.apply_step]
