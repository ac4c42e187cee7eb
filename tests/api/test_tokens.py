"""A token must be signed with the server's key, carry exp, iat and sub, and not have expired."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import jwt
import pytest

from api.security import create_access_token
from config.settings import DEV_SECRET_KEY, Settings


@pytest.fixture
def manager(factory):
    return factory.users()["manager"]


async def get_tasks(http, token: str):
    return await http.get("/api/tasks", headers={"Authorization": f"Bearer {token}"})


def secret() -> str:
    return Settings().secret_key


async def test_a_valid_token_is_accepted(http, manager):
    r = await get_tasks(http, create_access_token(user_id=manager.id, role="manager", secret=secret(), minutes=5))
    assert r.status_code == 200


async def test_a_token_signed_with_another_key_is_refused(http, manager):
    forged = create_access_token(user_id=manager.id, role="manager", secret="not-" + DEV_SECRET_KEY, minutes=5)
    r = await get_tasks(http, forged)
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("missing", ["exp", "iat", "sub"])
async def test_a_token_without_a_required_claim_is_refused(http, manager, missing):
    now = datetime.now(timezone.utc)
    claims = {"sub": str(manager.id), "role": "manager", "iat": now, "exp": now + timedelta(minutes=5)}
    claims.pop(missing)
    r = await get_tasks(http, jwt.encode(claims, secret(), algorithm="HS256"))
    assert r.status_code == 401


async def test_an_expired_token_is_refused(http, manager):
    old = datetime.now(timezone.utc) - timedelta(hours=2)
    expired = create_access_token(user_id=manager.id, role="manager", secret=secret(), minutes=60, now=old)
    r = await get_tasks(http, expired)
    assert r.status_code == 401 and "sign in again" in r.json()["message"]
