"""Refund cases that end the way real cases end (issue 14): withdrawn, voided by two people, re-offered after a
refusal and then sent the legal route, an assessment returned for rework or corrected by its assessor, a
lowered loss that releases the GM step, path A with no compensation, the buyer's choice on a clock. The happy
and the unhappy side of each, on the time-skipping server."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from temporalio.client import WorkflowUpdateFailedError

from db.models import (
    CaseEvent,
    KnowledgeBaseEntry,
    RefundInstruction,
    RetentionLedgerEntry,
    SlaBreach,
    Task,
    Unit,
)
from domain.refund import LossAssessment, OptionKind
from tests.workflows.conftest import eventually
from tests.workflows.test_refund_workflow import case_row, db, open_tasks, policy, refused, start  # noqa: F401
from workflows.contracts import (
    AssessmentReturn,
    AssessmentSubmission,
    BuyerRefusal,
    CaseWithdrawal,
    GmDecision,
    LossRevision,
    OfferedOption,
    SolutionOffer,
    VoidDecision,
    VoidRequest,
)
from workflows.refund_case import RefundCaseWorkflow as W

A, B, C = OptionKind.A, OptionKind.B, OptionKind.C


def unit_state(session_factory, case) -> str:
    with session_factory() as s:
        return s.get(Unit, case.sc.unit_id).state


def tasks(session_factory, case) -> dict[str, str]:
    return dict(db(session_factory, select(Task.task_key, Task.status).where(Task.case_id == uuid.UUID(case.case_id))))


def events(session_factory, case) -> list[str]:
    return [k for (k,) in db(session_factory, select(CaseEvent.kind).where(CaseEvent.case_id == uuid.UUID(case.case_id))
                                         .order_by(CaseEvent.id))]


async def refusal(handle, update, payload) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as e:
        await handle.execute_update(update, payload)
    return refused(e).type


# ---------------------------------------------------------------- withdraw


async def test_a_withdrawal_ends_the_case_puts_the_unit_back_and_still_archives(start, session_factory):
    case = await start()
    before = "subscribed"
    await case.intake()
    assert unit_state(session_factory, case) == "refunding"
    await case.handle.execute_update(W.withdraw, CaseWithdrawal(actor=case.a("frontdesk"), reason="家人同意继续购买"))
    row = case_row(session_factory, case)
    assert row.stage == "archive" and row.outcome["path"] == "withdrawn" and row.outcome["reason"] == "家人同意继续购买"
    assert unit_state(session_factory, case) == before  # back at once, not at the archive
    t = tasks(session_factory, case)
    assert {k: v for k, v in t.items() if k.startswith("assessment")} == {
        "assessment:finance": "cancelled", "assessment:legal": "cancelled", "assessment:marketing": "cancelled"}
    assert t["archive"] == "open" and row.deadlines["archive"]
    await case.archive()
    assert (await case.handle.result()).path == "withdrawn"
    with session_factory() as s:
        cid = uuid.UUID(case.case_id)
        assert s.scalars(select(RefundInstruction).where(RefundInstruction.case_id == cid)).all() == []
        assert s.scalars(select(KnowledgeBaseEntry.title).where(KnowledgeBaseEntry.case_id == cid)).one().endswith("(路径 withdrawn)")
    assert unit_state(session_factory, case) == before


async def test_a_withdrawal_after_the_outcome_by_the_wrong_role_or_without_a_reason_is_refused(start, session_factory):
    case = await start()
    await case.intake()
    assert await refusal(case.handle, W.withdraw, CaseWithdrawal(actor=case.a("finance"), reason="x")) == "Forbidden"
    assert await refusal(case.handle, W.withdraw, CaseWithdrawal(actor=case.a("manager"), reason="  ")) == "Invalid"
    await case.assess()
    await case.offer(A, B)
    await case.choose(A)
    assert await refusal(case.handle, W.withdraw, CaseWithdrawal(actor=case.a("manager"), reason="x")) == "Conflict"
    assert case_row(session_factory, case).outcome["path"] == "A"


# ---------------------------------------------------------------- void


async def test_a_void_needs_a_second_person_and_leaves_nothing_behind(start, session_factory):
    case = await start()
    await case.intake()
    await case.handle.execute_update(W.request_void, VoidRequest(actor=case.a("manager"), reason="登记错了房号"))
    assert tasks(session_factory, case)["void:1"] == "open"
    assert await refusal(case.handle, W.decide_void, VoidDecision(actor=case.a("manager"), approve=True)) == "Forbidden"
    assert await refusal(case.handle, W.request_void, VoidRequest(actor=case.a("manager"), reason="again")) == "Conflict"
    await case.handle.execute_update(W.decide_void, VoidDecision(actor=case.a("citygm"), approve=True, note="核实无误"))
    assert (await case.handle.result()).path == "voided"
    row = case_row(session_factory, case)
    assert row.stage == "closed" and row.outcome["path"] == "voided" and row.closed_at is not None
    assert unit_state(session_factory, case) == "subscribed"
    assert set(tasks(session_factory, case).values()) <= {"done", "cancelled"}
    with session_factory() as s:
        assert s.scalars(select(KnowledgeBaseEntry).where(KnowledgeBaseEntry.case_id == uuid.UUID(case.case_id))).all() == []
    assert events(session_factory, case)[-2:] == ["void_request", "void"]


async def test_a_rejected_void_lets_the_case_go_on(start, session_factory):
    case = await start()
    await case.handle.execute_update(W.request_void, VoidRequest(actor=case.a("manager"), reason="疑似重复登记"))
    await case.handle.execute_update(W.decide_void, VoidDecision(actor=case.a("citygm"), approve=False, note="不是重复"))
    await case.intake()
    assert case_row(session_factory, case).stage == "assessment" and unit_state(session_factory, case) == "refunding"


# ---------------------------------------------------------------- re-offer


async def test_a_refused_offer_gets_a_new_one_and_the_last_refusal_goes_the_legal_route(start, session_factory):
    case = await start()
    await case.intake()
    await case.assess()
    await case.offer(A, B)
    await case.handle.execute_update(W.record_refusal, BuyerRefusal(actor=case.a("manager"), note="两个方案都不接受"))
    row = case_row(session_factory, case)
    assert row.stage == "solution" and row.options == []
    assert tasks(session_factory, case)["solution:1"] == "open"
    one = SolutionOffer(actor=case.a("manager"), options=(OfferedOption(kind=B),))
    assert await refusal(case.handle, W.offer_solution, one) == "Invalid"  # the two-options rule holds
    await case.offer(A, C)
    assert tasks(session_factory, case)["choice:1"] == "open"
    await case.handle.execute_update(W.record_refusal, BuyerRefusal(actor=case.a("frontdesk")))  # round 2 of 2
    row = case_row(session_factory, case)
    assert row.stage == "archive" and row.outcome["path"] == "legal" and row.outcome["rounds"] == 2
    t = tasks(session_factory, case)
    assert t["dispute"] == "open" and t["archive"] == "open"
    with session_factory() as s:
        assert s.scalars(select(Task.role).where(Task.case_id == uuid.UUID(case.case_id), Task.task_key == "dispute")).one() == "legal"


# ---------------------------------------------------------------- return and correct


async def test_a_returned_assessment_restarts_its_clock_and_the_others_stay(env, start, session_factory):
    case = await start()
    await case.intake()
    await case.assess()
    assert tasks(session_factory, case)["solution"] == "open"
    ret = AssessmentReturn(actor=case.a("manager"), department="legal", reason="过错认定依据不足")
    await case.handle.execute_update(W.return_assessment, ret)
    row = case_row(session_factory, case)
    assert row.stage == "assessment" and set(row.assessments) == {"finance", "marketing"}
    t = tasks(session_factory, case)
    assert t["solution"] == "cancelled" and t["assessment:legal:1"] == "open"
    with session_factory() as s:
        due = s.scalars(select(Task.due_at).where(Task.case_id == uuid.UUID(case.case_id),
                                                  Task.task_key == "assessment:legal:1")).one()
    assert timedelta(minutes=119) < due - await env.get_current_time() <= timedelta(minutes=120)
    assert await refusal(case.handle, W.return_assessment, AssessmentReturn(actor=case.a("finance"), department="legal",
                                                                            reason="x")) == "Forbidden"
    await env.sleep(timedelta(minutes=121))  # the restarted clock breaches on its own
    assert await eventually(lambda: "assessment:legal:1" in dict(db(session_factory, select(SlaBreach.sla, SlaBreach.id)
                                                                   .where(SlaBreach.case_id == uuid.UUID(case.case_id)))))
    await case.handle.execute_update(W.submit_assessment, AssessmentSubmission(actor=case.a("legal"), fault="buyer"))
    assert case_row(session_factory, case).stage == "solution" and tasks(session_factory, case)["solution:1"] == "open"
    await case.offer(A, B)
    assert await refusal(case.handle, W.return_assessment, ret) == "Conflict"  # after the offer: no more returns


async def test_finance_corrects_its_loss_down_and_the_gm_step_is_released(start, session_factory):
    case = await start()
    await case.intake()
    await case.assess(loss=Decimal("60000"))
    assert case_row(session_factory, case).stage == "gm_approval"
    fix = AssessmentSubmission(actor=case.a("finance"), loss=LossAssessment(commission_accrued=Decimal("10000")),
                               contract_confirmed=True)
    assert await refusal(case.handle, W.correct_assessment,
                         AssessmentSubmission(actor=case.a("legal"), fault=None)) == "Invalid"
    await case.handle.execute_update(W.correct_assessment, fix)
    row = case_row(session_factory, case)
    assert row.stage == "solution" and not row.needs_gm and row.loss_total == Decimal("10000.00")
    assert row.assessments["finance"]["loss"]["total"] == "10000.00"  # one loss
    t = tasks(session_factory, case)
    assert t["gm_approval:1"] == "cancelled" and t["solution"] == "open"
    await case.offer(A, B)
    assert await refusal(case.handle, W.correct_assessment, fix) == "Conflict"  # after the offer: closed


async def test_a_lowered_loss_revision_releases_the_gm_and_shows_one_loss(start, session_factory):
    case = await start()
    await case.intake()
    await case.assess(loss=Decimal("60000"))
    await case.handle.execute_update(W.revise_loss, LossRevision(actor=case.a("finance"),
                                                                 loss=LossAssessment(commission_accrued=Decimal("10000"))))
    row = case_row(session_factory, case)
    assert row.stage == "solution" and not row.needs_gm
    assert row.loss_total == Decimal("10000.00") and row.assessments["finance"]["loss"]["total"] == "10000.00"
    assert await refusal(case.handle, W.decide_gm, GmDecision(actor=case.a("citygm"), approve=True)) == "Conflict"
    # Raised again above the threshold: back to the GM.
    await case.handle.execute_update(W.revise_loss, LossRevision(actor=case.a("finance"),
                                                                 loss=LossAssessment(commission_accrued=Decimal("70000"))))
    row = case_row(session_factory, case)
    assert row.stage == "gm_approval" and row.needs_gm and tasks(session_factory, case)["gm_approval:2"] == "open"


# ---------------------------------------------------------------- path A at zero, the choice on a clock


async def test_path_a_with_no_compensation_draws_nothing(start, session_factory):
    case = await start()
    await case.intake()
    await case.assess()
    await case.offer(A, B, compensation=Decimal("0"))
    await case.choose(A)
    assert case_row(session_factory, case).outcome["compensation"] == "0.00"
    with session_factory() as s:
        assert s.scalars(select(RetentionLedgerEntry).where(RetentionLedgerEntry.case_id == uuid.UUID(case.case_id))).all() == []
    negative = SolutionOffer(actor=case.a("manager"), options=(OfferedOption(kind=A, compensation=Decimal("-1")),
                                                                 OfferedOption(kind=B)))
    case2 = await start()
    await case2.intake()
    await case2.assess()
    assert await refusal(case2.handle, W.offer_solution, negative) == "Invalid"


async def test_the_buyers_choice_has_a_deadline_and_escalates_when_missed(env, start, session_factory):
    case = await start()
    await case.intake()
    await case.assess()
    await case.offer(A, B)
    with session_factory() as s:
        due = s.scalars(select(Task.due_at).where(Task.case_id == uuid.UUID(case.case_id), Task.task_key == "choice")).one()
    assert due is not None and timedelta(hours=71) < due - await env.get_current_time() <= timedelta(hours=72)
    await env.sleep(timedelta(hours=73))
    assert await eventually(lambda: "choice" in dict(db(session_factory, select(SlaBreach.sla, SlaBreach.id)
                                                      .where(SlaBreach.case_id == uuid.UUID(case.case_id)))))
    assert "escalation:choice" in open_tasks(session_factory, case)
    with session_factory() as s:  # the escalation is answered by its own deadline (policy: 4 hours)
        created, answer_by = s.execute(select(Task.created_at, Task.due_at).where(
            Task.case_id == uuid.UUID(case.case_id), Task.task_key == "escalation:choice")).one()
    assert answer_by - created == timedelta(hours=4)
    await case.choose(A)
    assert case_row(session_factory, case).stage == "archive"
