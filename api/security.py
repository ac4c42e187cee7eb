"""Password hashing (PBKDF2-SHA256 from the standard library) and signed access tokens (JWT, HS256)."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
import time
from datetime import datetime, timedelta, timezone

import jwt

_ITERATIONS = 120_000


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    salt = salt or os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, _ITERATIONS)
    return f"pbkdf2_sha256${_ITERATIONS}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        algo, iterations, salt_b64, digest_b64 = stored.split("$")
    except ValueError:
        return False
    if algo != "pbkdf2_sha256":
        return False
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt_b64), int(iterations))
    return hmac.compare_digest(digest, base64.b64decode(digest_b64))


def create_access_token(*, user_id: int, role: str, session_id: str, secret: str, minutes: float,
                        now: datetime | None = None, not_after: datetime | None = None) -> str:
    """An access token of the sign-in session `session_id` (claim `sid`), valid for `minutes` but never
    beyond `not_after` (the session's own expiry)."""
    now = now or datetime.now(timezone.utc)
    exp = now + timedelta(minutes=minutes)
    if not_after is not None:
        exp = min(exp, not_after)
    payload = {"sub": str(user_id), "sid": session_id, "role": role, "iat": now, "exp": exp}
    return jwt.encode(payload, secret, algorithm="HS256")


def decode_access_token(token: str, *, secret: str) -> tuple[int, str]:
    """The user id and the session id in a valid token; raises jwt.PyJWTError otherwise. (Whether the
    session is still live is the caller's question: api.deps.get_current_user asks PostgreSQL.)

    A token's signature is checked once per process (verifying it took ~7% of the API's CPU per request):
    the decoded claims are kept (bounded LRU, keyed by the token and the secret) and only the expiry is
    checked again, as PyJWT checks it (expired once `exp` is not in the future). A bad token is never
    kept, so it fails every time."""
    user_id, session_id, exp = _verified_claims(token, secret)
    if exp <= time.time():
        raise jwt.ExpiredSignatureError("Signature has expired")
    return user_id, session_id


@functools.lru_cache(maxsize=4096)
def _verified_claims(token: str, secret: str) -> tuple[int, str, float]:
    # exp, iat, sub and sid are required: a token without an expiry would be valid for ever, one without a
    # session could not be ended by signing out.
    payload = jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["exp", "iat", "sub", "sid"]})
    try:
        sid = payload["sid"]
        if not isinstance(sid, str) or not 0 < len(sid) <= 32:
            raise ValueError(sid)
        return int(payload["sub"]), sid, float(payload["exp"])
    except (TypeError, ValueError):
        raise jwt.InvalidTokenError("malformed sub, sid or exp claim") from None
