"""Contracts (商品房买卖合同), their payment plans, receipts and how receipts were allocated."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base, Money


class Contract(Base):
    """One online-signed contract per subscription. The stage (online_signed / loan_disbursed) is derived
    from loan_disbursed_at; filing_due is computed at signing (domain.payments.filing_due)."""

    __tablename__ = "contracts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    contract_no: Mapped[str] = mapped_column(String(64), unique=True)
    price: Mapped[Decimal] = mapped_column(Money)
    deposit_amount: Mapped[Decimal] = mapped_column(Money)
    daily_late_fee_rate: Mapped[Decimal] = mapped_column(Numeric(8, 6))
    signed_on: Mapped[date] = mapped_column(Date)
    signed_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    filing_due: Mapped[date] = mapped_column(Date, index=True)
    filed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    filed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    loan_disbursed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    loan_amount: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    payment_method: Mapped[str | None] = mapped_column(String(24), nullable=True)
    # The payment follow-up (workflow id) that runs off this contract's instalments: one per contract.
    payment_followup_id: Mapped[str | None] = mapped_column(String(96), nullable=True, unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Instalment(Base):
    __tablename__ = "contract_instalments"
    __table_args__ = (
        UniqueConstraint("contract_id", "seq"),
        CheckConstraint("amount_due > 0 AND amount_paid >= 0 AND amount_paid <= amount_due", name="instalment_amounts"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(64), default="")
    due_on: Mapped[date] = mapped_column(Date)
    amount_due: Mapped[Decimal] = mapped_column(Money)
    amount_paid: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))


class Receipt(Base):
    """Money finance received against the contract. Rows are never edited."""

    __tablename__ = "contract_receipts"
    __table_args__ = (CheckConstraint("amount > 0", name="receipt_amount_positive"),)
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    received_on: Mapped[date] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(128), default="")
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ReceiptAllocation(Base):
    """The part of a receipt applied to one instalment, with the late fee computed on that part."""

    __tablename__ = "contract_receipt_allocations"
    __table_args__ = (UniqueConstraint("receipt_id", "instalment_id"),)
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    receipt_id: Mapped[int] = mapped_column(ForeignKey("contract_receipts.id"), index=True)
    instalment_id: Mapped[int] = mapped_column(ForeignKey("contract_instalments.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    days_overdue: Mapped[int] = mapped_column(Integer)
    late_fee: Mapped[Decimal] = mapped_column(Money)
