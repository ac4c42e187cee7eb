"""Failed sign-ins (migration 0012): a counter per username and per client address, and an append-only
audit of every failure and lock. db/signin_throttle.py says how they are used and why."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base


class SigninThrottle(Base):
    """One username (`kind` 'account', whether or not an account has it) or one client address (`kind`
    'address'): `failures` failed sign-ins since `window_start`; `locked_until` in the future: every
    sign-in of that username (or from that address) is refused (429) until then."""

    __tablename__ = "signin_throttle"
    __table_args__ = (CheckConstraint("kind IN ('account', 'address')", name="signin_throttle_kind"),)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class SigninAudit(Base):
    """One failed sign-in, one refused while locked, or one lock set: the username tried (as typed), the
    client address, when, and `outcome`: 'unknown_user', 'wrong_password', 'inactive',
    'wrong_current_password' (POST /api/auth/password), 'refused_locked', 'account_locked',
    'address_locked'. Never updated, never deleted by the app."""

    __tablename__ = "signin_audit"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    username: Mapped[str] = mapped_column(String(128), index=True)
    address: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(24))
