"""Keyword-only query and command functions for refund cases, shared by api/ and tests.
The caller owns the transaction: nothing here commits."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from db.errors import Conflict, Invalid, NotFound
from db.ledger import set_unit_state
from db.notices import notify_opened_tasks
from db.models import (
    RefundCase,
    RefundPolicyVersion,
    Subscription,
    SubscriptionStatus,
    Task,
    TaskStatus,
    Unit,
    UnitState,
    User,
)
from domain.refund import (
    CaseDeadlines,
    ContractStage,
    DepositKind,
    RefundPolicy,
    policy_from_body,
)
from domain.units import TransitionError, check_transition
from workflows.contracts import (
    Actor,
    ContractSnapshot,
    RefundCaseInput,
    TaskSpec,
    refund_workflow_id,
)


def policy_of_version(session: Session, version: str) -> RefundPolicy | None:
    """The policy a case captured at registration, by its version."""
    row = session.scalar(select(RefundPolicyVersion).where(RefundPolicyVersion.version == version))
    return None if row is None else policy_from_body(row.version, row.body)


def contract_snapshot(sub: Subscription) -> ContractSnapshot:
    """From the contract when the subscription has one (stage online_signed / loan_disbursed, paid =
    deposit + receipts), otherwise from the subscription. The contract is read through `sub`'s session."""
    from sqlalchemy.orm import object_session

    from db.contracts import (
        contract_figures,  # imported here: db.contracts is the contract module's
    )

    session = object_session(sub)
    figures = contract_figures(session, subscription_id=sub.id) if session is not None else None
    if figures is not None:
        stage, paid = figures
        return ContractSnapshot(
            stage=stage,
            deposit_kind=DepositKind(sub.deposit_kind),
            deposit_amount=Decimal(sub.deposit_amount),
            paid_amount=paid,
            price=Decimal(sub.price),
        )
    return ContractSnapshot(
        stage=ContractStage(sub.stage),
        deposit_kind=DepositKind(sub.deposit_kind),
        deposit_amount=Decimal(sub.deposit_amount),
        paid_amount=Decimal(sub.paid_amount),
        price=Decimal(sub.price),
    )


def intake_task(case: RefundCase, due_at: datetime) -> TaskSpec:
    return TaskSpec(
        key="intake",
        kind="intake",
        role="frontdesk",
        title=f"退房原因初步登记 (30分钟内) — 案件 {case.case_no}",
        due_at=due_at,
    )


def open_refund_case(
    session: Session,
    *,
    subscription_id: int,
    registered_by: User,
    registered_at: datetime,
    policy: RefundPolicy,
    deadlines: CaseDeadlines,
) -> RefundCase:
    """Register a refund request: the case row, the unit to 退房中 and the intake task, atomically.

    The unit row is locked first, so two registrations for one unit serialise; the partial unique
    index on open cases per subscription is the last word.
    """
    sub = session.get(Subscription, subscription_id)
    if sub is None:
        raise NotFound(f"subscription {subscription_id} does not exist")
    unit = session.get(Unit, sub.unit_id, with_for_update=True)
    session.refresh(sub)
    if sub.status != SubscriptionStatus.ACTIVE:
        raise Conflict(f"subscription {subscription_id} is {sub.status}, not active: there is nothing to refund")
    assert unit is not None
    if unit.state == UnitState.REFUNDING:
        raise Conflict(f"unit {unit.code} already has a refund case in progress")
    try:
        to_state = check_transition("open_refund", current=unit.state, role=registered_by.role)
    except TransitionError as e:
        raise Conflict(f"unit {unit.code}: {e}") from None
    if sub.stage == ContractStage.LOAN_DISBURSED and unit.state == UnitState.SUBSCRIBED:
        raise Invalid("records disagree: the loan is disbursed but the unit is only subscribed")
    case_id = uuid.uuid4()
    case = RefundCase(
        id=case_id,
        case_no=f"RF{registered_at:%Y%m%d}-{case_id.hex[:6].upper()}",
        project_id=unit.project_id,
        unit_id=unit.id,
        subscription_id=sub.id,
        customer_id=sub.customer_id,
        registered_by=registered_by.id,
        registered_at=registered_at,
        workflow_id=refund_workflow_id(str(case_id)),
        policy_version=policy.version,
        stage="intake",
        escalation_level=0,
        needs_gm=False,
        escalation_reasons=[],
        deadlines={k: getattr(deadlines, k).isoformat() for k in ("intake", "assessment", "solution")},
        assessments={},
        options=[],
        outcome={},
    )
    session.add(case)
    unit.state_before_refund = unit.state
    set_unit_state(session, unit, to_state, actor=registered_by.username, reason=f"退房申请 {case.case_no}", at=registered_at)
    t = intake_task(case, deadlines.intake)
    session.flush()
    session.add(Task(**open_task_row(case.id, case.project_id, t, registered_at)))
    session.flush()
    notify_opened_tasks(session, case.id, case.project_id, [t.key], registered_at)  # the front desk hears of it
    return case


def open_task_row(case_id: uuid.UUID, project_id: int, spec: TaskSpec, at: datetime) -> dict:
    """The tasks row of a step the workflow opened (a TaskSpec: key, kind, role, title, due_at), opened at `at`
    in the role pool of the case's project; the one shape for the intake task written at registration and
    every task the workflow records."""
    return dict(case_id=case_id, project_id=project_id, task_key=spec.key, kind=spec.kind, role=spec.role,
                title=spec.title, due_at=spec.due_at, status=TaskStatus.OPEN, created_at=at)


def workflow_input(
    *, case: RefundCase, sub: Subscription, registered_by: User, policy: RefundPolicy, speedup: int
) -> RefundCaseInput:
    return RefundCaseInput(
        case_id=str(case.id),
        case_no=case.case_no,
        project_id=case.project_id,
        unit_id=case.unit_id,
        subscription_id=case.subscription_id,
        customer_id=case.customer_id,
        consultant_id=sub.consultant_id,
        registered_by=Actor(user_id=registered_by.id, username=registered_by.username, role=registered_by.role),
        registered_at=case.registered_at,
        policy=policy,
        contract=contract_snapshot(sub),
        speedup=speedup,
        calendar_overrides=_overrides_from(case.registered_at, policy, sub),
    )


def _overrides_from(registered_at: datetime, policy: RefundPolicy, sub: Subscription) -> tuple:
    """The calendar override rows from registration day on, only when the policy counts a clock in working days
    (the input stays small and the common case reads nothing)."""
    if not (policy.choice_working_days or policy.contract_cancellation_working_days
            or policy.refund_payment_working_days):
        return ()
    from sqlalchemy.orm import object_session

    from db.followup_models import CalendarOverride
    from domain.calendar import china_date

    session = object_session(sub)
    rows = session.execute(select(CalendarOverride.day, CalendarOverride.is_workday)
                           .where(CalendarOverride.day >= china_date(registered_at))
                           .order_by(CalendarOverride.day)).all()
    return tuple((day.isoformat(), bool(w)) for day, w in rows)


_TASKS = Task.__table__
_CASES = RefundCase.__table__
# Plain Core statements on the session's connection: no ORM compile or row processing for two reads that
# every task completion makes (same SQL, same transaction).
_TASK_AND_CASE = (
    select(
        _TASKS.c.id, _TASKS.c.case_id, _TASKS.c.kind, _TASKS.c.role, _TASKS.c.status, _TASKS.c.completed_by,
        _TASKS.c.project_id, _TASKS.c.claimed_by, _CASES.c.case_no, _CASES.c.workflow_id, _CASES.c.customer_id, _CASES.c.stage,
    )
    .join(_CASES, _CASES.c.id == _TASKS.c.case_id)
    .where(_TASKS.c.id == bindparam("task_id"))
)
_OPEN_TASKS = (
    select(_TASKS.c.id, _TASKS.c.case_id, _TASKS.c.kind, _TASKS.c.role, _TASKS.c.title, _TASKS.c.due_at, _TASKS.c.created_at,
           _TASKS.c.project_id, _TASKS.c.claimed_by, _TASKS.c.claimed_at)
    .where(_TASKS.c.case_id == bindparam("case_id"), _TASKS.c.status == TaskStatus.OPEN)
    .order_by(_TASKS.c.id)
)


def task_and_case(session: Session, *, task_id: int):
    """A task with the few columns of its case that completing it needs, in one query (a Row: id, case_id,
    kind, role, status, completed_by, project_id, claimed_by, case_no, workflow_id, customer_id, stage), or None."""
    return session.connection().execute(_TASK_AND_CASE, {"task_id": task_id}).first()


def open_task_rows(session: Session, *, case_id: uuid.UUID) -> list:
    """The case's open tasks, oldest first, as rows of the columns a task listing shows (no ORM objects)."""
    return session.connection().execute(_OPEN_TASKS, {"case_id": case_id}).all()


def get_case(session: Session, *, case_id: uuid.UUID) -> RefundCase:
    case = session.get(RefundCase, case_id)
    if case is None:
        raise NotFound(f"refund case {case_id} does not exist")
    return case
