"""Follow-ups: mortgage cases and payment plans (their projection, event log and human actions),
early-warning records, mortgage disbursements and the working-day calendar overrides.

Self-contained on purpose: customers and contracts are referenced by id / reference only, so these
tables do not depend on the contracts engineer's schema. Written by activities/followups.py and the
warnings routes.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base, JsonB, Money


class CalendarOverride(Base):
    """A day whose working status differs from (or is missing in) the statutory calendar data.

    `source`: `manual` (a single day set by hand), or a day of a year's schedule ops entered
    (db/work_calendar.py): `holiday`, `workday` (a 调休 working weekend day) or `weekly` (every other day
    of that year, by the weekly rest days) — an entered year is written out day by day, so every reader
    of this table (the follow-ups' and the refund cases' inputs) knows the whole year."""

    __tablename__ = "calendar_overrides"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_workday: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(16), default="manual", server_default="manual")


class CalendarYear(Base):
    """A year whose State Council holiday schedule ops entered (the notice it came from, who, when)."""

    __tablename__ = "calendar_years"
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    notice: Mapped[str] = mapped_column(String(200), default="")
    holidays: Mapped[int] = mapped_column(Integer)
    workdays: Mapped[int] = mapped_column(Integer)
    entered_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    entered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Followup(Base):
    """Projection of one follow-up workflow (a mortgage case or a payment plan) for screens."""

    __tablename__ = "followups"
    followup_id: Mapped[str] = mapped_column(String(96), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # mortgage / payment_plan
    customer_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    stage: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict] = mapped_column(JsonB, default=dict)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class FollowupEvent(Base):
    """What happened, once: (followup_id, event_key) is the activities' idempotency guard."""

    __tablename__ = "followup_events"
    __table_args__ = (UniqueConstraint("followup_id", "event_key"),)
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    followup_id: Mapped[str] = mapped_column(String(96), index=True)
    event_key: Mapped[str] = mapped_column(String(96))
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    detail: Mapped[dict] = mapped_column(JsonB, default=dict)


class FollowupAction(Base):
    """Something a person must do or know: a reminder, an escalation, an offer of the refund path,
    a request to start a refund case or a path-C transfer."""

    __tablename__ = "followup_actions"
    __table_args__ = (
        UniqueConstraint("followup_id", "action_key"),
        Index("ix_followup_actions_open_role", "role", postgresql_where=text("status = 'open'")),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    followup_id: Mapped[str] = mapped_column(String(96), index=True)
    action_key: Mapped[str] = mapped_column(String(96))
    kind: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict] = mapped_column(JsonB, default=dict)
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class WarningRecord(Base):
    """An early warning (DOMAIN §5): which rules fired with their scores, the level and its deadline."""

    __tablename__ = "warnings"
    __table_args__ = (Index("ix_warnings_open", "response_due", postgresql_where=text("responded_at IS NULL")),)
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    warning_key: Mapped[str] = mapped_column(String(128), unique=True)
    customer_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    case_ref: Mapped[str] = mapped_column(String(96))
    level: Mapped[str] = mapped_column(String(8))
    rules: Mapped[list] = mapped_column(JsonB, default=list)  # [{"rule", "score", "detail"}]
    risk_score: Mapped[int] = mapped_column(Integer)
    raised_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    response_due: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    respond_role: Mapped[str] = mapped_column(String(16))
    escalate_to: Mapped[str] = mapped_column(String(16))
    responded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    responded_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    response_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    downgraded_from: Mapped[str | None] = mapped_column(String(8), nullable=True)
    downgrade_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class MortgageDisbursement(Base):
    """The bank's disbursement as the mortgage follow-up saw it (payments proper belong to contracts)."""

    __tablename__ = "mortgage_disbursements"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    loan_id: Mapped[str] = mapped_column(String(64), unique=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    disbursed_on: Mapped[date] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
