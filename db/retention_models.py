"""Records retention (PIPL, migration 0020): legal holds on refund cases, and the mark a case gets when the
daily anonymisation has removed its personal data (db/retention.py).

`refund_cases.anonymised_at` is a column of RefundCase (db/models.py); the index the daily sweep reads is added
to that table here, the same way db/customer_models.py adds its look-up indexes to customers."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Index, Integer, Text, func, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base, RefundCase

# The sweep's question, "closed cases past retain_until not yet anonymised", in one index range.
Index("ix_refund_cases_retention_due", RefundCase.__table__.c.retain_until,
      postgresql_where=text("stage = 'closed' AND anonymised_at IS NULL"))


class LegalHold(Base):
    """法律保全 / litigation hold: while a hold is active (not lifted), the case's records are kept past
    retain_until. Set and lifted by legal, each with a reason; at most one active hold per case (the partial
    unique index). Rows are never deleted: they are the record of why a case was kept longer."""

    __tablename__ = "legal_holds"
    __table_args__ = (
        Index("uq_legal_hold_active_case", "case_id", unique=True, postgresql_where=text("lifted_at IS NULL")),
        CheckConstraint("length(btrim(reason)) > 0", name="legal_hold_reason"),
        CheckConstraint(
            "(lifted_at IS NULL AND lifted_by IS NULL AND lift_reason IS NULL)"
            " OR (lifted_at IS NOT NULL AND lifted_by IS NOT NULL AND length(btrim(lift_reason)) > 0)",
            name="legal_hold_lift"),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("refund_cases.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)  # the matter (e.g. a court case number), not the customer's data
    set_by: Mapped[int] = mapped_column(Integer, ForeignKey("users.id"))
    set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    lifted_by: Mapped[int | None] = mapped_column(Integer, ForeignKey("users.id"), nullable=True)
    lifted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    lift_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
