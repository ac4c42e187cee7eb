"""Dependencies: settings, the per-request session, the Temporal client, the current user and roles.

The ones that do no I/O are `async def`: FastAPI runs sync dependencies in its thread pool, and each
hop there costs more than the dependency itself. The session and the current user are async too: opening a
session does no I/O, closing one does only when it still holds a connection (then in a thread), and the
user comes from a short-lived cache (USER_CACHE_TTL_S), read from PostgreSQL in a thread on a miss.

No request holds a pooled connection while it waits for a thread: a request goes through thread-pool
hops (the user on a cache miss, the route, the response), and a connection kept open between two
hops would wait for a thread token while the threads wait for connections. So get_current_user reads
on a session of its own, closed before it returns, and a route that waits for the engine first calls
release_connection."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from typing import Annotated, Any

import anyio
import anyio.to_thread
import jwt
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import select
from sqlalchemy.orm import Session, make_transient_to_detached, sessionmaker
from temporalio.client import Client

from api.access import check_path_scope, scoped_params
from api.security import decode_access_token
from config.settings import Settings
from db.auth_models import AuthSession
from db.errors import Forbidden, ServiceUnavailable
from db.models import User
from db.org import load_access
from db.pii import PiiCipher
from domain.access import Access, acting_role

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/auth/token")


async def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


async def get_session(request: Request) -> AsyncIterator[Session]:
    """The request owns the transaction: routes commit once, or nothing is written. Async: creating a
    session does no I/O, and closing one that holds no connection (the routes release it) does none either.
    A session still in a transaction (a route that raised while holding it, maybe with a row lock) is rolled
    back and closed in a thread of its own limiter, as FastAPI closes a sync dependency: waiting for one of
    the route threads' tokens would wait for the very requests that wait for its lock."""
    session = request.app.state.session_factory()
    try:
        yield session
    finally:
        if session.in_transaction():
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(session.close, limiter=anyio.CapacityLimiter(1))
        else:
            session.close()


def release_connection(session: Session) -> None:
    """End the session's read-only transaction and give its connection back to the pool, keeping every
    loaded object usable (expire_on_commit=False): call it before waiting for the engine, and before
    returning a response built from the session. The next query takes a connection again."""
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("release_connection on a session with unsaved changes: commit or roll back first")
    session.commit()  # nothing to write: this only ends the transaction


async def get_client(request: Request) -> Client:
    return request.app.state.temporal


async def get_cipher(request: Request) -> PiiCipher:
    return request.app.state.cipher


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
SessionDep = Annotated[Session, Depends(get_session)]
ClientDep = Annotated[Client, Depends(get_client)]
CipherDep = Annotated[PiiCipher, Depends(get_cipher)]


# The signed-in user's row is cached for this long per API process: a user made inactive (or given another
# role) is refused (or treated so) at most this many seconds later. Within it a request reads no user row.
USER_CACHE_TTL_S = 5.0
# Every column but the password hash, which no route reads from the signed-in user (sign-in reads its own).
_USER_COLUMNS = tuple(c.key for c in User.__table__.columns if c.key != "password_hash")


class UserCache:
    """sign-in session id -> (loaded at, its user's column values, or None when the session or the user is
    not live); entries older than ttl_s are read again."""

    def __init__(self, ttl_s: float = USER_CACHE_TTL_S, max_entries: int = 10_000) -> None:
        self.ttl_s, self.max_entries = ttl_s, max_entries
        self._rows: dict[int, tuple[float, dict[str, Any] | None]] = {}
        self._lock = threading.Lock()

    def get(self, session_id: str) -> tuple[bool, dict[str, Any] | None]:
        hit = self._rows.get(session_id)
        if hit is None or time.monotonic() - hit[0] >= self.ttl_s:
            return False, None
        return True, hit[1]

    def put(self, session_id: str, row: dict[str, Any] | None, loaded_at: float) -> None:
        with self._lock:
            if len(self._rows) >= self.max_entries:
                now = time.monotonic()
                self._rows = {k: v for k, v in self._rows.items() if now - v[0] < self.ttl_s}
            self._rows[session_id] = (loaded_at, row)

    def forget(self, session_id: str) -> None:
        """A session ended here: refused from the next request on, not after the TTL."""
        with self._lock:
            self._rows.pop(session_id, None)

    def forget_user(self, user_id: int) -> None:
        """A person deactivated, or a membership of theirs revoked, here: each of their sign-ins is read
        again at its next request, not after the TTL."""
        with self._lock:
            self._rows = {k: v for k, v in self._rows.items() if v[1] is None or v[1]["id"] != user_id}


def user_cache(app) -> UserCache:
    cache = getattr(app.state, "user_cache", None)
    if cache is None:
        cache = app.state.user_cache = UserCache()
    return cache


def _read_user(session_factory: sessionmaker[Session], user_id: int, session_id: str) -> dict[str, Any] | None:
    """The user's row if the sign-in session `session_id` is theirs and live, on a session of its own,
    closed (connection returned) before this returns; None otherwise."""
    with session_factory() as db:
        found = db.execute(
            select(User, AuthSession.ended_at, AuthSession.expires_at)
            .join(AuthSession, AuthSession.user_id == User.id)
            .where(User.id == user_id, AuthSession.id == session_id)
        ).first()
        if found is None:
            return None
        user, ended_at, expires_at = found
        if ended_at is not None or expires_at <= datetime.now(timezone.utc):
            return None
        row = {k: getattr(user, k) for k in _USER_COLUMNS}
        row["access"] = load_access(db, user.id)
        return row


async def get_current_user(request: Request, token: Annotated[str, Depends(oauth2)], settings: SettingsDep) -> User:
    """The signed-in user, as a detached User (a copy per request: no route shares an instance).

    The token must be valid and its sign-in session live: a session ended by signing out is refused at
    once by the process that ended it and within USER_CACHE_TTL_S by the others."""
    unauthorized = HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail="not signed in or the session has expired; sign in again",
        headers={"WWW-Authenticate": "Bearer"},
    )
    try:
        user_id, session_id = decode_access_token(token, secret=settings.secret_key)
    except jwt.PyJWTError:
        raise unauthorized from None
    cache = user_cache(request.app)
    found, row = cache.get(session_id)
    if not found:
        loaded_at = time.monotonic()
        row = await anyio.to_thread.run_sync(_read_user, request.app.state.session_factory, user_id, session_id)
        cache.put(session_id, row, loaded_at)
    if row is None or not row["active"] or row["id"] != user_id:
        raise unauthorized
    # A password to change first (set by an administrator, or the first sign-in): only that, GET /api/me and
    # (without this dependency) refresh and sign-out until it is changed.
    if row["must_change_password"] and not (request.url.path == "/api/auth/password" or (
            request.url.path == "/api/me" and request.method == "GET")):
        raise Forbidden(key="auth.must_change_password")
    user = User(**{k: v for k, v in row.items() if k != "access"})
    make_transient_to_detached(user)
    user.access = row["access"]  # type: ignore[attr-defined]  # the person's memberships, resolved
    user.allowed = STAFF  # type: ignore[attr-defined]  # the roles the route admits (require_roles narrows it)
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def _check_scope(session_factory: sessionmaker[Session], user: User, params: list[tuple[str, str]]) -> None:
    with session_factory() as db:
        check_path_scope(db, user, params)


def require_roles(*roles: str):
    """A dependency that lets through a person holding one of these roles somewhere, with a 403 that says
    who may. The person then acts in their primary role if it is one of these, else in the first of these
    they hold (user.role); a route that reads a record of a project narrows it with api.access.act_in."""

    async def check(request: Request, user: CurrentUser) -> User:  # async: no thread unless a record is named
        access: Access = user.access  # type: ignore[attr-defined]
        role = acting_role(access, user.role, roles)
        if role is None:
            raise Forbidden(key="auth.role_forbidden", params={"role": user.role, "allowed": list(roles)})
        user.role = role
        user.allowed = roles  # type: ignore[attr-defined]
        params = scoped_params(request.path_params)
        if "project_id" in request.query_params and "project_id" not in request.path_params:
            params.append(("project_id", request.query_params["project_id"]))  # a list or look-up of one project
        if params:  # the named records' projects: 404 outside the caller's, 403 without one of `roles` there
            await anyio.to_thread.run_sync(_check_scope, request.app.state.session_factory, user, params)
        return user

    return check


STAFF = ("frontdesk", "sales", "manager", "finance", "legal", "marketing", "citygm", "hqrisk", "ops")
REGISTRARS = ("frontdesk", "sales", "manager", "citygm")
# Any signed-in member of staff: the dependency most read routes take.
Staff = Annotated[User, Depends(require_roles(*STAFF))]


class Gate:
    """At most `size` requests inside at once; the others wait on the event loop, holding no thread and no
    connection, for at most `wait_s`, then get a 503 with Retry-After."""

    def __init__(self, size: int, wait_s: float, busy: str) -> None:
        self.size, self.wait_s, self.busy = size, wait_s, busy
        self._slots = asyncio.Semaphore(size)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        try:
            async with asyncio.timeout(self.wait_s):
                await self._slots.acquire()
        except TimeoutError:
            raise ServiceUnavailable(self.busy, retry_after=2) from None
        try:
            yield
        finally:
            self._slots.release()


async def registration_slot(request: Request) -> AsyncIterator[None]:
    """A refund registration holds a thread, a connection and (briefly) its unit's row lock while the
    engine starts the workflow: at most Settings.registration_concurrency of them at once, so a burst of
    registrations (or a slow engine) never takes the threads and connections the rest of the API needs."""
    async with request.app.state.registration_gate.slot():
        yield
