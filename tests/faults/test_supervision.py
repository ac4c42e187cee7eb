"""Supervision under `make run`: a service that dies (SIGKILL: no goodbye) is restarted and the system
answers again; SIGTERM to `make run` stops every process.

One `python -m scripts.run` for the module, on free ports with its own data folder (as tests/e2e does).
The services' pids come from the files `make run` writes to DATA_DIR/pids/. The tests run in file order
and the last one stops the system; each one first waits for a healthy system, so any one runs alone too.
The first test checks the backoff arithmetic alone, without processes."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import httpx
import psutil
import pytest
from temporalio.client import Client
from temporalio.service import RPCError

from config.settings import PROJECT_ROOT, Settings
from scripts.stack import BACKOFF_CAP, STABLE_AFTER, Service, Stack, pid_running, running
from workflows.warning_sweep import WARNING_SWEEP_SCHEDULE_ID
from tests.ports import free_port

T = TypeVar("T")

START_TIMEOUT = 120  # a cold start (initdb, migrations, seed) on two busy cores
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


class System:
    """The running `make run`: its process, data folder and API."""

    def __init__(self, proc: subprocess.Popen, data_dir: Path, url: str, temporal: str) -> None:
        self.proc, self.data_dir, self.url, self.temporal = proc, data_dir, url, temporal

    def pid(self, name: str) -> int | None:
        try:
            return int((self.data_dir / "pids" / f"{name}.pid").read_text())
        except (FileNotFoundError, ValueError):  # not there yet, or caught mid-rewrite
            return None

    def log(self) -> str:
        return (self.data_dir / "run.log").read_text(errors="replace")

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
    data_dir = Path(tempfile.mkdtemp(prefix="estateflow-faults-"))
    api_port, temporal_port = free_port(), free_port()
    env = dict(os.environ, DATA_DIR=str(data_dir), API_PORT=str(api_port), TEMPORAL_PORT=str(temporal_port),
               TEMPORAL_UI_PORT=str(free_port()), PYTHONPATH=str(PROJECT_ROOT))
    for var in ("DATABASE_URL", "TEMPORAL_ADDRESS"):
        env.pop(var, None)
    log = open(data_dir / "run.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "scripts.run"], cwd=PROJECT_ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    sys_ = System(proc, data_dir, f"http://127.0.0.1:{api_port}", f"127.0.0.1:{temporal_port}")
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while b"EstateFlow is running" not in (data_dir / "run.log").read_bytes():
            if proc.poll() is not None:
                raise RuntimeError(f"make run exited with {proc.returncode}: {sys_.log()[-2000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"make run did not come up within {START_TIMEOUT} s")
            time.sleep(0.5)
        yield sys_
    finally:
        services = [p for p in map(sys_.pid, ("postgres", "temporal", "worker", "api")) if p]  # left if a test failed
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
        for pid in filter(pid_running, services):  # nothing left behind, whatever failed
            os.kill(pid, signal.SIGKILL)
        log.close()
        print(sys_.log()[-3000:])  # shown when a test failed
        shutil.rmtree(data_dir, ignore_errors=True)


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
