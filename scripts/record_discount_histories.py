"""Re-record the discount approval histories that tests/workflows/test_replay.py replays.

`python -m scripts.record_discount_histories` (scripts/history_recording.py): a throwaway
embedded PostgreSQL, Temporal's time-skipping test server and a worker with WORKFLOWS and the real
activities; each scenario is driven to completion and written to tests/histories/<HISTORY_SET>/<name>.json.
Re-record (into a new set) after an intended, versioned change to the workflow; never to silence the test.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import select
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from config.settings import PROJECT_ROOT
from db.discount_models import DiscountStep
from db.discounts import SubscriptionForm, check_form, create_request
from db.models import Unit
from domain.pricing import DiscountRow
from domain.refund import DepositKind
from scripts.history_recording import main_of, recording, until, until_closed
from tests.factories import Factory
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
        await until(lambda: self.steps() >= 1, "the discount request's first step")
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
    await until(lambda: r.steps() == 2, "the escalated step")
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
    async with recording(HISTORIES, "record-discount-histories", executor_threads=4) as rec:
        factory = Factory(rec.sf)
        for scenario in SCENARIOS:
            handle = await scenario(Run(rec.env, factory, rec.queue))
            await until_closed(handle)
            rec.write(scenario.__name__, await handle.fetch_history())
        return rec.written


main = main_of(record, HISTORIES)


if __name__ == "__main__":
    main()
