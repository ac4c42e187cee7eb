"""Answers kept for retried requests (migration 0009): the same Idempotency-Key from the same person gets
the first answer again instead of a second effect."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, SmallInteger, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base


class IdempotentResponse(Base):
    """One answered request per (person, key). `fingerprint` is a hash of the method, path and body, so a
    key reused for a different request is refused rather than answered with someone else's result."""

    __tablename__ = "idempotent_responses"
    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("users.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(SmallInteger)
    body: Mapped[dict] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), index=True)
