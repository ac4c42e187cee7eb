"""One winner: of any number of concurrent completions of one task exactly one succeeds, the others get
409 with who completed it and when; a retry with the same Idempotency-Key gets the first answer."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from db.models import CaseEvent, Task, TaskStatus
from tests.api.conftest import Api
from tests.api.test_refund_api import intake_body, register

RACERS = 20


@pytest.fixture
def world(factory, http):
    factory.policy()
    sc = factory.scenario(deposit=Decimal("50000"))
    return sc, Api(http, sc.users)


async def race(api: Api, role: str, task_id: int, body: dict, n: int = RACERS, **kw) -> list:
    headers = await api.as_(role)
    return await asyncio.gather(*(
        api.http.post(f"/api/tasks/{task_id}/complete", json=body, headers={**headers, **kw.get("extra", {})})
        for _ in range(n)
    ))


async def post_with_key(api: Api, role: str, url: str, body: dict, key: dict):
    return await api.http.post(url, json=body, headers={**await api.as_(role), **key})


def events(session_factory, case_id: str, key: str) -> int:
    with session_factory() as s:
        return s.scalar(select(func.count()).select_from(CaseEvent).where(
            CaseEvent.case_id == uuid.UUID(case_id), CaseEvent.event_key == key))


async def test_twenty_concurrent_completions_of_a_workflow_task_have_exactly_one_winner(world, session_factory):
    sc, api = world
    cid = (await register(api, sc))["id"]
    task = await api.task("frontdesk", cid, "intake")
    answers = await race(api, "frontdesk", task["id"], intake_body(sc))
    assert Counter(r.status_code for r in answers) == {200: 1, 409: RACERS - 1}, [r.text for r in answers]
    name = sc.users["frontdesk"].display_name
    for r in answers:
        if r.status_code == 409:
            assert f"already completed by {name} at " in r.json()["detail"], r.text
    assert events(session_factory, cid, "intake") == 1
    # The next step sees the one intake: three assessment tasks, once each.
    with session_factory() as s:
        kinds = s.scalars(select(Task.kind).where(Task.case_id == uuid.UUID(cid), Task.status == TaskStatus.OPEN)).all()
    assert sorted(kinds) == ["assessment"] * 3


async def test_twenty_concurrent_completions_of_a_database_only_task_have_exactly_one_winner(world, session_factory):
    sc, api = world
    cid = (await register(api, sc))["id"]
    with session_factory.begin() as s:  # an escalation to acknowledge, as an SLA miss opens it
        t = Task(case_id=uuid.UUID(cid), project_id=sc.project_id, task_key="escalation:test", kind="escalation",
                 role="manager", title="SLA missed")
        s.add(t)
        s.flush()
        task_id = t.id
    r = await api.post("manager", f"/api/tasks/{task_id}/complete", json={})
    assert r.status_code == 422 and "what was done" in r.json()["message"]  # an escalation is answered
    answers = await race(api, "manager", task_id, {"note": "已致电客户并安排明天上午面谈"})
    assert Counter(r.status_code for r in answers) == {200: 1, 409: RACERS - 1}, [r.text for r in answers]
    assert all("already completed by" in r.json()["detail"] for r in answers if r.status_code == 409)
    with session_factory() as s:
        row = s.get(Task, task_id)
        assert row.status == TaskStatus.DONE and row.completed_by == sc.users["manager"].id


async def test_a_retry_with_the_same_idempotency_key_gets_the_first_answer(world, session_factory):
    sc, api = world
    cid = (await register(api, sc))["id"]
    task = await api.task("frontdesk", cid, "intake")
    key = {"Idempotency-Key": uuid.uuid4().hex}
    first = await post_with_key(api, "frontdesk", f"/api/tasks/{task['id']}/complete", intake_body(sc), key)
    assert first.status_code == 200, first.text
    again = await post_with_key(api, "frontdesk", f"/api/tasks/{task['id']}/complete", intake_body(sc), key)
    assert again.status_code == 200 and again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    # The same key for a different request is refused; without the key the step is simply done.
    other = dict(intake_body(sc), reason_text="changed my mind")
    r = await post_with_key(api, "frontdesk", f"/api/tasks/{task['id']}/complete", other, key)
    assert r.status_code == 422 and "different request" in r.json()["detail"]
    r = await api.post("frontdesk", f"/api/tasks/{task['id']}/complete", json=intake_body(sc))
    assert r.status_code == 409 and "already completed by" in r.json()["detail"]
    assert events(session_factory, cid, "intake") == 1


async def test_concurrent_requests_with_one_idempotency_key_all_get_the_one_answer(world, session_factory):
    sc, api = world
    cid = (await register(api, sc))["id"]
    task = await api.task("frontdesk", cid, "intake")
    answers = await race(api, "frontdesk", task["id"], intake_body(sc), n=5, extra={"Idempotency-Key": "double-click-1"})
    assert {r.status_code for r in answers} == {200}
    assert len({r.text for r in answers}) == 1
    assert events(session_factory, cid, "intake") == 1


async def test_an_idempotency_key_is_the_callers_own(world):
    sc, api = world
    cid = (await register(api, sc))["id"]
    task = await api.task("frontdesk", cid, "intake")
    r = await post_with_key(api, "frontdesk", f"/api/tasks/{task['id']}/complete", intake_body(sc), {"Idempotency-Key": "shared-key"})
    assert r.status_code == 200, r.text
    # Another person's request with the same key is not answered from the first person's result.
    r = await post_with_key(api, "manager", f"/api/tasks/{task['id']}/complete", intake_body(sc), {"Idempotency-Key": "shared-key"})
    assert r.status_code == 403


async def test_a_malformed_idempotency_key_is_refused(world):
    sc, api = world
    cid = (await register(api, sc))["id"]
    task = await api.task("frontdesk", cid, "intake")
    r = await post_with_key(api, "frontdesk", f"/api/tasks/{task['id']}/complete", intake_body(sc), {"Idempotency-Key": "x" * 200})
    assert r.status_code == 422


async def test_a_registration_retried_with_its_idempotency_key_opens_one_case(world, session_factory):
    sc, api = world
    key = {"Idempotency-Key": uuid.uuid4().hex}
    first = await post_with_key(api, "frontdesk", "/api/refund-cases", {"unit_id": sc.unit_id}, key)
    assert first.status_code == 201, first.text
    again = await post_with_key(api, "frontdesk", "/api/refund-cases", {"unit_id": sc.unit_id}, key)
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
    assert again.headers.get("Idempotent-Replayed") == "true"
    plain = await api.post("frontdesk", "/api/refund-cases", json={"unit_id": sc.unit_id})
    assert plain.status_code == 409


async def test_a_retry_after_a_failed_update_completes_the_step_exactly_once(pg_url, dev_env, factory, session_factory):
    """The engine does not answer in time (no worker yet): 503. The client retries with its key once the
    worker is back: the same update id reaches the one step, which is recorded once."""
    from concurrent.futures import ThreadPoolExecutor

    from tests.api.test_bounded_waits import own_app
    from workers.main import build_worker

    factory.policy()
    sc = factory.scenario(deposit=Decimal("50000"))
    async with own_app(pg_url, dev_env.client, temporal_call_timeout_s=1.5, temporal_rpc_timeout_s=1) as (app, http):
        api = Api(http, sc.users)
        cid = (await register(api, sc))["id"]  # the workflow starts; nobody works its queue yet
        task = await api.task("frontdesk", cid, "intake")
        key = {"Idempotency-Key": uuid.uuid4().hex}
        first = await post_with_key(api, "frontdesk", f"/api/tasks/{task['id']}/complete", intake_body(sc), key)
        assert first.status_code == 503 and "may still have been recorded" in first.json()["detail"], first.text
        assert events(session_factory, cid, "intake") == 0
        with ThreadPoolExecutor(max_workers=4) as ex:
            async with build_worker(dev_env.client, session_factory, task_queue=app.state.settings.temporal_task_queue,
                                    executor=ex):
                again = await post_with_key(api, "frontdesk", f"/api/tasks/{task['id']}/complete", intake_body(sc), key)
                assert again.status_code == 200, again.text
                assert again.json()["stage"] == "assessment"
                replayed = await post_with_key(api, "frontdesk", f"/api/tasks/{task['id']}/complete", intake_body(sc), key)
                assert replayed.status_code == 200 and replayed.json() == again.json()
                handle = dev_env.client.get_workflow_handle(f"refund-case-{cid}")
                await handle.terminate("test finished")
    assert events(session_factory, cid, "intake") == 1


async def test_a_registration_key_commits_with_the_case(world, session_factory):
    """The key is written in the case's own transaction: even if the answer never left (a crash after the
    commit), the keyed retry gets the case, not 'already has a refund case in progress'."""
    from db.idempotency_models import IdempotentResponse

    sc, api = world
    key = {"Idempotency-Key": uuid.uuid4().hex}
    first = await post_with_key(api, "frontdesk", "/api/refund-cases", {"unit_id": sc.unit_id}, key)
    assert first.status_code == 201, first.text
    with session_factory() as s:
        row = s.get(IdempotentResponse, (sc.users["frontdesk"].id, key["Idempotency-Key"]))
        assert row.body == {"_ref": {"case_id": first.json()["id"]}}
    again = await post_with_key(api, "frontdesk", "/api/refund-cases", {"unit_id": sc.unit_id}, key)
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
