"""Re-record the discount approval histories that tests/workflows/test_replay.py replays.

`python -m scripts.record_discount_histories`: like scripts/record_followup_histories.py — a throwaway
embedded PostgreSQL, Temporal's time-skipping test server and a worker with WORKFLOWS and the real
activities; each scenario is driven to completion and written to tests/histories/<HISTORY_SET>/<name>.json.
Re-record (into a new set) after an intended, versioned change to the workflow; never to silence the test.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import select
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from config.binaries import temporal_test_server
from config.settings import PROJECT_ROOT
from db.discount_models import DiscountStep
from db.discounts import SubscriptionForm, check_form, create_request
from db.models import Unit
from db.session import make_engine, make_session_factory
from domain.pricing import DiscountRow
from domain.refund import DepositKind
from scripts.record_histories import _SCRATCH, _throwaway_database
from tests.factories import Factory
from workers.registry import WORKFLOWS, activities
from workflows.contracts import Actor
from workflows.discount_approval import (
    DiscountApprovalInput,
    DiscountApprovalWorkflow,
    DiscountDecision,
    discount_workflow_id,
)

HISTORY_SET = "discounts-v1"
HISTORIES = PROJECT_ROOT / "tests" / "histories" / HISTORY_SET
MINUTES = 60


async def _until(check, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise TimeoutError("the workflow's write did not arrive")
        await asyncio.sleep(0.05)


async def _closed(handle: WorkflowHandle, timeout: float = 30.0) -> None:
    """Poll instead of `handle.result()`, which would let the test server skip time."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while (await handle.describe()).status == WorkflowExecutionStatus.RUNNING:
        if loop.time() > deadline:
            raise TimeoutError(f"{handle.id} did not complete")
        await asyncio.sleep(0.05)


class Run:
    def __init__(self, env: WorkflowEnvironment, factory: Factory, queue: str) -> None:
        self.env, self.factory, self.queue = env, factory, queue

    async def start(self, rows: list[DiscountRow], floor: Decimal | None = None):
        f = self.factory
        self.users = f.users()
        (unit_id,) = f.available_units(1, price=Decimal("1000000"))
        with f.sf.begin() as s:
            unit = s.get(Unit, unit_id)
            unit.floor_price = floor
            project_id = unit.project_id
        customer = f.customer(consultant_id=self.users["sales"].id, project_id=project_id)[0]
        with f.sf.begin() as s:
            form = SubscriptionForm(unit_id=unit_id, customer_id=customer, deposit_kind=DepositKind.DINGJIN,
                                    deposit_amount=Decimal("50000"), discounts=rows)
            checked = check_form(s, form, self.users["sales"], today=date.today())
            req = create_request(s, form, checked, self.users["sales"], now=datetime.now(timezone.utc))
            self.request_id, level = req.id, req.level
        inp = DiscountApprovalInput(request_id=self.request_id, requested_by=self.users["sales"].id, level=level,
                                    step_minutes=MINUTES, opened_at=await self.env.get_current_time())
        self.handle = await self.env.client.start_workflow(
            DiscountApprovalWorkflow.run, inp, id=discount_workflow_id(self.request_id), task_queue=self.queue)
        await _until(lambda: self.steps() >= 1)
        return self.handle

    def steps(self) -> int:
        with self.factory.sf() as s:
            return len(s.scalars(select(DiscountStep.id).where(DiscountStep.request_id == self.request_id)).all())

    def actor(self, role: str) -> Actor:
        u = self.users[role]
        return Actor(user_id=u.id, username=u.username, role=role)

    async def decide(self, role: str, approve: bool, note: str = "") -> None:
        await self.handle.execute_update(DiscountApprovalWorkflow.decide, DiscountDecision(self.actor(role), approve, note))


async def approved_by_manager(r: Run) -> WorkflowHandle:
    h = await r.start([DiscountRow("开盘优惠", "percent", Decimal("1"))])
    await r.decide("manager", True, "同意")
    return h


async def escalated_then_approved(r: Run) -> WorkflowHandle:
    h = await r.start([DiscountRow("开盘优惠", "percent", Decimal("1")), DiscountRow("老带新", "amount", Decimal("5000"))])
    await r.env.sleep(timedelta(minutes=MINUTES + 1))
    await _until(lambda: r.steps() == 2)
    await r.decide("citygm", True)
    return h


async def rejected_at_the_top_after_its_clock(r: Run) -> WorkflowHandle:
    h = await r.start([DiscountRow("关系户", "amount", Decimal("6000"))], floor=Decimal("995000"))
    await r.env.sleep(timedelta(minutes=MINUTES + 1))
    await asyncio.sleep(1)  # the breach notice is written by an activity after the timer
    await r.decide("hqrisk", False, "低于底价")
    return h


SCENARIOS = (approved_by_manager, escalated_then_approved, rejected_at_the_top_after_its_clock)


async def record() -> list:
    engine = make_engine(_throwaway_database(), pool_size=10)
    factory = Factory(make_session_factory(engine))
    HISTORIES.mkdir(parents=True, exist_ok=True)
    written = []
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(temporal_test_server()), data_converter=pydantic_data_converter)
    try:
        with ThreadPoolExecutor(max_workers=4) as executor:
            queue = "record-discount-histories"
            async with Worker(env.client, task_queue=queue, workflows=WORKFLOWS, activities=activities(factory.sf),
                              activity_executor=executor):
                for scenario in SCENARIOS:
                    run = Run(env, factory, queue)
                    handle = await scenario(run)
                    await _closed(handle)
                    history = await handle.fetch_history()
                    path = HISTORIES / f"{scenario.__name__}.json"
                    path.write_text(history.to_json() + "\n", encoding="utf-8")
                    written.append(path)
                    print(f"wrote {path.relative_to(PROJECT_ROOT)} ({len(history.events)} events)", flush=True)
    finally:
        await env.shutdown()
        engine.dispose()
    return written


def main() -> None:
    with _SCRATCH:
        written = asyncio.run(record())
    print(f"{len(written)} histories in {HISTORIES.relative_to(PROJECT_ROOT)}/")


if __name__ == "__main__":
    main()
