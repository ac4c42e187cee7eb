"""Reception: walk-in visits, the duty rotation and its audit; channel partners and their registrations (报备).

A visitor's mobile (when given) is stored as elsewhere: encrypted, with a blind index for look-up and a mask
for display (db/pii.py). The rotation's order of a day is derived from `duty_roster` and `rotation_events`
(domain/reception.py); the events are the audit too."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base, JsonB


class ChannelPartner(Base):
    """A channel partner of a project: 中介 (agency) or 分销 (distributor)."""

    __tablename__ = "channel_partners"
    __table_args__ = (
        UniqueConstraint("project_id", "name", name="uq_channel_partner_name"),
        CheckConstraint("kind IN ('agency', 'distributor')", name="channel_partner_kind"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    contact_name: Mapped[str | None] = mapped_column(String(64), nullable=True)
    contact_mobile_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    contact_mobile_masked: Mapped[str | None] = mapped_column(String(16), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PartnerRegistration(Base):
    """报备: a partner registers a prospect (by mobile) and holds them until `protected_until`. At most one
    registration protects a mobile in a project at a time (checked under an advisory lock on the blind index:
    the window is a time, which no unique index can express)."""

    __tablename__ = "partner_registrations"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'withdrawn')", name="partner_registration_status"),
        CheckConstraint("protected_until > registered_at", name="partner_registration_window"),
        Index("ix_partner_registrations_lookup", "project_id", "mobile_bidx"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    partner_id: Mapped[int] = mapped_column(ForeignKey("channel_partners.id"), index=True)
    prospect_name: Mapped[str] = mapped_column(String(64))
    mobile_enc: Mapped[str] = mapped_column(Text)
    mobile_bidx: Mapped[str] = mapped_column(String(64))
    mobile_masked: Mapped[str] = mapped_column(String(16))
    registered_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    protected_until: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16), default="active")
    note: Mapped[str] = mapped_column(Text, default="")


class WalkIn(Base):
    """来访登记: one visiting group. Anonymous when no mobile is given. `reserved_for` is a returning customer's
    own consultant (撞单 protection); `consultant_id` who took it (set once: a conditional UPDATE)."""

    __tablename__ = "walk_ins"
    __table_args__ = (
        CheckConstraint("group_size BETWEEN 1 AND 50", name="walk_in_group_size"),
        CheckConstraint("(consultant_id IS NULL) = (taken_at IS NULL)", name="walk_in_taken"),
        Index("ix_walk_ins_project_day", "project_id", "day"),
        Index("ix_walk_ins_mobile", "project_id", "mobile_bidx"),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    arrived_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    day: Mapped[date] = mapped_column(Date)  # China date of arrived_at: the rotation's day
    group_size: Mapped[int] = mapped_column(Integer)
    first_visit: Mapped[bool] = mapped_column(Boolean)
    channel: Mapped[str] = mapped_column(String(16))
    visitor_name: Mapped[str | None] = mapped_column(String(64), nullable=True)
    mobile_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    mobile_bidx: Mapped[str | None] = mapped_column(String(64), nullable=True)
    mobile_masked: Mapped[str | None] = mapped_column(String(16), nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), nullable=True, index=True)
    customer_visit_id: Mapped[int | None] = mapped_column(ForeignKey("customer_visits.id"), nullable=True, unique=True)
    registration_id: Mapped[int | None] = mapped_column(ForeignKey("partner_registrations.id"), nullable=True, index=True)
    reserved_for: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    consultant_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    taken_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    registered_by: Mapped[int] = mapped_column(ForeignKey("users.id"))


class DutyRoster(Base):
    """The consultants on duty on a (China) day, in rotation order; `present` false while away."""

    __tablename__ = "duty_roster"
    __table_args__ = (
        UniqueConstraint("project_id", "day", "consultant_id", name="uq_duty_roster_consultant"),
        CheckConstraint("position >= 1", name="duty_roster_position"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    day: Mapped[date] = mapped_column(Date)
    consultant_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    position: Mapped[int] = mapped_column(Integer)
    present: Mapped[bool] = mapped_column(Boolean, default=True)


class RotationEvent(Base):
    """The rotation's audit: who did what, to whom, when (roster_set, offered, taken, skipped, absent, back)."""

    __tablename__ = "rotation_events"
    __table_args__ = (
        CheckConstraint("kind IN ('roster_set', 'offered', 'taken', 'skipped', 'absent', 'back')",
                        name="rotation_event_kind"),
        Index("ix_rotation_events_project_day", "project_id", "day", "id"),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(16))
    consultant_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    walk_in_id: Mapped[int | None] = mapped_column(ForeignKey("walk_ins.id"), nullable=True, index=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    # taken: {"how": in_turn | out_of_turn | own | cover, "offered": id}; roster_set: {"order": [ids]}
    detail: Mapped[dict] = mapped_column(JsonB, default=dict)
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
