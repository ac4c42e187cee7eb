"""Sign-in sessions: open one at sign-in, rotate its refresh token, end it at sign-out.

A refresh token is `<session id>.<secret>`: the id finds the row, the secret is compared (constant time)
with the stored SHA-256 hash. Each refresh replaces the secret and remembers the hash of the one it
replaced: a replaced token presented again means two holders of one token (a copy taken from a browser,
a log, a proxy), and the session is ended for both (the OAuth 2.0 Security BCP's refresh-token rotation
with reuse detection). The secrets are 256 bits of randomness, so a plain hash (not a password hash) is
enough for what the database keeps."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.auth_models import AuthSession


class SessionEnded(Exception):
    """The refresh token is unknown, or its session has ended or expired: sign in again (401)."""


@dataclass(frozen=True)
class Lifetimes:
    """How long a session lives at most (absolute, from sign-in) and without a refresh (idle)."""

    absolute: timedelta
    idle: timedelta


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _split(refresh_token: str) -> tuple[str, str]:
    sid, sep, secret = refresh_token.partition(".")
    if not sep or not sid or not secret or len(sid) > 32 or len(secret) > 128:
        raise SessionEnded("this is not a refresh token; sign in again")
    return sid, secret


def open_session(db: Session, *, user_id: int, now: datetime, life: Lifetimes) -> tuple[AuthSession, str]:
    """A new session for the user (flushed, not committed) and its first refresh token."""
    secret = secrets.token_urlsafe(32)
    row = AuthSession(id=secrets.token_urlsafe(16), user_id=user_id, refresh_hash=_digest(secret),
                      refreshed_at=now, expires_at=now + life.absolute)
    db.add(row)
    db.flush()
    return row, f"{row.id}.{secret}"


def _end(row: AuthSession, now: datetime, reason: str) -> None:
    if row.ended_at is None:
        row.ended_at, row.end_reason = now, reason


def rotate(db: Session, refresh_token: str, *, now: datetime, life: Lifetimes) -> tuple[AuthSession, str]:
    """The session behind a refresh token, with a new refresh token replacing it (the row is locked and
    changed; the caller commits, also when SessionEnded is raised: a reuse or an idle session is ended)."""
    sid, secret = _split(refresh_token)
    row = db.scalar(select(AuthSession).where(AuthSession.id == sid).with_for_update())
    if row is None:
        raise SessionEnded("unknown session; sign in again")
    digest = _digest(secret)
    if row.ended_at is not None:
        raise SessionEnded(f"this session has ended ({_REASONS.get(row.end_reason or '', row.end_reason)}); sign in again")
    if hmac.compare_digest(digest, row.previous_hash or ""):
        _end(row, now, "refresh_reused")
        raise SessionEnded("this refresh token had already been used, so the session was ended to protect the "
                           "account; sign in again")
    if not hmac.compare_digest(digest, row.refresh_hash):
        raise SessionEnded("unknown refresh token; sign in again")
    if now >= row.expires_at:
        _end(row, now, "expired")
        raise SessionEnded("the session has expired; sign in again")
    if now - row.refreshed_at >= life.idle:
        _end(row, now, "idle")
        raise SessionEnded("the session was idle too long; sign in again")
    new_secret = secrets.token_urlsafe(32)
    row.previous_hash, row.refresh_hash, row.refreshed_at = row.refresh_hash, _digest(new_secret), now
    return row, f"{row.id}.{new_secret}"


def end_session(db: Session, refresh_token: str, *, now: datetime) -> str | None:
    """Sign-out: end the refresh token's session (the caller commits). The session id, or None when the
    token is not a current one (nothing to end: signing out twice is not an error)."""
    try:
        sid, secret = _split(refresh_token)
    except SessionEnded:
        return None
    row = db.scalar(select(AuthSession).where(AuthSession.id == sid).with_for_update())
    if row is None or not hmac.compare_digest(_digest(secret), row.refresh_hash):
        return None
    _end(row, now, "signed_out")
    return row.id


_REASONS = {"signed_out": "signed out", "refresh_reused": "its refresh token was used twice",
            "expired": "expired", "idle": "idle too long", "deactivated": "the account was deactivated",
            "password_reset": "the password was reset by an administrator"}
