"""Outages answer 503 with a message and Retry-After, promptly: PostgreSQL refusing connections, the
Temporal server stopped. Liveness never asks a dependency; readiness says which one is missing."""

from __future__ import annotations

import socket
import time
import uuid
from decimal import Decimal

import pytest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from sqlalchemy import func, select

from api.security import create_access_token
from config.binaries import temporal_cli
from db.models import RefundCase, Task
from tests.api.conftest import Api
from tests.api.test_bounded_waits import own_app
from tests.api.test_refund_api import intake_body

BOUND_S = 6.0  # every answer during an outage comes within this


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the socket goes: connections are refused


def assert_unavailable(r, took: float, *words: str) -> None:
    assert r.status_code == 503, r.text
    assert int(r.headers["Retry-After"]) > 0
    assert took < BOUND_S, f"answered after {took:.1f}s"
    text = r.text
    for w in words:
        assert w in text, text


async def timed(call):
    t0 = time.perf_counter()
    r = await call
    return r, time.perf_counter() - t0


async def test_liveness_answers_without_asking_any_dependency(http):
    r = await http.get("/api/health/live")
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    r = await http.get("/api/health/ready")
    assert r.status_code == 200 and r.json() == {"status": "ok", "database": True, "temporal": True}


async def test_with_postgresql_down_every_call_is_a_prompt_503(dev_env, factory):
    users = factory.users()
    down_url = f"postgresql+psycopg2://nobody@127.0.0.1:{closed_port()}/estateflow"
    async with own_app(down_url, dev_env.client) as (app, http):
        r, took = await timed(http.get("/api/health"))
        assert_unavailable(r, took, "PostgreSQL")
        assert r.json()["database"] is False and r.json()["temporal"] is True
        r, took = await timed(http.get("/api/health/ready"))
        assert_unavailable(r, took, "PostgreSQL")
        assert (await http.get("/api/health/live")).status_code == 200
        r, took = await timed(http.post("/api/auth/token", data={"username": "manager", "password": "x"}))
        assert_unavailable(r, took, "database")
        token = create_access_token(user_id=users["manager"].id, role="manager", session_id="any",
                                    secret=app.state.settings.secret_key, minutes=5)
        auth = {"Authorization": f"Bearer {token}"}
        for method, url, body in (("GET", "/api/refund-cases", None), ("GET", "/api/tasks", None),
                                  ("POST", "/api/refund-cases", {"unit_id": 1}),
                                  ("POST", "/api/tasks/1/complete", {})):
            r, took = await timed(http.request(method, url, json=body, headers=auth))
            assert_unavailable(r, took, "database")


@pytest.fixture
async def doomed_engine():
    """A Temporal dev server of the test's own, stopped by the test."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_cli()), data_converter=pydantic_data_converter, ui=False)
    yield env
    try:
        await env.shutdown()
    except Exception:
        pass


async def test_with_temporal_down_engine_calls_are_a_prompt_503(pg_url, doomed_engine, factory, session_factory):
    factory.policy()
    sc = factory.scenario(deposit=Decimal("50000"))
    other = factory.scenario(deposit=Decimal("50000"))
    async with own_app(pg_url, doomed_engine.client, temporal_call_timeout_s=2, temporal_rpc_timeout_s=1) as (app, http):
        api = Api(http, sc.users)
        r = await api.post("frontdesk", "/api/refund-cases", json={"unit_id": sc.unit_id})
        assert r.status_code == 201, r.text  # registered while the engine was up; nobody works its queue
        intake = await api.task("frontdesk", r.json()["id"], "intake")
        await doomed_engine.shutdown()

        r, took = await timed(http.get("/api/health"))
        assert_unavailable(r, took, "Temporal")
        assert r.json()["database"] is True and r.json()["temporal"] is False
        r, took = await timed(api.post("frontdesk", f"/api/tasks/{intake['id']}/complete", json=intake_body(sc)))
        assert_unavailable(r, took, "did not answer")
        with session_factory() as s:
            assert s.get(Task, intake["id"]).status == "open"
        r, took = await timed(api.post("frontdesk", "/api/refund-cases", json={"unit_id": other.unit_id}))
        assert_unavailable(r, took, "did not answer")
        with session_factory() as s:  # nothing written: the unit can be registered once the engine is back
            assert s.scalar(select(func.count()).select_from(RefundCase).where(
                RefundCase.subscription_id == other.subscription_id)) == 0
        r, took = await timed(api.get("frontdesk", "/api/tasks"))  # reads need no engine
        assert r.status_code == 200 and took < BOUND_S
