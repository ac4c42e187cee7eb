"""Inputs, update payloads and results of the refund workflow, with the task queue and id helpers.

Frozen dataclasses, one per input, so fields can be added without breaking running workflows.
No personal data: the identity checks arrive as results (verified yes/no), never as numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from domain.refund import (
    ContractStage,
    DepositKind,
    Fault,
    LossAssessment,
    OptionKind,
    RefundPolicy,
)

REFUND_TASK_QUEUE = "estateflow-refund"
DEPARTMENTS = ("finance", "legal", "marketing")


def refund_workflow_id(case_id: str) -> str:
    return f"refund-case-{case_id}"


class ErrorType(StrEnum):
    """ApplicationError types an update refusal carries; the API maps them to HTTP statuses."""

    FORBIDDEN = "Forbidden"  # 403: wrong role, four-eyes
    CONFLICT = "Conflict"  # 409: wrong state, duplicate
    INVALID = "Invalid"  # 422: bad values


@dataclass(frozen=True)
class Actor:
    user_id: int
    username: str
    role: str
    # A substitute acting for an absent colleague (a delegation): that colleague. Four eyes counts both people.
    on_behalf_of: int | None = None
    on_behalf_of_username: str | None = None

    @property
    def people(self) -> set[int]:
        """The person acting and, for a substitute, the one they act for."""
        return {self.user_id} | ({self.on_behalf_of} if self.on_behalf_of is not None else set())


@dataclass(frozen=True)
class ContractSnapshot:
    """Read from the subscription and contract records at registration, not from the form."""

    stage: ContractStage
    deposit_kind: DepositKind
    deposit_amount: Decimal
    paid_amount: Decimal
    price: Decimal


@dataclass(frozen=True)
class RefundCaseInput:
    case_id: str
    case_no: str
    project_id: int
    unit_id: int
    subscription_id: int
    customer_id: int
    consultant_id: int
    registered_by: Actor
    registered_at: datetime
    policy: RefundPolicy
    contract: ContractSnapshot
    speedup: int = 1
    # The override table from registration on, when the policy counts a clock in working days: (ISO day, working).
    calendar_overrides: tuple[tuple[str, bool], ...] = ()


@dataclass(frozen=True)
class IntakeSubmission:
    actor: Actor
    reasons: tuple[str, ...]
    willing_to_consider: str  # yes / no / negotiate
    id_verified: bool
    phone_verified: bool
    reason_text: str = ""
    recording_ref: str = ""


@dataclass(frozen=True)
class AssessmentSubmission:
    """One department's part. Finance: loss and proposed share; legal: fault; marketing: opinion risk."""

    actor: Actor
    note: str = ""
    loss: LossAssessment | None = None
    proposed_share: Decimal | None = None
    contract_confirmed: bool | None = None
    fault: Fault | None = None
    opinion_risk: str | None = None  # low / medium / high
    media_involved: bool = False
    group_complaint: bool = False


@dataclass(frozen=True)
class LossRevision:
    actor: Actor
    loss: LossAssessment
    proposed_share: Decimal | None = None
    note: str = ""


@dataclass(frozen=True)
class GmDecision:
    actor: Actor
    approve: bool
    note: str = ""


@dataclass(frozen=True)
class OfferedOption:
    kind: OptionKind
    description: str = ""
    compensation: Decimal | None = None  # A: drawn from the retention pool
    fee_waiver: bool = False  # C
    refund_amount: Decimal | None = None  # B: computed by the workflow, not typed
    refund_share: Decimal | None = None


@dataclass(frozen=True)
class SolutionOffer:
    actor: Actor
    options: tuple[OfferedOption, ...]


@dataclass(frozen=True)
class BuyerChoice:
    actor: Actor
    kind: OptionKind
    new_customer_id: int | None = None  # C: the replacement buyer, an existing customer
    note: str = ""


@dataclass(frozen=True)
class ContractCancellation:
    actor: Actor
    note: str = ""


@dataclass(frozen=True)
class ArchiveSubmission:
    actor: Actor
    summary: str
    lessons: str = ""


@dataclass(frozen=True)
class CaseWithdrawal:
    """撤回: the buyer withdraws the request before the outcome."""

    actor: Actor
    reason: str
    evidence_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class VoidRequest:
    """作废: the registration was a mistake; a second person must approve."""

    actor: Actor
    reason: str


@dataclass(frozen=True)
class VoidDecision:
    actor: Actor
    approve: bool
    note: str = ""


@dataclass(frozen=True)
class BuyerRefusal:
    """The buyer refused every option offered: a new offer, or after the last round the legal route."""

    actor: Actor
    note: str = ""


@dataclass(frozen=True)
class AssessmentReturn:
    """退回: the manager returns a department's assessment for rework, with a reason."""

    actor: Actor
    department: str
    reason: str


@dataclass(frozen=True)
class StepResult:
    case_id: str
    stage: str
    message: str


@dataclass(frozen=True)
class CaseResult:
    case_id: str
    path: str  # A / B / C / legal
    refund_amount: Decimal | None
    escalation_level: int
    breaches: tuple[str, ...]


# ---- activity payloads: the projection the workflow writes into PostgreSQL ----


@dataclass(frozen=True)
class TaskSpec:
    key: str
    kind: str
    role: str
    title: str
    due_at: datetime | None = None


@dataclass(frozen=True)
class NotificationSpec:
    key: str
    role: str
    message: str


@dataclass(frozen=True)
class SlaBreachSpec:
    sla: str
    due_at: datetime
    breached_at: datetime
    escalated_to: str


@dataclass(frozen=True)
class IntakeRecord:
    reasons: tuple[str, ...]
    reason_text: str
    willing_to_consider: str
    id_verified: bool
    phone_verified: bool
    recording_ref: str
    submitted_by: int
    submitted_at: datetime


@dataclass(frozen=True)
class CasePatch:
    """Columns of refund_cases to set; None leaves a column as it is."""

    stage: str | None = None
    escalation_level: int | None = None
    needs_gm: bool | None = None
    escalation_reasons: tuple[str, ...] | None = None
    escalation_codes: tuple[dict, ...] | None = None  # the same reasons as {code, params} (patch escalation-codes)
    deadlines: dict[str, str] | None = None
    assessments: dict[str, dict] | None = None
    options: tuple[dict, ...] | None = None
    chosen_option: str | None = None
    outcome: dict | None = None
    loss_total: Decimal | None = None
    refund_amount: Decimal | None = None


@dataclass(frozen=True)
class RetentionDraw:
    project_id: int
    amount: Decimal
    memo: str


@dataclass(frozen=True)
class RefundInstructionSpec:
    customer_id: int
    amount: Decimal
    share: Decimal
    route: str
    policy_version: str
    pay_by: datetime | None = None  # finance's deadline to pay it (the refund-payment task's clock)


@dataclass(frozen=True)
class TransferSpec:
    subscription_id: int
    new_customer_id: int
    fee_waiver: bool


@dataclass(frozen=True)
class CompletionSpec:
    """Archive and close: tag the customer, knowledge base, regional brief, review meeting, release."""

    customer_id: int
    unit_id: int
    subscription_id: int
    path: str
    summary: str
    lessons: str
    brief: dict
    retention_days: int
    release_unit: bool  # B: the unit returns to 可售; otherwise to its state before the refund


@dataclass(frozen=True)
class StepRecord:
    """Everything one step writes, in one transaction, idempotent on (case_id, event_key)."""

    case_id: str
    event_key: str
    kind: str
    actor: str
    at: datetime
    detail: dict = field(default_factory=dict)
    close_tasks: tuple[str, ...] = ()
    completed_by: int | None = None
    open_tasks: tuple[TaskSpec, ...] = ()
    notifications: tuple[NotificationSpec, ...] = ()
    patch: CasePatch = field(default_factory=CasePatch)
    breach: SlaBreachSpec | None = None
    intake: IntakeRecord | None = None
    draw: RetentionDraw | None = None
    cancel_subscription_id: int | None = None
    refund: RefundInstructionSpec | None = None
    transfer: TransferSpec | None = None
    completion: CompletionSpec | None = None
    # Withdrawal and void (issue 14): every open task of the case is cancelled, the unit goes back to the state
    # it had before the case.
    cancel_open_tasks: bool = False
    restore_unit: bool = False
    cancel_tasks: tuple[str, ...] = ()  # tasks no longer needed (a released GM step, a solution before a rework)
