"""Sign-in, refresh and sign-out.

Sign-in takes the OAuth2 password form and opens a server-side session; the answer carries a short-lived
access token (ACCESS_TOKEN_MINUTES) and a refresh token. `POST /api/auth/refresh` swaps a refresh token for
a new pair (the old refresh token stops working); `POST /api/auth/sign-out` ends the session, after which
its access tokens are refused too. docs/decisions.md, "Sign-in sessions"."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy import select

from api.clock import now_utc
from api.deps import SessionDep, SettingsDep, user_cache
from api.errors import reads_only
from api.schemas import RefreshToken, Token
from api.security import create_access_token, verify_password
from config.settings import Settings
from db.auth_models import AuthSession
from db.auth_sessions import Lifetimes, SessionEnded, end_session, open_session, rotate
from db.models import User

router = APIRouter(prefix="/api/auth", tags=["auth"])


def lifetimes(settings: Settings) -> Lifetimes:
    return Lifetimes(absolute=timedelta(hours=settings.session_hours),
                     idle=timedelta(minutes=settings.session_idle_minutes))


def _token(user: User, row: AuthSession, refresh_token: str, settings: Settings) -> Token:
    now = now_utc()
    access = create_access_token(user_id=user.id, role=user.role, session_id=row.id, secret=settings.secret_key,
                                 minutes=settings.access_token_minutes, now=now, not_after=row.expires_at)
    expires_in = int(min(settings.access_token_minutes * 60, (row.expires_at - now).total_seconds()))
    return Token(access_token=access, expires_in=max(expires_in, 0), refresh_token=refresh_token, role=user.role,
                 username=user.username, display_name=user.display_name)


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(status_code=status.HTTP_401_UNAUTHORIZED, detail=message,
                         headers={"WWW-Authenticate": "Bearer"})


@router.post("/token", response_model=Token, summary="Sign in",
             responses={401: {"description": "Wrong username or password, or the user is inactive (`unauthorized`)."}})
@reads_only
def token(form: Annotated[OAuth2PasswordRequestForm, Depends()], session: SessionDep, settings: SettingsDep) -> Token:
    user = session.scalar(select(User).where(User.username == form.username))
    if user is None or not user.active or not verify_password(form.password, user.password_hash):
        raise HTTPException(status_code=status.HTTP_401_UNAUTHORIZED, detail="wrong username or password")
    row, refresh_token = open_session(session, user_id=user.id, now=now_utc(), life=lifetimes(settings))
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
