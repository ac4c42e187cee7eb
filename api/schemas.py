"""Request and response schemas. Money is Decimal (serialised as a string), never a float."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.strict import RequestModel
from domain.identity import IdType
from domain.refund import Fault, OptionKind

MoneyIn = Decimal
Reason = Literal["family_disagreement", "funds_shortfall", "competitor_comparison", "other"]


class Token(BaseModel):
    """A sign-in (or a refresh): a short-lived access token for the Authorization header, and the refresh
    token that gets the next one (each refresh token works once: the answer carries its successor)."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="seconds until the access token expires")
    refresh_token: str
    role: str
    username: str
    display_name: str
    must_change_password: bool = Field(description="true: the person must change their password (POST "
                                                   "/api/auth/password) before any other call but GET /api/me, "
                                                   "refresh and sign-out; those answer 403 until then")


class RefreshToken(RequestModel):
    refresh_token: str = Field(min_length=1, max_length=200)


class PasswordChange(RequestModel):
    """The signed-in person's new password, with their current one."""

    model_config = ConfigDict(extra="forbid")
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=8, max_length=256, description="at least 8 characters, not the current one")

    @model_validator(mode="after")
    def _a_new_one(self) -> "PasswordChange":
        if self.new_password == self.current_password:
            raise ValueError("the new password must differ from the current one")
        return self


class RefundCaseCreate(RequestModel):
    model_config = ConfigDict(extra="forbid")
    unit_id: int | None = None
    subscription_id: int | None = None

    @model_validator(mode="after")
    def _one_of(self) -> "RefundCaseCreate":
        if (self.unit_id is None) == (self.subscription_id is None):
            raise ValueError("give exactly one of unit_id or subscription_id")
        return self


class OptionIn(RequestModel):
    model_config = ConfigDict(extra="forbid")
    kind: OptionKind
    description: str = Field(default="", max_length=500)
    compensation: MoneyIn | None = Field(default=None, ge=0, max_digits=12, decimal_places=2,
                                         description="A: from the retention pool; 0 (or none): the buyer simply continues")
    fee_waiver: bool = False


class TaskCompletion(RequestModel):
    """The fields of every human step; which are required depends on the task's kind."""

    model_config = ConfigDict(extra="forbid")
    note: str = Field(default="", max_length=2000)
    # intake (退房原因初步登记表)
    reasons: list[Reason] | None = None
    reason_text: str = Field(default="", max_length=2000)
    willing_to_consider: Literal["yes", "no", "negotiate"] | None = None
    id_type: IdType = IdType.RESIDENT_ID
    id_number: str | None = Field(default=None, max_length=32)
    mobile: str | None = Field(default=None, max_length=20)
    recording_ref: str = Field(default="", max_length=256)
    # finance
    commission_accrued: MoneyIn | None = Field(default=None, ge=0, max_digits=12, decimal_places=2)
    advertising_allocation: MoneyIn | None = Field(default=None, ge=0, max_digits=12, decimal_places=2)
    opportunity_cost: MoneyIn | None = Field(default=None, ge=0, max_digits=12, decimal_places=2)
    # Finance's figures that differ from the estimate from the records (GET /api/refund-cases/{id}/loss-estimate):
    # why, recorded with both figures in the case's timeline (event loss_override).
    override_reason: str | None = Field(default=None, max_length=2000)
    proposed_share: Decimal | None = Field(default=None, ge=0, le=1, max_digits=5, decimal_places=4)
    contract_confirmed: bool | None = None
    # legal
    fault: Fault | None = None
    # marketing
    opinion_risk: Literal["low", "medium", "high"] | None = None
    media_involved: bool = False
    group_complaint: bool = False
    # city GM
    approve: bool | None = None
    # solution and choice
    options: list[OptionIn] | None = None
    option: OptionKind | None = None
    refused: bool = False  # the buyer refused every option offered: a new offer, or after the last the legal route
    new_customer_id: int | None = None
    # review meeting (复盘会): who attended (user ids) and the minutes; an escalation or a dispute: `note`
    attendees: list[int] | None = Field(default=None, max_length=50)
    minutes: str | None = Field(default=None, max_length=8000)
    # refund payment (退款支付): against the case's refund instruction
    amount: MoneyIn | None = Field(default=None, gt=0, max_digits=12, decimal_places=2)
    paid_on: date | None = None
    bank_reference: str | None = Field(default=None, max_length=64)
    voucher_evidence_id: int | None = None
    difference_reason: str | None = Field(default=None, max_length=2000)
    # archive
    summary: str | None = Field(default=None, max_length=4000)
    lessons: str = Field(default="", max_length=4000)


class WithdrawalIn(RequestModel):
    reason: str = Field(min_length=1, max_length=2000, description="what the buyer said")
    evidence_ids: list[int] = Field(default_factory=list, max_length=20, description="evidence files of this case")


class VoidRequestIn(RequestModel):
    reason: str = Field(min_length=1, max_length=2000, description="why the registration was a mistake")


class AssessmentReturnIn(RequestModel):
    reason: str = Field(min_length=1, max_length=2000)


class LossRevisionIn(RequestModel):
    model_config = ConfigDict(extra="forbid")
    commission_accrued: MoneyIn = Field(ge=0, max_digits=12, decimal_places=2)
    advertising_allocation: MoneyIn = Field(default=Decimal("0"), ge=0, max_digits=12, decimal_places=2)
    opportunity_cost: MoneyIn = Field(default=Decimal("0"), ge=0, max_digits=12, decimal_places=2)
    proposed_share: Decimal | None = Field(default=None, ge=0, le=1, max_digits=5, decimal_places=4)
    note: str = Field(default="", max_length=2000)


class TaskOut(BaseModel):
    id: int
    case_id: uuid.UUID
    case_no: str
    kind: str
    role: str
    title: str
    due_at: datetime | None
    overdue: bool
    created_at: datetime
    project_id: int | None = None
    claimed_by: int | None = None  # the person who claimed it (null: in its role pool, anyone eligible)
    claimed_by_name: str | None = None
    claimed_at: datetime | None = None


class TaskPage(BaseModel):
    """One page of the inbox, nearest deadline first; `next_cursor` fetches the next page (null: the last)."""

    items: list[TaskOut]
    total: int
    next_cursor: str | None


class TaskReassign(RequestModel):
    user_id: int = Field(description="the eligible person who gets the task")
    reason: str = Field(min_length=1, max_length=500)


class TaskDetail(TaskOut):
    """One task, open or done: who completed it and when, once it is done."""

    status: str
    completed_at: datetime | None = None
    completed_by_name: str | None = None


class StepOut(BaseModel):
    case_id: str
    stage: str
    message: str
    open_tasks: list[TaskOut] = []  # the case's open tasks after this step: what happens next


class CaseSummary(BaseModel):
    id: uuid.UUID
    case_no: str
    stage: str
    unit: str
    customer_name: str
    customer_mobile: str
    registered_at: datetime
    escalation_level: int
    needs_gm: bool
    chosen_option: str | None
    refund_amount: Decimal | None


class RefundPreview(BaseModel):
    """What path B would refund under the case's policy and the assessments so far."""

    route: str | None
    share: Decimal | None
    amount: Decimal | None
    base: Decimal | None
    needs_gm: bool
    explanation: str


class StillOpen(BaseModel):
    task_id: int
    kind: str
    title: str
    due_at: datetime | None
    why: str = Field(description="in Chinese")
    why_en: str


class CaseDetail(CaseSummary):
    project_id: int
    policy_version: str
    deadlines: dict
    escalation_reasons: list = Field(description="why the city GM must approve, in English (older cases: only these)")
    escalation_codes: list[dict] = Field(default_factory=list, description="the same reasons as {code, params}: "
                                         "escalation.loss_over_threshold {loss, threshold}, escalation.media_involved, "
                                         "escalation.share_above_tier; clients word them by code")
    assessments: dict
    options: list
    outcome: dict
    loss_total: Decimal | None
    closed_at: datetime | None
    retain_until: datetime | None
    workflow_id: str
    temporal_ui_url: str
    open_tasks: list[TaskOut]
    origin: str | None = Field(default=None, description="where the case came from when not the front desk: "
                               "`loan_rejected: <cause>` (a mortgage rejected), `inability` or `transfer_intent` (the "
                               "payment follow-up); the intake form starts from it")
    still_open: list[StillOpen] = Field(default_factory=list, description="a closed case: the tasks that outlive its "
                                        "closing (refund payment, review meeting, escalations, a dispute) and why")
    refund_preview: RefundPreview | None = None
    # From the subscription record, for the intake form (认购时间 is pulled, not typed).
    subscribed_at: datetime | None = None
    deposit_kind: str | None = None
    deposit_amount: Decimal | None = None
    paid_amount: Decimal | None = None
    registered_by: str | None = Field(default=None, description="who registered the case (a person's name)")


class TimelineEntry(BaseModel):
    at: datetime
    source: Literal["case", "workflow"]
    kind: str
    actor: str = Field(description="the login of who did it, or system / temporal")
    actor_name: str | None = Field(default=None, description="that person's name (null for system and temporal)")
    on_behalf_of_name: str | None = Field(default=None, description="a substitute's step: the absent colleague's name")
    detail: dict


class Timeline(BaseModel):
    case_id: uuid.UUID
    workflow_id: str
    temporal_ui_url: str
    entries: list[TimelineEntry]
    engine_history: Literal["available", "expired"] = Field(
        default="available", description="expired: the workflow engine's retention deleted the run's history; the "
        "case's own record (PostgreSQL) is the whole story")
    note: str | None = None
