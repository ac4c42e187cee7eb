"""Re-record the follow-up workflow histories (mortgage case, payment plan) that
tests/workflows/test_replay.py replays.

`python -m scripts.record_followup_histories` (run by `make histories`; scripts/history_recording.py):
a throwaway embedded PostgreSQL, Temporal's time-skipping test server and a worker with WORKFLOWS and the
real activities; each scenario is driven to completion through the Temporal client and written to
tests/histories/<HISTORY_SET>/<name>.json. The payment plan continues as new once per instalment: every run
of the chain is recorded, `<name>_run1.json`, `<name>_run2.json`, ...
Re-record (and commit) after an intended, versioned change to a workflow; never to silence the test.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Awaitable, Callable

import chinese_calendar
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.api.enums.v1 import EventType
from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowHistory,
    WorkflowUpdateFailedError,
)
from temporalio.testing import WorkflowEnvironment

from config.settings import PROJECT_ROOT
from db.followup_models import FollowupAction
from db.models import RefundCase
from domain.warnings import documents_expected_by, documents_late_on
from scripts.history_recording import main_of, recording, terminate_running, until, until_closed
from tests.factories import Factory
from workflows.followup_contracts import (
    CHINA,
    Actor,
    BuyerResponse,
    CalendarOverrideEntry,
    Instalment,
    MortgageInput,
    MortgageStage,
    PaymentPlanInput,
    PaymentReceived,
    StageChange,
    china_date,
    mortgage_workflow_id,
    payment_plan_workflow_id,
)
from workflows.mortgage import MortgageWorkflow
from workflows.payment_followup import PaymentFollowupWorkflow

# One folder per version of the follow-up workflows; older folders stay so running cases keep replaying.
# v2: the refund-case patches (followup-starts-refund-case, ...); v3: a person's step written by a normal
# activity after the update is accepted (step-write-after-accept); v4: the documents deadline in the input,
# in working days after the request date (mortgage-documents-due-in-input, issue 15).
HISTORY_SET = "followups-v4"
HISTORIES = PROJECT_ROOT / "tests" / "histories" / HISTORY_SET

S = MortgageStage
FINANCE = Actor(1, "fin", "finance")
SALES = Actor(2, "sal", "sales")
CUSTOMER_ID = 42  # customers are referenced by id only; the follow-up tables hold no foreign key


class Ctx:
    """What a scenario needs: the client, the clock, the database, the queue, and the handles it started."""

    def __init__(self, env: WorkflowEnvironment, sf: sessionmaker[Session], queue: str) -> None:
        self.env, self.sf, self.queue = env, sf, queue
        self.started: list[str] = []  # workflow ids
        self.subscriptions: list[int] = []  # refund cases of these are terminated after the scenario

    @property
    def client(self) -> Client:
        return self.env.client

    async def now(self) -> datetime:
        return await self.env.get_current_time()

    async def sleep_until(self, at: datetime) -> None:
        delta = at - await self.now()
        if delta > timedelta(0):
            await self.env.sleep(delta)


# A scenario returns the workflow id and the run id of its first run; the recorder follows the chain.
Scenario = Callable[[Ctx], Awaitable[tuple[str, str]]]


# ------------------------------------------------------------------ helpers


def _at(day: date, hour: int = 0, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), CHINA)


def _add_months(d: date, n: int) -> date:
    y, m = divmod(d.month - 1 + n, 12)
    return date(d.year + y, m + 1, min(d.day, 28))


def _uncovered_weekdays(start: date, days: int = 120) -> tuple[CalendarOverrideEntry, ...]:
    """Overrides for the days the installed calendar data does not cover (so re-recording works next year)."""
    out = []
    for i in range(days):
        d = start + timedelta(days=i)
        try:
            chinese_calendar.is_workday(d)
        except NotImplementedError:
            out.append(CalendarOverrideEntry(d, d.weekday() < 5))
    return tuple(out)


async def _action(ctx: Ctx, followup_id: str, key: str) -> FollowupAction:
    """A timer-driven step runs on its own after a time skip; wait (real time) until its action is written."""
    stmt = select(FollowupAction).where(FollowupAction.followup_id == followup_id, FollowupAction.action_key == key)
    found: list[FollowupAction] = []

    def written() -> bool:
        with ctx.sf() as s:
            found[:] = s.scalars(stmt).all()[:1]
        return bool(found)

    await until(written, f"the action {key!r} of {followup_id}")
    return found[0]


async def _run_histories(client: Client, workflow_id: str, first_run_id: str) -> list[WorkflowHistory]:
    """Every run of a (continued-as-new) chain, in order, each fetched by its run id."""
    histories: list[WorkflowHistory] = []
    run_id: str | None = first_run_id
    while run_id:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        histories.append(history)
        last = history.events[-1]
        run_id = None
        if last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
            run_id = last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
    return histories


# ------------------------------------------------------------------ scenarios


async def _start_mortgage(ctx: Ctx) -> tuple[WorkflowHandle, MortgageInput]:
    now = await ctx.now()
    loan_id = f"hist-{uuid.uuid4().hex[:8]}"
    inp = MortgageInput(
        loan_id=loan_id, customer_id=CUSTOMER_ID, contract_ref=f"HT-{loan_id}", bank="ICBC",
        loan_amount=Decimal("1200000.00"), opened_at=now, calendar_overrides=_uncovered_weekdays(china_date(now)),
    )
    handle = await ctx.client.start_workflow(MortgageWorkflow.run, inp, id=mortgage_workflow_id(loan_id),
                                             task_queue=ctx.queue)
    ctx.started.append(handle.id)
    return handle, inp


async def _advance(handle: WorkflowHandle, actor: Actor, to: MortgageStage, **kw) -> None:
    await handle.execute_update(MortgageWorkflow.advance, StageChange(actor=actor, to_stage=to, **kw))


async def mortgage_disbursed(ctx: Ctx) -> tuple[str, str]:
    """Documents in on day 3, then every stage to 已放款."""
    h, _ = await _start_mortgage(ctx)
    await ctx.env.sleep(timedelta(days=3))
    await _advance(h, SALES, S.DOCUMENTS_COMPLETE)
    await _advance(h, SALES, S.SIGNED)
    await _advance(h, FINANCE, S.UNDER_REVIEW)
    await ctx.env.sleep(timedelta(days=10))
    await _advance(h, FINANCE, S.APPROVED)
    await _advance(h, FINANCE, S.REGISTERING)
    await ctx.env.sleep(timedelta(days=5))
    await _advance(h, FINANCE, S.DISBURSED, disbursed_amount=Decimal("1200000.00"),
                   disbursed_on=china_date(await ctx.now()))
    await until_closed(h)
    return h.id, h.result_run_id


async def mortgage_late_documents_rejected(ctx: Ctx) -> tuple[str, str]:
    """Documents late by more than 5 working days: the warning fires, is left unanswered and escalates;
    the documents then arrive and the bank rejects the loan (拒贷) with its cause."""
    h, inp = await _start_mortgage(ctx)
    overrides = {e.day: e.is_workday for e in inp.calendar_overrides}
    late_on = documents_late_on(documents_expected_by(china_date(inp.opened_at)), overrides=overrides)
    await ctx.sleep_until(_at(late_on, 0, 5))
    await _action(ctx, h.id, "warning:mortgage_documents_late")
    await ctx.env.sleep(timedelta(hours=4, minutes=5))
    await _action(ctx, h.id, f"escalation:{h.id}:mortgage_documents_late")
    await _advance(h, SALES, S.DOCUMENTS_COMPLETE)
    await _advance(h, SALES, S.SIGNED)
    await _advance(h, FINANCE, S.UNDER_REVIEW)
    await ctx.env.sleep(timedelta(days=7))
    await _advance(h, FINANCE, S.REJECTED, rejection_cause="debt-to-income ratio above 50%")
    await until_closed(h)
    return h.id, h.result_run_id


async def _start_plan(ctx: Ctx, months: int, amount: Decimal) -> tuple[WorkflowHandle, WorkflowHandle, PaymentPlanInput]:
    today = china_date(await ctx.now())
    plan_id = f"hist-{uuid.uuid4().hex[:8]}"
    inst = tuple(Instalment(i + 1, _add_months(today, i + 1), amount) for i in range(months))
    inp = PaymentPlanInput(plan_id=plan_id, customer_id=CUSTOMER_ID, contract_ref=f"HT-{plan_id}", instalments=inst)
    wf_id = payment_plan_workflow_id(plan_id)
    first = await ctx.client.start_workflow(PaymentFollowupWorkflow.run, inp, id=wf_id, task_queue=ctx.queue)
    ctx.started.append(wf_id)
    # No run id: updates and describe() follow the chain of continued-as-new runs.
    return ctx.client.get_workflow_handle_for(PaymentFollowupWorkflow.run, wf_id), first, inp


async def _pay(ctx: Ctx, h: WorkflowHandle, inst: Instalment) -> None:
    # Retry while the previous run is still handing over to the next one ("no instalment is open in this run").
    for attempt in range(100):
        try:
            await h.execute_update(PaymentFollowupWorkflow.record_payment,
                                   PaymentReceived(FINANCE, inst.seq, inst.amount, china_date(await ctx.now())))
            return
        except WorkflowUpdateFailedError:
            if attempt == 99:
                raise
            await asyncio.sleep(0.1)


async def payment_plan(ctx: Ctx) -> tuple[str, str]:
    """3 instalments: the 1st goes overdue, a postponement is granted, it is paid inside the grace period;
    the 2nd and 3rd are paid after their reminders. One run per instalment (continue-as-new)."""
    h, first, inp = await _start_plan(ctx, 3, Decimal("100000.00"))
    one = inp.instalments[0]
    await ctx.sleep_until(_at(one.due_date + timedelta(days=1), 1))
    await _action(ctx, h.id, "overdue:1")
    await h.execute_update(PaymentFollowupWorkflow.request_postponement, BuyerResponse(SALES, 1, "salary paid late"))
    await ctx.sleep_until(_at(one.due_date + timedelta(days=5), 10))
    await _pay(ctx, h, one)
    for inst in inp.instalments[1:]:
        await ctx.sleep_until(_at(inst.due_date - timedelta(days=3), 10))
        await _action(ctx, h.id, f"reminder:{inst.seq}")
        await _pay(ctx, h, inst)
    await until_closed(h)
    return first.id, first.result_run_id


async def payment_plan_inability(ctx: Ctx) -> tuple[str, str]:
    """The 1st of 3 instalments goes overdue; the buyer states they cannot pay: a refund case is requested."""
    h, first, inp = await _start_plan(ctx, 3, Decimal("50000.00"))
    one = inp.instalments[0]
    await ctx.sleep_until(_at(one.due_date + timedelta(days=4), 10))
    await _action(ctx, h.id, "overdue:1")
    await h.execute_update(PaymentFollowupWorkflow.state_inability, BuyerResponse(SALES, 1, "lost job"))
    await until_closed(h)
    return first.id, first.result_run_id


# --- followups-v2: the follow-up starts a refund case itself (subscription_id set on the input)


def _subscription(ctx: Ctx):
    """A real subscription (and a published policy) that a refund case can be registered for."""
    factory = Factory(ctx.sf)
    factory.policy()
    sc = factory.scenario()
    ctx.subscriptions.append(sc.subscription_id)
    return sc


def _refund_cases(ctx: Ctx) -> list[RefundCase]:
    if not ctx.subscriptions:
        return []
    with ctx.sf() as s:
        return list(s.scalars(select(RefundCase).where(RefundCase.subscription_id.in_(ctx.subscriptions))).all())


async def _refund_case_started(ctx: Ctx) -> None:
    await until(lambda: any(c.run_id for c in _refund_cases(ctx)), f"a refund case for {ctx.subscriptions}")


async def payment_plan_inability_refund(ctx: Ctx) -> tuple[str, str]:
    """As payment_plan_inability, with subscription_id set: the follow-up starts the refund case itself."""
    sc = _subscription(ctx)
    today = china_date(await ctx.now())
    plan_id = f"hist-{uuid.uuid4().hex[:8]}"
    inp = PaymentPlanInput(plan_id=plan_id, customer_id=sc.customer_id, contract_ref=f"HT-{plan_id}",
                           instalments=(Instalment(1, today + timedelta(days=10), Decimal("50000.00")),),
                           subscription_id=sc.subscription_id)
    wf_id = payment_plan_workflow_id(plan_id)
    first = await ctx.client.start_workflow(PaymentFollowupWorkflow.run, inp, id=wf_id, task_queue=ctx.queue)
    ctx.started.append(wf_id)
    h = ctx.client.get_workflow_handle_for(PaymentFollowupWorkflow.run, wf_id)
    await ctx.sleep_until(_at(inp.instalments[0].due_date + timedelta(days=2), 10))
    await _action(ctx, h.id, "overdue:1")
    await h.execute_update(PaymentFollowupWorkflow.state_inability, BuyerResponse(SALES, 1, "lost job"))
    await until_closed(h)
    await _refund_case_started(ctx)
    return first.id, first.result_run_id


async def mortgage_rejected_refund(ctx: Ctx) -> tuple[str, str]:
    """A rejected mortgage with subscription_id set: the follow-up starts the refund case itself."""
    sc = _subscription(ctx)
    now = await ctx.now()
    loan_id = f"hist-{uuid.uuid4().hex[:8]}"
    inp = MortgageInput(
        loan_id=loan_id, customer_id=sc.customer_id, contract_ref=f"HT-{loan_id}", bank="ICBC",
        loan_amount=Decimal("1200000.00"), opened_at=now, calendar_overrides=_uncovered_weekdays(china_date(now)),
        subscription_id=sc.subscription_id,
    )
    h = await ctx.client.start_workflow(MortgageWorkflow.run, inp, id=mortgage_workflow_id(loan_id),
                                        task_queue=ctx.queue)
    ctx.started.append(h.id)
    await _advance(h, SALES, S.DOCUMENTS_COMPLETE)
    await _advance(h, SALES, S.SIGNED)
    await _advance(h, FINANCE, S.UNDER_REVIEW)
    await _advance(h, FINANCE, S.REJECTED, rejection_cause="debt-to-income ratio above 50%")
    await until_closed(h)
    await _refund_case_started(ctx)
    return h.id, h.result_run_id


async def mortgage_disbursed_contract(ctx: Ctx) -> tuple[str, str]:
    """A disbursement with subscription_id set, on a signed contract with a payment plan: the loan is
    recorded as a payment on the contract."""
    from db.contracts import set_payment_plan, sign_contract
    from db.models import User
    from domain.payments import PaymentMethod, PlannedInstalment

    factory = Factory(ctx.sf)
    sc = factory.scenario(price=Decimal("2000000"), deposit=Decimal("50000"))
    today = china_date(await ctx.now())
    with ctx.sf.begin() as s:
        sales = s.get(User, sc.users["sales"].id)
        c = sign_contract(s, subscription_id=sc.subscription_id, contract_no=f"HT-{uuid.uuid4().hex[:8]}",
                          signed_on=today - timedelta(days=3), signer=sales, today=today)
        set_payment_plan(s, contract_id=c.id, method=PaymentMethod.COMMERCIAL_LOAN, actor=sales, instalments=[
            PlannedInstalment(today + timedelta(days=2), Decimal("550000"), "首付"),
            PlannedInstalment(today + timedelta(days=38), Decimal("1400000"), "按揭"),
        ])
    fin, sal = sc.users["finance"], sc.users["sales"]
    finance, sales_actor = Actor(fin.id, fin.username, "finance"), Actor(sal.id, sal.username, "sales")
    now = await ctx.now()
    loan_id = f"hist-{uuid.uuid4().hex[:8]}"
    inp = MortgageInput(
        loan_id=loan_id, customer_id=sc.customer_id, contract_ref=f"HT-{loan_id}", bank="ICBC",
        loan_amount=Decimal("1400000.00"), opened_at=now, calendar_overrides=_uncovered_weekdays(china_date(now)),
        subscription_id=sc.subscription_id,
    )
    h = await ctx.client.start_workflow(MortgageWorkflow.run, inp, id=mortgage_workflow_id(loan_id),
                                        task_queue=ctx.queue)
    ctx.started.append(h.id)
    await _advance(h, sales_actor, S.DOCUMENTS_COMPLETE)
    await _advance(h, sales_actor, S.SIGNED)
    for to in (S.UNDER_REVIEW, S.APPROVED, S.REGISTERING):
        await _advance(h, finance, to)
    await _advance(h, finance, S.DISBURSED, disbursed_amount=Decimal("1400000.00"), disbursed_on=china_date(await ctx.now()))
    await until_closed(h)
    with ctx.sf() as s:
        from db.contracts import contract_figures

        stage, paid = contract_figures(s, subscription_id=sc.subscription_id)
    if stage != "loan_disbursed" or paid != Decimal("1450000.00"):
        raise RuntimeError(f"the disbursement was not recorded on the contract: {stage} {paid}")
    return h.id, h.result_run_id


async def mortgage_documents_due_late(ctx: Ctx) -> tuple[str, str]:
    """Issue 15: opened from a contract with its request date; the documents are due 5 working days after it
    (computed as the API does, in the input); late by more than 5 working days more, the warning fires and
    escalates; then the documents arrive and the bank rejects the loan, which opens the refund case."""
    from domain.calendar import add_working_days

    sc = _subscription(ctx)
    now = await ctx.now()
    overrides = _uncovered_weekdays(china_date(now))
    table = {e.day: e.is_workday for e in overrides}
    requested = china_date(now)
    due = add_working_days(requested, 5, overrides=table)
    loan_id = f"hist-{uuid.uuid4().hex[:8]}"
    inp = MortgageInput(
        loan_id=loan_id, customer_id=sc.customer_id, contract_ref=f"HT-{loan_id}", bank="ICBC",
        loan_amount=Decimal("1200000.00"), opened_at=now, calendar_overrides=overrides,
        subscription_id=sc.subscription_id, requested_on=requested, documents_due=due, contract_id=None,
    )
    h = await ctx.client.start_workflow(MortgageWorkflow.run, inp, id=mortgage_workflow_id(loan_id),
                                        task_queue=ctx.queue)
    ctx.started.append(h.id)
    await ctx.sleep_until(_at(documents_late_on(due, overrides=table), 0, 5))
    await _action(ctx, h.id, "warning:mortgage_documents_late")
    await ctx.env.sleep(timedelta(hours=4, minutes=5))
    await _action(ctx, h.id, f"escalation:{h.id}:mortgage_documents_late")
    await _advance(h, SALES, S.DOCUMENTS_COMPLETE)
    await _advance(h, SALES, S.SIGNED)
    await _advance(h, FINANCE, S.UNDER_REVIEW)
    await _advance(h, FINANCE, S.REJECTED, rejection_cause="debt-to-income ratio above 50%")
    await until_closed(h)
    await _refund_case_started(ctx)
    return h.id, h.result_run_id


# mortgage_documents_due_late skips two weeks: it runs before the scenarios whose refund cases leave timers behind.
SCENARIOS: tuple[Scenario, ...] = (mortgage_disbursed, mortgage_late_documents_rejected, mortgage_documents_due_late,
                                   payment_plan, payment_plan_inability, payment_plan_inability_refund,
                                   mortgage_rejected_refund, mortgage_disbursed_contract)


# ------------------------------------------------------------------ recording


async def record() -> list:
    async with recording(HISTORIES, "record-followup-histories") as rec:
        for scenario in SCENARIOS:
            ctx = Ctx(rec.env, rec.sf, rec.queue)
            try:
                workflow_id, first_run_id = await scenario(ctx)
                runs = await _run_histories(rec.env.client, workflow_id, first_run_id)
            finally:
                # Refund cases the follow-up started are not recorded (their histories are record_histories').
                refund_ids = [c.workflow_id for c in _refund_cases(ctx) if c.workflow_id]
                await terminate_running([rec.env.client.get_workflow_handle(i) for i in [*ctx.started, *refund_ids]])
            if len(runs) == 1:
                rec.write(scenario.__name__, runs[0])
            else:
                for i, history in enumerate(runs, 1):
                    rec.write(f"{scenario.__name__}_run{i}", history)
        return rec.written


main = main_of(record, HISTORIES)


if __name__ == "__main__":
    main()
