"""Drive refund cases straight through the Temporal client (workflow tests, history recording)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client, WorkflowHandle

from db.models import Subscription, User
from db.refund_cases import open_refund_case, workflow_input
from domain.refund import (
    Fault,
    LossAssessment,
    OptionKind,
    RefundPolicy,
    case_deadlines,
)
from tests.factories import Scenario
from workflows.contracts import (
    Actor,
    ArchiveSubmission,
    AssessmentSubmission,
    BuyerChoice,
    ContractCancellation,
    GmDecision,
    IntakeSubmission,
    OfferedOption,
    SolutionOffer,
)
from workflows.refund_case import RefundCaseWorkflow


def actor(u: User) -> Actor:
    return Actor(user_id=u.id, username=u.username, role=u.role)


@dataclass
class Case:
    case_id: str
    handle: WorkflowHandle
    sc: Scenario

    def a(self, role: str) -> Actor:
        return actor(self.sc.users[role])

    async def intake(self, role: str = "frontdesk") -> None:
        await self.handle.execute_update(
            RefundCaseWorkflow.submit_intake,
            IntakeSubmission(actor=self.a(role), reasons=("family_disagreement",), willing_to_consider="negotiate", id_verified=True, phone_verified=True),
        )

    async def assess(
        self,
        *,
        loss: Decimal = Decimal("20000"),
        share: Decimal | None = None,
        fault: Fault = Fault.BUYER,
        media: bool = False,
    ) -> None:
        await self.handle.execute_update(
            RefundCaseWorkflow.submit_assessment,
            AssessmentSubmission(actor=self.a("finance"), loss=LossAssessment(commission_accrued=loss), proposed_share=share, contract_confirmed=True),
        )
        await self.handle.execute_update(RefundCaseWorkflow.submit_assessment, AssessmentSubmission(actor=self.a("legal"), fault=fault))
        await self.handle.execute_update(
            RefundCaseWorkflow.submit_assessment, AssessmentSubmission(actor=self.a("marketing"), opinion_risk="low", media_involved=media)
        )

    async def approve(self, approve: bool = True) -> None:
        await self.handle.execute_update(RefundCaseWorkflow.decide_gm, GmDecision(actor=self.a("citygm"), approve=approve))

    async def offer(self, *kinds: OptionKind, compensation: Decimal = Decimal("8000")) -> None:
        options = tuple(
            OfferedOption(kind=k, compensation=compensation if k == OptionKind.A else None, fee_waiver=k == OptionKind.C) for k in kinds
        )
        await self.handle.execute_update(RefundCaseWorkflow.offer_solution, SolutionOffer(actor=self.a("manager"), options=options))

    async def choose(self, kind: OptionKind, new_customer_id: int | None = None) -> None:
        await self.handle.execute_update(
            RefundCaseWorkflow.record_choice, BuyerChoice(actor=self.a("manager"), kind=kind, new_customer_id=new_customer_id)
        )

    async def cancel_contract(self) -> None:
        await self.handle.execute_update(RefundCaseWorkflow.confirm_contract_cancelled, ContractCancellation(actor=self.a("legal")))

    async def archive(self) -> None:
        await self.handle.execute_update(
            RefundCaseWorkflow.submit_archive, ArchiveSubmission(actor=self.a("manager"), summary="客户家庭意见分歧, 已按政策处理", lessons="认购时签共居人知情确认书")
        )


async def open_case(
    client: Client,
    sf: sessionmaker[Session],
    sc: Scenario,
    *,
    policy: RefundPolicy,
    task_queue: str,
    registered_at: datetime,
    registrant: str = "frontdesk",
    speedup: int = 1,
) -> Case:
    """Register the case in PostgreSQL and start its workflow, as the API does."""
    with sf.begin() as s:
        user = s.get(User, sc.users[registrant].id)
        assert user is not None
        deadlines = case_deadlines(policy, registered_at, speedup)
        case = open_refund_case(s, subscription_id=sc.subscription_id, registered_by=user, registered_at=registered_at, policy=policy, deadlines=deadlines)
        sub = s.get(Subscription, sc.subscription_id)
        assert sub is not None
        inp = workflow_input(case=case, sub=sub, registered_by=user, policy=policy, speedup=speedup)
    handle = await client.start_workflow(RefundCaseWorkflow.run, inp, id=case.workflow_id, task_queue=task_queue)
    return Case(case_id=str(case.id), handle=handle, sc=sc)
