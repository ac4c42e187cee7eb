"""Commission accrued per contract, and marketing's campaign spend (the refund loss from the records).

Commission rows are never edited: a contract's accrual is written when it is signed (db/contracts.py calls
db/commissions.accrue_commission), at the rate of the sales policy in force then; its reversal is written in
the same transaction that cancels the subscription on a refund — by the database trigger of migration 0025
(`commission_reversal`), so no path that cancels a subscription can forget it. A campaign's covered units are
fixed when it is recorded (campaign_units), so its per-unit allocation does not move when units are added."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base, Money


class CommissionEntry(Base):
    """One accrual (amount > 0) or its reversal (amount < 0) for one party of one contract."""

    __tablename__ = "commission_entries"
    __table_args__ = (
        UniqueConstraint("contract_id", "party", "kind", name="uq_commission_contract_party_kind"),
        CheckConstraint("party IN ('consultant', 'partner')", name="commission_party"),
        CheckConstraint("kind IN ('accrual', 'reversal')", name="commission_kind"),
        CheckConstraint("(kind = 'accrual' AND amount >= 0) OR (kind = 'reversal' AND amount <= 0)",
                        name="commission_sign"),
        Index("ix_commission_entries_subscription", "subscription_id"),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"))
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    party: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)  # the consultant
    partner_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the channel partner (reception's table)
    kind: Mapped[str] = mapped_column(String(8))
    base: Mapped[Decimal] = mapped_column(Money)  # the contract price the rate applies to
    rate: Mapped[Decimal] = mapped_column(Numeric(8, 6))  # the policy's rate when accrued
    amount: Mapped[Decimal] = mapped_column(Money)
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("commission_entries.id"), nullable=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Campaign(Base):
    """Marketing's spend on one campaign (广告投放) over a set of units: named units, a building, or the project."""

    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint("spend > 0", name="campaign_spend_positive"),
        CheckConstraint("scope IN ('units', 'building', 'project')", name="campaign_scope"),
        CheckConstraint("unit_count > 0", name="campaign_units_positive"),
        CheckConstraint("ended_on IS NULL OR ended_on >= started_on", name="campaign_period"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    channel: Mapped[str] = mapped_column(String(32), default="")
    spend: Mapped[Decimal] = mapped_column(Money)
    started_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    scope: Mapped[str] = mapped_column(String(8))
    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id"), nullable=True)
    unit_count: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CampaignUnit(Base):
    """The units a campaign covers, fixed when it is recorded."""

    __tablename__ = "campaign_units"
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True, index=True)
