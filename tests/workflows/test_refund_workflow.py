"""The refund workflow on Temporal's time-skipping test server, with the real activities and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from db.models import (
    CaseEvent,
    Customer,
    KnowledgeBaseEntry,
    RefundCase,
    RefundInstruction,
    RegionalBrief,
    RetentionLedgerEntry,
    SlaBreach,
    Subscription,
    Task,
    Unit,
)
from db.notice_models import Notice
from domain.refund import Fault, LossAssessment, OptionKind, RefundPolicy
from tests.drive import Case, open_case
from tests.workflows.conftest import eventually, terminate_if_running
from workflows.contracts import AssessmentSubmission
from workflows.refund_case import RefundCaseWorkflow

A, B, C = OptionKind.A, OptionKind.B, OptionKind.C


@pytest.fixture
def policy(factory) -> RefundPolicy:
    return factory.policy()


@pytest.fixture
async def start(env, session_factory, worker, policy, factory):
    started: list[Case] = []

    async def _start(registrant: str = "frontdesk", speedup: int = 1, **scenario) -> Case:
        sc = factory.scenario(**scenario)
        case = await open_case(
            env.client, session_factory, sc, policy=policy, task_queue=worker,
            registered_at=await env.get_current_time(), registrant=registrant, speedup=speedup,
        )
        started.append(case)
        return case

    yield _start
    # A run left open would hold the shared time-skipping server's clock once its worker is gone.
    for case in started:
        await terminate_if_running(case.handle)


def refused(exc_info) -> ApplicationError:
    cause = exc_info.value.cause
    assert isinstance(cause, ApplicationError)
    return cause


def db(session_factory, stmt):
    with session_factory() as s:
        return s.execute(stmt).all()


def case_row(session_factory, case: Case) -> RefundCase:
    with session_factory() as s:
        return s.get(RefundCase, uuid.UUID(case.case_id))


def open_tasks(session_factory, case: Case) -> set[str]:
    rows = db(session_factory, select(Task.task_key).where(Task.case_id == uuid.UUID(case.case_id), Task.status == "open"))
    return {r[0] for r in rows}


async def test_path_b_deposit_stage_refunds_the_tier_minimum_and_releases_the_unit_on_completion(start, session_factory):
    case = await start(deposit=Decimal("50000"))
    assert case_row(session_factory, case).stage == "intake"
    await case.intake()
    assert open_tasks(session_factory, case) == {"assessment:finance", "assessment:legal", "assessment:marketing"}
    await case.assess()
    assert case_row(session_factory, case).stage == "solution"
    await case.offer(A, B)
    row = case_row(session_factory, case)
    b_option = next(o for o in row.options if o["kind"] == "B")
    assert b_option["refund_amount"] == "30000.00"  # 60% of the 50,000 定金
    await case.choose(B)
    with session_factory() as s:
        instructions = s.scalars(select(RefundInstruction).where(RefundInstruction.case_id == uuid.UUID(case.case_id))).all()
        assert [i.amount for i in instructions] == [Decimal("30000.00")]
        assert s.get(Unit, case.sc.unit_id).state == "refunding"  # not before the case completes
        assert s.get(Subscription, case.sc.subscription_id).status == "cancelled"
    await case.archive()
    result = await case.handle.result()
    assert result.path == "B" and result.refund_amount == Decimal("30000.00") and result.breaches == ()
    with session_factory() as s:
        assert s.get(Unit, case.sc.unit_id).state == "available"
        assert "敏感" in s.get(Customer, case.sc.customer_id).tags
        cid = uuid.UUID(case.case_id)
        assert s.scalar(select(func.count()).select_from(KnowledgeBaseEntry).where(KnowledgeBaseEntry.case_id == cid)) == 1
        assert s.scalar(select(func.count()).select_from(RegionalBrief).where(RegionalBrief.case_id == cid)) == 1
        row = s.get(RefundCase, cid)
        assert row.stage == "closed" and (row.retain_until - row.closed_at).days >= 730
    assert open_tasks(session_factory, case) == {"review_meeting", "refund_payment"}


async def test_dingjin_prepayment_is_refunded_in_full_before_the_tiers(start, session_factory):
    case = await start(deposit_kind="订金", deposit=Decimal("20000"))
    await case.intake()
    await case.assess()
    await case.offer(B, C)
    await case.choose(B)
    await case.archive()
    assert (await case.handle.result()).refund_amount == Decimal("20000.00")


async def test_neither_side_at_fault_refunds_the_deposit_in_full(start):
    case = await start(deposit=Decimal("50000"))
    await case.intake()
    await case.assess(fault=Fault.NEITHER)
    await case.offer(A, B)
    await case.choose(B)
    await case.archive()
    assert (await case.handle.result()).refund_amount == Decimal("50000.00")


async def test_online_signed_unit_waits_for_contract_cancellation_before_archive(start, session_factory):
    case = await start(stage="online_signed", deposit=Decimal("50000"), paid=Decimal("600000"))
    await case.intake()
    await case.assess(share=Decimal("0.40"))
    await case.offer(B, C)
    await case.choose(B)
    assert case_row(session_factory, case).stage == "contract_cancellation"
    with pytest.raises(WorkflowUpdateFailedError) as e:
        await case.archive()
    assert refused(e).type == "Conflict"
    await case.cancel_contract()
    await case.archive()
    result = await case.handle.result()
    assert result.refund_amount == Decimal("240000.00")  # 40% of 600,000 paid
    with session_factory() as s:
        assert s.get(Unit, case.sc.unit_id).state == "available"


async def test_loan_disbursed_goes_the_legal_route_and_b_cannot_be_offered(start):
    case = await start(stage="loan_disbursed", deposit=Decimal("50000"), paid=Decimal("900000"))
    await case.intake()
    await case.assess()
    with pytest.raises(WorkflowUpdateFailedError) as e:
        await case.offer(A, B)
    assert refused(e).type == "Invalid" and "legal route" in refused(e).message
    await case.offer(A, C)


async def test_path_a_draws_the_retention_pool_and_keeps_the_sale(start, session_factory):
    case = await start(retention_budget=Decimal("10000"))
    await case.intake()
    await case.assess()
    await case.offer(A, B, compensation=Decimal("8000"))
    await case.choose(A)
    await case.archive()
    assert (await case.handle.result()).path == "A"
    with session_factory() as s:
        draws = s.scalars(select(RetentionLedgerEntry.amount).where(RetentionLedgerEntry.case_id == uuid.UUID(case.case_id))).all()
        assert draws == [Decimal("-8000.00")]
        assert s.get(Unit, case.sc.unit_id).state == "subscribed"
        assert s.get(Subscription, case.sc.subscription_id).status == "active"


async def test_retention_draw_beyond_the_pool_is_refused_and_nothing_is_written(start, session_factory):
    case = await start(retention_budget=Decimal("5000"))
    await case.intake()
    await case.assess()
    await case.offer(A, B, compensation=Decimal("8000"))
    with pytest.raises(WorkflowUpdateFailedError) as e:
        await case.choose(A)
    assert refused(e).type == "Conflict" and "5000.00" in refused(e).message
    cid = uuid.UUID(case.case_id)
    assert db(session_factory, select(RetentionLedgerEntry).where(RetentionLedgerEntry.case_id == cid)) == []
    assert db(session_factory, select(CaseEvent).where(CaseEvent.case_id == cid, CaseEvent.event_key == "choice")) == []
    assert case_row(session_factory, case).stage == "choice"
    await case.choose(B)  # the buyer can still take another offered option
    assert case_row(session_factory, case).chosen_option == "B"


async def test_path_c_moves_the_subscription_to_the_replacement_buyer(start, session_factory, factory):
    case = await start()
    new_buyer, _, _ = factory.customer()
    await case.intake()
    await case.assess()
    await case.offer(B, C)
    with pytest.raises(WorkflowUpdateFailedError) as e:
        await case.choose(C)
    assert refused(e).type == "Invalid"
    await case.choose(C, new_customer_id=new_buyer)
    await case.archive()
    with session_factory() as s:
        subs = s.scalars(select(Subscription).where(Subscription.unit_id == case.sc.unit_id).order_by(Subscription.id)).all()
        assert [(x.customer_id, x.status) for x in subs] == [(case.sc.customer_id, "transferred"), (new_buyer, "active")]
        assert subs[1].fee_waived and subs[1].transferred_from_id == subs[0].id
        assert s.get(Unit, case.sc.unit_id).state == "subscribed"


async def test_loss_over_50k_requires_city_gm_approval_before_the_offer(start, session_factory):
    case = await start()
    await case.intake()
    await case.assess(loss=Decimal("50000.01"))
    row = case_row(session_factory, case)
    assert row.stage == "gm_approval" and row.needs_gm and "exceeds" in row.escalation_reasons[0]
    with pytest.raises(WorkflowUpdateFailedError) as e:
        await case.offer(A, B)
    assert refused(e).type == "Conflict"
    await case.approve()
    await case.offer(A, B)
    assert case_row(session_factory, case).stage == "choice"


async def test_loss_of_exactly_50k_stays_at_the_site(start, session_factory):
    case = await start()
    await case.intake()
    await case.assess(loss=Decimal("50000"))
    assert case_row(session_factory, case).stage == "solution"


async def test_media_involvement_escalates_whatever_the_loss(start, session_factory):
    case = await start()
    await case.intake()
    await case.assess(loss=Decimal("100"), media=True)
    row = case_row(session_factory, case)
    assert row.stage == "gm_approval" and row.escalation_reasons == ["media involvement"]


async def test_a_higher_loss_after_approval_needs_a_new_approval_before_the_choice(start, session_factory):
    from tests.drive import actor
    from workflows.contracts import LossRevision
    case = await start()
    await case.intake()
    await case.assess(loss=Decimal("60000"))
    await case.approve()
    await case.offer(A, B)
    await case.handle.execute_update(
        RefundCaseWorkflow.revise_loss,
        LossRevision(actor=actor(case.sc.users["finance"]), loss=LossAssessment(commission_accrued=Decimal("90000"))),
    )
    with pytest.raises(WorkflowUpdateFailedError) as e:
        await case.choose(B)
    assert "city GM" in refused(e).message
    assert "gm_approval:2" in open_tasks(session_factory, case)
    await case.approve()
    await case.choose(B)


async def test_city_gm_rejection_sends_the_case_to_the_legal_route(start, session_factory):
    case = await start()
    await case.intake()
    await case.assess(media=True)
    await case.approve(approve=False)
    await case.archive()
    result = await case.handle.result()
    assert result.path == "legal"
    with session_factory() as s:
        assert s.get(Unit, case.sc.unit_id).state == "subscribed"  # nothing was cancelled at the site


async def test_four_eyes_the_registrant_may_not_approve_and_the_seller_may_not_take_intake(start):
    case = await start(registrant="citygm")
    with pytest.raises(WorkflowUpdateFailedError) as e:
        await case.intake(role="sales")  # the consultant who sold the unit
    assert refused(e).type == "Forbidden"
    await case.intake()
    await case.assess(media=True)
    with pytest.raises(WorkflowUpdateFailedError) as e:
        await case.approve()
    assert refused(e).type == "Forbidden" and "four eyes" in refused(e).message


async def test_an_offer_with_fewer_than_two_options_is_refused(start, session_factory):
    case = await start()
    await case.intake()
    await case.assess()
    with pytest.raises(WorkflowUpdateFailedError) as e:
        await case.offer(B)
    assert refused(e).type == "Invalid" and "at least 2" in refused(e).message
    assert case_row(session_factory, case).stage == "solution"


async def test_wrong_role_and_wrong_state_are_refused_with_a_reason(start):
    case = await start()
    with pytest.raises(WorkflowUpdateFailedError) as e:
        await case.assess()
    assert refused(e).type == "Conflict" and "intake" in refused(e).message
    with pytest.raises(WorkflowUpdateFailedError) as e:
        await case.intake(role="finance")
    assert refused(e).type == "Forbidden"


async def test_duplicate_assessments_sent_together_are_recorded_once(start, session_factory):
    case = await start()
    await case.intake()
    sub = AssessmentSubmission(actor=case.a("finance"), loss=LossAssessment(commission_accrued=Decimal("1000")))
    results = await asyncio.gather(
        *(case.handle.execute_update(RefundCaseWorkflow.submit_assessment, sub) for _ in range(3)), return_exceptions=True
    )
    ok = [r for r in results if not isinstance(r, BaseException)]
    failed = [r for r in results if isinstance(r, WorkflowUpdateFailedError)]
    assert len(ok) == 1 and len(failed) == 2
    events = db(session_factory, select(CaseEvent.id).where(CaseEvent.case_id == uuid.UUID(case.case_id), CaseEvent.kind == "assessment"))
    assert len(events) == 1


def breaches(session_factory, case: Case) -> dict[str, str]:
    rows = db(session_factory, select(SlaBreach.sla, SlaBreach.escalated_to).where(SlaBreach.case_id == uuid.UUID(case.case_id)))
    return dict(rows)


async def test_every_timer_fires_at_its_time_and_escalates(env, start, session_factory):
    case = await start()
    await env.sleep(timedelta(minutes=29))
    assert breaches(session_factory, case) == {}
    await env.sleep(timedelta(minutes=2))
    assert await eventually(lambda: breaches(session_factory, case)) == {"intake": "manager"}
    assert "escalation:intake" in open_tasks(session_factory, case)
    notes = db(session_factory, select(Notice.role, Notice.kind, Notice.title).where(Notice.case_id == uuid.UUID(case.case_id)))
    told = {(role, kind, title.split(" — 案件 ")[0]) for role, kind, title in notes}
    assert ("manager", "sla_breach", "超时升级：情绪隔离与信息采集") in told
    assert ("manager", "task_opened", "新任务：超时升级处理（情绪隔离与信息采集）") in told
    await case.intake()
    await case.handle.execute_update(RefundCaseWorkflow.submit_assessment, AssessmentSubmission(actor=case.a("legal"), fault=Fault.BUYER))
    await env.sleep(timedelta(minutes=88))  # 1h59 since registration
    assert set(breaches(session_factory, case)) == {"intake"}
    await env.sleep(timedelta(minutes=2))
    # Only the departments that are late escalate, each on its own deadline; from the second miss on, the city GM is told too.
    assert await eventually(lambda: len(breaches(session_factory, case)) == 3)
    assert set(breaches(session_factory, case)) == {"intake", "assessment:finance", "assessment:marketing"}
    assert set(breaches(session_factory, case).values()) == {"manager", "manager,citygm"}
    assert open_tasks(session_factory, case) >= {"escalation:intake", "escalation:assessment:finance", "escalation:assessment:marketing"}

    await case.handle.execute_update(
        RefundCaseWorkflow.submit_assessment, AssessmentSubmission(actor=case.a("finance"), loss=LossAssessment())
    )
    await case.handle.execute_update(
        RefundCaseWorkflow.submit_assessment, AssessmentSubmission(actor=case.a("marketing"), opinion_risk="low")
    )
    await env.sleep(timedelta(minutes=120))  # 4h01 since registration
    assert await eventually(lambda: "solution" in breaches(session_factory, case))
    await case.offer(A, B)
    await case.choose(B)
    await env.sleep(timedelta(hours=23, minutes=59))
    assert "archive" not in breaches(session_factory, case)
    await env.sleep(timedelta(minutes=2))
    assert await eventually(lambda: "archive" in breaches(session_factory, case))
    assert breaches(session_factory, case)["archive"] == "manager,citygm"
    await case.archive()
    result = await case.handle.result()
    assert result.escalation_level == 5
    assert case_row(session_factory, case).escalation_level == 5


async def test_drill_speedup_divides_every_duration(env, start, session_factory):
    case = await start(speedup=60)  # 30 minutes become 30 seconds
    await env.sleep(timedelta(seconds=29))
    assert breaches(session_factory, case) == {}
    await env.sleep(timedelta(seconds=2))
    assert await eventually(lambda: breaches(session_factory, case)) == {"intake": "manager"}
