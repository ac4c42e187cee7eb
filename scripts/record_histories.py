"""Re-record the refund workflow histories that tests/workflows/test_replay.py replays.

`python -m scripts.record_histories` (or `make histories`; scripts/history_recording.py): a throwaway
embedded PostgreSQL, Temporal's time-skipping test server and a worker with the real activities; each scenario
below is driven to completion through the Temporal client and its history is written to
tests/histories/<HISTORY_SET>/<name>.json.
Re-record (and commit) after an intended, versioned change to the workflow; never to silence the test.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Awaitable, Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.testing import WorkflowEnvironment

from config.settings import PROJECT_ROOT
from db.models import SlaBreach
from domain.refund import Fault, LossAssessment, OptionKind, RefundPolicy
from scripts.history_recording import main_of, recording, terminate_running, until, until_closed
from tests.drive import Case, open_case
from tests.factories import Factory
from workflows.contracts import (
    AssessmentReturn,
    AssessmentSubmission,
    BuyerRefusal,
    CaseWithdrawal,
    LossRevision,
    VoidDecision,
    VoidRequest,
)
from workflows.refund_case import RefundCaseWorkflow as W

A, B, C = OptionKind.A, OptionKind.B, OptionKind.C
# One folder per workflow version: v1 = apply_step as a normal activity, v2 = as a local activity
# (patch "apply-step-local-activity"), v3 = a person's step as a normal activity again, timer-driven writes
# local (patch "step-write-after-accept"), v4 = the ways out and back of issue 14 (withdraw, void, re-offer,
# return, correct, a loss revision both ways, the choice and cancellation clocks), v5 = escalation reasons as codes
# (patch "escalation-reason-codes") and clocks in statutory working days. Older folders stay, so runs started
# under them keep replaying.
HISTORY_SET = "v5"
HISTORIES = PROJECT_ROOT / "tests" / "histories" / HISTORY_SET
POLICY = RefundPolicy(version="histories-2026.1")
# The post-offer clocks counted in statutory working days (issue 14).
WORKING_DAYS = RefundPolicy(version="histories-wd", choice_working_days=2, contract_cancellation_working_days=3,
                            refund_payment_working_days=5)

Start = Callable[..., Awaitable[Case]]


# ------------------------------------------------------------------ scenarios (fixed amounts)


async def path_a(start: Start, env: WorkflowEnvironment, f: Factory, sf: sessionmaker[Session]) -> Case:
    case = await start(retention_budget=Decimal("10000"))
    await case.intake()
    await case.assess(loss=Decimal("20000"))
    await case.offer(A, B, compensation=Decimal("8000"))
    await case.choose(A)
    await case.archive()
    return case


async def path_b_deposit(start: Start, env: WorkflowEnvironment, f: Factory, sf: sessionmaker[Session]) -> Case:
    case = await start(deposit=Decimal("50000"))
    await case.intake()
    await case.assess(loss=Decimal("20000"))
    await case.offer(A, B)
    await case.choose(B)
    await case.archive()
    return case


async def path_b_online_signed(start: Start, env: WorkflowEnvironment, f: Factory, sf: sessionmaker[Session]) -> Case:
    case = await start(stage="online_signed", deposit=Decimal("50000"), paid=Decimal("600000"))
    await case.intake()
    await case.assess(loss=Decimal("20000"), share=Decimal("0.40"))
    await case.offer(B, C)
    await case.choose(B)
    await case.cancel_contract()
    await case.archive()
    return case


async def path_c(start: Start, env: WorkflowEnvironment, f: Factory, sf: sessionmaker[Session]) -> Case:
    case = await start()
    new_buyer, _, _ = f.customer()
    await case.intake()
    await case.assess(loss=Decimal("20000"))
    await case.offer(B, C)
    await case.choose(C, new_customer_id=new_buyer)
    await case.archive()
    return case


async def gm_approval(start: Start, env: WorkflowEnvironment, f: Factory, sf: sessionmaker[Session]) -> Case:
    case = await start(deposit=Decimal("50000"))
    await case.intake()
    await case.assess(loss=Decimal("60000"))
    await case.approve()
    await case.offer(A, B)
    await case.choose(B)
    await case.archive()
    return case


async def gm_rejected_legal(start: Start, env: WorkflowEnvironment, f: Factory, sf: sessionmaker[Session]) -> Case:
    case = await start()
    await case.intake()
    await case.assess(loss=Decimal("20000"), fault=Fault.BUYER, media=True)
    await case.approve(approve=False)
    await case.archive()
    return case


async def sla_breaches(start: Start, env: WorkflowEnvironment, f: Factory, sf: sessionmaker[Session]) -> Case:
    case = await start(deposit=Decimal("50000"))
    await env.sleep(timedelta(minutes=31))  # the 30-minute intake deadline passes: timer fires, escalation
    await _wait_for_breach(sf, case, "intake")
    await case.intake()
    await case.assess(loss=Decimal("20000"))
    await case.offer(A, B)
    await case.choose(B)
    await case.archive()
    return case


async def withdrawn(start: Start, env: WorkflowEnvironment, f: Factory, sf: sessionmaker[Session]) -> Case:
    case = await start()
    await case.intake()
    await case.handle.execute_update(W.withdraw, CaseWithdrawal(actor=case.a("frontdesk"), reason="家人同意继续购买"))
    await case.archive()
    return case


async def voided(start: Start, env: WorkflowEnvironment, f: Factory, sf: sessionmaker[Session]) -> Case:
    case = await start()
    await case.handle.execute_update(W.request_void, VoidRequest(actor=case.a("manager"), reason="登记错了房号"))
    await case.handle.execute_update(W.decide_void, VoidDecision(actor=case.a("citygm"), approve=True))
    return case


async def reoffered_legal(start: Start, env: WorkflowEnvironment, f: Factory, sf: sessionmaker[Session]) -> Case:
    case = await start()
    await case.intake()
    await case.assess()
    await case.offer(A, B, compensation=Decimal("0"))
    await case.handle.execute_update(W.record_refusal, BuyerRefusal(actor=case.a("manager")))
    await case.offer(A, B)
    await case.handle.execute_update(W.record_refusal, BuyerRefusal(actor=case.a("manager")))
    await case.archive()
    return case


async def returned_corrected(start: Start, env: WorkflowEnvironment, f: Factory, sf: sessionmaker[Session]) -> Case:
    case = await start(deposit=Decimal("50000"))
    await case.intake()
    await case.assess(loss=Decimal("60000"))
    await case.handle.execute_update(W.revise_loss, LossRevision(actor=case.a("finance"),
                                                                 loss=LossAssessment(commission_accrued=Decimal("70000"))))
    await case.handle.execute_update(W.return_assessment, AssessmentReturn(actor=case.a("manager"), department="legal",
                                                                           reason="过错认定依据不足"))
    await case.handle.execute_update(W.submit_assessment, AssessmentSubmission(actor=case.a("legal"), fault=Fault.BUYER))
    await case.handle.execute_update(W.correct_assessment, AssessmentSubmission(
        actor=case.a("finance"), loss=LossAssessment(commission_accrued=Decimal("10000")), contract_confirmed=True))
    await case.offer(A, B)
    await env.sleep(timedelta(hours=73))  # the buyer's choice is late: its clock escalates
    await _wait_for_breach(sf, case, "choice")
    await case.choose(B)
    await case.archive()
    return case


async def working_days(start: Start, env: WorkflowEnvironment, f: Factory, sf: sessionmaker[Session]) -> Case:
    case = await start(policy_=WORKING_DAYS, stage="online_signed", deposit=Decimal("50000"), paid=Decimal("600000"))
    await case.intake()
    await case.assess(loss=Decimal("60000"), share=Decimal("0.40"))
    await case.approve()
    await case.offer(B, C)
    await case.choose(B)
    await case.cancel_contract()
    await case.archive()
    return case


SCENARIOS = (path_a, path_b_deposit, path_b_online_signed, path_c, gm_approval, gm_rejected_legal, sla_breaches,
             withdrawn, voided, reoffered_legal, returned_corrected, working_days)


async def _wait_for_breach(sf: sessionmaker[Session], case: Case, sla: str) -> None:
    """The escalation activity runs on its own after the time skip; wait (real time) until it has written."""
    stmt = select(SlaBreach.id).where(SlaBreach.case_id == uuid.UUID(case.case_id), SlaBreach.sla == sla)

    def written() -> bool:
        with sf() as s:
            return s.execute(stmt).first() is not None

    await until(written, f"the {sla} SLA breach of case {case.case_id}")


# ------------------------------------------------------------------ recording


async def record() -> list[Path]:
    async with recording(HISTORIES, "record-histories") as rec:
        factory = Factory(rec.sf)
        policy = factory.policy(POLICY)
        factory.policy(WORKING_DAYS)
        for scenario in SCENARIOS:
            started: list[Case] = []

            async def start(registrant: str = "frontdesk", policy_: RefundPolicy | None = None, **kw) -> Case:
                sc = factory.scenario(**kw)
                case = await open_case(
                    rec.env.client, rec.sf, sc, policy=policy_ or policy, task_queue=rec.queue,
                    registered_at=await rec.env.get_current_time(), registrant=registrant,
                )
                started.append(case)
                return case

            try:
                case = await scenario(start, rec.env, factory, rec.sf)
                await until_closed(case.handle)
                history = await case.handle.fetch_history()
            finally:
                await terminate_running([c.handle for c in started])
            rec.write(scenario.__name__, history)
        return rec.written


main = main_of(record, HISTORIES)


if __name__ == "__main__":
    main()
