"""Inputs, update payloads and records of the follow-up workflows (mortgage case, payment plan),
with their task queue and id helpers.

Frozen dataclasses, one per input. No personal data: customers are referenced by id only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from domain.calendar import CHINA, china_date
from workflows.contracts import Actor, ErrorType

__all__ = ["Actor", "ErrorType", "CHINA", "china_date"]





def mortgage_workflow_id(loan_id: str) -> str:
    return f"mortgage-{loan_id}"


def payment_plan_workflow_id(plan_id: str) -> str:
    return f"payment-plan-{plan_id}"


def payment_plan_id(workflow_id: str) -> str:
    """The plan a payment follow-up's workflow id names (payment_plan_workflow_id's inverse)."""
    return workflow_id.removeprefix("payment-plan-")


class MortgageStage(StrEnum):
    AWAITING_DOCUMENTS = "awaiting_documents"  # 待收资料
    DOCUMENTS_COMPLETE = "documents_complete"  # 资料齐
    SIGNED = "signed"  # 已面签
    UNDER_REVIEW = "under_review"  # 审批中
    APPROVED = "approved"  # 已批
    REJECTED = "rejected"  # 拒贷
    REGISTERING = "registering"  # 抵押登记中
    DISBURSED = "disbursed"  # 已放款


@dataclass(frozen=True)
class CalendarOverrideEntry:
    day: date
    is_workday: bool


# ---- the one activity's record ---------------------------------------------------------------


@dataclass(frozen=True)
class ActionSpec:
    key: str
    kind: str  # reminder / escalation / offer_refund / start_refund_case / path_c / overdue / calendar
    role: str
    message: str
    detail: dict = field(default_factory=dict)
    due_at: datetime | None = None


@dataclass(frozen=True)
class RuleHitRecord:
    rule: str
    score: int
    detail: str = ""


@dataclass(frozen=True)
class WarningSpec:
    warning_key: str
    level: str
    rules: tuple[RuleHitRecord, ...]
    risk_score: int
    raised_at: datetime
    response_due: datetime
    respond_role: str
    escalate_to: str


@dataclass(frozen=True)
class WarningEscalation:
    """Escalate the warning to `escalate_to` only if nobody responded (checked in the transaction)."""

    warning_key: str


@dataclass(frozen=True)
class DisbursementSpec:
    loan_id: str
    amount: Decimal
    disbursed_on: date
    # With a subscription that has a contract, the disbursement is also recorded on the contract:
    # its loan is disbursed and the money is a receipt allocated to the instalments.
    subscription_id: int | None = None
    recorded_by_user_id: int | None = None


@dataclass(frozen=True)
class FollowupRecord:
    """Everything one step writes, in one transaction, idempotent on (followup_id, event_key)."""

    followup_id: str
    kind: str  # mortgage / payment_plan
    event_key: str
    event: str
    actor: str
    at: datetime
    customer_id: int | None = None
    stage: str | None = None  # the projection's new stage
    detail: dict = field(default_factory=dict)
    actions: tuple[ActionSpec, ...] = ()
    close_actions: tuple[str, ...] = ()
    warning: WarningSpec | None = None
    escalation: WarningEscalation | None = None
    disbursement: DisbursementSpec | None = None


# ---- mortgage ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MortgageInput:
    loan_id: str
    customer_id: int
    contract_ref: str
    bank: str
    loan_amount: Decimal
    opened_at: datetime
    calendar_overrides: tuple[CalendarOverrideEntry, ...] = ()
    documents_max_days: int = 7  # convention: documents take 3–7 days
    approval_max_working_days: int = 15  # convention: bank approval 5–15 working days
    subscription_id: int | None = None  # set: a rejection starts a refund case for it (older payloads: None)
    # Set by the API from the contract's request date (issue 15): the documents are due this many working
    # days after the request, on the calendar in force (older payloads: None, calendar days from opened_at).
    requested_on: date | None = None
    documents_due: date | None = None
    contract_id: int | None = None


@dataclass(frozen=True)
class StageChange:
    actor: Actor
    to_stage: MortgageStage
    note: str = ""
    rejection_cause: str = ""  # 拒贷: required
    disbursed_amount: Decimal | None = None  # 已放款: required
    disbursed_on: date | None = None


@dataclass(frozen=True)
class MortgageStatus:
    loan_id: str
    stage: MortgageStage
    documents_expected_by: date
    approval_expected_by: date | None
    warning_key: str | None


@dataclass(frozen=True)
class MortgageResult:
    loan_id: str
    stage: MortgageStage
    warning_raised: bool
    warning_escalated: bool


# ---- payment plan -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Instalment:
    seq: int
    due_date: date
    amount: Decimal


@dataclass(frozen=True)
class PlanCarry:
    """State carried across continue-as-new."""

    next_index: int = 0
    run_no: int = 1
    reminders_sent: int = 0
    late_fees: Decimal = Decimal("0")


@dataclass(frozen=True)
class PaymentPlanInput:
    plan_id: str
    customer_id: int
    contract_ref: str
    instalments: tuple[Instalment, ...]
    grace_days: int = 7  # DOMAIN §4: 7–10, per project
    daily_rate: Decimal = Decimal("0.0005")
    reminder_days_before: int = 3
    carry: PlanCarry = field(default_factory=PlanCarry)
    subscription_id: int | None = None  # set: inability / transfer intention start a refund case (older payloads: None)


@dataclass(frozen=True)
class PaymentReceived:
    actor: Actor
    seq: int
    amount: Decimal
    paid_on: date


@dataclass(frozen=True)
class BuyerResponse:
    """The buyer's answer to an overdue instalment (DOMAIN §4 graded response)."""

    actor: Actor
    seq: int
    note: str = ""


class PlanOutcome(StrEnum):
    COMPLETED = "completed"
    REFUND_REQUESTED = "refund_requested"  # statement of inability
    TRANSFER_REQUESTED = "transfer_requested"  # path C


@dataclass(frozen=True)
class PlanStatus:
    plan_id: str
    seq: int | None
    state: str  # pending / overdue / grace / settled
    run_no: int


@dataclass(frozen=True)
class PlanResult:
    plan_id: str
    outcome: PlanOutcome
    runs: int
    reminders_sent: int
    late_fees: Decimal


@dataclass(frozen=True)
class StartRefundCase:
    """Input of `start_refund_from_followup`: register a refund case for the subscription (idempotent)."""

    followup_id: str
    subscription_id: int
    origin: str  # inability / transfer_intent / loan_rejected: <cause>


@dataclass(frozen=True)
class ApplyResult:
    applied: bool  # False: this step was already written (a retry)
    escalated: bool = False  # a WarningEscalation found nobody had responded and escalated
