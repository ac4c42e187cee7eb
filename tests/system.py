"""The whole system as `make run` starts it (`python -m scripts.run`), on free ports with a data folder of its
own, for the browser, burst and supervision tests: started, awaited until it says it is running, and
stopped with SIGTERM as Ctrl-C would, with anything it left behind killed."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from scripts.stack import pid_running
from tests.ports import free_port

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("postgres", "temporal", "worker", "api")
START_TIMEOUT = 120  # a cold start (initdb, migrations, seed) on two busy cores


@dataclass
class RunningSystem:
    proc: subprocess.Popen
    data_dir: Path
    api_port: int
    temporal_port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def temporal(self) -> str:
        return f"127.0.0.1:{self.temporal_port}"

    def log(self) -> str:
        return (self.data_dir / "run.log").read_text(errors="replace")

    def database_url(self) -> str:
        m = re.search(r"^\s*Database\s+(\S+)", self.log(), re.MULTILINE)
        assert m, "make run did not print the database URL"
        return m.group(1)

    def pid(self, name: str) -> int | None:
        """The pid one supervised service's pid file names, or None."""
        try:
            return int((self.data_dir / "pids" / f"{name}.pid").read_text())
        except (FileNotFoundError, ValueError):  # not there yet, or caught mid-rewrite
            return None


S = TypeVar("S", bound=RunningSystem)


@contextmanager
def running_system(prefix: str, start_timeout: float = START_TIMEOUT, kind: type[S] = RunningSystem,
                   env: dict[str, str] | None = None) -> Iterator[S]:
    """`env`: more settings for every service; `{api_port}` in a value is the API's port."""
    data_dir = Path(tempfile.mkdtemp(prefix=f"estateflow-{prefix}-"))
    api_port, temporal_port = free_port(), free_port()
    more = {k: v.format(api_port=api_port) for k, v in (env or {}).items()}
    env = dict(os.environ, DATA_DIR=str(data_dir), API_PORT=str(api_port), TEMPORAL_PORT=str(temporal_port),
               TEMPORAL_UI_PORT=str(free_port()), PYTHONPATH=str(PROJECT_ROOT), **more)
    for var in ("DATABASE_URL", "TEMPORAL_ADDRESS"):
        env.pop(var, None)
    log = open(data_dir / "run.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "scripts.run"], cwd=PROJECT_ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    system = kind(proc, data_dir, api_port, temporal_port)
    try:
        deadline = time.monotonic() + start_timeout
        while "EstateFlow is running" not in system.log():
            if proc.poll() is not None:
                raise RuntimeError(f"make run exited with {proc.returncode}: {system.log()[-2000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"make run did not come up within {start_timeout} s: {system.log()[-2000:]}")
            time.sleep(0.5)
        yield system
    finally:
        services = [p for p in map(system.pid, SERVICES) if p]
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        for pid in filter(pid_running, services):  # nothing left behind, whatever failed
            os.kill(pid, signal.SIGKILL)
        log.close()
        print(system.log()[-3000:])  # shown when a test failed
        shutil.rmtree(data_dir, ignore_errors=True)
