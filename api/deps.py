"""Dependencies: settings, the per-request session, the Temporal client, the current user and roles.

The ones that do no I/O are `async def`: FastAPI runs sync dependencies in its thread pool, and each
hop there costs more than the dependency itself.

No request holds a pooled connection while it waits for a thread: a request goes through several
thread-pool hops (get_current_user, the route, the response), and a connection kept open between two
hops would wait for a thread token while the threads wait for connections. So get_current_user ends
its read before it returns, and a route that waits for the engine first calls release_connection."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Annotated

import jwt
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session
from temporalio.client import Client

from api.security import decode_access_token
from config.settings import Settings
from db.errors import ServiceUnavailable
from db.models import User
from db.pii import PiiCipher

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/auth/token")


async def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


def get_session(request: Request) -> Iterator[Session]:
    """The request owns the transaction: routes commit once, or nothing is written."""
    with request.app.state.session_factory() as session:
        yield session


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


def get_current_user(token: Annotated[str, Depends(oauth2)], session: SessionDep, settings: SettingsDep) -> User:
    unauthorized = HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail="not signed in or the session has expired; sign in again",
        headers={"WWW-Authenticate": "Bearer"},
    )
    try:
        user_id = decode_access_token(token, secret=settings.secret_key)
    except jwt.PyJWTError:
        raise unauthorized from None
    user = session.get(User, user_id)
    # The route runs in another thread hop: between the two this request must hold no connection.
    release_connection(session)
    if user is None or not user.active:
        raise unauthorized
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def require_roles(*roles: str):
    """A dependency that lets only these roles through, with a 403 that says who may."""

    async def check(user: CurrentUser) -> User:  # async: pure, so no trip to the thread pool
        if user.role not in roles:
            raise HTTPException(
                status_code=status.HTTP_403_FORBIDDEN,
                detail=f"role {user.role} may not do this; allowed: {', '.join(roles)}",
            )
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
