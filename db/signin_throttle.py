"""Failed sign-ins, throttled per username and per client address (tables in db/signin_models.py).

After `account_max` failures of one username within `window` (or `address_max` from one client address),
that username (or address) is locked for `lock`: every sign-in of it answers 429 with Retry-After, the
right password included, until the lock ends. A username that has no account is counted and locked
exactly like one that has (the key is the username as typed, not the user's id), so neither the status,
the message nor the count tells whether an account exists. A successful sign-in deletes its username's
counter; it does not touch the address's (else one working account would let its holder reset the
address between guesses at other accounts). An attempt refused while locked does not count (it tested
no password) and does not extend the lock.

Why a counter per key rather than an append-only table of attempts counted over the window: the check
that runs before every sign-in is one primary-key read of at most two rows, and a failure is one atomic
upsert per key (INSERT ... ON CONFLICT DO UPDATE, so concurrent failures of one key never lose a count
and never meet a unique violation); the table holds one row per username tried and per address, not one
per attempt, so a flood of guesses does not make the check itself slower. The window is fixed: it starts
at the first failure and a failure after it has passed starts a new one (with the defaults, a lock
always outlives the window it was counted in, so a person gets a fresh `account_max` tries after it).
The history the counters forget is kept in `signin_audit`: one row per failure, per refusal while locked
and per lock set, append-only.

Limits, knowingly accepted:
- The check and the count are two steps (the password is verified between them, without holding a row
  lock), so a burst of parallel guesses at one username gets at most its in-flight attempts beyond
  `account_max` before the lock lands.
- The address is the connection's peer (`request.client.host`): behind a reverse proxy that is the
  proxy's, unless uvicorn trusts its X-Forwarded-For (--forwarded-allow-ips). Addresses in `unthrottled`
  (loopback by default: a proxy on the same host, the tests' in-process client) are never locked as an
  address, only their usernames are; otherwise one person's wrong passwords would lock out everyone
  behind the proxy.
- Rows of usernames that never signed in successfully stay (one per name tried); nothing prunes them yet.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from db.errors import ServiceError
from db.signin_models import SigninAudit, SigninThrottle

ACCOUNT, ADDRESS = "account", "address"
KEY_LENGTH = 128  # the key and audit columns' width: a longer username is cut (no account has one)
ADDRESS_LENGTH = 64


class TooManyFailures(ServiceError):
    """429: this username (or this client address) is locked after too many failed sign-ins."""

    status_code = 429
    code = "too_many_requests"


@dataclass(frozen=True)
class Limits:
    account_max: int
    address_max: int
    window: timedelta
    lock: timedelta
    unthrottled: frozenset[str] = frozenset()


def _keys(username: str, address: str, limits: Limits) -> list[tuple[str, str, int]]:
    """(kind, key, max failures) of an attempt: its username, and its address unless that is unthrottled."""
    keys = [(ACCOUNT, username[:KEY_LENGTH], limits.account_max)]
    if address not in limits.unthrottled:
        keys.append((ADDRESS, address[:KEY_LENGTH], limits.address_max))
    return keys


def locked_for(db: Session, *, username: str, address: str, now: datetime, limits: Limits) -> timedelta | None:
    """How long the username or the address is still locked (the longer of the two), or None."""
    t = SigninThrottle
    keys = _keys(username, address, limits)
    until = db.scalar(
        select(func.max(t.locked_until))
        .where(or_(*(and_(t.kind == kind, t.key == key) for kind, key, _ in keys)), t.locked_until > now)
    )
    return None if until is None else until - now


def too_many(wait: timedelta) -> TooManyFailures:
    """The 429 for a lock that ends in `wait`: Retry-After in seconds, the message in whole minutes."""
    seconds = max(1, math.ceil(wait.total_seconds()))
    minutes = max(1, math.ceil(seconds / 60))
    return TooManyFailures(key="auth.throttled", params={"minutes": minutes}, retry_after=seconds)


def audit(db: Session, *, username: str, address: str, now: datetime, outcome: str) -> None:
    db.add(SigninAudit(at=now, username=username[:KEY_LENGTH], address=address[:ADDRESS_LENGTH], outcome=outcome))


def record_failure(db: Session, *, username: str, address: str, now: datetime, limits: Limits,
                   outcome: str) -> list[str]:
    """Count a failed sign-in against its username and address (the caller commits), audited with
    `outcome`; a key that reaches its limit is locked for `limits.lock` (audited as '<kind>_locked').
    The kinds locked by this failure."""
    audit(db, username=username, address=address, now=now, outcome=outcome)
    t = SigninThrottle.__table__
    locked = []
    for kind, key, most in _keys(username, address, limits):
        stale = t.c.window_start <= now - limits.window
        upsert = (
            insert(t)
            .values(kind=kind, key=key, failures=1, window_start=now, locked_until=None)
            .on_conflict_do_update(
                index_elements=[t.c.kind, t.c.key],
                set_={"failures": case((stale, 1), else_=t.c.failures + 1),
                      "window_start": case((stale, now), else_=t.c.window_start)},
            )
            .returning(t.c.failures, t.c.locked_until)
        )
        failures, until = db.execute(upsert).one()
        if failures >= most and (until is None or until <= now):
            db.execute(update(t).where(t.c.kind == kind, t.c.key == key).values(locked_until=now + limits.lock))
            audit(db, username=username, address=address, now=now, outcome=f"{kind}_locked")
            locked.append(kind)
    return locked


def reset_account(db: Session, *, username: str) -> None:
    """A successful sign-in: its username's failures are forgotten (the caller commits)."""
    t = SigninThrottle
    db.execute(delete(t).where(t.kind == ACCOUNT, t.key == username[:KEY_LENGTH]))


def parse_addresses(value: str) -> Iterable[str]:
    """A comma-separated list of addresses (Settings.signin_unthrottled_addresses), each stripped."""
    return (a.strip() for a in value.split(",") if a.strip())
