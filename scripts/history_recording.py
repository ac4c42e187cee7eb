"""What the history recorders share (scripts/record_histories.py, record_followup_histories.py,
record_discount_histories.py): a throwaway embedded PostgreSQL, Temporal's time-skipping test server with a worker
of WORKFLOWS and the real activities, waiting in real time (never on a result, which would let the test server skip
time), and writing a history where tests/workflows/test_replay.py replays it.

Re-record (into a new set) after an intended, versioned change to a workflow; never to silence the replay test.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from config.binaries import temporal_test_server
from config.settings import PROJECT_ROOT
from db.scratch import scratch_database
from db.session import make_engine, make_session_factory
from workers.registry import WORKFLOWS, activities

_STILL_GOING = (WorkflowExecutionStatus.RUNNING, WorkflowExecutionStatus.CONTINUED_AS_NEW)


async def until(check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Wait (real time) until `check()` holds: a timer-driven step runs on its own after a time skip."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise TimeoutError(f"{what} did not arrive within {timeout:g} s")
        await asyncio.sleep(0.05)


async def until_closed(handle: WorkflowHandle, timeout: float = 30.0) -> None:
    """Poll instead of `handle.result()`: waiting on a result lets the test server skip time (years), which would
    only make the recorded timestamps odd. A chain continued as new is followed to its end; it must complete."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while (desc := await handle.describe()).status in _STILL_GOING:
        if loop.time() > deadline:
            raise TimeoutError(f"{handle.id} did not complete")
        await asyncio.sleep(0.05)
    if desc.status != WorkflowExecutionStatus.COMPLETED:
        raise RuntimeError(f"{handle.id} ended {desc.status}")


async def terminate_running(handles: list[WorkflowHandle]) -> None:
    """A run left open would hold the time-skipping server's clock."""
    for h in handles:
        if (await h.describe()).status == WorkflowExecutionStatus.RUNNING:
            await h.terminate("history recording aborted")


@dataclass
class Recording:
    """Where the histories go, the running worker's environment and database, and what was written."""

    folder: Path
    env: WorkflowEnvironment
    sf: sessionmaker[Session]
    queue: str
    written: list[Path] = field(default_factory=list)

    def write(self, name: str, history: WorkflowHistory) -> Path:
        path = self.folder / f"{name}.json"
        path.write_text(history.to_json() + "\n", encoding="utf-8")
        self.written.append(path)
        print(f"wrote {path.relative_to(PROJECT_ROOT)} ({len(history.events)} events)", flush=True)
        return path


@asynccontextmanager
async def recording(folder: Path, queue: str, *, executor_threads: int = 8) -> AsyncIterator[Recording]:
    """A fresh, migrated database in a throwaway embedded PostgreSQL cluster, the time-skipping test server and a
    worker on `queue`; all of it gone afterwards."""
    with scratch_database("histories") as url:
        engine = make_engine(url, pool_size=10)
        sf = make_session_factory(engine)
        folder.mkdir(parents=True, exist_ok=True)
        env = await WorkflowEnvironment.start_time_skipping(
            test_server_existing_path=str(temporal_test_server()), data_converter=pydantic_data_converter)
        try:
            with ThreadPoolExecutor(max_workers=executor_threads) as executor:
                async with Worker(env.client, task_queue=queue, workflows=WORKFLOWS, activities=activities(sf),
                                  activity_executor=executor):
                    yield Recording(folder, env, sf, queue)
        finally:
            await env.shutdown()
            engine.dispose()


def main_of(record: Callable[[], Awaitable[list[Path]]], folder: Path) -> Callable[[], None]:
    """A recorder's `main`: run it and say how many histories it wrote where."""

    def main() -> None:
        written = asyncio.run(record())
        print(f"{len(written)} histories in {folder.relative_to(PROJECT_ROOT)}/")

    return main
