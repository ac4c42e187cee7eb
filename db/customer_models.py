"""Sales records around a customer (DOMAIN §3): profile (source channel), co-owners / co-residents,
visits, calls, follow-ups and the audit of personal-data reveals.

The `customers` row itself lives in db/models.py; this module only adds tables next to it (and the
look-up indexes on it that the customer search needs), so the refund core's schema is untouched.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base, Customer, JsonB, Money

# Name-prefix search (`?q=`) and the consultant's own list.
Index("ix_customers_name_prefix", Customer.__table__.c.name, postgresql_ops={"name": "varchar_pattern_ops"})
Index("ix_customers_consultant_id", Customer.__table__.c.consultant_id)


class CustomerProfile(Base):
    """1:1 with customers: what the customer row does not carry (source channel, who registered)."""

    __tablename__ = "customer_profiles"
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    source_channel: Mapped[str] = mapped_column(String(32))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CustomerCoParty(Base):
    """共有人 (co_owner) / 共居人 (co_resident). Their numbers are stored like the customer's."""

    __tablename__ = "customer_co_parties"
    __table_args__ = (CheckConstraint("relation IN ('co_owner', 'co_resident')", name="co_party_relation"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    relation: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(64))
    id_type: Mapped[str | None] = mapped_column(String(32), nullable=True)
    id_number_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    id_number_masked: Mapped[str | None] = mapped_column(String(32), nullable=True)
    mobile_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    mobile_masked: Mapped[str | None] = mapped_column(String(16), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CustomerVisit(Base):
    """来访: one row per visiting group. First / repeat is computed from the history when read."""

    __tablename__ = "customer_visits"
    __table_args__ = (
        CheckConstraint("group_size >= 1", name="visit_group_size_positive"),
        Index("ix_customer_visits_customer_at", "customer_id", "visited_at"),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    visited_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    group_size: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CustomerCall(Base):
    """来电 / 去电."""

    __tablename__ = "customer_calls"
    __table_args__ = (
        CheckConstraint("direction IN ('inbound', 'outbound')", name="call_direction"),
        Index("ix_customer_calls_customer_at", "customer_id", "called_at"),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    called_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    direction: Mapped[str] = mapped_column(String(8))
    duration_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CustomerFollowUp(Base):
    """A follow-up (跟进) with topic tags (e.g. asked_refund_policy) and an optional next appointment."""

    __tablename__ = "customer_follow_ups"
    __table_args__ = (Index("ix_customer_follow_ups_customer_at", "customer_id", "at"),)
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    channel: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    topics: Mapped[list] = mapped_column(JsonB, default=list)
    next_appointment_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CustomerReveal(Base):
    """Every reveal of a clear ID number or mobile: who, when, which field, why (PIPL)."""

    __tablename__ = "customer_reveals"
    __table_args__ = (CheckConstraint("field IN ('id_number', 'mobile')", name="reveal_field"),)
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    field: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(Text)
    revealed_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    revealed_by_role: Mapped[str] = mapped_column(String(16))
    revealed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CustomerNeeds(Base):
    """1:1 with customers: what the customer is looking for (issue 15). Every field is optional: a consultant
    fills in what they learnt. Budget is the total price in CNY; area the gross area (建筑面积) in m²; layouts
    free labels (三室两厅, 3房…); purpose and concerns codes of domain/customers.py (PURPOSES, CONCERNS)."""

    __tablename__ = "customer_needs"
    __table_args__ = (
        CheckConstraint("budget_min IS NULL OR budget_max IS NULL OR budget_min <= budget_max", name="needs_budget_range"),
        CheckConstraint("area_min IS NULL OR area_max IS NULL OR area_min <= area_max", name="needs_area_range"),
    )
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    budget_min: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    budget_max: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    layouts: Mapped[list] = mapped_column(JsonB, default=list)
    area_min: Mapped[Decimal | None] = mapped_column(Numeric(10, 2), nullable=True)
    area_max: Mapped[Decimal | None] = mapped_column(Numeric(10, 2), nullable=True)
    purpose: Mapped[str | None] = mapped_column(String(16), nullable=True)
    concerns: Mapped[list] = mapped_column(JsonB, default=list)
    note: Mapped[str] = mapped_column(Text, default="")
    updated_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
