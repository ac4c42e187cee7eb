"""Customer-based early warnings (DOMAIN §5): evaluate a customer's records with the pure rules in
domain/warnings.py and record or upgrade the customer's one open warning.

One open customer warning per customer: the evaluation holds a transaction-level advisory lock on the
customer, so two concurrent evaluations are serialised. An open warning is only ever upgraded (a higher
level, with the rules that fired); a downgrade needs a person and a reason (POST /api/warnings/{id}/respond).
Flushes, never commits: the caller commits with the record that triggered the evaluation.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select, text, union
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from db import customers as records
from db.customer_models import CustomerFollowUp, CustomerVisit
from db.followup_models import FollowupAction, WarningRecord
from db.reminders import notify_warning
from domain import customers as topics
from domain.calendar import china_date
from domain.warnings import (
    DEFAULT_INQUIRY_WINDOW,
    DEFAULT_LITIGATION_WINDOW,
    LEVELS,
    VISIT_PERIOD,
    Level,
    RuleHit,
    customer_warning,
    litigation_threat_rule,
    merge_rules,
    needs_new_warning,
    rank,
    refund_inquiry_rule,
    visit_periods,
    visits_dropped_rule,
)


def customer_case_ref(customer_id: int) -> str:
    return f"customer-{customer_id}"


def customer_hits(session: Session, customer_id: int, now: datetime) -> list[RuleHit]:
    """The customer-based rules that fire for this customer at `now`."""
    inquiries = records.refund_policy_inquiry_times(session, customer_id, now - DEFAULT_INQUIRY_WINDOW)
    threats = records.topic_times(session, customer_id, topics.LITIGATION_THREAT, now - DEFAULT_LITIGATION_WINDOW)
    (recent_start, recent_end), (before_start, before_end) = visit_periods(now)
    appointment = records.next_appointment(session, customer_id, now)
    hits = [
        refund_inquiry_rule(inquiries, now=now),
        visits_dropped_rule(
            visits_recent=records.visit_count(session, customer_id, recent_start, recent_end),
            visits_before=records.visit_count(session, customer_id, before_start, before_end),
            next_appointment=china_date(appointment) if appointment else None,
            today=china_date(now),
        ),
        litigation_threat_rule(threats, now=now),
    ]
    return [h for h in hits if h is not None]


def _customer_warnings(customer_id: int):
    return select(WarningRecord).where(
        WarningRecord.customer_id == customer_id, WarningRecord.case_ref == customer_case_ref(customer_id)
    )


def evaluate_customer_warnings(session: Session, *, customer_id: int, now: datetime) -> WarningRecord | None:
    """Records a new warning or upgrades the open one; returns the warning created or changed, else None."""
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"warnings.customer:{customer_id}"})
    hits = customer_hits(session, customer_id, now)
    decision = customer_warning(hits, raised_at=now)
    if decision is None:
        return None
    open_ = session.scalar(
        _customer_warnings(customer_id).where(WarningRecord.responded_at.is_(None))
        .order_by(WarningRecord.id.desc()).limit(1).with_for_update()
    )
    if open_ is not None:
        merged = merge_rules(open_.rules or [], decision.fired)
        if rank(decision.level) > rank(open_.level):  # upgrade: new level, its deadline and who responds
            spec = LEVELS[decision.level]
            open_.level = decision.level.value
            open_.response_due = now + spec.respond_within
            open_.respond_role, open_.escalate_to = spec.respond_role, spec.escalate_to
        elif merged == list(open_.rules or []):
            return None  # same or lower level, nothing new: never downgraded automatically
        open_.rules = merged
        open_.risk_score = max(open_.risk_score, decision.risk_score)
        session.flush()
        return open_
    last = session.scalar(
        _customer_warnings(customer_id).where(WarningRecord.responded_at.is_not(None))
        .order_by(WarningRecord.responded_at.desc()).limit(1)
    )
    last_level = None
    if last is not None:
        last_level = max((Level(x) for x in (last.level, last.downgraded_from) if x), key=rank)
    if not needs_new_warning(decision.level, last_closed_level=last_level,
                             last_responded_at=last.responded_at if last else None, now=now):
        return None
    w = WarningRecord(
        warning_key=f"customer:{customer_id}:{uuid.uuid4().hex}", customer_id=customer_id,
        case_ref=customer_case_ref(customer_id), level=decision.level.value,
        rules=[{"rule": h.rule, "score": h.score, "detail": h.detail} for h in decision.fired],
        risk_score=decision.risk_score, raised_at=now, response_due=decision.response_due,
        respond_role=decision.respond_role, escalate_to=decision.escalate_to,
    )
    session.add(w)
    session.flush()
    notify_warning(session, w, escalated=False, at=now)
    return w


@dataclass
class SweepResult:
    evaluated: int = 0
    changed: list[WarningRecord] = field(default_factory=list)


def active_customer_ids(session: Session, now: datetime) -> list[int]:
    """Customers with a visit in the last two visit periods or a follow-up in the longest rule window:
    the only ones any customer-based rule can fire for."""
    visits_since = now - 2 * VISIT_PERIOD
    follow_ups_since = now - max(DEFAULT_INQUIRY_WINDOW, DEFAULT_LITIGATION_WINDOW)
    q = union(
        select(CustomerVisit.customer_id).where(CustomerVisit.visited_at >= visits_since, CustomerVisit.visited_at < now),
        select(CustomerFollowUp.customer_id).where(
            or_(CustomerFollowUp.at >= follow_ups_since, CustomerFollowUp.next_appointment_at >= now)
        ),
    )
    return sorted(session.scalars(q))


def sweep_customer_warnings(session: Session, now: datetime) -> SweepResult:
    """Evaluates every recently active customer (the visits-dropped rule fires with no new record);
    flushes, the caller commits. Meant to run on a schedule (a Temporal schedule can call it later)."""
    out = SweepResult()
    for customer_id in active_customer_ids(session, now):
        out.evaluated += 1
        w = evaluate_customer_warnings(session, customer_id=customer_id, now=now)
        if w is not None:
            out.changed.append(w)
    # The one warning that is not a customer's: the working-day calendar running out (within 90 days), for
    # ops; it rides on this sweep (every 5 minutes) rather than a schedule of its own. Idempotent.
    from db.work_calendar import raise_coverage_warning

    calendar = raise_coverage_warning(session, now)
    if calendar is not None:
        out.changed.append(calendar)
    # Complaint keywords rising week on week (issue 16): segmenting the week's texts is heavier than the other
    # rules, so once an hour (the first sweep of each hour); idempotent per project, keyword and week.
    if now.minute < 5:
        from db.knowledge import raise_rising_keyword_warnings

        out.changed.extend(raise_rising_keyword_warnings(session, now))
    return out


def escalate_overdue_warnings(session: Session, *, now: datetime) -> list[int]:
    """Every warning nobody answered by its response deadline escalates once, to its `escalate_to` role:
    an escalation to-do is recorded and the warning is marked. Rows another transaction holds are skipped
    (the next sweep takes them). Returns the escalated warning ids."""
    overdue = session.scalars(
        select(WarningRecord)
        .where(WarningRecord.responded_at.is_(None), WarningRecord.escalated_at.is_(None), WarningRecord.response_due <= now)
        .order_by(WarningRecord.response_due)
        .with_for_update(skip_locked=True)
    ).all()
    for w in overdue:
        w.escalated_at = now
        notify_warning(session, w, escalated=True, at=now)
        session.execute(
            pg_insert(FollowupAction)
            .values(
                followup_id=w.case_ref, action_key=f"escalation:{w.warning_key}", kind="escalation", role=w.escalate_to,
                message=f"{w.level} warning on {w.case_ref} was not answered by {w.response_due.isoformat()}",
                detail={"warning_id": w.id, "rules": w.rules}, status="open",
            )
            .on_conflict_do_nothing(index_elements=["followup_id", "action_key"])
        )
    session.flush()
    return [w.id for w in overdue]
