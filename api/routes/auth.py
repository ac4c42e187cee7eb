"""Sign-in, refresh and sign-out.

Sign-in takes the OAuth2 password form and opens a server-side session; the answer carries a short-lived
access token (ACCESS_TOKEN_MINUTES) and a refresh token. `POST /api/auth/refresh` swaps a refresh token for
a new pair (the old refresh token stops working); `POST /api/auth/sign-out` ends the session, after which
its access tokens are refused too. docs/decisions.md, "Sign-in sessions".

Failed sign-ins are counted per username and per client address, and too many lock them for a while
(429 with Retry-After; db/signin_throttle.py). A successful sign-in with a hash made before argon2id (or
at older costs) stores a new one in the same transaction. A person whose `must_change_password` is set
may sign in, but calls nothing but `POST /api/auth/password`, `GET /api/me`, refresh and sign-out until
they have changed it (api.deps.get_current_user answers 403 to the rest)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.clock import now_utc
from api.deps import CurrentUser, SessionDep, SettingsDep, oauth2, user_cache
from api.errors import reads_only
from api.schemas import PasswordChange, RefreshToken, Token
from api.security import (
    create_access_token,
    decode_access_token,
    hash_password,
    needs_rehash,
    spend_verify_time,
    verify_password,
)
from config.settings import Settings
from db.auth_models import AuthSession
from db.auth_sessions import Lifetimes, SessionEnded, end_session, open_session, rotate
from db.errors import Invalid, Unauthorized
from db.models import User
from db.signin_throttle import Limits, audit, locked_for, parse_addresses, record_failure, reset_account, too_many

router = APIRouter(prefix="/api/auth", tags=["auth"])


def lifetimes(settings: Settings) -> Lifetimes:
    return Lifetimes(absolute=timedelta(hours=settings.session_hours),
                     idle=timedelta(minutes=settings.session_idle_minutes))


def limits(settings: Settings) -> Limits:
    return Limits(account_max=settings.signin_account_max_failures, address_max=settings.signin_address_max_failures,
                  window=timedelta(minutes=settings.signin_window_minutes),
                  lock=timedelta(minutes=settings.signin_lock_minutes),
                  unthrottled=frozenset(parse_addresses(settings.signin_unthrottled_addresses)))


def client_address(request: Request) -> str:
    """The connection's peer: behind a reverse proxy, the proxy's address unless uvicorn trusts its
    X-Forwarded-For (--forwarded-allow-ips), which then makes it the client's."""
    return request.client.host if request.client is not None else "unknown"


def _refuse_if_locked(session: Session, *, username: str, address: str, now: datetime,
                      settings: Settings) -> None:
    """429 when the username or the address is locked; the refusal is audited (and committed) first."""
    wait = locked_for(session, username=username, address=address, now=now, limits=limits(settings))
    if wait is not None:
        audit(session, username=username, address=address, now=now, outcome="refused_locked")
        session.commit()
        raise too_many(wait)


_RETRY_AFTER = {"Retry-After": {"description": "seconds until the lock ends", "required": True,
                                "schema": {"type": "integer"}}}
_LOCKED = {"description": "Too many failed sign-ins of this username, or from this client address: locked "
                          "for a while, whatever the password (`too_many_requests`; the message says how many "
                          "minutes; `Retry-After` in seconds).", "headers": _RETRY_AFTER}


def _token(user: User, row: AuthSession, refresh_token: str, settings: Settings) -> Token:
    now = now_utc()
    access = create_access_token(user_id=user.id, role=user.role, session_id=row.id, secret=settings.secret_key,
                                 minutes=settings.access_token_minutes, now=now, not_after=row.expires_at)
    expires_in = int(min(settings.access_token_minutes * 60, (row.expires_at - now).total_seconds()))
    return Token(access_token=access, expires_in=max(expires_in, 0), refresh_token=refresh_token, role=user.role,
                 username=user.username, display_name=user.display_name,
                 must_change_password=user.must_change_password)


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(status_code=status.HTTP_401_UNAUTHORIZED, detail=message,
                         headers={"WWW-Authenticate": "Bearer"})


@router.post("/token", response_model=Token, summary="Sign in",
             responses={401: {"description": "Wrong username or password, or the user is inactive (`unauthorized`)."},
                        429: _LOCKED})
@reads_only
def token(form: Annotated[OAuth2PasswordRequestForm, Depends()], request: Request, session: SessionDep,
          settings: SettingsDep) -> Token:
    now, username, address = now_utc(), form.username, client_address(request)
    _refuse_if_locked(session, username=username, address=address, now=now, settings=settings)
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        spend_verify_time(form.password)  # as long as for a real account: the time tells nothing either
        failed = "unknown_user"
    elif not verify_password(form.password, user.password_hash):
        failed = "wrong_password"
    elif not user.active:
        failed = "inactive"
    else:
        failed = None
    if failed is not None:
        record_failure(session, username=username, address=address, now=now, limits=limits(settings), outcome=failed)
        session.commit()
        raise Unauthorized(key="auth.wrong_credentials")
    reset_account(session, username=username)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(form.password)
    row, refresh_token = open_session(session, user_id=user.id, now=now, life=lifetimes(settings))
    answer = _token(user, row, refresh_token, settings)
    session.commit()
    return answer


@router.post("/refresh", response_model=Token, summary="Swap a refresh token for a new access and refresh token",
             responses={401: {"description": "The refresh token is unknown, already used, or its session has "
                                             "ended or expired: sign in again (`unauthorized`)."}})
def refresh(body: RefreshToken, request: Request, session: SessionDep, settings: SettingsDep) -> Token:
    try:
        row, refresh_token = rotate(session, body.refresh_token, now=now_utc(), life=lifetimes(settings))
        user = session.get(User, row.user_id)
        if user is None or not user.active:
            raise SessionEnded("this account is no longer active")
    except SessionEnded as ended:
        session.commit()  # a reused or idle session was just ended: keep that, and refuse its access tokens
        user_cache(request.app).forget(body.refresh_token.partition(".")[0])
        raise _unauthorized(str(ended)) from None
    answer = _token(user, row, refresh_token, settings)
    session.commit()
    return answer


@router.post("/sign-out", status_code=status.HTTP_204_NO_CONTENT, response_class=Response,
             summary="End the session of a refresh token (its access tokens stop working too)")
def sign_out(body: RefreshToken, request: Request, session: SessionDep) -> Response:
    ended = end_session(session, body.refresh_token, now=now_utc())
    session.commit()
    if ended is not None:
        user_cache(request.app).forget(ended)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


class PasswordChanged(BaseModel):
    must_change_password: bool = Field(description="false: every route is open to the person again")


@router.post("/password", response_model=PasswordChanged, summary="Change the signed-in person's password",
             responses={422: {"description": "The current password is not right, or the new one is shorter than "
                                             "8 characters or the same as the current one (`invalid`, "
                                             "`validation_error`)."},
                        429: _LOCKED})
def change_password(body: PasswordChange, request: Request, user: CurrentUser,
                    token: Annotated[str, Depends(oauth2)], session: SessionDep, settings: SettingsDep) -> PasswordChanged:
    """A wrong current password counts as a failed sign-in of the person's username (and address), so a
    stolen access token cannot be used to guess the password either."""
    now, address = now_utc(), client_address(request)
    _refuse_if_locked(session, username=user.username, address=address, now=now, settings=settings)
    row = session.scalar(select(User).where(User.id == user.id).with_for_update())
    if row is None or not verify_password(body.current_password, row.password_hash):
        record_failure(session, username=user.username, address=address, now=now, limits=limits(settings),
                       outcome="wrong_current_password")
        session.commit()
        wrong = Invalid(key="auth.wrong_current_password")
        wrong.errors = ({"field": "body.current_password", "code": "value_error", "message": wrong.message},)
        raise wrong
    row.password_hash = hash_password(body.new_password)
    row.must_change_password = False
    session.commit()
    # This session's cached row still says must_change_password: read it again from the next request on.
    user_cache(request.app).forget(decode_access_token(token, secret=settings.secret_key)[1])
    return PasswordChanged(must_change_password=False)
