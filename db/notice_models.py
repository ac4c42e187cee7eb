"""The notification outbox (migration 0015): a notice per event that someone must hear about, written in the
same transaction as the event, and one delivery per (notice, channel, recipient) with its dedupe key. The
in-app centre reads the `inapp` deliveries; a dispatcher delivers the other channels (docs/decisions.md,
"Notifications")."""

from __future__ import annotations

import uuid
from datetime import datetime, time

from sqlalchemy import BigInteger, Boolean, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text, Time, func, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base, JsonB


class Notice(Base):
    """Something happened that people must hear about. `notice_key` makes writing it idempotent (an activity
    retried writes it once)."""

    __tablename__ = "notices"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    notice_key: Mapped[str] = mapped_column(String(160), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"), nullable=True, index=True)
    case_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), ForeignKey("refund_cases.id"), nullable=True)
    task_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("tasks.id"), nullable=True)
    role: Mapped[str | None] = mapped_column(String(16), nullable=True)  # the pool it was for, if any
    title: Mapped[str] = mapped_column(String(256))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(256), nullable=True)  # a path in the web app (#/task/12)
    # The facts the words are made from, per reader (domain.notify.render); never a customer's name unmasked.
    params: Mapped[dict] = mapped_column(JsonB, default=dict, server_default=text("'{}'::jsonb"))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))  # ignores quiet hours
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class NoticeDelivery(Base):
    """One notice to one recipient over one channel, at least once: `dedupe_key` is the same on every attempt,
    so a receiver can drop a repeat. In-app deliveries are delivered when written; `read_at` is their state."""

    __tablename__ = "notice_deliveries"
    __table_args__ = (
        Index("ix_notice_deliveries_inbox", "user_id", "id", postgresql_where=text("channel = 'inapp'")),
        Index("ix_notice_deliveries_unread", "user_id", postgresql_where=text("channel = 'inapp' AND read_at IS NULL")),
        Index("ix_notice_deliveries_due", "next_attempt_at", postgresql_where=text("status = 'pending'")),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    notice_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("notices.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))  # inapp | wecom | dingtalk | email
    user_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("users.id"), nullable=True)
    target: Mapped[str] = mapped_column(String(64))  # user:<id> or robot:<id>
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(12))  # pending | sent | dead
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # The dedupe key of the message that carried it (a robot's burst goes as one message of several notices).
    message_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ProjectRobot(Base):
    """A project's group robot (WeCom or DingTalk) and the notice kinds it receives (empty: all). The webhook
    URL (it holds the robot's key) and the DingTalk signing secret are stored encrypted like personal data and
    shown masked."""

    __tablename__ = "project_robots"
    __table_args__ = (CheckConstraint("kind IN ('wecom', 'dingtalk')", name="project_robot_kind"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(64))
    webhook_enc: Mapped[str] = mapped_column(Text)
    webhook_masked: Mapped[str] = mapped_column(String(96))
    secret_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    notice_kinds: Mapped[list] = mapped_column(JsonB, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class NotificationPrefs(Base):
    """A person's own notification settings: channels beyond the in-app centre (e-mail), the language of what
    they receive, and quiet hours (China time, may cross midnight) during which only urgent notices go out."""

    __tablename__ = "notification_prefs"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    channels: Mapped[list] = mapped_column(JsonB, default=lambda: ["inapp"], server_default=text("'[\"inapp\"]'::jsonb"))
    language: Mapped[str] = mapped_column(String(8), default="zh-CN", server_default="zh-CN")
    quiet_start: Mapped[time | None] = mapped_column(Time, nullable=True)
    quiet_end: Mapped[time | None] = mapped_column(Time, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Reminder(Base):
    """A notice scheduled before (or at) a deadline, written in the same transaction as the clock it watches
    (a task opened, a subscription's signing deadline, a contract's filing deadline, an instalment, a
    follow-up to-do, an appointment). When it comes due the dispatcher looks at its source: still open → a
    notice to whoever holds it (the claimant, the person, else the role's pool); done → cancelled."""

    __tablename__ = "reminders"
    __table_args__ = (
        Index("ix_reminders_due", "fire_at", postgresql_where=text("status = 'pending'")),
        Index("ix_reminders_source", "source", "source_id"),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    reminder_key: Mapped[str] = mapped_column(String(160), unique=True)
    source: Mapped[str] = mapped_column(String(16))  # task | signing | filing | instalment | action | appointment
    source_id: Mapped[int] = mapped_column(BigInteger)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    role: Mapped[str | None] = mapped_column(String(16), nullable=True)
    point: Mapped[int] = mapped_column(Integer)  # per cent of the clock (100: the breach), or minutes before (lead)
    fire_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    params: Mapped[dict] = mapped_column(JsonB, default=dict, server_default=text("'{}'::jsonb"))
    link: Mapped[str | None] = mapped_column(String(256), nullable=True)
    case_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), ForeignKey("refund_cases.id"), nullable=True)
    status: Mapped[str] = mapped_column(String(12), default="pending", server_default="pending")  # pending | fired | cancelled
    fired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
