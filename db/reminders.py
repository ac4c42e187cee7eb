"""Reminders before deadlines: scheduled in the transaction that starts a clock, fired by the dispatcher.

Every clock gets its reminders when it starts — a refund task when it opens (db/notices.notify_opened_tasks),
a subscription's signing deadline, a contract's 备案 deadline, each instalment, a follow-up to-do with a due
time, an appointment with a customer — as rows of `reminders` with the time each fires. When one comes due,
`fire_due` looks at what it watches: still open → a `reminder` notice to whoever holds it now (a task's
claimant, else its pool; the person the record names); done, paid, filed or gone → the reminder is
cancelled and nobody hears of it. The breach point also tells the manager of the project (the escalation
chain of a refund task is the workflow's own, with its SLA-breach notices). Why rows and not timers in a
workflow: docs/decisions.md, "Reminders"."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from db.notice_models import Reminder
from db.notices import schedule_reminders, write_notice
from domain.identity import mask_name
from domain.notify import (
    APPOINTMENT_LEADS,
    INSTALMENT_LEAD,
    clock_reminders,
    end_of_day,
    lead_reminders,
    morning_of,
    reminder_points,
)

# Tasks whose clock only the reminders watch (the workflow escalates its own steps' breaches).
DB_CLOCK_KINDS = ("refund_payment", "dispute", "escalation", "review_meeting")

# Per source: which of the watched records are still open, and who holds each (a person, or None: the pool).
_OPEN = {
    "task": text("SELECT id, claimed_by FROM tasks WHERE id = ANY(:ids) AND status = 'open'"),
    "signing": text("""SELECT s.id, s.consultant_id FROM subscriptions s WHERE s.id = ANY(:ids) AND s.status = 'active'
                       AND NOT EXISTS (SELECT 1 FROM contracts c WHERE c.subscription_id = s.id)"""),
    "filing": text("SELECT id, NULL FROM contracts WHERE id = ANY(:ids) AND filed_on IS NULL"),
    "instalment": text("""SELECT i.id, NULL FROM contract_instalments i JOIN contracts c ON c.id = i.contract_id
                          JOIN subscriptions s ON s.id = c.subscription_id
                          WHERE i.id = ANY(:ids) AND i.amount_paid < i.amount_due AND s.status = 'active'"""),
    "action": text("SELECT id, NULL FROM followup_actions WHERE id = ANY(:ids) AND status = 'open'"),
    "appointment": text("SELECT id, NULL FROM customer_follow_ups WHERE id = ANY(:ids)"),
}


def fire_due(session: Session, now: datetime, limit: int = 200) -> int:
    """Fire the reminders due by `now` (rows another dispatcher holds are skipped); how many were taken."""
    due = session.scalars(
        select(Reminder).where(Reminder.status == "pending", Reminder.fire_at <= now)
        .order_by(Reminder.fire_at, Reminder.id).limit(limit).with_for_update(skip_locked=True)
    ).all()
    by_source: dict[str, list[Reminder]] = defaultdict(list)
    for r in due:
        by_source[r.source].append(r)
    for source, rows in by_source.items():
        holders = dict(session.execute(_OPEN[source], {"ids": sorted({r.source_id for r in rows})}).all())
        for r in rows:
            if r.source_id not in holders:
                r.status, r.fired_at = "cancelled", now
                continue
            holder = holders[r.source_id] or r.user_id
            breach = r.params.get("point") == 100
            write_notice(
                session, key=f"reminder:{r.reminder_key}", kind="reminder", project_id=r.project_id, at=now,
                role=None if holder else r.role, users=[holder] if holder else [], params=r.params, link=r.link,
                case_id=r.case_id, task_id=r.source_id if source == "task" else None,
            )
            if breach and (source != "task" or r.params.get("stage") in DB_CLOCK_KINDS):
                # The escalation chain of a clock no workflow timer watches: the project's manager.
                write_notice(session, key=f"reminder:{r.reminder_key}:manager", kind="reminder", project_id=r.project_id,
                             at=now, role="manager", params=r.params, link=r.link, case_id=r.case_id)
            r.status, r.fired_at = "fired", now
    return len(due)


def next_fire_at(session: Session) -> datetime | None:
    return session.scalar(select(Reminder.fire_at).where(Reminder.status == "pending").order_by(Reminder.fire_at).limit(1))


def _clock_rows(source: str, source_id: int, project_id: int, start: datetime, due: datetime, now: datetime, *,
                user_id: int | None, role: str | None, facts: dict[str, Any], link: str | None,
                case_id: uuid.UUID | None = None, points: Iterable[int] | None = None) -> list[dict]:
    facts = {**facts, "due_at": due.isoformat()}
    return [dict(reminder_key=f"{source}:{source_id}:{p}", source=source, source_id=source_id, project_id=project_id,
                 user_id=user_id, role=role, point=p, fire_at=at, due_at=due, params={**facts, "point": p}, link=link,
                 case_id=case_id)
            for p, at in clock_reminders(start, due, tuple(points or reminder_points(None)), now)]


def _lead_rows(source: str, source_id: int, project_id: int, due: datetime, leads, now: datetime, *,
               user_id: int | None, role: str | None, facts: dict[str, Any], link: str | None) -> list[dict]:
    facts = {**facts, "due_at": due.isoformat()}
    return [dict(reminder_key=f"{source}:{source_id}:-{minutes}", source=source, source_id=source_id,
                 project_id=project_id, user_id=user_id, role=role, point=minutes, fire_at=at, due_at=due,
                 params={**facts, "lead": minutes}, link=link, case_id=None)
            for minutes, at in lead_reminders(due, leads, now)]


def _unit_and_customer(session: Session, unit_id: int, customer_id: int) -> tuple[int, str, str]:
    return session.execute(text("""SELECT u.project_id, u.code, c.name FROM units u, customers c
                                   WHERE u.id = :u AND c.id = :c"""), {"u": unit_id, "c": customer_id}).one()


def schedule_signing(session: Session, *, subscription_id: int, unit_id: int, customer_id: int, consultant_id: int,
                     deadline: date, now: datetime) -> None:
    """The signing deadline's reminders, to the consultant (and at the breach the manager)."""
    project_id, unit, name = _unit_and_customer(session, unit_id, customer_id)
    facts = {"unit": unit, "customer": mask_name(name), "stage": "signing"}
    schedule_reminders(session, _clock_rows("signing", subscription_id, project_id, now, end_of_day(deadline), now,
                                            user_id=consultant_id, role="sales", facts=facts, link="/board"))


def schedule_filing(session: Session, *, contract_id: int, contract_no: str, unit_id: int, customer_id: int,
                    signer_id: int, filing_due: date, now: datetime, signed_at: datetime | None = None) -> None:
    """The 备案 deadline's reminders, to whoever signed the contract, on the clock from its signing (`signed_at`,
    default now) to the end of `filing_due`."""
    project_id, unit, name = _unit_and_customer(session, unit_id, customer_id)
    facts = {"ref": contract_no, "unit": unit, "customer": mask_name(name), "stage": "filing"}
    schedule_reminders(session, _clock_rows("filing", contract_id, project_id, signed_at or now, end_of_day(filing_due),
                                            now, user_id=signer_id, role="sales", facts=facts, link="/board"))


def reschedule_filing(session: Session, contract: Any, now: datetime) -> None:
    """A contract's 备案 deadline moved (ops entered the year's holidays, art. 203): its reminders not yet fired
    are replaced by the clock from signing to the new deadline — else the breach reminder would tell the manager
    of an overdue filing on the old, earlier day. Those already fired stay (their keys are not written again)."""
    session.execute(delete(Reminder).where(Reminder.source == "filing", Reminder.source_id == contract.id,
                                           Reminder.status == "pending"))
    customer_id = session.scalar(text("SELECT customer_id FROM subscriptions WHERE id = :s"),
                                 {"s": contract.subscription_id})
    schedule_filing(session, contract_id=contract.id, contract_no=contract.contract_no, unit_id=contract.unit_id,
                    customer_id=customer_id, signer_id=contract.signed_by, filing_due=contract.filing_due, now=now,
                    signed_at=contract.created_at)


def schedule_instalments(session: Session, *, contract_no: str, unit_id: int, customer_id: int, signer_id: int,
                         instalments: Iterable[Any], now: datetime) -> None:
    """Each instalment: a reminder three days before it is due (09:00), and the breach the day after."""
    project_id, unit, name = _unit_and_customer(session, unit_id, customer_id)
    rows = []
    for i in instalments:
        facts = {"ref": f"{contract_no} 第 {i.seq} 期", "unit": unit, "customer": mask_name(name), "stage": "instalment",
                 "amount": str(i.amount_due)}
        due = end_of_day(i.due_on)
        lead = due - morning_of(i.due_on - INSTALMENT_LEAD)
        rows += _lead_rows("instalment", i.id, project_id, due, (lead,), now, user_id=signer_id, role="sales",
                           facts=facts, link="/board")
        rows += _clock_rows("instalment", i.id, project_id, now, due, now, user_id=signer_id, role="sales", facts=facts,
                            link="/board", points=(100,))
    schedule_reminders(session, rows)


def schedule_appointment(session: Session, *, follow_up_id: int, customer_id: int, project_id: int, customer_name: str,
                         consultant_id: int, at: datetime, now: datetime) -> None:
    """A booked appointment: reminders a day and an hour before, to whoever booked it."""
    facts = {"customer": mask_name(customer_name), "stage": "appointment"}
    schedule_reminders(session, _lead_rows("appointment", follow_up_id, project_id, at, APPOINTMENT_LEADS, now,
                                           user_id=consultant_id, role="sales", facts=facts, link="/home"))


def schedule_action(session: Session, *, action_id: int, project_id: int, role: str, start: datetime, due: datetime,
                    facts: dict[str, Any], now: datetime) -> None:
    """A follow-up to-do with a due time (mortgage documents, a warning's answer): reminders to its role."""
    schedule_reminders(session, _clock_rows("action", action_id, project_id, start, due, now, user_id=None, role=role,
                                            facts=facts, link="/warnings"))


_CUSTOMER = text("SELECT project_id, name FROM customers WHERE id = :id")


def notify_action(session: Session, *, action_id: int, kind: str, role: str, message: str, due_at: datetime | None,
                  customer_id: int | None, at: datetime) -> None:
    """A follow-up to-do (a payment reminder, an overdue notice, a mortgage step, finance's disbursement to-do):
    a notice to its role in the customer's project, and reminders on its clock when it has one. A to-do whose
    customer is unknown has no project and stays on the follow-up's own screen."""
    row = session.execute(_CUSTOMER, {"id": customer_id}).first() if customer_id is not None else None
    if row is None:
        return
    project_id, name = row
    facts = {"customer": mask_name(name), "stage": kind, "text": message[:120],
             **({"due_at": due_at.isoformat()} if due_at else {})}
    write_notice(session, key=f"action:{action_id}", kind="followup_action", project_id=project_id, role=role,
                 params=facts, link="/home", at=at)
    if due_at is not None and due_at > at:
        schedule_action(session, action_id=action_id, project_id=project_id, role=role, start=at, due=due_at,
                        facts=facts, now=at)


def notify_warning(session: Session, warning: Any, *, escalated: bool, at: datetime) -> None:
    """A warning raised (to the role that must answer it, by its deadline) or escalated unanswered (to the role
    above): a notice; a red one reaches people in their quiet hours too."""
    row = session.execute(_CUSTOMER, {"id": warning.customer_id}).first() if warning.customer_id is not None else None
    if row is None:
        return
    project_id, name = row
    facts = {"customer": mask_name(name), "stage": "warning", "level": warning.level,
             "due_at": warning.response_due.isoformat()}
    kind, role = ("warning_escalated", warning.escalate_to) if escalated else ("warning_raised", warning.respond_role)
    write_notice(session, key=f"{kind}:{warning.warning_key}", kind=kind, project_id=project_id, role=role,
                 params=facts, link="/warnings", at=at)
