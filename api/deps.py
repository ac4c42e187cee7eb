"""Dependencies: settings, the per-request session, the Temporal client, the current user and roles.

The ones that do no I/O are `async def`: FastAPI runs sync dependencies in its thread pool, and each
hop there costs more than the dependency itself."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import jwt
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session
from temporalio.client import Client

from api.security import decode_access_token
from config.settings import Settings
from db.models import User
from db.pii import PiiCipher

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/auth/token")


async def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


def get_session(request: Request) -> Iterator[Session]:
    """The request owns the transaction: routes commit once, or nothing is written."""
    with request.app.state.session_factory() as session:
        yield session


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
