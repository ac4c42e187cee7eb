"""Subscription discounts and their approvals (price control, issue 15; migration 0023).

A discount request holds what the subscription will be once approved (buyer, co-buyers, deposit, the
co-resident acknowledgment) with its ordered rows, the price before and after, the approval level it needs
and each approval step (who, when, decision, note). While it is pending the unit is held (保留, reason
"认购待审批 #<id>"), and at most one request per unit is pending (a partial unique index). The subscription
is written when the request is approved; a rejection releases the unit."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
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
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base, JsonB, Money


class DiscountStatus:
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    LAPSED = "lapsed"  # approved, but the unit could no longer be sold to the buyer (recorded why)


class DiscountRequest(Base):
    __tablename__ = "discount_requests"
    __table_args__ = (
        Index("uq_discount_request_pending_unit", "unit_id", unique=True, postgresql_where=text("status = 'pending'")),
        CheckConstraint("status IN ('pending', 'approved', 'rejected', 'lapsed')", name="discount_request_status"),
        CheckConstraint("level IN ('manager', 'citygm', 'hqrisk') AND current_level IN ('manager', 'citygm', 'hqrisk')",
                        name="discount_request_level"),
        CheckConstraint("final_price > 0 AND final_price < list_price", name="discount_request_prices"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    requested_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The subscription it becomes.
    deposit_kind: Mapped[str] = mapped_column(String(8))
    deposit_amount: Mapped[Decimal] = mapped_column(Money)
    # The signing deadline asked for; one already past at approval becomes the default (a week on).
    signing_deadline: Mapped[date | None] = mapped_column(Date, nullable=True)
    co_buyer_ids: Mapped[list] = mapped_column(JsonB, default=list)  # customer_co_parties ids (共有人)
    co_resident_ack: Mapped[bool] = mapped_column(Boolean, default=False)
    ack_file_id: Mapped[int | None] = mapped_column(ForeignKey("subscription_ack_files.id"), nullable=True)
    # The price.
    list_price: Mapped[Decimal] = mapped_column(Money)
    final_price: Mapped[Decimal] = mapped_column(Money)
    floor_price: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    filed_price: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    # The approval.
    level: Mapped[str] = mapped_column(String(16))  # the level the price needs
    current_level: Mapped[str] = mapped_column(String(16))  # who decides now (raised by a missed clock)
    step_minutes: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=DiscountStatus.PENDING)
    workflow_id: Mapped[str] = mapped_column(String(64), unique=True)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    decision_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("subscriptions.id"), nullable=True)


class DiscountRowRecord(Base):
    """One ordered discount row: a percent of the running price or an amount, and what it took off."""

    __tablename__ = "discount_rows"
    __table_args__ = (
        UniqueConstraint("request_id", "seq"),
        CheckConstraint("kind IN ('amount', 'percent')", name="discount_row_kind"),
        CheckConstraint("value > 0 AND deduction > 0 AND price_after > 0", name="discount_row_amounts"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("discount_requests.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(8))
    value: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    deduction: Mapped[Decimal] = mapped_column(Money)
    price_after: Mapped[Decimal] = mapped_column(Money)


class DiscountStep(Base):
    """One approval step: the level that holds it, its clock, and how it ended (approved / rejected by a
    person, or escalated when its clock ran out)."""

    __tablename__ = "discount_steps"
    __table_args__ = (
        UniqueConstraint("request_id", "seq"),
        CheckConstraint("outcome IS NULL OR outcome IN ('approved', 'rejected', 'escalated')",
                        name="discount_step_outcome"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("discount_requests.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(16))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    on_behalf_of: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


class SubscriptionAckFile(Base):
    """The signed co-resident acknowledgment (共居人知情确认书) of a buyer, uploaded before the subscription is
    submitted; stored like evidence files (typed by its bytes) under data_dir/evidence/ack/."""

    __tablename__ = "subscription_ack_files"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    stored_name: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("subscriptions.id"), nullable=True)


class SubscriptionCoBuyer(Base):
    """A co-buyer (共有人) of a subscription: one of the buyer's co-parties."""

    __tablename__ = "subscription_co_buyers"
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id", ondelete="CASCADE"), primary_key=True)
    co_party_id: Mapped[int] = mapped_column(ForeignKey("customer_co_parties.id"), primary_key=True)

