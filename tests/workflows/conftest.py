"""Fixtures shared by the workflow tests: a time-skipping server per module (a module that jumps the
clock years ahead does not move another's), one thread pool, and a worker with every workflow and
activity on a fresh task queue per test."""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from config.binaries import temporal_test_server
from workers.registry import WORKFLOWS, activities


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
    w = Worker(env.client, task_queue=queue, workflows=WORKFLOWS, activities=activities(session_factory), activity_executor=executor)
    async with w:
        yield queue


async def eventually(check, timeout: float = 10.0):
    """After a time skip a timer's activity runs on its own; wait (in real time) until it has written."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = check()
        if value or asyncio.get_running_loop().time() > deadline:
            return value
        await asyncio.sleep(0.05)


async def terminate_if_running(handle: WorkflowHandle) -> None:
    """Teardown: a run left open would hold a time-skipping server's clock once its worker is gone.
    The run may finish between the check and the terminate; that is fine."""
    if (await handle.describe()).status != WorkflowExecutionStatus.RUNNING:
        return
    try:
        await handle.terminate("test finished")
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
