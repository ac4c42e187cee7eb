"""One truth with the engine: a person's step reaches PostgreSQL only after the workflow's history holds the
update's acceptance, so a lost workflow task can never leave the database ahead of the workflow; and an
accepted step is written even when the database fails for a while."""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select
from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.worker import Worker

from activities.refund import RefundActivities
from db.models import CaseEvent, RefundCase
from tests.drive import open_case
from tests.workflows.conftest import terminate_if_running
from workers.registry import WORKFLOWS, activities
from workflows.contracts import StepRecord

HUMAN_STEPS = {"intake", "assessment:finance", "assessment:legal", "assessment:marketing", "solution", "choice", "archive"}


class ObservedWrites:
    """apply_step, watched: what the history held when each write began, and a few failures on demand."""

    def __init__(self, client, session_factory, fail_first: int = 0) -> None:
        self.client = client
        self.real = RefundActivities(session_factory)
        self.accepted_at_write: dict[str, set[str]] = {}
        self.fail_first = fail_first
        self.attempts: dict[str, int] = {}

    @activity.defn(name="apply_step")
    async def apply_step(self, rec: StepRecord) -> bool:
        info = activity.info()
        history = await self.client.get_workflow_handle(info.workflow_id).fetch_history()
        self.accepted_at_write[rec.event_key] = {
            e.workflow_execution_update_accepted_event_attributes.accepted_request.meta.update_id
            for e in history.events
            if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
        }
        self.attempts[rec.event_key] = self.attempts.get(rec.event_key, 0) + 1
        if self.attempts[rec.event_key] <= self.fail_first:
            raise RuntimeError("PostgreSQL is down (simulated)")
        return await asyncio.to_thread(self.real.apply_step, rec)


@pytest.fixture
def executor():
    with ThreadPoolExecutor(max_workers=4) as ex:
        yield ex


async def run_case(env, session_factory, factory, executor, writes: ObservedWrites):
    policy = factory.policy()
    sc = factory.scenario()
    queue = f"test-{uuid.uuid4().hex}"
    others = [a for a in activities(session_factory) if activity._Definition.from_callable(a).name != "apply_step"]
    async with Worker(env.client, task_queue=queue, workflows=WORKFLOWS, activities=[writes.apply_step, *others],
                      activity_executor=executor):
        case = await open_case(env.client, session_factory, sc, policy=policy, task_queue=queue,
                               registered_at=await env.get_current_time())
        try:
            await case.intake()
            await case.assess()
        finally:
            await terminate_if_running(case.handle)
    return case


async def test_a_persons_step_is_written_only_after_its_acceptance_is_in_history(env, session_factory, factory, executor):
    writes = ObservedWrites(env.client, session_factory)
    case = await run_case(env, session_factory, factory, executor, writes)
    human = [k for k in writes.accepted_at_write if k in HUMAN_STEPS]
    assert human == ["intake", "assessment:finance", "assessment:legal", "assessment:marketing"]
    # The n-th step's write began with n accepted updates in the history: its own acceptance was durable.
    for n, key in enumerate(human, start=1):
        assert len(writes.accepted_at_write[key]) == n, (key, writes.accepted_at_write[key])
    with session_factory() as s:
        stage = s.get(RefundCase, uuid.UUID(case.case_id)).stage
        n_events = s.scalar(select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == uuid.UUID(case.case_id)))
    assert stage == "solution" and n_events == 4


async def test_an_accepted_step_is_written_once_when_the_database_fails_for_a_while(env, session_factory, factory, executor):
    writes = ObservedWrites(env.client, session_factory, fail_first=2)
    case = await run_case(env, session_factory, factory, executor, writes)
    assert writes.attempts["intake"] == 3  # two failures, then the write; the update waited for it
    with session_factory() as s:
        keys = s.scalars(select(CaseEvent.event_key).where(CaseEvent.case_id == uuid.UUID(case.case_id))).all()
    assert sorted(keys) == sorted(["intake", "assessment:finance", "assessment:legal", "assessment:marketing"])
