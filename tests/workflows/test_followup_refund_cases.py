"""Follow-ups that start a refund case themselves (issue 3): a statement of inability or a transfer
intention on an overdue instalment, and a rejected mortgage. Time-skipping server, the real activities
and PostgreSQL; one worker registers every workflow and activity on the test's task queue, so the
refund case the activity registers runs on it too."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import chinese_calendar
import pytest
from sqlalchemy import select
from temporalio.client import WorkflowExecutionStatus

from db.followup_models import FollowupAction, FollowupEvent
from db.models import CaseEvent, RefundCase, Unit, UnitState
from db.refund_registration import register_refund_case
from domain.refund import RefundPolicy
from tests.workflows.conftest import eventually
from workflows.followup_contracts import (
    CHINA,
    Actor,
    BuyerResponse,
    CalendarOverrideEntry,
    Instalment,
    MortgageInput,
    MortgageStage,
    PaymentPlanInput,
    PlanOutcome,
    StageChange,
    china_date,
    mortgage_workflow_id,
    payment_plan_workflow_id,
)
from workflows.mortgage import MortgageWorkflow
from workflows.payment_followup import PaymentFollowupWorkflow

S = MortgageStage
FINANCE = Actor(1, "fin", "finance")
SALES = Actor(2, "sal", "sales")


# The registration dates a case by the wall clock, while this module's server clock is weeks ahead of it
# (each test skips ~12 days). With the default 30-minute intake SLA every case was already late in its
# first workflow task: it wrote its breach at once, racing the registration's commit (a foreign-key
# violation, then a local retry). SLAs longer than any skew keep a case as registration leaves it in
# production: waiting for its intake, nothing to write.
LONG_SLA_MINUTES = 10 * 365 * 24 * 60


@pytest.fixture
async def scenario(factory):
    # Every run on the test's queue (follow-ups, and the refund cases their activity starts there) is
    # settled and terminated by the `worker` fixture before the worker stops.
    factory.policy(RefundPolicy(version=f"test-{uuid.uuid4().hex[:8]}", intake_minutes=LONG_SLA_MINUTES,
                                assessment_minutes=LONG_SLA_MINUTES, solution_minutes=LONG_SLA_MINUTES))
    return factory.scenario()


async def finish(env, h):
    """The follow-up's result, without skipping time: the refund case it started waits on long timers
    that auto time-skipping would otherwise run out."""
    with env.auto_time_skipping_disabled():
        return await h.result()


def cases_of(session_factory, subscription_id: int) -> list[RefundCase]:
    with session_factory() as s:
        return s.scalars(select(RefundCase).where(RefundCase.subscription_id == subscription_id)).all()


def origin_of(session_factory, case_id) -> str | None:
    with session_factory() as s:
        ev = s.scalar(select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.event_key == "origin"))
        return ev.detail["origin"] if ev else None


def followup_events(session_factory, followup_id: str) -> dict[str, FollowupEvent]:
    with session_factory() as s:
        return {e.event_key: e for e in s.scalars(select(FollowupEvent).where(FollowupEvent.followup_id == followup_id))}


async def start_plan(env, worker, sc, **kw):
    today = china_date(await env.get_current_time())
    plan_id = uuid.uuid4().hex[:12]
    due = today + timedelta(days=10)
    inp = PaymentPlanInput(plan_id=plan_id, customer_id=sc.customer_id, contract_ref=f"HT-{plan_id}",
                           instalments=(Instalment(1, due, Decimal("50000.00")),), **kw)
    h = await env.client.start_workflow(PaymentFollowupWorkflow.run, inp, id=payment_plan_workflow_id(plan_id),
                                        task_queue=worker)
    return h, inp


async def until_overdue(env, session_factory, *inps):
    """Skip to two days after the due date (before any refund case runs) and wait for the overdue steps."""
    due = inps[0].instalments[0].due_date
    delta = datetime.combine(due + timedelta(days=2), time(10), CHINA) - await env.get_current_time()
    await env.sleep(delta)

    def overdue_recorded() -> bool:
        with session_factory() as s:
            n = len(s.scalars(select(FollowupAction).where(
                FollowupAction.followup_id.in_([f"payment-plan-{i.plan_id}" for i in inps]),
                FollowupAction.action_key == "overdue:1")).all())
        return n == len(inps)

    assert await eventually(overdue_recorded, timeout=30)


async def overdue_plan(env, worker, session_factory, sc, **kw):
    h, inp = await start_plan(env, worker, sc, **kw)
    await until_overdue(env, session_factory, inp)
    return h, inp


@pytest.mark.parametrize(
    "update, kind, origin, outcome",
    [
        (PaymentFollowupWorkflow.state_inability, "start_refund_case", "inability", PlanOutcome.REFUND_REQUESTED),
        (PaymentFollowupWorkflow.request_transfer, "path_c", "transfer_intent", PlanOutcome.TRANSFER_REQUESTED),
    ],
)
async def test_an_overdue_buyer_who_cannot_pay_or_will_transfer_gets_a_running_refund_case(
    env, worker, session_factory, scenario, update, kind, origin, outcome
):
    sc = scenario
    h, inp = await overdue_plan(env, worker, session_factory, sc, subscription_id=sc.subscription_id)
    await h.execute_update(update, BuyerResponse(SALES, 1, "lost job"))
    assert (await finish(env, h)).outcome == outcome

    [case] = cases_of(session_factory, sc.subscription_id)
    assert case.stage == "intake" and case.run_id
    assert case.registered_by == sc.users["sales"].id  # the consultant registers: a person, four eyes apply
    assert origin_of(session_factory, case.id) == origin
    with session_factory() as s:
        assert s.get(Unit, sc.unit_id).state == UnitState.REFUNDING  # 退房中
    desc = await env.client.get_workflow_handle(case.workflow_id).describe()
    assert desc.status == WorkflowExecutionStatus.RUNNING and desc.workflow_type == "RefundCaseWorkflow"
    evs = followup_events(session_factory, f"payment-plan-{inp.plan_id}")
    assert evs["refund_case:1"].detail["case_id"] == str(case.id)
    with session_factory() as s:  # the to-do for a person stays recorded
        todo = s.scalar(select(FollowupAction).where(FollowupAction.followup_id == f"payment-plan-{inp.plan_id}",
                                                     FollowupAction.action_key == kind))
    assert todo is not None and todo.status == "open"


async def test_a_duplicate_or_redelivered_request_does_not_open_a_second_case(env, worker, session_factory, scenario):
    sc = scenario
    # Two follow-ups for the same subscription (a duplicate): both reach the one open case.
    h1, inp1 = await start_plan(env, worker, sc, subscription_id=sc.subscription_id)
    h2, inp2 = await start_plan(env, worker, sc, subscription_id=sc.subscription_id)
    await until_overdue(env, session_factory, inp1, inp2)
    await h1.execute_update(PaymentFollowupWorkflow.state_inability, BuyerResponse(SALES, 1))
    await finish(env, h1)
    [case] = cases_of(session_factory, sc.subscription_id)
    await h2.execute_update(PaymentFollowupWorkflow.state_inability, BuyerResponse(SALES, 1))
    await finish(env, h2)
    assert followup_events(session_factory, f"payment-plan-{inp2.plan_id}")["refund_case:1"].detail["case_id"] == str(case.id)

    # A re-delivered activity (the registration called again) returns the open case too.
    again = await register_refund_case(
        session_factory=session_factory, client=env.client, subscription_id=sc.subscription_id,
        registered_by_user_id=sc.users["sales"].id, task_queue=worker, speedup=1, origin="inability",
    )
    assert again == case.id
    assert [c.id for c in cases_of(session_factory, sc.subscription_id)] == [case.id]


async def test_without_a_subscription_id_only_the_request_is_recorded(env, worker, session_factory, scenario):
    sc = scenario
    h, inp = await overdue_plan(env, worker, session_factory, sc)
    await h.execute_update(PaymentFollowupWorkflow.state_inability, BuyerResponse(SALES, 1))
    await finish(env, h)
    assert cases_of(session_factory, sc.subscription_id) == []
    assert "refund_case:1" not in followup_events(session_factory, f"payment-plan-{inp.plan_id}")


def uncovered_weekdays(start: date, days: int = 120) -> tuple[CalendarOverrideEntry, ...]:
    out = []
    for i in range(days):
        d = start + timedelta(days=i)
        try:
            chinese_calendar.is_workday(d)
        except NotImplementedError:
            out.append(CalendarOverrideEntry(d, d.weekday() < 5))
    return tuple(out)


async def test_a_rejected_mortgage_starts_a_refund_case_with_the_cause_as_origin(env, worker, session_factory, scenario):
    sc = scenario
    now = await env.get_current_time()
    loan_id = uuid.uuid4().hex[:12]
    inp = MortgageInput(
        loan_id=loan_id, customer_id=sc.customer_id, contract_ref=f"HT-{loan_id}", bank="ICBC",
        loan_amount=Decimal("1200000.00"), opened_at=now, calendar_overrides=uncovered_weekdays(china_date(now)),
        subscription_id=sc.subscription_id,
    )
    h = await env.client.start_workflow(MortgageWorkflow.run, inp, id=mortgage_workflow_id(loan_id), task_queue=worker)
    for actor, to in ((SALES, S.DOCUMENTS_COMPLETE), (SALES, S.SIGNED), (FINANCE, S.UNDER_REVIEW)):
        await h.execute_update(MortgageWorkflow.advance, StageChange(actor=actor, to_stage=to))
    await h.execute_update(MortgageWorkflow.advance, StageChange(actor=FINANCE, to_stage=S.REJECTED,
                                                                 rejection_cause="debt-to-income ratio above 50%"))
    assert (await finish(env, h)).stage == S.REJECTED

    [case] = cases_of(session_factory, sc.subscription_id)
    assert origin_of(session_factory, case.id) == "loan_rejected: debt-to-income ratio above 50%"
    assert case.registered_by == sc.users["sales"].id
    with session_factory() as s:
        assert s.get(Unit, sc.unit_id).state == UnitState.REFUNDING
    assert (await env.client.get_workflow_handle(case.workflow_id).describe()).status == WorkflowExecutionStatus.RUNNING
    evs = followup_events(session_factory, f"mortgage-{loan_id}")
    assert evs["refund_case"].detail["case_id"] == str(case.id)
    with session_factory() as s:
        offer = s.scalar(select(FollowupAction).where(FollowupAction.followup_id == f"mortgage-{loan_id}",
                                                      FollowupAction.action_key == "offer_refund"))
    assert offer.status == "open" and offer.detail["cause"] == "debt-to-income ratio above 50%"
