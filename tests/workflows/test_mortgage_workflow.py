"""The mortgage follow-up workflow on Temporal's time-skipping test server, with the real activity and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import chinese_calendar
import pytest
from sqlalchemy import select
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from db.followup_models import (
    Followup,
    FollowupAction,
    MortgageDisbursement,
    WarningRecord,
)
from domain.warnings import documents_expected_by, documents_late_on
from tests.workflows.conftest import eventually, terminate_if_running
from workflows.followup_contracts import (
    CHINA,
    Actor,
    CalendarOverrideEntry,
    MortgageInput,
    MortgageStage,
    StageChange,
    china_date,
    mortgage_workflow_id,
)
from workflows.mortgage import MortgageWorkflow

S = MortgageStage
FINANCE = Actor(1, "fin", "finance")
SALES = Actor(2, "sal", "sales")


def uncovered_weekdays(start: date, days: int = 120) -> tuple[CalendarOverrideEntry, ...]:
    """Test-only overrides for days the installed calendar data does not cover (keeps the test green next year)."""
    out = []
    for i in range(days):
        d = start + timedelta(days=i)
        try:
            chinese_calendar.is_workday(d)
        except NotImplementedError:
            out.append(CalendarOverrideEntry(d, d.weekday() < 5))
    return tuple(out)


@pytest.fixture
async def start(env, worker):
    handles = []

    async def _start(**kw):
        now = await env.get_current_time()
        loan_id = uuid.uuid4().hex[:12]
        inp = MortgageInput(
            loan_id=loan_id, customer_id=kw.pop("customer_id", 42), contract_ref=f"HT-{loan_id}", bank="ICBC",
            loan_amount=Decimal("1200000.00"), opened_at=now,
            calendar_overrides=uncovered_weekdays(china_date(now)), **kw,
        )
        h = await env.client.start_workflow(MortgageWorkflow.run, inp, id=mortgage_workflow_id(loan_id), task_queue=worker)
        handles.append(h)
        return h, inp

    yield _start
    # A run left open would hold the shared time-skipping server's clock once its worker is gone.
    for h in handles:
        await terminate_if_running(h)


def rows(session_factory, stmt):
    with session_factory() as s:
        return s.scalars(stmt).all()


def actions(session_factory, inp) -> dict[str, FollowupAction]:
    return {a.action_key: a for a in rows(session_factory, select(FollowupAction).where(FollowupAction.followup_id == f"mortgage-{inp.loan_id}"))}


def warnings_of(session_factory, inp) -> list[WarningRecord]:
    return rows(session_factory, select(WarningRecord).where(WarningRecord.case_ref == f"mortgage-{inp.loan_id}"))


def refused(exc_info) -> ApplicationError:
    cause = exc_info.value.cause
    assert isinstance(cause, ApplicationError)
    return cause


async def advance(h, actor, to, **kw):
    return await h.execute_update(MortgageWorkflow.advance, StageChange(actor=actor, to_stage=to, **kw))


async def test_a_loan_runs_through_every_stage_to_disbursement_and_records_it(start, session_factory):
    h, inp = await start()
    await advance(h, SALES, S.DOCUMENTS_COMPLETE)
    await advance(h, SALES, S.SIGNED)
    status = await advance(h, FINANCE, S.UNDER_REVIEW)
    assert status.approval_expected_by is not None and status.approval_expected_by > china_date(inp.opened_at)
    await advance(h, FINANCE, S.APPROVED)
    await advance(h, FINANCE, S.REGISTERING)
    await advance(h, FINANCE, S.DISBURSED, disbursed_amount=Decimal("1200000.00"), disbursed_on=date(2026, 12, 1))
    result = await h.result()
    assert result.stage == S.DISBURSED and not result.warning_raised
    d = rows(session_factory, select(MortgageDisbursement).where(MortgageDisbursement.loan_id == inp.loan_id))
    assert [(x.amount, x.recorded_by) for x in d] == [(Decimal("1200000.00"), "fin")]
    with session_factory() as s:
        assert s.get(Followup, f"mortgage-{inp.loan_id}").stage == "disbursed"
    assert actions(session_factory, inp)["collect_documents"].status == "done"


async def test_stage_changes_are_refused_out_of_order_by_the_wrong_role_or_without_a_cause(start):
    h, _ = await start()
    with pytest.raises(WorkflowUpdateFailedError) as e:
        await advance(h, FINANCE, S.SIGNED)
    assert refused(e).type == "Conflict" and "documents_complete" in refused(e).message
    with pytest.raises(WorkflowUpdateFailedError) as e:
        await advance(h, Actor(3, "fd", "frontdesk"), S.DOCUMENTS_COMPLETE)
    assert refused(e).type == "Forbidden"
    await advance(h, SALES, S.DOCUMENTS_COMPLETE)
    await advance(h, FINANCE, S.SIGNED)
    with pytest.raises(WorkflowUpdateFailedError) as e:
        await advance(h, SALES, S.UNDER_REVIEW)
    assert refused(e).type == "Forbidden"
    await advance(h, FINANCE, S.UNDER_REVIEW)
    with pytest.raises(WorkflowUpdateFailedError) as e:
        await advance(h, FINANCE, S.REJECTED)
    assert refused(e).type == "Invalid"
    with pytest.raises(WorkflowUpdateFailedError) as e:
        await advance(h, FINANCE, S.UNDER_REVIEW)  # a duplicate
    assert refused(e).type == "Conflict"
    assert (await h.query(MortgageWorkflow.status)).stage == S.UNDER_REVIEW


async def test_a_rejection_records_the_cause_and_offers_the_refund_path(start, session_factory):
    h, inp = await start()
    for actor, to in ((SALES, S.DOCUMENTS_COMPLETE), (SALES, S.SIGNED), (FINANCE, S.UNDER_REVIEW)):
        await advance(h, actor, to)
    await advance(h, FINANCE, S.REJECTED, rejection_cause="debt-to-income ratio above 50%")
    result = await h.result()
    assert result.stage == S.REJECTED
    offer = actions(session_factory, inp)["offer_refund"]
    assert offer.kind == "offer_refund" and offer.role == "manager" and offer.status == "open"
    assert offer.detail["cause"] == "debt-to-income ratio above 50%"
    assert offer.detail["contract_ref"] == inp.contract_ref and "debt-to-income" in offer.message
    with pytest.raises(Exception):
        await advance(h, FINANCE, S.APPROVED)  # closed


def _late_at(inp) -> datetime:
    overrides = {e.day: e.is_workday for e in inp.calendar_overrides}
    late_on = documents_late_on(documents_expected_by(china_date(inp.opened_at)), overrides=overrides)
    return datetime.combine(late_on, time(0), CHINA)


async def test_documents_late_more_than_5_working_days_raise_a_yellow_warning_escalated_when_unanswered(env, start, session_factory):
    h, inp = await start()
    await env.sleep(_late_at(inp) - await env.get_current_time() - timedelta(hours=1))
    assert warnings_of(session_factory, inp) == []  # not yet: exactly on the 5th working day is not late
    await env.sleep(timedelta(hours=1, minutes=5))
    ws = await eventually(lambda: warnings_of(session_factory, inp))
    assert len(ws) == 1
    w = ws[0]
    assert w.level == "yellow" and w.rules[0]["rule"] == "mortgage_documents_late" and w.risk_score > 0
    assert w.customer_id == 42 and w.respond_role == "sales" and w.escalate_to == "manager"
    assert w.response_due - w.raised_at == timedelta(hours=4)
    assert actions(session_factory, inp)[f"warning:{w.rules[0]['rule']}"].role == "sales"
    await env.sleep(timedelta(hours=4, minutes=5))
    esc = await eventually(lambda: actions(session_factory, inp).get(f"escalation:{w.warning_key}"))
    assert esc is not None and esc.role == "manager" and esc.kind == "escalation"
    await advance(h, SALES, S.DOCUMENTS_COMPLETE)
    assert (await h.query(MortgageWorkflow.status)).warning_key == w.warning_key


async def test_a_warning_answered_in_time_is_not_escalated(env, start, session_factory):
    h, inp = await start()
    await env.sleep(_late_at(inp) - await env.get_current_time() + timedelta(minutes=5))
    ws = await eventually(lambda: warnings_of(session_factory, inp))
    with session_factory.begin() as s:
        s.get(WarningRecord, ws[0].id).responded_at = await env.get_current_time()
    await env.sleep(timedelta(hours=5))
    for actor, to in ((SALES, S.DOCUMENTS_COMPLETE), (SALES, S.SIGNED), (FINANCE, S.UNDER_REVIEW), (FINANCE, S.REJECTED)):
        await advance(h, actor, to, rejection_cause="x" if to == S.REJECTED else "")
    result = await h.result()
    assert result.warning_raised and not result.warning_escalated
    assert not any(k.startswith("escalation:") for k in actions(session_factory, inp))


async def test_documents_in_before_the_late_day_raise_no_warning(env, start, session_factory):
    h, inp = await start()
    await env.sleep(timedelta(days=3))
    await advance(h, SALES, S.DOCUMENTS_COMPLETE)
    await env.sleep(timedelta(days=30))
    assert warnings_of(session_factory, inp) == []


async def test_a_disbursement_is_recorded_as_a_payment_on_the_contract(start, session_factory, factory):
    from db.contract_models import Contract
    from db.contracts import set_payment_plan, sign_contract
    from db.models import Subscription, User
    from domain.payments import PaymentMethod, PlannedInstalment

    sc = factory.scenario(price=Decimal("2000000"), deposit=Decimal("50000"))
    with session_factory.begin() as s:
        sales = s.get(User, sc.users["sales"].id)
        c = sign_contract(s, subscription_id=sc.subscription_id, contract_no=f"HT-{uuid.uuid4().hex[:8]}",
                          signed_on=date(2026, 11, 20), signer=sales, today=date(2026, 11, 23))
        set_payment_plan(s, contract_id=c.id, method=PaymentMethod.COMMERCIAL_LOAN, actor=sales, instalments=[
            PlannedInstalment(date(2026, 11, 25), Decimal("550000"), "首付"),
            PlannedInstalment(date(2026, 12, 31), Decimal("1400000"), "按揭"),
        ])
        contract_id = c.id
    fin = sc.users["finance"]
    finance = Actor(fin.id, fin.username, "finance")
    h, inp = await start(subscription_id=sc.subscription_id)
    for to in (S.DOCUMENTS_COMPLETE, S.SIGNED):
        await advance(h, SALES, to)
    for to in (S.UNDER_REVIEW, S.APPROVED, S.REGISTERING):
        await advance(h, finance, to)
    await advance(h, finance, S.DISBURSED, disbursed_amount=Decimal("1400000.00"), disbursed_on=date(2026, 12, 1))
    await h.result()
    with session_factory() as s:
        c = s.get(Contract, contract_id)
        assert c.loan_disbursed_at is not None
        assert s.get(Subscription, sc.subscription_id).stage == "loan_disbursed"
        from db.contracts import contract_figures

        stage, paid = contract_figures(s, subscription_id=sc.subscription_id)
        assert stage == "loan_disbursed" and paid == Decimal("1450000.00")  # deposit + the loan


async def test_a_disbursement_the_contract_refuses_leaves_a_to_do_for_finance(start, session_factory, factory):
    sc = factory.scenario()
    from db.contracts import sign_contract
    from db.models import User

    with session_factory.begin() as s:  # a contract without a payment plan cannot take a receipt
        sign_contract(s, subscription_id=sc.subscription_id, contract_no=f"HT-{uuid.uuid4().hex[:8]}",
                      signed_on=date(2026, 11, 20), signer=s.get(User, sc.users["sales"].id), today=date(2026, 11, 23))
    fin = sc.users["finance"]
    finance = Actor(fin.id, fin.username, "finance")
    h, inp = await start(subscription_id=sc.subscription_id)
    for to in (S.DOCUMENTS_COMPLETE, S.SIGNED):
        await advance(h, SALES, to)
    for to in (S.UNDER_REVIEW, S.APPROVED, S.REGISTERING):
        await advance(h, finance, to)
    await advance(h, finance, S.DISBURSED, disbursed_amount=Decimal("1000000.00"), disbursed_on=date(2026, 12, 1))
    await h.result()
    todo = actions(session_factory, inp)["disbursement_to_contract"]
    assert todo.role == "finance" and "could not be recorded on the contract" in todo.message
    d = rows(session_factory, select(MortgageDisbursement).where(MortgageDisbursement.loan_id == inp.loan_id))
    assert len(d) == 1  # the mortgage step itself stands
