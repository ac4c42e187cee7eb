"""The approval of a subscription discount (issue 15): one workflow per discount request.

The request names the level its price needs (domain/pricing.approval_level: the manager, the city GM, HQ risk
control). Each step runs on the policy's clock (`discount_approval_minutes`); a step whose clock runs out
escalates one level up (manager → city GM → HQ risk), is written and notified, and the new step gets a clock
of its own; at the top a missed clock is notified and the step keeps waiting. A decision arrives as the
`decide` update: its validator refuses the wrong level (403), the requester (four eyes, a substitute
counts as the person they stand in for: 403), a rejection without its reason (422) and a decided request
(409). The decision is written by one activity after its acceptance is in history: an approval writes the
subscription at the approved price, a rejection releases the unit. The workflow itself does no I/O."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.pricing import APPROVAL_LEVELS, escalated, may_decide
    from workflows.contracts import Actor, ErrorType

ACTIVITY = "apply_discount_step"
STEP_TIMEOUT = timedelta(seconds=10)
# Written until PostgreSQL answers (the first step may be written before the API's commit is visible).
STEP_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=10))


def discount_workflow_id(request_id: int) -> str:
    return f"discount-{request_id}"


@dataclass(frozen=True)
class DiscountApprovalInput:
    request_id: int
    requested_by: int  # user id: never approves their own request
    level: str  # the first approver (domain.pricing.APPROVAL_LEVELS)
    step_minutes: int  # each step's clock (SalesPolicy.discount_approval_minutes)
    opened_at: datetime  # the request's time: the first clock starts here


@dataclass(frozen=True)
class DiscountDecision:
    actor: Actor
    approve: bool
    note: str = ""


@dataclass(frozen=True)
class DiscountStepRecord:
    """One write: kind "open" (the first step), "escalate" (step seq-1 escalated, step seq opened at `role`),
    "breach" (the top step's clock ran out), "decide" (step seq decided by `actor`)."""

    request_id: int
    kind: str
    seq: int
    at: datetime
    role: str
    due_at: datetime | None = None
    actor: Actor | None = None
    approve: bool | None = None
    note: str = ""


@dataclass(frozen=True)
class DiscountStepResult:
    status: str  # pending / approved / rejected / lapsed
    subscription_id: int | None = None
    message: str = ""


@dataclass(frozen=True)
class DiscountApprovalStatus:
    request_id: int
    status: str
    level: str
    step: int
    due_at: datetime


def _err(kind: ErrorType, msg: str) -> ApplicationError:
    return ApplicationError(msg, type=kind, non_retryable=True)


@workflow.defn
class DiscountApprovalWorkflow:
    @workflow.init
    def __init__(self, inp: DiscountApprovalInput) -> None:
        self._inp = inp
        self._level = inp.level
        self._seq = 1
        self._due = inp.opened_at + timedelta(minutes=inp.step_minutes)
        self._status = "pending"
        self._subscription_id: int | None = None
        self._writing = True  # a step is being opened: a decision waits for it
        self._busy = False  # a decision is being written
        self._escalations = 0

    @workflow.run
    async def run(self, inp: DiscountApprovalInput) -> DiscountStepResult:
        await self._write(DiscountStepRecord(inp.request_id, "open", 1, workflow.now(), self._level, due_at=self._due))
        self._writing = False
        decided = lambda: self._status != "pending"  # noqa: E731
        breached_top = False
        while not decided():
            remaining = self._due - workflow.now()
            if remaining > timedelta(0) or breached_top:
                try:
                    await workflow.wait_condition(decided, timeout=None if breached_top else remaining,
                                                  timeout_summary=f"discount step {self._seq}")
                except asyncio.TimeoutError:
                    pass
            if decided():
                break
            if self._busy:  # a decision is being written as the clock ran out: it decides
                await workflow.wait_condition(lambda: not self._busy)
                continue
            nxt = escalated(self._level)
            self._writing = True
            if nxt is None:
                await self._write(DiscountStepRecord(inp.request_id, "breach", self._seq, workflow.now(), self._level,
                                                     due_at=self._due))
                breached_top = True
            else:
                self._seq += 1
                self._level = nxt
                self._escalations += 1
                self._due = workflow.now() + timedelta(minutes=inp.step_minutes)
                await self._write(DiscountStepRecord(inp.request_id, "escalate", self._seq, workflow.now(), nxt,
                                                     due_at=self._due))
            self._writing = False
        await workflow.wait_condition(workflow.all_handlers_finished)
        return DiscountStepResult(self._status, self._subscription_id)

    async def _write(self, rec: DiscountStepRecord) -> DiscountStepResult:
        return await workflow.execute_activity(ACTIVITY, rec, result_type=DiscountStepResult,
                                               start_to_close_timeout=STEP_TIMEOUT, retry_policy=STEP_RETRY)

    @workflow.query
    def status(self) -> DiscountApprovalStatus:
        return DiscountApprovalStatus(self._inp.request_id, self._status, self._level, self._seq, self._due)

    def _check(self, d: DiscountDecision) -> None:
        if self._status != "pending":
            raise _err(ErrorType.CONFLICT, f"discount request {self._inp.request_id} is already {self._status}")
        if self._busy:
            raise _err(ErrorType.CONFLICT, "another decision is being recorded; try again")
        if d.actor.role not in APPROVAL_LEVELS:
            raise _err(ErrorType.FORBIDDEN, f"role {d.actor.role} does not approve discounts")
        if not may_decide(d.actor.role, self._level):
            raise _err(ErrorType.FORBIDDEN, f"this discount is for the {self._level} to decide, not the {d.actor.role}")
        if self._inp.requested_by in d.actor.people:
            raise _err(ErrorType.FORBIDDEN, "nobody approves their own discount request (four eyes)")
        if not d.approve and not d.note.strip():
            raise _err(ErrorType.INVALID, "a rejection needs its reason")

    @workflow.update
    async def decide(self, d: DiscountDecision) -> DiscountStepResult:
        self._check(d)
        self._busy = True
        try:
            await workflow.wait_condition(lambda: not self._writing)
            res = await self._write(DiscountStepRecord(self._inp.request_id, "decide", self._seq, workflow.now(),
                                                       self._level, actor=d.actor, approve=d.approve, note=d.note.strip()))
        finally:
            self._busy = False
        self._status = res.status
        self._subscription_id = res.subscription_id
        return res

    @decide.validator
    def _validate_decide(self, d: DiscountDecision) -> None:
        self._check(d)
