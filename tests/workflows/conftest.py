"""Fixtures shared by the workflow tests: a time-skipping server per module (a module that jumps the
clock years ahead does not move another's), one thread pool, and a worker with every workflow and
activity on a fresh task queue per test.

Closing runs on the time-skipping server (temporal-test-server, Java): every workflow task and every
activity in flight holds a count on the server's one clock lock, released when the task completes.
Terminating a run releases neither (TestWorkflowMutableStateImpl.terminateWorkflowExecution; the
worker's late completion gets NOT_FOUND "Completed workflow"), so the count leaks and the module's clock
runs at wall speed from then on: the next `env.sleep` of days ends in `RPCError: Timeout expired`
(the client's 30 s deadline). A workflow task stays open while its local activities run or back off
between attempts, so "in flight" includes every local-activity write. Hence: a run is terminated only
once it is settled (no workflow task, activity or child in flight), and only while its worker still
polls, so that it can settle; and the worker fixture closes every run on its queue before it stops, so
no run outlives its worker and no local activity is in flight when the worker shuts down."""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.api.workflowservice.v1 import ListOpenWorkflowExecutionsRequest
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from config.binaries import temporal_test_server
from workers.registry import WORKFLOWS, activities, workflow_runner

SETTLE_TIMEOUT = 60.0  # real seconds for a run's workflow task / activities to finish before it is terminated
_TASK_IN_FLIGHT = {EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED}


@pytest.fixture(scope="module")
async def env():
    e = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(temporal_test_server()), data_converter=pydantic_data_converter
    )
    yield e
    await e.shutdown()


@pytest.fixture(scope="session")
def executor():
    with ThreadPoolExecutor(max_workers=8) as ex:
        yield ex


@pytest.fixture
async def worker(env, session_factory, executor):
    queue = f"test-{uuid.uuid4().hex}"
    w = Worker(env.client, task_queue=queue, workflows=WORKFLOWS, activities=activities(session_factory), activity_executor=executor,
               workflow_runner=workflow_runner(env.client.data_converter))  # production's sandbox (workers.registry)
    async with w:
        yield queue
        # Before the worker stops: also the runs a test did not start itself (a refund case started by an activity).
        await close_open_runs(env.client, queue)


async def eventually(check, timeout: float = 10.0):
    """After a time skip a timer's activity runs on its own; wait (in real time) until it has written."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = check()
        if value or asyncio.get_running_loop().time() > deadline:
            return value
        await asyncio.sleep(0.05)


async def busy(handle: WorkflowHandle) -> str | None:
    """What the run still has in flight (a workflow task, activities, children), or None when it is settled
    or closed. The test server does not report the pending workflow task in describe: its history does."""
    desc = await handle.describe()
    if desc.status != WorkflowExecutionStatus.RUNNING:
        return None
    raw = desc.raw_description
    if raw.pending_activities or raw.pending_children or raw.pending_nexus_operations:
        return f"{len(raw.pending_activities)} activities, {len(raw.pending_children)} children in flight"
    last = None
    async for last in handle.fetch_history_events():
        pass
    if last is not None and last.event_type in _TASK_IN_FLIGHT:
        return f"a workflow task in flight ({EventType.Name(last.event_type)})"
    return None


async def terminate_if_running(handle: WorkflowHandle, timeout: float = SETTLE_TIMEOUT) -> None:
    """Teardown: a run left open would hold a time-skipping server's clock once its worker is gone.
    Call it while the run's worker still polls: the run is first let settle (see the module docstring),
    because terminating it with a workflow task or an activity in flight stops the module's clock for good.
    The run may finish between the check and the terminate; that is fine."""
    deadline = asyncio.get_running_loop().time() + timeout
    while (what := await busy(handle)) is not None:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{handle.id}: still {what} after {timeout:.0f} s; terminating it now would "
                                 "leak the time-skipping server's clock lock")
        await asyncio.sleep(0.05)
    if (await handle.describe()).status != WorkflowExecutionStatus.RUNNING:
        return
    try:
        await handle.terminate("test finished")
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise


async def close_open_runs(client: Client, task_queue: str) -> list[str]:
    """Settle and terminate every open run on `task_queue`; their workflow ids. (The test server has no
    visibility queries: it lists all open runs, the task queue is read from each run's description.)"""
    resp = await client.workflow_service.list_open_workflow_executions(
        ListOpenWorkflowExecutionsRequest(namespace=client.namespace, maximum_page_size=1000)
    )
    closed = []
    for info in resp.executions:
        handle = client.get_workflow_handle(info.execution.workflow_id, run_id=info.execution.run_id)
        try:
            if (await handle.describe()).task_queue != task_queue:
                continue
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                continue
            raise
        await terminate_if_running(handle)
        closed.append(handle.id)
    return closed
