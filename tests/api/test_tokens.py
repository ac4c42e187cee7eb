"""Tokens and sign-in sessions: an access token must be signed with the server's key, carry exp, iat, sub
and sid, not have expired, and belong to a live session; a refresh token works once; sign-out ends the
session at once."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import jwt
import pytest
from sqlalchemy import update

from api.security import create_access_token
from config.settings import DEV_SECRET_KEY, Settings
from db.auth_models import AuthSession
from db.models import User
from tests.factories import TEST_PASSWORD


@pytest.fixture
def manager(factory):
    return factory.users()["manager"]


async def get_tasks(http, token: str):
    return await http.get("/api/tasks", headers={"Authorization": f"Bearer {token}"})


async def sign_in(http, user) -> dict:
    r = await http.post("/api/auth/token", data={"username": user.username, "password": TEST_PASSWORD})
    assert r.status_code == 200, r.text
    return r.json()


async def refresh(http, refresh_token: str):
    return await http.post("/api/auth/refresh", json={"refresh_token": refresh_token})


def secret() -> str:
    return Settings().secret_key


def sid_of(tokens: dict) -> str:
    return jwt.decode(tokens["access_token"], options={"verify_signature": False})["sid"]


def change_session(session_factory, sid: str, **values) -> None:
    with session_factory.begin() as s:
        s.execute(update(AuthSession).where(AuthSession.id == sid).values(**values))


async def test_sign_in_gives_a_short_lived_access_token_and_a_refresh_token(http, manager):
    tokens = await sign_in(http, manager)
    claims = jwt.decode(tokens["access_token"], secret(), algorithms=["HS256"])
    assert claims["exp"] - claims["iat"] == pytest.approx(Settings().access_token_minutes * 60, abs=1)
    assert tokens["expires_in"] == pytest.approx(Settings().access_token_minutes * 60, abs=1)
    assert tokens["refresh_token"].startswith(claims["sid"] + ".")
    assert tokens["display_name"] == manager.display_name
    assert (await get_tasks(http, tokens["access_token"])).status_code == 200


async def test_a_token_signed_with_another_key_is_refused(http, manager):
    sid = sid_of(await sign_in(http, manager))
    forged = create_access_token(user_id=manager.id, role="manager", session_id=sid, secret="not-" + DEV_SECRET_KEY,
                                 minutes=5)
    r = await get_tasks(http, forged)
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("missing", ["exp", "iat", "sub", "sid"])
async def test_a_token_without_a_required_claim_is_refused(http, manager, missing):
    now = datetime.now(timezone.utc)
    sid = sid_of(await sign_in(http, manager))
    claims = {"sub": str(manager.id), "sid": sid, "role": "manager", "iat": now, "exp": now + timedelta(minutes=5)}
    assert (await get_tasks(http, jwt.encode(claims, secret(), algorithm="HS256"))).status_code == 200
    claims.pop(missing)
    r = await get_tasks(http, jwt.encode(claims, secret(), algorithm="HS256"))
    assert r.status_code == 401


async def test_an_expired_token_is_refused(http, manager):
    sid = sid_of(await sign_in(http, manager))
    old = datetime.now(timezone.utc) - timedelta(hours=2)
    expired = create_access_token(user_id=manager.id, role="manager", session_id=sid, secret=secret(), minutes=60,
                                  now=old)
    r = await get_tasks(http, expired)
    assert r.status_code == 401 and "sign in again" in r.json()["message"]


async def test_a_well_signed_token_of_no_session_or_of_someone_elses_session_is_refused(http, factory, manager):
    other = factory.users()["manager"]
    others_sid = sid_of(await sign_in(http, other))
    for sid in ("no-such-session", others_sid):
        token = create_access_token(user_id=manager.id, role="manager", session_id=sid, secret=secret(), minutes=5)
        assert (await get_tasks(http, token)).status_code == 401


async def test_a_refresh_token_gets_a_new_pair_once_and_a_second_use_ends_the_session(http, manager):
    first = await sign_in(http, manager)
    r = await refresh(http, first["refresh_token"])
    assert r.status_code == 200, r.text
    second = r.json()
    assert second["refresh_token"] != first["refresh_token"] and sid_of(second) == sid_of(first)
    assert (await get_tasks(http, second["access_token"])).status_code == 200
    # The first refresh token again: two holders of one token. The session ends for both.
    r = await refresh(http, first["refresh_token"])
    assert r.status_code == 401 and "already been used" in r.json()["message"]
    assert (await refresh(http, second["refresh_token"])).status_code == 401
    assert (await get_tasks(http, second["access_token"])).status_code == 401


async def test_sign_out_ends_the_session_at_once(http, manager):
    tokens = await sign_in(http, manager)
    other = await sign_in(http, manager)  # another device of the same person
    assert (await get_tasks(http, tokens["access_token"])).status_code == 200  # cached as live
    r = await http.post("/api/auth/sign-out", json={"refresh_token": tokens["refresh_token"]})
    assert r.status_code == 204
    assert (await get_tasks(http, tokens["access_token"])).status_code == 401
    assert (await refresh(http, tokens["refresh_token"])).status_code == 401
    assert (await get_tasks(http, other["access_token"])).status_code == 200  # only that session ended
    # Signing out twice, or with a token that is not one, changes nothing and is not an error.
    assert (await http.post("/api/auth/sign-out", json={"refresh_token": tokens["refresh_token"]})).status_code == 204
    assert (await http.post("/api/auth/sign-out", json={"refresh_token": "garbage"})).status_code == 204


async def test_a_session_idle_too_long_or_past_its_life_cannot_be_refreshed(http, session_factory, manager):
    idle, old = await sign_in(http, manager), await sign_in(http, manager)
    now = datetime.now(timezone.utc)
    change_session(session_factory, sid_of(idle), refreshed_at=now - timedelta(minutes=Settings().session_idle_minutes + 1))
    change_session(session_factory, sid_of(old), expires_at=now - timedelta(seconds=1))
    r = await refresh(http, idle["refresh_token"])
    assert r.status_code == 401 and "idle" in r.json()["message"]
    r = await refresh(http, old["refresh_token"])
    assert r.status_code == 401 and "expired" in r.json()["message"]
    assert (await get_tasks(http, old["access_token"])).status_code == 401


async def test_a_deactivated_person_cannot_refresh(http, session_factory, manager):
    tokens = await sign_in(http, manager)
    with session_factory.begin() as s:
        s.execute(update(User).where(User.id == manager.id).values(active=False))
    r = await refresh(http, tokens["refresh_token"])
    assert r.status_code == 401 and "no longer active" in r.json()["message"]


@pytest.mark.parametrize("body", [{}, {"refresh_token": ""}, {"refresh_token": 5}, {"refresh_token": "x" * 201},
                                  {"refresh_token": "a.b", "extra": 1}])
async def test_a_malformed_refresh_request_is_a_422(http, body):
    assert (await http.post("/api/auth/refresh", json=body)).status_code == 422
