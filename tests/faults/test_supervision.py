"""Supervision under `make run`: a service that dies (SIGKILL: no goodbye) is restarted and the system
answers again; SIGTERM to `make run` stops every process.

One `python -m scripts.run` for the module, on free ports with its own data folder (as tests/e2e does).
The services' pids come from the files `make run` writes to DATA_DIR/pids/. The tests run in file order
and the last one stops the system; each one first waits for a healthy system, so any one runs alone too.
The first test checks the backoff arithmetic alone, without processes."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import httpx
import psutil
import pytest
from temporalio.client import Client
from temporalio.service import RPCError

from config.settings import Settings
from scripts.stack import BACKOFF_CAP, STABLE_AFTER, Service, Stack, pid_running, running
from workflows.warning_sweep import WARNING_SWEEP_SCHEDULE_ID
from tests.system import RunningSystem, running_system

T = TypeVar("T")

RECOVER_TIMEOUT = 30  # a first restart waits 0.5 s; PostgreSQL's crash recovery and Temporal's start take seconds
STOP_TIMEOUT = 15  # typically 2 s; the bounds are 10 s of SIGTERM grace for the children, then PostgreSQL's




def wait_until(check: Callable[[], T | None], timeout: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.25)
    pytest.fail(f"no {what} within {timeout:.0f}s")


class System(RunningSystem):
    """The running `make run`: its process, data folder, pid files and API."""

    def get(self, path: str) -> httpx.Response | None:
        try:
            return httpx.get(self.url + path, timeout=3)
        except httpx.HTTPError:
            return None

    def healthy(self) -> bool:
        r = self.get("/api/health")
        return r is not None and r.status_code == 200 and r.json()["status"] == "ok"

    def wait_healthy(self) -> None:
        wait_until(self.healthy, RECOVER_TIMEOUT, "healthy /api/health")

    def kill(self, name: str) -> int:
        """SIGKILL the service and wait for its replacement; the replacement's pid."""
        self.wait_healthy()
        old = self.pid(name)
        assert old and pid_running(old), f"{name} is not running before the test"
        os.kill(old, signal.SIGKILL)
        new = wait_until(lambda: (p := self.pid(name)) != old and p and pid_running(p) and p, RECOVER_TIMEOUT, f"new {name}")
        assert not pid_running(old)
        assert f"{name} restarted, pid {new} (attempt " in self.log()
        assert self.proc.poll() is None, "make run stopped"
        return new


@pytest.fixture(scope="module")
def system():
    with running_system("faults", kind=System) as sys_:
        yield sys_


def test_restart_delay_doubles_to_the_cap_and_starts_over_after_a_stable_run(tmp_path: Path):
    stack = Stack(Settings(), data_dir=tmp_path)
    svc = Service("worker", launch=lambda: None)

    def death() -> float:
        stack._schedule_restart(svc, "died")
        return round(svc.restart_at - time.monotonic(), 1)

    svc.started_at = time.monotonic()
    assert [death() for _ in range(7)] == [0.5, 1.0, 2.0, 4.0, 8.0, BACKOFF_CAP, BACKOFF_CAP]
    svc.started_at = time.monotonic() - STABLE_AFTER  # up long enough: a fresh fault, not a crash loop
    assert death() == 0.5
    stack.stopping = True  # Ctrl-C: no restart is scheduled any more
    svc.restart_at = None
    stack._schedule_restart(svc, "died")
    assert svc.restart_at is None


def test_killed_worker_is_restarted_and_nothing_else(system: System):
    others = {name: system.pid(name) for name in ("postgres", "temporal", "api")}
    system.kill("worker")
    assert "worker died (signal SIGKILL)" in system.log()
    time.sleep(1)  # the new worker connects to Temporal and stays up
    assert pid_running(system.pid("worker"))
    assert {name: system.pid(name) for name in others} == others
    system.wait_healthy()


def test_killed_api_comes_back(system: System):
    system.kill("api")
    assert "api died (signal SIGKILL)" in system.log()
    system.wait_healthy()


async def _has_warning_sweep_schedule(address: str) -> bool:
    client = await Client.connect(address)
    try:
        await client.get_schedule_handle(WARNING_SWEEP_SCHEDULE_ID).describe()
    except RPCError:
        return False
    return True


def test_killed_temporal_server_comes_back_on_its_data(system: System):
    def schedule() -> bool:
        return asyncio.run(_has_warning_sweep_schedule(system.temporal))

    wait_until(schedule, RECOVER_TIMEOUT, "warning-sweep schedule (the worker creates it at its start)")
    worker = system.pid("worker")
    system.kill("temporal")
    assert "temporal died (signal SIGKILL)" in system.log()
    system.wait_healthy()
    # The schedule is still there: the restarted server runs on the same database file, so every
    # workflow resumes too.
    assert schedule()
    assert system.pid("worker") == worker  # the worker rides out the outage by retrying its polls


def test_killed_postgres_comes_back_on_the_same_socket(system: System):
    api = system.pid("api")
    system.kill("postgres")
    assert "postgres died (postmaster gone" in system.log()
    # The API was not restarted: its DATABASE_URL (the socket) is valid again once the pool drops its
    # dead connections (the first request after the outage may fail).
    wait_until(lambda: (r := system.get("/api/refund-policy")) is not None and r.status_code == 200, RECOVER_TIMEOUT,
               "200 from /api/refund-policy")
    system.wait_healthy()
    assert system.pid("api") == api


def test_sigterm_stops_every_process(system: System):
    system.wait_healthy()
    postmaster = psutil.Process(system.pid("postgres"))
    procs = psutil.Process(system.proc.pid).children(recursive=True) + [postmaster] + postmaster.children()
    assert len(procs) >= 5
    t0 = time.monotonic()
    system.proc.send_signal(signal.SIGTERM)
    assert system.proc.wait(timeout=STOP_TIMEOUT) == 0
    took = time.monotonic() - t0
    wait_until(lambda: not any(map(running, procs)), 5, "end of every process")
    assert not list((system.data_dir / "pids").glob("*.pid"))
    assert "Stopped." in system.log()
    print(f"stopped in {took:.1f}s")
