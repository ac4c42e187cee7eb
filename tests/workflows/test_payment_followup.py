"""The payment-plan follow-up on Temporal's time-skipping test server, with the real activity and PostgreSQL.

Its own time-skipping server (module scope): the multi-year plan moves the clock years ahead, which
must not leak into the other workflow tests."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from db.followup_models import Followup, FollowupAction, FollowupEvent
from tests.workflows.conftest import eventually, terminate_if_running
from workflows.followup_contracts import (
    CHINA,
    Actor,
    BuyerResponse,
    Instalment,
    PaymentPlanInput,
    PaymentReceived,
    PlanOutcome,
    china_date,
    payment_plan_workflow_id,
)
from workflows.payment_followup import PaymentFollowupWorkflow

FINANCE = Actor(1, "fin", "finance")
SALES = Actor(2, "sal", "sales")


def add_months(d: date, n: int) -> date:
    y, m = divmod(d.month - 1 + n, 12)
    return date(d.year + y, m + 1, min(d.day, 28))


@pytest.fixture
async def start(env, worker):
    ids = []

    async def _start(months: int, amount: Decimal = Decimal("10000.00"), **kw):
        today = china_date(await env.get_current_time())
        plan_id = uuid.uuid4().hex[:12]
        inst = tuple(Instalment(i + 1, add_months(today, i + 1), amount) for i in range(months))
        inp = PaymentPlanInput(plan_id=plan_id, customer_id=7, contract_ref=f"HT-{plan_id}", instalments=inst, **kw)
        wf_id = payment_plan_workflow_id(plan_id)
        first = await env.client.start_workflow(PaymentFollowupWorkflow.run, inp, id=wf_id, task_queue=worker)
        ids.append(wf_id)
        # No run id: updates and the result follow the chain of continued-as-new runs.
        return env.client.get_workflow_handle_for(PaymentFollowupWorkflow.run, wf_id), first, inp

    yield _start
    for wf_id in ids:
        await terminate_if_running(env.client.get_workflow_handle(wf_id))


def actions(session_factory, inp) -> dict[str, FollowupAction]:
    with session_factory() as s:
        rows = s.scalars(select(FollowupAction).where(FollowupAction.followup_id == f"payment-plan-{inp.plan_id}")).all()
    return {a.action_key: a for a in rows}


def events(session_factory, inp) -> dict[str, FollowupEvent]:
    with session_factory() as s:
        rows = s.scalars(select(FollowupEvent).where(FollowupEvent.followup_id == f"payment-plan-{inp.plan_id}")).all()
    return {e.event_key: e for e in rows}


def refused(exc_info) -> ApplicationError:
    cause = exc_info.value.cause
    assert isinstance(cause, ApplicationError)
    return cause


async def sleep_until(env, at: datetime) -> None:
    delta = at - await env.get_current_time()
    if delta > timedelta(0):
        await env.sleep(delta)


def at(day: date, hour: int = 0, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), CHINA)


async def test_a_36_month_plan_reminds_before_each_due_date_and_continues_as_new_per_instalment(env, start, session_factory):
    h, first, inp = await start(36)
    for inst in inp.instalments:
        await sleep_until(env, at(inst.due_date - timedelta(days=3), 10))
        reminder = await eventually(lambda: actions(session_factory, inp).get(f"reminder:{inst.seq}"))
        assert reminder is not None, f"no reminder for instalment {inst.seq}"
        await h.execute_update(PaymentFollowupWorkflow.record_payment,
                               PaymentReceived(FINANCE, inst.seq, inst.amount, china_date(await env.get_current_time())))
    result = await h.result()
    assert result.outcome == PlanOutcome.COMPLETED
    assert result.runs == 36 and result.reminders_sent == 36 and result.late_fees == Decimal("0")
    acts = actions(session_factory, inp)
    assert all(acts[f"reminder:{i}"].status == "done" for i in range(1, 37))
    assert not any(k.startswith("overdue:") for k in acts)
    # Bounded history: the first run ended by continuing as new, and the last run is a different one.
    hist = await env.client.get_workflow_handle(first.id, run_id=first.result_run_id).fetch_history()
    assert hist.events[-1].event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
    assert len(hist.events) < 60
    assert (await h.describe()).run_id != first.result_run_id
    with session_factory() as s:
        assert s.get(Followup, f"payment-plan-{inp.plan_id}").stage == "completed"


async def test_overdue_escalates_then_a_first_postponement_gives_grace_and_the_fee_keeps_accruing(env, start, session_factory):
    h, _, inp = await start(2, amount=Decimal("300000.00"))
    inst = inp.instalments[0]
    await sleep_until(env, at(inst.due_date + timedelta(days=1), 1))
    overdue = await eventually(lambda: actions(session_factory, inp).get("overdue:1"))
    assert overdue is not None and overdue.role == "sales"
    # A day without word from the buyer: the manager is told.
    await sleep_until(env, at(inst.due_date + timedelta(days=2), 1))
    esc = await eventually(lambda: actions(session_factory, inp).get("escalation:1:overdue"))
    assert esc is not None and esc.role == "manager"
    with pytest.raises(WorkflowUpdateFailedError) as e:
        await h.execute_update(PaymentFollowupWorkflow.request_postponement, BuyerResponse(FINANCE, 1))
    assert refused(e).type == "Forbidden"
    status = await h.execute_update(PaymentFollowupWorkflow.request_postponement, BuyerResponse(SALES, 1, "salary late"))
    assert status.state == "grace"
    assert events(session_factory, inp)["postpone:1"].detail["grace_until"] == (inst.due_date + timedelta(days=7)).isoformat()
    with pytest.raises(WorkflowUpdateFailedError) as e:
        await h.execute_update(PaymentFollowupWorkflow.request_postponement, BuyerResponse(SALES, 1))
    assert refused(e).type == "Conflict" and "already" in refused(e).message
    # Inside the grace period nothing escalates; after it, the manager is told again.
    await sleep_until(env, at(inst.due_date + timedelta(days=7), 23))
    assert "escalation:1:grace" not in actions(session_factory, inp)
    await sleep_until(env, at(inst.due_date + timedelta(days=8), 1))
    grace = await eventually(lambda: actions(session_factory, inp).get("escalation:1:grace"))
    assert grace is not None and grace.role == "manager"
    # Paid 18 days late: the grace period postponed escalation, not the fee (DOMAIN §4 example: 2,700.00).
    await sleep_until(env, at(inst.due_date + timedelta(days=18), 10))
    with pytest.raises(WorkflowUpdateFailedError) as e:
        await h.execute_update(PaymentFollowupWorkflow.record_payment,
                               PaymentReceived(FINANCE, 1, Decimal("1000.00"), inst.due_date + timedelta(days=18)))
    assert refused(e).type == "Invalid"
    await h.execute_update(PaymentFollowupWorkflow.record_payment,
                           PaymentReceived(FINANCE, 1, inst.amount, inst.due_date + timedelta(days=18)))
    assert events(session_factory, inp)["paid:1"].detail["late_fee"] == "2700.00"
    inst2 = inp.instalments[1]
    await sleep_until(env, at(inst2.due_date - timedelta(days=1), 10))
    await h.execute_update(PaymentFollowupWorkflow.record_payment,
                           PaymentReceived(FINANCE, 2, inst2.amount, inst2.due_date - timedelta(days=1)))
    result = await h.result()
    assert result.outcome == PlanOutcome.COMPLETED and result.late_fees == Decimal("2700.00") and result.runs == 2


@pytest.mark.parametrize(
    "update, kind, outcome",
    [
        (PaymentFollowupWorkflow.state_inability, "start_refund_case", PlanOutcome.REFUND_REQUESTED),
        (PaymentFollowupWorkflow.request_transfer, "path_c", PlanOutcome.TRANSFER_REQUESTED),
    ],
)
async def test_inability_or_transfer_ends_the_follow_up_with_a_request_for_a_person(env, start, session_factory, update, kind, outcome):
    h, _, inp = await start(3, amount=Decimal("50000.00"))
    inst = inp.instalments[0]
    await sleep_until(env, at(inst.due_date + timedelta(days=4), 10))
    await eventually(lambda: actions(session_factory, inp).get("overdue:1"))
    await h.execute_update(update, BuyerResponse(SALES, 1, "lost job"))
    result = await h.result()
    assert result.outcome == outcome and result.runs == 1
    req = actions(session_factory, inp)[kind]
    assert req.role == "manager" and req.status == "open"
    assert req.detail["contract_ref"] == inp.contract_ref and req.detail["amount_due"] == "50000.00"
    assert req.detail["late_fee_so_far"] == "100.00"  # 4 days × 0.05% × 50,000


async def test_a_payment_for_another_instalment_is_refused(env, start):
    h, _, inp = await start(2)
    with pytest.raises(WorkflowUpdateFailedError) as e:
        await h.execute_update(PaymentFollowupWorkflow.record_payment,
                               PaymentReceived(FINANCE, 2, inp.instalments[1].amount, china_date(await env.get_current_time())))
    assert refused(e).type == "Conflict"
    with pytest.raises(WorkflowUpdateFailedError) as e:
        await h.execute_update(PaymentFollowupWorkflow.request_postponement, BuyerResponse(SALES, 1))
    assert refused(e).type == "Conflict"  # not overdue yet
