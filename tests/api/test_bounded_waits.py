"""Issue 9, no hang: every wait a request can meet is bounded and answered in words a person can act on.

A unit row locked by someone else → 409 within lock_timeout; no pooled connection → 503 with Retry-After
within pool_timeout; an engine that does not answer → 503 with Retry-After within the call timeout, with
nothing written and the unit's lock gone; a statement over statement_timeout → 503. (The bursts against
the real server, thread pools included, are tests/faults/test_burst.py.)"""

from __future__ import annotations

import asyncio
import time
import uuid
from contextlib import asynccontextmanager
from decimal import Decimal

import anyio.to_thread
import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from api import temporal_calls
from api.main import create_app
from config.settings import Settings
from db.errors import Conflict, ServiceUnavailable, from_db_error
from db.models import RefundCase, Unit
from tests.api.conftest import Api


@pytest.fixture
def world(factory, http):
    factory.policy()
    sc = factory.scenario(deposit=Decimal("50000"))
    return sc, Api(http, sc.users)


@asynccontextmanager
async def own_app(pg_url: str, client, **settings):
    """An app of its own (its own pool and bounds), on the real dev server unless `client` says otherwise."""
    app = create_app(Settings(database_url=pg_url, temporal_task_queue=f"bounded-{uuid.uuid4().hex}", **settings),
                     temporal_client=client)
    try:
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test", timeout=30) as http:
                yield app, http
    finally:
        defaults = Settings()  # the bounds are per process: give the shared app its own back
        temporal_calls.configure(rpc_timeout_s=defaults.temporal_rpc_timeout_s, call_timeout_s=defaults.temporal_call_timeout_s)


def open_sessions_in_transaction(session_factory) -> int:
    with session_factory() as s:
        return s.scalar(text(
            "select count(*) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() "
            "and state like 'idle in transaction%' and now() - state_change > interval '2 seconds'"))


def test_every_connection_carries_the_three_timeouts(engine):
    with engine.connect() as c:
        assert c.execute(text("show lock_timeout")).scalar() == "3s"
        assert c.execute(text("show statement_timeout")).scalar() == "15s"
        assert c.execute(text("show idle_in_transaction_session_timeout")).scalar() == "1min"


def test_a_statement_over_statement_timeout_is_a_503_and_a_lock_timeout_a_409(engine, factory):
    with engine.connect() as c:
        c.execute(text("set statement_timeout = 100"))
        with pytest.raises(OperationalError) as caught:
            c.execute(text("select pg_sleep(2)"))
        c.rollback()
    err = from_db_error(caught.value)
    assert isinstance(err, ServiceUnavailable) and err.retry_after and "statement timeout" in err.message

    (unit_id,) = factory.available_units(1)
    with engine.connect() as holder, engine.connect() as waiter:
        holder.execute(select(Unit.id).where(Unit.id == unit_id).with_for_update())
        waiter.execute(text("set lock_timeout = 100"))
        with pytest.raises(OperationalError) as caught:
            waiter.execute(select(Unit.id).where(Unit.id == unit_id).with_for_update())
    err = from_db_error(caught.value)
    assert isinstance(err, Conflict) and err.retry_after == 1 and "try again" in err.message


async def test_a_unit_locked_by_another_connection_is_a_409_within_the_lock_timeout(world, session_factory):
    sc, api = world
    holder = session_factory()
    try:
        holder.get(Unit, sc.unit_id, with_for_update=True)  # someone else is changing the unit
        t0 = time.perf_counter()
        r = await api.post("frontdesk", "/api/refund-cases", json={"unit_id": sc.unit_id})
        waited = time.perf_counter() - t0
    finally:
        holder.rollback()
        holder.close()
    assert r.status_code == 409, r.text
    assert "another request" in r.json()["detail"] and r.headers["retry-after"] == "1"
    assert 2.5 < waited < 6, f"waited {waited:.1f} s for the lock (lock_timeout is 3 s)"
    with session_factory() as s:
        assert s.get(Unit, sc.unit_id).state == "subscribed"
    assert open_sessions_in_transaction(session_factory) == 0
    r = await api.post("frontdesk", "/api/refund-cases", json={"unit_id": sc.unit_id})  # the lock is gone: it works
    assert r.status_code == 201, r.text


async def test_an_exhausted_pool_is_a_503_with_retry_after_not_a_hang(pg_url, dev_env):
    async with own_app(pg_url, dev_env.client, db_pool_size=1, db_max_overflow=0, db_pool_timeout_s=0.5) as (app, http):
        assert (await http.get("/api/refund-policy")).status_code in (200, 409)  # 409: no policy published yet
        hog = app.state.engine.connect()  # the one connection, taken
        try:
            hog.execute(text("select 1"))
            t0 = time.perf_counter()
            r = await http.get("/api/refund-policy")
            waited = time.perf_counter() - t0
        finally:
            hog.close()
        assert r.status_code == 503, r.text
        assert "no database connection came free" in r.json()["detail"] and int(r.headers["retry-after"]) > 0
        assert waited < 3, f"waited {waited:.1f} s (pool_timeout is 0.5 s)"
        assert (await http.get("/api/refund-policy")).status_code in (200, 409)  # the pool is back


class SilentEngine:
    """The real client, except that starting a workflow never answers (a frontend that hangs)."""

    def __init__(self, real) -> None:
        self._real = real
        self.starts = 0

    def __getattr__(self, name):
        return getattr(self._real, name)

    async def start_workflow(self, *args, **kwargs):
        self.starts += 1
        await asyncio.sleep(3600)


async def test_an_engine_that_does_not_answer_is_a_503_with_nothing_written_and_the_unit_free(
    pg_url, dev_env, factory, session_factory
):
    factory.policy()
    sc = factory.scenario(deposit=Decimal("50000"))
    engine = SilentEngine(dev_env.client)
    async with own_app(pg_url, engine, temporal_call_timeout_s=0.5, temporal_rpc_timeout_s=0.5) as (_, http):
        api = Api(http, sc.users)
        for _ in range(2):  # the second one would be a 409 (lock, or 退房中) if the first had left anything behind
            t0 = time.perf_counter()
            r = await api.post("frontdesk", "/api/refund-cases", json={"unit_id": sc.unit_id})
            took = time.perf_counter() - t0
            assert r.status_code == 503, r.text
            assert "did not answer in time" in r.json()["detail"] and int(r.headers["retry-after"]) > 0
            assert took < 3, f"took {took:.1f} s (the call timeout is 0.5 s)"
        assert engine.starts == 2
    with session_factory() as s:
        assert s.get(Unit, sc.unit_id).state == "subscribed"
        assert s.scalar(select(func.count()).select_from(RefundCase).where(RefundCase.subscription_id == sc.subscription_id)) == 0
    assert open_sessions_in_transaction(session_factory) == 0


async def test_run_async_bounds_any_engine_call_and_answers_503():
    async def never():
        await asyncio.sleep(3600)

    t0 = time.perf_counter()
    with pytest.raises(ServiceUnavailable) as caught:
        await anyio.to_thread.run_sync(lambda: temporal_calls.run_async(never, timeout_s=0.2))
    assert time.perf_counter() - t0 < 2
    assert caught.value.status_code == 503 and caught.value.retry_after
