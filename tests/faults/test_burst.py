"""Issue 9, "no hang, ever": bursts of concurrent refund registrations on one unit, against the real server.

One `python -m scripts.run` for the module (what `make run` runs: uvicorn with its real thread pools,
the worker, PostgreSQL, Temporal) on free ports with its own data folder, as tests/e2e does. ASGITransport
would not do: it runs the app on the test's loop and does not reproduce thread-pool starvation.

Each burst (50, 200, 500 at once, each on its own subscribed demo unit) must give exactly one 201 and
409s with a message — no 5xx, no request over its timeout — while /api/health, polled from another
thread throughout, answers every time within HEALTH_BOUND; afterwards PostgreSQL has no session idle in
a transaction and none waiting for a lock. The figures are printed for the record."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx
import pytest
import sqlalchemy as sa

from scripts.seed import MAIN_PROJECT
from tests.system import running_system

BURSTS = (50, 200, 500)
REQUEST_TIMEOUT = 30.0  # each registration's own bound, client side
HEALTH_BOUND = 2.0  # every health poll during a burst answers within this
HEALTH_EVERY = 0.1
STALE_TX = 5  # afterwards: no session idle in a transaction for longer than this (seconds)
PASSWORD = "estateflow"




@dataclass
class System:
    url: str
    database_url: str


@pytest.fixture(scope="module")
def system():
    """`python -m scripts.run` on free ports and a temporary DATA_DIR; SIGTERM at the end, as Ctrl-C."""
    with running_system("burst") as running:
        url = running.url
        assert httpx.get(f"{url}/api/health", timeout=5).json()["status"] == "ok"
        yield System(url=url, database_url=running.database_url())


@pytest.fixture(scope="module")
def db(system):
    engine = sa.create_engine(system.database_url, pool_size=1, max_overflow=0)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def units(db) -> list[int]:
    """Subscribed demo units of the main project (the demo front desk's) with no refund case, one per burst (not 1号楼-101 / -204, which the browser
    tests use); 定金/订金 deposits first, the simplest refunds."""
    with db.connect() as c:
        rows = c.execute(sa.text("""
            select u.id from units u
            join subscriptions s on s.unit_id = u.id and s.status = 'active'
            join buildings b on b.id = u.building_id
            join projects p on p.id = u.project_id and p.name = :main
            where u.state in ('subscribed', 'signed')
              and not exists (select 1 from refund_cases r where r.unit_id = u.id)
              and (b.name || '-' || u.code) not in ('1号楼-101', '1号楼-204')
            order by (s.stage = 'deposit_paid') desc, u.id
        """), {"main": MAIN_PROJECT}).scalars().all()
    assert len(rows) >= len(BURSTS), f"the demo data has only {len(rows)} subscribed units free"
    return list(rows[: len(BURSTS)])


@pytest.fixture(scope="module")
def token(system) -> str:
    r = httpx.post(f"{system.url}/api/auth/token", data={"username": "frontdesk", "password": PASSWORD}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


@dataclass
class HealthPoller:
    """Polls /api/health from its own thread (its own connection), so the burst's client-side event loop
    does not delay it; each poll's latency and answer are recorded."""

    url: str
    polls: list[tuple[float, str]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=REQUEST_TIMEOUT) as http:
            while not self._stop.is_set():
                t0 = time.perf_counter()
                try:
                    r = http.get("/api/health")
                    answer = f"{r.status_code} {r.json().get('status')}"
                except (httpx.HTTPError, ValueError) as err:
                    answer = type(err).__name__
                self.polls.append((time.perf_counter() - t0, answer))
                self._stop.wait(HEALTH_EVERY)

    def __enter__(self) -> HealthPoller:
        self._thread = threading.Thread(target=self._run, name="health-poller", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=REQUEST_TIMEOUT + 5)


async def fire(url: str, token: str, unit_id: int, n: int) -> list[tuple[float, int | str, str]]:
    """n registrations of one unit at once; (seconds, status or exception name, detail) each."""
    limits = httpx.Limits(max_connections=n + 10, max_keepalive_connections=n + 10)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=REQUEST_TIMEOUT) as http:
        go = asyncio.Event()

        async def one() -> tuple[float, int | str, str]:
            await go.wait()
            t0 = time.perf_counter()
            try:
                r = await http.post("/api/refund-cases", json={"unit_id": unit_id}, headers=headers)
            except httpx.HTTPError as err:
                return time.perf_counter() - t0, type(err).__name__, str(err)
            detail = r.json().get("detail", "") if r.status_code != 201 else r.json()["case_no"]
            return time.perf_counter() - t0, r.status_code, f"{detail} | Retry-After={r.headers.get('retry-after')}"

        tasks = [asyncio.create_task(one()) for _ in range(n)]
        await asyncio.sleep(0)
        go.set()
        return await asyncio.gather(*tasks)


def stale_sessions(db) -> list[tuple]:
    with db.connect() as c:
        return c.execute(sa.text("""
            select pid, state, extract(epoch from now() - state_change)::int as age, wait_event_type, left(query, 80)
            from pg_stat_activity
            where datname = current_database() and pid <> pg_backend_pid()
              and ((state like 'idle in transaction%' and now() - state_change > make_interval(secs => :stale))
                   or wait_event_type = 'Lock')
        """), {"stale": STALE_TX}).all()


@pytest.mark.parametrize("n", BURSTS)
async def test_a_burst_of_registrations_on_one_unit_gives_one_201_and_409s_and_health_answers(
    n, system, units, token, db, capsys
):
    unit_id = units[BURSTS.index(n)]
    t0 = time.perf_counter()
    with HealthPoller(system.url) as health:
        await asyncio.sleep(0.3)  # a few polls before the burst, as the baseline
        results = await fire(system.url, token, unit_id, n)
        await asyncio.sleep(0.3)
    elapsed = time.perf_counter() - t0

    statuses = Counter(status for _, status, _ in results)
    took = sorted(seconds for seconds, _, _ in results)
    longest, p50, p95 = took[-1], took[len(took) // 2], took[int(len(took) * 0.95) - 1]
    health_max = max(seconds for seconds, _ in health.polls)
    health_answers = Counter(answer for _, answer in health.polls)
    conflicts = Counter(detail for _, status, detail in results if status == 409)
    with capsys.disabled():
        print(f"\n[burst {n:3d} on unit {unit_id}] statuses {dict(statuses)}; request p50 {p50:.2f} s, p95 {p95:.2f} s, "
              f"longest {longest:.2f} s; "
              f"burst {elapsed:.1f} s; health polls {len(health.polls)} {dict(health_answers)}, "
              f"max {health_max * 1000:.0f} ms; 409 details {dict(conflicts)}")

    assert statuses[201] == 1, statuses
    assert statuses[409] == n - 1, f"every other answer must be a 409: {statuses}"
    assert all(detail.split(" | ")[0] for _, status, detail in results if status == 409), "a 409 without a message"
    assert longest < REQUEST_TIMEOUT
    assert len(health.polls) >= 3, "health was not polled during the burst"
    assert set(health_answers) == {"200 ok"}, health_answers
    assert health_max < HEALTH_BOUND, f"health took {health_max:.2f} s during the burst"

    # One case for the unit, and nothing left hanging in PostgreSQL.
    r = httpx.get(f"{system.url}/api/refund-cases", params={"unit_id": unit_id, "open_only": True},
                  headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert r.status_code == 200 and len(r.json()) == 1, r.text
    deadline = time.monotonic() + STALE_TX
    while (left := stale_sessions(db)) and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
    assert not left, f"sessions idle in a transaction or waiting for a lock after the burst: {left}"
