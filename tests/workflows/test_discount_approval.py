"""The discount approval workflow on the time-skipping server: each step on the policy's clock, a missed clock
escalates one level (written and notified), decisions as updates with validators (level, four eyes, a
rejection's reason), an approval writes the subscription, a rejection releases the unit."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from temporalio.client import WorkflowUpdateFailedError

from db.discount_models import DiscountRequest, DiscountStep
from db.discounts import SubscriptionForm, check_form, create_request
from db.models import Subscription, Unit
from db.notice_models import Notice
from domain.pricing import DiscountRow
from domain.refund import DepositKind
from tests.workflows.conftest import eventually, terminate_if_running
from workflows.contracts import Actor
from workflows.discount_approval import (
    DiscountApprovalInput,
    DiscountApprovalWorkflow,
    DiscountDecision,
    discount_workflow_id,
)

MINUTES = 60


def make_request(factory, *, rows: list[DiscountRow], floor: Decimal | None = None):
    users = factory.users()
    (unit_id,) = factory.available_units(1, price=Decimal("1000000"))
    with factory.sf.begin() as s:
        unit = s.get(Unit, unit_id)
        unit.floor_price = floor
        project_id = unit.project_id
    customer = factory.customer(consultant_id=users["sales"].id, project_id=project_id)[0]
    with factory.sf.begin() as s:
        seller = users["sales"]
        form = SubscriptionForm(unit_id=unit_id, customer_id=customer, deposit_kind=DepositKind.DINGJIN,
                                deposit_amount=Decimal("50000"), discounts=rows)
        checked = check_form(s, form, seller, today=date.today())
        from datetime import datetime, timezone

        req = create_request(s, form, checked, seller, now=datetime.now(timezone.utc))
        return users, unit_id, req.id, req.level


def actor(users, role: str) -> Actor:
    u = users[role]
    return Actor(user_id=u.id, username=u.username, role=role)


def steps(session_factory, request_id: int) -> list[tuple[int, str, str | None]]:
    with session_factory() as s:
        return [(x.seq, x.role, x.outcome) for x in s.scalars(
            select(DiscountStep).where(DiscountStep.request_id == request_id).order_by(DiscountStep.seq))]


async def start(env, worker, request_id: int, users, level: str):
    inp = DiscountApprovalInput(request_id=request_id, requested_by=users["sales"].id, level=level,
                                step_minutes=MINUTES, opened_at=await env.get_current_time())
    return await env.client.start_workflow(DiscountApprovalWorkflow.run, inp, id=discount_workflow_id(request_id),
                                           task_queue=worker)


async def refused(h, decision: DiscountDecision) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as e:
        await h.execute_update(DiscountApprovalWorkflow.decide, decision)
    return f"{e.value.cause.type}: {e.value.cause.message}"


async def test_a_missed_clock_escalates_one_level_and_the_higher_level_approves(env, worker, factory, session_factory):
    users, unit_id, rid, level = make_request(factory, rows=[DiscountRow("开盘优惠", "percent", Decimal("1"))])
    assert level == "manager"
    h = await start(env, worker, rid, users, level)
    try:
        assert await eventually(lambda: steps(session_factory, rid) == [(1, "manager", None)])
        assert "Forbidden" in await refused(h, DiscountDecision(actor(users, "sales"), True))
        await env.sleep(timedelta(minutes=MINUTES + 1))
        assert await eventually(lambda: steps(session_factory, rid) == [(1, "manager", "escalated"), (2, "citygm", None)])
        with session_factory() as s:
            assert s.get(DiscountRequest, rid).current_level == "citygm"
            kinds = {(n.kind, n.role) for n in s.scalars(select(Notice).where(Notice.notice_key.like(f"discount:{rid}:%")))}
        assert kinds == {("task_opened", "manager"), ("sla_breach", "citygm")}
        # the manager's clock ran out: the step is the city GM's now
        assert "citygm" in await refused(h, DiscountDecision(actor(users, "manager"), True))
        res = await h.execute_update(DiscountApprovalWorkflow.decide, DiscountDecision(actor(users, "citygm"), True, "同意"))
        assert res.status == "approved" and res.subscription_id
        assert (await h.result()).status == "approved"
        with session_factory() as s:
            sub = s.get(Subscription, res.subscription_id)
            assert (sub.price, sub.unit_id) == (Decimal("990000.00"), unit_id)
            assert s.get(Unit, unit_id).state == "subscribed"
        assert steps(session_factory, rid)[-1] == (2, "citygm", "approved")
    finally:
        await terminate_if_running(h)


async def test_at_the_top_a_missed_clock_is_told_and_a_rejection_releases_the_unit(env, worker, factory, session_factory):
    users, unit_id, rid, level = make_request(factory, rows=[DiscountRow("关系户", "amount", Decimal("6000"))],
                                              floor=Decimal("995000"))
    assert level == "hqrisk"
    h = await start(env, worker, rid, users, level)
    try:
        await env.sleep(timedelta(minutes=MINUTES + 1))
        assert await eventually(lambda: _has_notice(session_factory, f"discount:{rid}:breach:1"))
        assert steps(session_factory, rid) == [(1, "hqrisk", None)]  # nobody above: it keeps waiting
        assert "Invalid" in await refused(h, DiscountDecision(actor(users, "hqrisk"), False, " "))
        res = await h.execute_update(DiscountApprovalWorkflow.decide,
                                     DiscountDecision(actor(users, "hqrisk"), False, "低于底价"))
        assert res.status == "rejected"
        assert (await h.result()).status == "rejected"  # the run ends with its decision
        with session_factory() as s:
            assert s.get(Unit, unit_id).state == "available"
            assert s.get(DiscountRequest, rid).decision_note == "低于底价"
    finally:
        await terminate_if_running(h)


async def test_the_requester_never_approves_their_own(env, worker, factory, session_factory):
    users, _, rid, level = make_request(factory, rows=[DiscountRow("开盘优惠", "percent", Decimal("1"))])
    h = await start(env, worker, rid, users, level)
    try:
        me = users["sales"]
        as_manager = Actor(user_id=me.id, username=me.username, role="manager")  # the same person in another role
        assert "four eyes" in await refused(h, DiscountDecision(as_manager, True))
        stand_in = Actor(user_id=users["manager"].id, username="m", role="manager", on_behalf_of=me.id)
        assert "four eyes" in await refused(h, DiscountDecision(stand_in, True))
    finally:
        await terminate_if_running(h)


def _has_notice(session_factory, key: str) -> bool:
    with session_factory() as s:
        return s.scalar(select(Notice.id).where(Notice.notice_key == key)) is not None


