"""Sign-in hardening against the real API (PostgreSQL, Temporal): failed sign-ins lock the username and
the client address (429 with Retry-After, the right password included, a username without an account
alike), a success resets the username's count, a legacy PBKDF2 hash becomes argon2id at sign-in, and a
person who must change their password does that before anything else.

The app is this module's own (the shared one's client is always 127.0.0.1, which is never locked as an
address); each test signs in from addresses of its own (documentation ranges), so no test's failures
count against another's."""

from __future__ import annotations

import base64
import hashlib
import itertools
import uuid
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from sqlalchemy import select, update

from api.main import create_app
from api.security import verify_password
from config.settings import Settings
from db.models import User
from db.signin_models import SigninAudit, SigninThrottle
from tests.factories import TEST_PASSWORD

_hosts = itertools.count(1)
LOCKED = "too many failed sign-ins; try again in 15 minutes"


@pytest.fixture(scope="module")
async def app(dev_env, pg_url):
    settings = Settings(database_url=pg_url, temporal_task_queue=f"signin-test-{uuid.uuid4().hex}")
    app = create_app(settings, temporal_client=dev_env.client)
    async with app.router.lifespan_context(app):
        yield app


def new_address() -> str:
    return f"2001:db8:{uuid.uuid4().hex[:4]}::{next(_hosts):x}"


@pytest.fixture
async def connect(app):
    """connect(address) -> an API client whose requests come from `address` (a fresh one when omitted)."""
    clients: list[httpx.AsyncClient] = []

    def make(address: str | None = None) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(address or new_address(), 50000))
        clients.append(httpx.AsyncClient(transport=transport, base_url="http://test", timeout=30))
        return clients[-1]

    yield make
    for client in clients:
        await client.aclose()


async def sign_in(http: httpx.AsyncClient, username: str, password: str = TEST_PASSWORD) -> httpx.Response:
    return await http.post("/api/auth/token", data={"username": username, "password": password})


def assert_locked(r: httpx.Response, message: str = LOCKED) -> None:
    assert r.status_code == 429, r.text
    body = r.json()
    assert body["code"] == "too_many_requests" and body["message"] == message
    assert 0 < int(r.headers["Retry-After"]) <= 15 * 60


def legacy_pbkdf2(password: str) -> str:
    """A hash in the format api/security.py made before argon2id."""
    salt, iterations = b"legacy-salt-16by", 120_000
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return f"pbkdf2_sha256${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def set_user(session_factory, user_id: int, **values) -> None:
    with session_factory.begin() as s:
        s.execute(update(User).where(User.id == user_id).values(**values))


def stored_hash(session_factory, user_id: int) -> str:
    with session_factory() as s:
        return s.scalar(select(User.password_hash).where(User.id == user_id))


def audit_of(session_factory, username: str) -> list[tuple[str, str]]:
    with session_factory() as s:
        return list(s.execute(select(SigninAudit.outcome, SigninAudit.address)
                              .where(SigninAudit.username == username).order_by(SigninAudit.id)).tuples())


async def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(factory, connect, session_factory):
    user = factory.users()["manager"]
    address = new_address()
    http = connect(address)
    for _ in range(5):
        r = await sign_in(http, user.username, "wrong-password")
        assert r.status_code == 401 and r.json()["message"] == "wrong username or password"
    assert_locked(await sign_in(http, user.username))
    assert_locked(await sign_in(connect(), user.username))  # the username is locked, from any address
    outcomes = [o for o, _ in audit_of(session_factory, user.username)]
    assert outcomes == ["wrong_password"] * 5 + ["account_locked", "refused_locked", "refused_locked"]
    assert {a for _, a in audit_of(session_factory, user.username)[:6]} == {address}


async def test_another_account_from_the_same_address_works_until_the_address_limit(factory, connect):
    users = factory.users()
    locked_out, other = users["manager"], users["sales"]
    http = connect()
    for _ in range(5):
        assert (await sign_in(http, locked_out.username, "wrong-password")).status_code == 401
    assert_locked(await sign_in(http, locked_out.username))
    assert (await sign_in(http, other.username)).status_code == 200
    for n in range(14):  # failures 6..19 from this address, each of a username of its own
        assert (await sign_in(http, f"nobody-{uuid.uuid4().hex[:8]}-{n}", "guess")).status_code == 401
    assert (await sign_in(http, other.username)).status_code == 200  # 19 failures: not yet
    assert (await sign_in(http, f"nobody-{uuid.uuid4().hex[:8]}", "guess")).status_code == 401  # the 20th
    assert_locked(await sign_in(http, other.username))  # the address is locked: the right password too
    assert_locked(await sign_in(http, users["finance"].username))
    assert (await sign_in(connect(), other.username)).status_code == 200  # from another address: fine


async def test_loopback_is_never_locked_as_an_address_only_its_usernames(factory, connect, session_factory):
    """Settings.signin_unthrottled_addresses (loopback by default): behind a proxy on the same host every
    client would share that address, and 20 wrong passwords would lock the whole office out."""
    user = factory.users()["manager"]
    http = connect("127.0.0.1")
    for n in range(20):
        assert (await sign_in(http, f"nobody-{uuid.uuid4().hex[:8]}-{n}", "guess")).status_code == 401
    assert (await sign_in(http, user.username)).status_code == 200
    with session_factory() as s:
        assert s.scalar(select(SigninThrottle).where(SigninThrottle.kind == "address",
                                                     SigninThrottle.key == "127.0.0.1")) is None


async def test_an_unknown_username_is_throttled_the_same_way_as_a_known_one(factory, connect):
    known = factory.users()["manager"].username
    unknown = f"nobody-{uuid.uuid4().hex[:8]}"
    answers: dict[str, list[httpx.Response]] = {known: [], unknown: []}
    for name in (known, unknown):
        http = connect()
        for _ in range(5):
            answers[name].append(await sign_in(http, name, "wrong-password"))
        answers[name].append(await sign_in(http, name))
    for k, u in zip(answers[known], answers[unknown], strict=True):
        assert (k.status_code, k.json()) == (u.status_code, u.json())
        assert ("Retry-After" in k.headers) == ("Retry-After" in u.headers)
    assert [r.status_code for r in answers[unknown]] == [401] * 5 + [429]
    assert_locked(answers[unknown][-1])


async def test_a_success_resets_the_accounts_count(factory, connect):
    user = factory.users()["manager"]
    http = connect()
    for _ in range(4):
        assert (await sign_in(http, user.username, "wrong-password")).status_code == 401
    assert (await sign_in(http, user.username)).status_code == 200
    for _ in range(4):  # without the reset, the first of these would have been the 5th failure (a lock)
        assert (await sign_in(http, user.username, "wrong-password")).status_code == 401
    assert (await sign_in(http, user.username)).status_code == 200


async def test_a_lock_ends_when_its_time_is_up(factory, connect, session_factory):
    user = factory.users()["manager"]
    http = connect()
    for _ in range(5):
        await sign_in(http, user.username, "wrong-password")
    assert_locked(await sign_in(http, user.username))
    with session_factory.begin() as s:  # as if the 15 minutes had passed
        s.execute(update(SigninThrottle).where(SigninThrottle.kind == "account", SigninThrottle.key == user.username)
                  .values(locked_until=datetime.now(timezone.utc) - timedelta(seconds=1)))
    r = await sign_in(http, user.username)
    assert r.status_code == 200, r.text


async def test_a_legacy_pbkdf2_hash_becomes_argon2id_at_sign_in(factory, connect, session_factory):
    user = factory.users()["manager"]
    set_user(session_factory, user.id, password_hash=legacy_pbkdf2(TEST_PASSWORD))
    http = connect()
    assert (await sign_in(http, user.username, "wrong-password")).status_code == 401
    assert stored_hash(session_factory, user.id).startswith("pbkdf2_sha256$")  # a failure changes nothing
    assert (await sign_in(http, user.username)).status_code == 200
    stored = stored_hash(session_factory, user.id)
    assert stored.startswith("$argon2id$") and verify_password(TEST_PASSWORD, stored)
    assert (await sign_in(http, user.username)).status_code == 200
    assert stored_hash(session_factory, user.id) == stored  # no rehash of a current hash


async def test_a_person_who_must_change_their_password_does_that_first(factory, connect, session_factory):
    user = factory.users()["manager"]
    set_user(session_factory, user.id, must_change_password=True)
    http = connect()
    r = await sign_in(http, user.username)
    assert r.status_code == 200 and r.json()["must_change_password"] is True
    tokens = r.json()
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}

    r = await http.get("/api/refund-cases", headers=auth)
    assert r.status_code == 403 and r.json()["message"] == "change your password first"
    r = await http.get("/api/me", headers=auth)
    assert r.status_code == 200 and r.json()["must_change_password"] is True
    r = await http.post("/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert r.status_code == 200 and r.json()["must_change_password"] is True
    auth = {"Authorization": f"Bearer {r.json()['access_token']}"}

    new = "a-new-password-2026"
    r = await http.post("/api/auth/password", headers=auth, json={"current_password": "not-it", "new_password": new})
    assert r.status_code == 422 and r.json()["message"] == "the current password is not right"
    r = await http.post("/api/auth/password", headers=auth, json={"current_password": TEST_PASSWORD, "new_password": "short"})
    assert r.status_code == 422 and "new_password" in r.text
    r = await http.post("/api/auth/password", headers=auth,
                        json={"current_password": TEST_PASSWORD, "new_password": TEST_PASSWORD})
    assert r.status_code == 422 and "differ" in r.json()["message"]
    assert (await http.get("/api/refund-cases", headers=auth)).status_code == 403  # still nothing changed

    r = await http.post("/api/auth/password", headers=auth, json={"current_password": TEST_PASSWORD, "new_password": new})
    assert r.status_code == 200 and r.json() == {"must_change_password": False}
    assert (await http.get("/api/refund-cases", headers=auth)).status_code == 200  # at once, same token
    assert verify_password(new, stored_hash(session_factory, user.id))
    assert (await sign_in(http, user.username)).status_code == 401  # the old password no longer works
    r = await sign_in(http, user.username, new)
    assert r.status_code == 200 and r.json()["must_change_password"] is False
    assert [o for o, _ in audit_of(session_factory, user.username)] == ["wrong_current_password", "wrong_password"]
