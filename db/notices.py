"""Writing notices into the outbox, in the caller's transaction (so a notice exists exactly when its cause
committed), and reading a person's in-app notices.

A notice for a role pool reaches, in-app, every active person holding that role over the project (project,
city company or group membership) and everyone standing in for one of them now; each delivery has a dedupe
key `<notice key>:<channel>:<target>`, the same on every attempt. When a notice has robot deliveries,
`pg_notify('notices', id)` wakes the dispatcher as the transaction commits (docs/decisions.md,
"Notifications"); in-app deliveries need no waking."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from db.errors import NotFound
from db.models import Task
from db.notice_models import Notice, NoticeDelivery
from domain.calendar import CHINA

# The people of a role pool in a project, and their substitutes in force (one statement, no round trips).
_POOL_DELIVERIES = text("""
    INSERT INTO notice_deliveries (notice_id, channel, user_id, target, dedupe_key, status, sent_at)
    SELECT :notice_id, 'inapp', who.user_id, 'user:' || who.user_id, :key || ':inapp:user:' || who.user_id, 'sent', :at
    FROM (
      SELECT m.user_id FROM memberships m
      JOIN projects p ON p.id = :project_id
      JOIN users u ON u.id = m.user_id AND u.active
      WHERE m.role = :role AND m.revoked_at IS NULL
        AND (m.project_id = p.id OR m.city_company_id = p.city_company_id OR m.scope = 'group')
      UNION
      SELECT d.substitute_id FROM delegations d
      JOIN memberships m ON m.user_id = d.delegator_id AND m.role = :role AND m.revoked_at IS NULL
      JOIN projects p ON p.id = :project_id
      JOIN users u ON u.id = d.substitute_id AND u.active
      WHERE d.ended_at IS NULL AND d.starts_at <= :at AND d.ends_at > :at
        AND (m.project_id = p.id OR m.city_company_id = p.city_company_id OR m.scope = 'group')
    ) who
    ON CONFLICT (dedupe_key) DO NOTHING
""")


# The project's active robots that take this kind of notice: a pending delivery each, for the dispatcher.
_ROBOT_DELIVERIES = text("""
    INSERT INTO notice_deliveries (notice_id, channel, user_id, target, dedupe_key, status, next_attempt_at)
    SELECT :notice_id, r.kind, NULL, 'robot:' || r.id, :key || ':' || r.kind || ':robot:' || r.id, 'pending', :at
    FROM project_robots r
    WHERE r.project_id = :project_id AND r.active
      AND (jsonb_array_length(r.notice_kinds) = 0 OR r.notice_kinds @> jsonb_build_array(CAST(:kind AS text)))
    ON CONFLICT (dedupe_key) DO NOTHING
""")


def write_notice(
    session: Session, *, key: str, kind: str, project_id: int, role: str, title: str, at: datetime,
    body: str = "", link: str | None = None, case_id: uuid.UUID | None = None, task_id: int | None = None,
) -> int | None:
    """The notice (idempotent on `key`) and its in-app deliveries to the role's people in the project; its id,
    or None when it was written before (an activity's retry)."""
    notice_id = session.execute(
        pg_insert(Notice).values(notice_key=key, kind=kind, project_id=project_id, case_id=case_id, task_id=task_id,
                                 role=role, title=title[:256], body=body, link=link, created_at=at)
        .on_conflict_do_nothing(index_elements=["notice_key"]).returning(Notice.id)
    ).scalar()
    if notice_id is None:
        return None
    session.execute(_POOL_DELIVERIES, {"notice_id": notice_id, "key": key, "at": at, "project_id": project_id,
                                       "role": role})
    robots = session.execute(_ROBOT_DELIVERIES, {"notice_id": notice_id, "key": key, "at": at,
                                                 "project_id": project_id, "kind": kind}).rowcount
    if robots:  # only the dispatcher's channels need waking; in-app deliveries are delivered by being written
        session.execute(text("SELECT pg_notify('notices', :id)"), {"id": str(notice_id)})
    return notice_id


def notice_kind(key: str) -> str:
    """The kind of a workflow's notice, from its key (breach:<sla>:<role>, regional_brief, ...)."""
    return "sla_breach" if key.startswith("breach:") else key.split(":", 1)[0]


def notify_opened_tasks(session: Session, case_id: uuid.UUID, project_id: int, task_keys: list[str], at: datetime) -> None:
    """A notice per task the step opened, to its pool (after any move one level up), linking to the task."""
    rows = session.execute(select(Task.id, Task.role, Task.title, Task.due_at).where(
        Task.case_id == case_id, Task.task_key.in_(task_keys))).all()
    for task_id, role, title, due_at in rows:
        body = f"截止 {due_at.astimezone(CHINA):%Y-%m-%d %H:%M}" if due_at else ""
        write_notice(session, key=f"task:{task_id}:opened", kind="task_opened", project_id=project_id, role=role,
                     title=title, body=body, link=f"/task/{task_id}", case_id=case_id, task_id=task_id, at=at)


def inbox(session: Session, user_id: int, *, unread_only: bool, limit: int, before: int | None) -> tuple[list, int]:
    """(rows of (delivery, notice), unread count): newest first, `before` a delivery id for the next page."""
    q = (select(NoticeDelivery, Notice).join(Notice, Notice.id == NoticeDelivery.notice_id)
         .where(NoticeDelivery.user_id == user_id, NoticeDelivery.channel == "inapp"))
    if unread_only:
        q = q.where(NoticeDelivery.read_at.is_(None))
    if before is not None:
        q = q.where(NoticeDelivery.id < before)
    rows = session.execute(q.order_by(NoticeDelivery.id.desc()).limit(limit)).all()
    return list(rows), unread_count(session, user_id)


def unread_count(session: Session, user_id: int) -> int:
    return session.scalar(select(func.count()).select_from(NoticeDelivery).where(
        NoticeDelivery.user_id == user_id, NoticeDelivery.channel == "inapp", NoticeDelivery.read_at.is_(None))) or 0


def mark_read(session: Session, user_id: int, delivery_id: int | None, at: datetime) -> int:
    """Mark one of the person's notices read (404 when it is not theirs), or all of them (None); how many."""
    q = update(NoticeDelivery).where(NoticeDelivery.user_id == user_id, NoticeDelivery.channel == "inapp",
                                     NoticeDelivery.read_at.is_(None))
    if delivery_id is not None:
        mine = session.scalar(select(NoticeDelivery.id).where(NoticeDelivery.id == delivery_id, NoticeDelivery.user_id == user_id,
                                                              NoticeDelivery.channel == "inapp"))
        if mine is None:
            raise NotFound(f"notification {delivery_id} does not exist")
        q = q.where(NoticeDelivery.id == delivery_id)
    return session.execute(q.values(read_at=at)).rowcount or 0
