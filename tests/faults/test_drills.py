"""Issue 9, fault drills as tests: refund cases in flight through the HTTP API while a process of the stack is
SIGKILLed — the worker (three times), the Temporal dev server (down 15 s), PostgreSQL's postmaster — and
restarted by the drill itself (tests/faults/drill.py: the stack has no supervisor here).

Every drill then checks, from PostgreSQL and Temporal: every case closed and its workflow completed with path B,
one refund instruction per case, each step's case event exactly once (none missing, none doubled), the
workflow's stage query equal to the DB stage, no open task but the database-only to-dos (refund_payment,
review_meeting), no refund workflow left running, no request over its client timeout, and no 409 to a retry
that carried its first attempt's Idempotency-Key.

One stack for the module (a cold start costs ~30 s of the two cores); each drill drives its own new cases and
first makes sure every service is up. Each drill prints one line of figures and appends it, with the drill's
timeline, to artifacts/drills.txt; the stack's logs are copied to artifacts/drill-logs/<time>/."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import datetime

import pytest

from db.session import make_engine, make_session_factory
from scripts.bench import load_users, make_scenarios
from tests.factories import Factory
from tests.faults.drill import (
    REQUEST_TIMEOUT,
    DrillClient,
    DrillStack,
    Verdict,
    detail_lines,
    record,
    summary_line,
    verify,
    wait_for,
)

CASES = 12  # refund cases per drill, all in flight together
STAGGER = 0.3  # seconds between two cases' starts: all 12 registered before the first kill
OUTAGE_STAGGER = 0.6  # the Temporal and PostgreSQL drills: the last cases register while the service is down
THINK = (0.5, 1.5)  # seconds a person takes between two steps: a case takes ~10 s unhindered
DEADLINE = 150.0  # seconds from a drill's start: every case done (or given up) by then
RECOVER_TIMEOUT = 60.0

WORKER_KILLS = 3
WORKER_KILL_AT = 3.0  # the first kill, then every WORKER_KILL_EVERY seconds
WORKER_KILL_EVERY = 3.0
WORKER_DOWN = 1.0
TEMPORAL_KILL_AT = 4.0
TEMPORAL_DOWN = 15.0
PG_KILL_AT = 4.0
PG_DOWN = 3.0


@pytest.fixture(scope="module")
def stack():
    s = DrillStack()
    left: list[str] = []
    try:
        s.start()
        yield s
    finally:
        left = s.stop()
        kept = s.keep_logs(datetime.now().strftime("%Y%m%d-%H%M%S"))
        print(f"drill logs kept in {kept}", flush=True)
        s.remove()
    assert not left, f"processes of the drill stack were still running after stop (killed now): {left}"


Chaos = Callable[[DrillStack, DrillClient, dict], Awaitable[None]]


async def _at(stack: DrillStack, t: float) -> None:
    await asyncio.sleep(max(0.0, stack.t0 + t - time.monotonic()))


def drill(stack: DrillStack, name: str, chaos: Chaos, capsys, *, stagger: float = STAGGER) -> None:
    """Drive CASES cases while `chaos` works on the stack; verify; record the figures; assert."""
    restarted = stack.ensure_up()
    engine = make_engine(stack.database_url, pool_size=2)
    try:
        sf = make_session_factory(engine)
        scenarios = make_scenarios(Factory(sf), load_users(sf), CASES)
    finally:
        engine.dispose()
    stack.timeline = []
    if restarted:
        stack.mark(f"before the drill, started again: {', '.join(restarted)}")
    figures: dict = {}
    chaos_errors: list[str] = []

    async def main():
        stack.t0 = time.monotonic()
        client = DrillClient(stack.api_url, tag=f"{name}-{int(time.time())}", deadline=stack.t0 + DEADLINE,
                             t0=stack.t0, seed=sum(map(ord, name)), think=THINK)
        try:
            await client.sign_in()

            async def chaos_guarded():
                try:
                    await chaos(stack, client, figures)
                except Exception as err:  # noqa: BLE001 - reported, and the drill fails on it
                    chaos_errors.append(f"{type(err).__name__}: {err}")
                    stack.mark(f"the drill's own fault injection failed: {type(err).__name__}: {err}")

            chaos_task = asyncio.create_task(chaos_guarded())
            try:
                # Each request gives up at the deadline already; this only guards the guard.
                await asyncio.wait_for(client.run(scenarios, stagger=stagger), timeout=DEADLINE + REQUEST_TIMEOUT + 10)
            except TimeoutError:
                stack.mark("the client did not finish by its deadline: unfinished cases count as stuck")
            await asyncio.wait_for(chaos_task, timeout=DEADLINE)
            elapsed = time.monotonic() - stack.t0
            stack.mark(f"client done: {sum(c.finished is not None for c in client.cases)}/{CASES} cases archived")
            # Verification reads the engine and the database: both must be there (a restart here is on record).
            again = await asyncio.to_thread(stack.ensure_up)
            if again:
                stack.mark(f"before verification, started again: {', '.join(again)}")
            try:
                verdict = await verify(stack, client.cases)
            except Exception as err:  # noqa: BLE001 - recorded with the figures, and the drill fails on it
                verdict = Verdict(cases=CASES, stuck=CASES, problems=[f"verification failed: {type(err).__name__}: {err}"])
        finally:
            await client.close()
        return client, verdict, elapsed

    client, verdict, elapsed = asyncio.run(main())
    lines = [summary_line(name, client, verdict, extra=figures, elapsed=elapsed), *detail_lines(client, stack, verdict)]
    lines += [f"  PROBLEM: {p}" for p in verdict.problems] + [f"  DRILL ERROR: {e}" for e in chaos_errors]
    record(lines)
    with capsys.disabled():  # the figures show in the test output with or without -s
        print()
        for line in lines:
            print(line, flush=True)

    assert not chaos_errors, chaos_errors
    assert not verdict.problems, "\n".join(verdict.problems[:40])
    assert verdict.completed == CASES and verdict.instructions == CASES
    assert verdict.duplicate_events == 0 and verdict.missing_events == 0 and verdict.stuck == 0
    assert verdict.open_tasks_left == 0 and verdict.running_refund_workflows == 0
    assert client.conflicts_on_retry == 0
    assert client.timeouts == 0 and client.longest < REQUEST_TIMEOUT, f"longest request {client.longest:.1f}s"


# ------------------------------------------------------------------------------------------------ drills


def test_worker_kill(stack, capsys):
    """The worker SIGKILLed three times, 3 s apart, while the cases are in flight; back each time after 1 s."""

    async def chaos(stack: DrillStack, client: DrillClient, fig: dict) -> None:
        fig["kills"] = 0
        for i in range(WORKER_KILLS):
            await _at(stack, WORKER_KILL_AT + i * WORKER_KILL_EVERY)
            steps = await client.steps_underway()
            busy = client.in_flight()
            pid = await asyncio.to_thread(stack.sigkill, "worker")
            fig["kills"] += 1
            stack.mark(f"SIGKILL worker pid {pid} ({busy} cases in flight, {steps} steps under way)")
            await asyncio.sleep(WORKER_DOWN)
            took = await asyncio.to_thread(stack.start_worker)
            stack.mark(f"worker started again, pid {stack.procs['worker'].pid}, polling {took:.1f}s later")

    drill(stack, "worker-kill", chaos, capsys)


def test_temporal_kill(stack, capsys):
    """The Temporal dev server SIGKILLed, down 15 s, started again on the same sqlite file and port. The
    worker and the API must find it again on their own; a worker that died meanwhile is restarted (and said).
    The last cases register during the outage: each such registration answers 503 only after ~15-19 s (the
    workflow start, then the compensating terminate, each up to the API's 10 s engine-call bound), close to
    the client's 20 s timeout, which the test holds it to."""

    async def chaos(stack: DrillStack, client: DrillClient, fig: dict) -> None:
        await _at(stack, TEMPORAL_KILL_AT)
        steps = await client.steps_underway()
        busy = client.in_flight()
        pid = await asyncio.to_thread(stack.sigkill, "temporal")
        down_at = time.monotonic()
        fig.update(kills=1, worker_died=0, api_died=0)
        stack.mark(f"SIGKILL Temporal dev server pid {pid} ({busy} cases in flight, {steps} steps under way)")
        while time.monotonic() - down_at < TEMPORAL_DOWN:
            for name in ("worker", "api"):
                if not fig[f"{name}_died"] and not stack.alive(name):
                    fig[f"{name}_died"] = 1
                    stack.mark(f"{name} ended while Temporal was down ({stack.exit_status(name)})")
            await asyncio.sleep(0.5)
        await asyncio.to_thread(stack.start_temporal)
        fig["down"] = f"{time.monotonic() - down_at:.1f}s"
        stack.mark(f"Temporal dev server started again, pid {stack.procs['temporal'].pid}, after {fig['down']} down")
        for name in ("worker", "api"):
            if not stack.alive(name):
                if not fig[f"{name}_died"]:
                    fig[f"{name}_died"] = 1
                    stack.mark(f"{name} ended while Temporal was down ({stack.exit_status(name)})")
                await asyncio.to_thread(stack.start_worker if name == "worker" else stack.start_api)
                stack.mark(f"{name} started again by the drill, pid {stack.procs[name].pid}")
        back = time.monotonic()
        await asyncio.to_thread(wait_for, lambda: stack.health().get("temporal") is True, RECOVER_TIMEOUT,
                                "the API's health showing Temporal reachable")
        stack.mark(f"API reaches Temporal again ({time.monotonic() - back:.1f}s after the restart)")

        async def polled() -> bool:
            try:
                return await stack.pollers() > 0
            except Exception:  # noqa: BLE001 - the server is still starting
                return False

        deadline = time.monotonic() + RECOVER_TIMEOUT
        while not await polled():
            if time.monotonic() > deadline:
                raise TimeoutError(f"no worker polled the task queue within {RECOVER_TIMEOUT:.0f}s of the restart")
            await asyncio.sleep(0.5)
        stack.mark(f"worker polls the task queue again ({time.monotonic() - back:.1f}s after the restart)")

    drill(stack, "temporal-kill", chaos, capsys, stagger=OUTAGE_STAGGER)


def test_postgres_kill(stack, capsys):
    """PostgreSQL's postmaster SIGKILLed (its backends follow), started again 3 s later on the same data
    directory, socket and port: crash recovery, then the worker's and the API's pools reconnect."""

    async def chaos(stack: DrillStack, client: DrillClient, fig: dict) -> None:
        await _at(stack, PG_KILL_AT)
        steps = await client.steps_underway()
        busy = client.in_flight()
        pid, left = await asyncio.to_thread(stack.sigkill_postgres)
        down_at = time.monotonic()
        fig["kills"] = 1
        stack.mark(f"SIGKILL postmaster pid {pid} ({busy} cases in flight, {steps} steps under way)"
                   + (f"; {left} backends still there after 15 s were SIGKILLed" if left else ""))
        await asyncio.sleep(PG_DOWN)
        new_pid = await asyncio.to_thread(stack.restart_postgres)
        fig["down"] = f"{time.monotonic() - down_at:.1f}s"
        stack.mark(f"postmaster started again, pid {new_pid}, after {fig['down']} down (crash recovery included)")
        back = time.monotonic()
        await asyncio.to_thread(wait_for, lambda: stack.health().get("database") is True, RECOVER_TIMEOUT,
                                "the API's health showing the database reachable")
        stack.mark(f"API reaches PostgreSQL again ({time.monotonic() - back:.1f}s after the restart)")

    drill(stack, "postgres-kill", chaos, capsys, stagger=OUTAGE_STAGGER)
