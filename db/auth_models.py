"""Sign-in sessions (migration 0010): the server's record of each sign-in, so that a sign-out, a stolen
refresh token or a deactivated account ends it, and access tokens can be short-lived."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base


class AuthSession(Base):
    """One sign-in. Its refresh token is `<id>.<secret>`; only a hash of the secret is kept, with the hash of
    the one it replaced, so a refresh token used twice (a copy in a thief's hands) is recognised and ends the
    session. `ended_at` set (with `end_reason`) or `expires_at` / the idle limit passed: the session's access
    tokens are refused and it cannot be refreshed."""

    __tablename__ = "auth_sessions"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("users.id"), index=True)
    refresh_hash: Mapped[str] = mapped_column(String(64))
    previous_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    refreshed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    end_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
