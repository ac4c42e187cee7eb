"""API tests run against the real Temporal dev server (start_local) and the embedded PostgreSQL."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from config.binaries import temporal_cli
from config.settings import Settings
from tests.factories import TEST_PASSWORD
from workers.main import build_worker


@pytest.fixture(scope="session")
async def dev_env():
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_cli()),
        data_converter=pydantic_data_converter,
        ui=False,
        dev_server_extra_args=[
            "--dynamic-config-value", "history.transferProcessorMaxPollRPS=1000",
            "--dynamic-config-value", "system.enableActivityEagerExecution=true",
        ],
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
async def api_stack(dev_env, pg_url, session_factory):
    """One app and one worker for the API tests, on their own task queue."""
    queue = f"api-test-{uuid.uuid4().hex}"
    settings = Settings(database_url=pg_url, temporal_task_queue=queue)
    app = create_app(settings, temporal_client=dev_env.client)
    with ThreadPoolExecutor(max_workers=8) as executor:
        worker = build_worker(dev_env.client, session_factory, task_queue=queue, executor=executor)
        async with worker, app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=30) as http:
                yield http


@pytest.fixture
def http(api_stack) -> httpx.AsyncClient:
    return api_stack


class Api:
    """Signs each role in once and sends requests as that role."""

    def __init__(self, http: httpx.AsyncClient, users, project_id: int | None = None) -> None:
        self.http = http
        self.users = users
        self.project_id = project_id  # where customer_body(api.project_id) registers customers
        self.tokens: dict[str, str] = {}

    async def as_(self, role: str) -> dict[str, str]:
        if role not in self.tokens:
            r = await self.http.post("/api/auth/token", data={"username": self.users[role].username, "password": TEST_PASSWORD})
            assert r.status_code == 200, r.text
            self.tokens[role] = r.json()["access_token"]
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    async def get(self, role: str, url: str, **kw) -> httpx.Response:
        return await self.http.get(url, headers=await self.as_(role), **kw)

    async def post(self, role: str, url: str, **kw) -> httpx.Response:
        return await self.http.post(url, headers=await self.as_(role), **kw)

    async def task(self, role: str, case_id: str, kind: str) -> dict:
        r = await self.get(role, "/api/tasks", params={"case_id": case_id, "kind": kind})
        assert r.status_code == 200, r.text
        found = r.json()["items"]
        assert found, f"{role} has no open {kind} task for {case_id}: {r.json()}"
        return found[0]

    async def complete(self, role: str, case_id: str, kind: str, body: dict) -> httpx.Response:
        t = await self.task(role, case_id, kind)
        return await self.post(role, f"/api/tasks/{t['id']}/complete", json=body)
