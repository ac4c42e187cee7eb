"""Password hashing (argon2id, argon2-cffi; older PBKDF2-SHA256 hashes still verify) and signed access tokens
(JWT, HS256).

New hashes are argon2id at the OWASP Password Storage Cheat Sheet's cost (m=19 MiB, t=2, p=1), not the
library's default (RFC 9106 low-memory: m=64 MiB, t=3, p=4): every verify holds that memory, and up to
Settings.api_threads sign-ins verify at once (40 × 64 MiB would be 2.5 GiB on the sales-office server; at
19 MiB it is under 800 MiB), while ~35 ms a verify keeps a sign-in quick. Online guessing is bounded by the
sign-in throttle (db/signin_throttle.py), so the cost is about offline cracking of a stolen table, where
argon2id at this cost is far stronger than the PBKDF2-SHA256 (120,000 iterations) it replaces.

Hashes made before (`pbkdf2_sha256$iterations$salt$digest`) still verify; `needs_rehash` is true for them
and for argon2 hashes of other parameters, and a successful sign-in replaces them (api/routes/auth.py)."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import time
from datetime import datetime, timedelta, timezone

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# OWASP Password Storage Cheat Sheet, argon2id: "m=19456 (19 MiB), t=2, p=1". Changing these makes
# needs_rehash true for every stored hash, which is then replaced at its owner's next sign-in.
ARGON2_TIME_COST = 2
ARGON2_MEMORY_KIB = 19 * 1024
ARGON2_PARALLELISM = 1
_hasher = PasswordHasher(time_cost=ARGON2_TIME_COST, memory_cost=ARGON2_MEMORY_KIB, parallelism=ARGON2_PARALLELISM)

_PBKDF2 = "pbkdf2_sha256"


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """An argon2id hash (PHC string: `$argon2id$v=19$m=...,t=...,p=...$salt$hash`); a random 16-byte salt
    unless `salt` (at least 8 bytes) is given."""
    return _hasher.hash(password, salt=salt)


def verify_password(password: str, stored: str) -> bool:
    """True when `password` is the one `stored` was made from (argon2, or a legacy PBKDF2-SHA256 hash);
    False for a wrong password and for anything that is not a hash of either kind."""
    if stored.startswith("$argon2"):
        try:
            return _hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
    try:
        algo, iterations, salt_b64, digest_b64 = stored.split("$")
        if algo != _PBKDF2:
            return False
        digest = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt_b64), int(iterations))
        return hmac.compare_digest(digest, base64.b64decode(digest_b64))
    except ValueError:  # not four fields, a bad iteration count, bad base64 (binascii.Error is a ValueError)
        return False


def needs_rehash(stored: str) -> bool:
    """True when `stored` is not an argon2id hash at the current parameters: a legacy PBKDF2 hash, or an
    argon2 hash made with other (older) costs. The caller replaces it once it has the password (sign-in)."""
    if not stored.startswith("$argon2id$"):
        return True
    try:
        return _hasher.check_needs_rehash(stored)
    except (InvalidHashError, ValueError):
        return True


@functools.cache
def _dummy_hash() -> str:
    return _hasher.hash("not anybody's password")


def spend_verify_time(password: str) -> None:
    """As long as a verify takes, for a sign-in of a username that has no account: the answer then comes
    no sooner than for one that has, so its time does not tell whether the account exists."""
    verify_password(password, _dummy_hash())


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
