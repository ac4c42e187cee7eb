"""The in-app notification centre: my notices, newest first, with the unread count; mark one or all read."""

from __future__ import annotations

from datetime import datetime, timezone

from fastapi import APIRouter, Query
from pydantic import BaseModel

from api.deps import SessionDep, Staff, release_connection
from db import notices as svc

router = APIRouter(prefix="/api/notifications", tags=["notifications"])


class NotificationOut(BaseModel):
    id: int
    kind: str
    title: str
    body: str
    link: str | None  # a path in the web app: #/task/12, #/case/<id>
    case_id: str | None
    task_id: int | None
    created_at: datetime
    read_at: datetime | None


class NotificationPage(BaseModel):
    items: list[NotificationOut]
    unread: int
    next_before: int | None  # pass as `before` for the next (older) page; null: the last


class Unread(BaseModel):
    unread: int


class Marked(BaseModel):
    marked: int
    unread: int


@router.get("", response_model=NotificationPage, summary="My notifications, newest first")
def my_notifications(session: SessionDep, user: Staff, unread: bool = False,
                     limit: int = Query(default=30, ge=1, le=100), before: int | None = Query(default=None, ge=1)) -> NotificationPage:
    rows, count = svc.inbox(session, user.id, unread_only=unread, limit=limit + 1, before=before)
    more = len(rows) > limit
    rows = rows[:limit]
    items = [NotificationOut(id=d.id, kind=n.kind, title=n.title, body=n.body, link=n.link,
                             case_id=str(n.case_id) if n.case_id else None, task_id=n.task_id, created_at=n.created_at,
                             read_at=d.read_at) for d, n in rows]
    release_connection(session)
    return NotificationPage(items=items, unread=count, next_before=rows[-1][0].id if more and rows else None)


@router.get("/unread", response_model=Unread, summary="How many of my notifications are unread")
def unread(session: SessionDep, user: Staff) -> Unread:
    return Unread(unread=svc.unread_count(session, user.id))


@router.post("/{notification_id}/read", response_model=Marked, summary="Mark one read")
def read_one(notification_id: int, session: SessionDep, user: Staff) -> Marked:
    n = svc.mark_read(session, user.id, notification_id, datetime.now(timezone.utc))
    session.commit()
    return Marked(marked=n, unread=svc.unread_count(session, user.id))


@router.post("/read-all", response_model=Marked, summary="Mark all of mine read")
def read_all(session: SessionDep, user: Staff) -> Marked:
    n = svc.mark_read(session, user.id, None, datetime.now(timezone.utc))
    session.commit()
    return Marked(marked=n, unread=svc.unread_count(session, user.id))
