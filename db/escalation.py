"""A four-eyes step nobody at its level may take goes one level up instead of waiting for ever.

When the workflow opens the city GM's approval of a case, the activity checks who could decide it: the
active people holding `citygm` over the case's project (by a membership of the project, its city company or
the group). Whoever registered the case, took its intake or gave part of its assessment may not (the
workflow's four-eyes rule). If nobody is left, the task goes to the next level's role (HQ risk control,
domain.access.ONE_LEVEL_UP) and the case's timeline says why (a `task_escalated` event)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from db.models import CaseEvent, Project, RefundCase, Task, TaskStatus, User
from db.org_models import Membership
from domain.access import FOUR_EYES_KINDS, one_level_up

_PARTICIPATING = ("intake", "assessment")


def eligible_people(session: Session, role: str, project_id: int) -> set[int]:
    """Active people holding `role` over the project, by any scope."""
    city = select(Project.city_company_id).where(Project.id == project_id).scalar_subquery()
    return set(session.scalars(
        select(Membership.user_id).join(User, User.id == Membership.user_id)
        .where(User.active.is_(True), Membership.role == role, Membership.revoked_at.is_(None),
               (Membership.project_id == project_id) | (Membership.city_company_id == city) | (Membership.scope == "group"))
    ))


def participants(session: Session, case_id: uuid.UUID) -> set[int]:
    """Who registered the case, took its intake or assessed it (and those they stood in for)."""
    registered_by = session.scalar(select(RefundCase.registered_by).where(RefundCase.id == case_id))
    events = session.execute(select(CaseEvent.actor, CaseEvent.detail).where(
        CaseEvent.case_id == case_id, CaseEvent.kind.in_(_PARTICIPATING))).all()
    logins = {a for a, _ in events} | {(d or {}).get("on_behalf_of") for _, d in events}
    ids = set(session.scalars(select(User.id).where(User.username.in_([x for x in logins if x]))))
    return ids | ({registered_by} if registered_by is not None else set())


def escalate_if_nobody_may(session: Session, case_id: uuid.UUID, project_id: int, task_key: str, kind: str,
                           role: str, at: datetime) -> str | None:
    """Move a just-opened four-eyes task one level up when nobody at its level may take it; the new role, or
    None when it stays. Idempotent: the timeline event is keyed by the task."""
    if kind not in FOUR_EYES_KINDS or one_level_up(role) is None:
        return None
    if eligible_people(session, role, project_id) - participants(session, case_id):
        return None
    up = one_level_up(role)
    session.execute(update(Task).where(Task.case_id == case_id, Task.task_key == task_key, Task.status == TaskStatus.OPEN)
                    .values(role=up, claimed_by=None, claimed_at=None))
    session.execute(pg_insert(CaseEvent).values(
        case_id=case_id, event_key=f"escalated:{task_key}", kind="task_escalated", actor="system", at=at,
        detail={"task": task_key, "from_role": role, "to_role": up,
                "reason": f"every {role} who may decide this case registered or assessed it (four eyes)"},
    ).on_conflict_do_nothing(index_elements=["case_id", "event_key"]))
    return up
