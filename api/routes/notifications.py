"""The in-app notification centre: my notices, newest first, with the unread count; mark one or all read. And
my notification settings: e-mail, language, quiet hours."""

from __future__ import annotations

import re
from datetime import datetime, time, timezone
from typing import Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import select, update

from api.deps import SessionDep, Staff, release_connection
from api.strict import RequestModel
from db import notices as svc
from db.errors import Invalid
from db.models import User
from db.notice_models import NotificationPrefs
from domain.notify import LANGUAGES, NOTICE_KINDS, PERSON_CHANNELS, is_urgent, render

router = APIRouter(prefix="/api/notifications", tags=["notifications"])
settings_router = APIRouter(tags=["notifications"])


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
    lang = svc.language_of(session, user.id)
    release_connection(session)
    now = datetime.now(timezone.utc)
    items = []
    for d, n in rows:
        title, body = render(n.kind, n.params, lang, now) if n.params else (n.title, n.body)
        items.append(NotificationOut(id=d.id, kind=n.kind, title=title, body=body, link=n.link,
                                     case_id=str(n.case_id) if n.case_id else None, task_id=n.task_id,
                                     created_at=n.created_at, read_at=d.read_at))
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


class NoticeKind(BaseModel):
    kind: str
    urgent: bool  # reaches people in their quiet hours (red warnings and breaches are; see /api/me/notification-settings)


@settings_router.get("/api/notice-kinds", response_model=list[NoticeKind], summary="What notices are about")
def notice_kinds(_: Staff) -> list[NoticeKind]:
    return [NoticeKind(kind=k, urgent=is_urgent(k, {"level": "red"}) and k != "warning_escalated") for k in NOTICE_KINDS]


_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


class NoticeSettings(BaseModel):
    email: str | None
    channels: list[str]
    language: str
    quiet_start: str | None  # HH:MM, China time
    quiet_end: str | None


class NoticeSettingsIn(RequestModel):
    email: str | None = Field(default=None, max_length=254)
    channels: list[Literal["inapp", "email"]] = Field(default_factory=lambda: ["inapp"],
                                                      description="the in-app centre is always on")
    language: Literal["zh-CN", "en"] = "zh-CN"
    quiet_start: str | None = Field(default=None, pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", description="HH:MM")
    quiet_end: str | None = Field(default=None, pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", description="HH:MM")


def _hhmm(t: time | None) -> str | None:
    return t.strftime("%H:%M") if t is not None else None


def _settings(email: str | None, prefs: NotificationPrefs | None) -> NoticeSettings:
    if prefs is None:
        return NoticeSettings(email=email, channels=["inapp"], language=LANGUAGES[0], quiet_start=None, quiet_end=None)
    return NoticeSettings(email=email, channels=["inapp", *(c for c in prefs.channels if c != "inapp")],
                          language=prefs.language, quiet_start=_hhmm(prefs.quiet_start), quiet_end=_hhmm(prefs.quiet_end))


@settings_router.get("/api/me/notification-settings", response_model=NoticeSettings, summary="My notification settings")
def my_settings(session: SessionDep, user: Staff) -> NoticeSettings:
    email = session.scalar(select(User.email).where(User.id == user.id))  # not the sign-in cache's copy
    return _settings(email, session.get(NotificationPrefs, user.id))


@settings_router.put("/api/me/notification-settings", response_model=NoticeSettings,
                     summary="Set my e-mail, channels, language and quiet hours")
def set_my_settings(body: NoticeSettingsIn, session: SessionDep, user: Staff) -> NoticeSettings:
    problems = []
    email = (body.email or "").strip() or None
    if email is not None and not _EMAIL.match(email):
        problems.append(("body.email", f"{email!r} is not an e-mail address"))
    if "email" in body.channels and email is None:
        problems.append(("body.email", "give an e-mail address to receive notices by e-mail"))
    if (body.quiet_start is None) != (body.quiet_end is None):
        problems.append(("body.quiet_end" if body.quiet_end is None else "body.quiet_start",
                         "quiet hours need both a start and an end"))
    elif body.quiet_start is not None and body.quiet_start == body.quiet_end:
        problems.append(("body.quiet_end", "quiet hours cannot start and end at the same time"))
    if problems:
        err = Invalid("; ".join(m for _, m in problems))
        err.errors = tuple({"field": f, "code": "value_error", "message": m} for f, m in problems)
        raise err
    prefs = session.get(NotificationPrefs, user.id) or NotificationPrefs(user_id=user.id)
    prefs.channels = [c for c in PERSON_CHANNELS if c in body.channels or c == "inapp"]
    prefs.language = body.language
    prefs.quiet_start = time.fromisoformat(body.quiet_start) if body.quiet_start else None
    prefs.quiet_end = time.fromisoformat(body.quiet_end) if body.quiet_end else None
    prefs.updated_at = datetime.now(timezone.utc)
    session.add(prefs)
    session.execute(update(User).where(User.id == user.id).values(email=email))
    session.commit()
    return _settings(email, prefs)
