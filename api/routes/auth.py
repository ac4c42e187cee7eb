"""Sign-in: OAuth2 password form in, bearer token out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy import select

from api.deps import SessionDep, SettingsDep
from api.errors import reads_only
from api.schemas import Token
from api.security import create_access_token, verify_password
from db.models import User

router = APIRouter(prefix="/api/auth", tags=["auth"])


@router.post("/token", response_model=Token, summary="Sign in",
             responses={401: {"description": "Wrong username or password, or the user is inactive (`unauthorized`)."}})
@reads_only
def token(form: Annotated[OAuth2PasswordRequestForm, Depends()], session: SessionDep, settings: SettingsDep) -> Token:
    user = session.scalar(select(User).where(User.username == form.username))
    if user is None or not user.active or not verify_password(form.password, user.password_hash):
        raise HTTPException(status_code=status.HTTP_401_UNAUTHORIZED, detail="wrong username or password")
    access = create_access_token(user_id=user.id, role=user.role, secret=settings.secret_key, minutes=settings.access_token_minutes)
    return Token(access_token=access, role=user.role, username=user.username)
