"""Payment-plan follow-up, one workflow per plan (DOMAIN §3 payment plan, §4 graded response).

Per instalment: a reminder before the due date; once overdue, the graded response arrives as updates —
a first postponement gives a grace period (default 7 days) while the late fee keeps accruing
(domain/late_fee.py), a statement of inability records a request to start a refund case, an intention
to transfer records a path-C request — and the payment itself. When the input names the subscription,
both also start the refund case (activity `start_refund_from_followup`, patch "followup-starts-refund-case";
origin inability / transfer_intent — path C itself stays the buyer's choice in the case). Each settled instalment ends the run with
continue-as-new, carrying the small state forward, so a 30-year plan keeps a short history.
Self-contained: instalments come in the input, not from the contracts tables.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.late_fee import late_fee
    from workflows.followup_contracts import (
        CHINA,
        ActionSpec,
        ApplyResult,
        BuyerResponse,
        ErrorType,
        FollowupRecord,
        Instalment,
        PaymentPlanInput,
        PaymentReceived,
        PlanCarry,
        PlanOutcome,
        PlanResult,
        PlanStatus,
        StartRefundCase,
        china_date,
    )

ACTIVITY_TIMEOUT = timedelta(seconds=30)
ACTIVITY_RETRY = RetryPolicy(maximum_attempts=10, maximum_interval=timedelta(seconds=30))
# A person's step is written by a normal activity, dispatched only once the update's acceptance is in
# history (a local activity would commit before it); it retries until PostgreSQL answers.
STEP_AFTER_ACCEPT = "step-write-after-accept"
STEP_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=10))
# One short transaction: an attempt lost with a killed worker is retried after this, not after 30 s.
STEP_TIMEOUT = timedelta(seconds=10)
REMINDER_HOUR = time(9)  # reminders go out at 09:00 China time
UNPOSTPONED_ESCALATION = timedelta(days=1)  # overdue, no word from the buyer: the manager is told after a day
PAYMENT_ROLES = frozenset({"finance"})
RESPONSE_ROLES = frozenset({"sales", "manager"})
# The refund case a follow-up outcome starts (when the input names the subscription), by its origin.
REFUND_ORIGINS = {PlanOutcome.REFUND_REQUESTED: "inability", PlanOutcome.TRANSFER_REQUESTED: "transfer_intent"}


def _err(kind: ErrorType, msg: str) -> ApplicationError:
    return ApplicationError(msg, type=kind, non_retryable=True)


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), CHINA)


@workflow.defn
class PaymentFollowupWorkflow:
    @workflow.init
    def __init__(self, inp: PaymentPlanInput) -> None:
        self._inp = inp
        self._id = f"payment-plan-{inp.plan_id}"
        self._carry = inp.carry
        self._inst: Instalment | None = (
            inp.instalments[inp.carry.next_index] if inp.carry.next_index < len(inp.instalments) else None
        )
        self._state = "pending"
        self._settled = False
        self._postponed = False
        self._outcome: PlanOutcome | None = None
        self._busy = False
        self._fee = Decimal("0")

    @workflow.run
    async def run(self, inp: PaymentPlanInput) -> PlanResult:
        inst = self._inst
        if inst is None:
            return self._result(PlanOutcome.COMPLETED)
        done = lambda: self._settled or self._outcome is not None  # noqa: E731
        reminders = self._carry.reminders_sent

        remind_at = datetime.combine(inst.due_date - timedelta(days=inp.reminder_days_before), REMINDER_HOUR, CHINA)
        if not await self._wait(done, remind_at):
            await self._write(self._record(f"reminder:{inst.seq}", "reminder", actions=(ActionSpec(
                key=f"reminder:{inst.seq}", kind="reminder", role="sales",
                message=f"remind the buyer: instalment {inst.seq} of {inst.amount} is due on {inst.due_date.isoformat()}",
                detail={"seq": inst.seq, "amount": str(inst.amount), "due_date": inst.due_date.isoformat()},
            ),)))
            reminders += 1

        overdue_at = _start_of(inst.due_date + timedelta(days=1))
        if not await self._wait(done, overdue_at):
            self._state = "overdue"
            await self._write(self._record(f"overdue:{inst.seq}", "overdue", stage="overdue", actions=(ActionSpec(
                key=f"overdue:{inst.seq}", kind="overdue", role="sales",
                message=f"instalment {inst.seq} is overdue: ask the buyer (postpone / cannot pay / transfer)",
                detail={"seq": inst.seq, "amount": str(inst.amount), "due_date": inst.due_date.isoformat()},
            ),)))
            await self._escalate_until_resolved(inst, overdue_at, done)

        await workflow.wait_condition(workflow.all_handlers_finished)
        carry = PlanCarry(next_index=self._carry.next_index + 1, run_no=self._carry.run_no + 1,
                          reminders_sent=reminders, late_fees=self._carry.late_fees + self._fee)
        if self._outcome is not None:
            await self._start_refund_case(inst)
            return self._result(self._outcome, dataclasses.replace(carry, run_no=self._carry.run_no))
        if carry.next_index >= len(inp.instalments):
            await self._write(self._record("completed", "completed", stage="completed"))
            return self._result(PlanOutcome.COMPLETED, dataclasses.replace(carry, run_no=self._carry.run_no))
        workflow.continue_as_new(dataclasses.replace(inp, carry=carry))

    async def _escalate_until_resolved(self, inst: Instalment, overdue_at: datetime, done) -> None:
        """Tell the manager once when the buyer says nothing for a day, and once when a grace period runs out."""
        escalated: set[str] = set()
        while not done():
            phase = "grace" if self._postponed else "overdue"
            if phase in escalated:
                await workflow.wait_condition(lambda: done() or (self._postponed and phase == "overdue"))
                continue
            deadline = self._grace_end(inst) if self._postponed else overdue_at + UNPOSTPONED_ESCALATION
            if await self._wait(lambda: done() or self._postponed != (phase == "grace"), deadline):
                continue
            accrued = late_fee(overdue_amount=inst.amount, due_date=inst.due_date, paid_date=china_date(workflow.now()),
                               daily_rate=self._inp.daily_rate)
            why = "the grace period ended" if phase == "grace" else "the buyer has not responded"
            await self._write(self._record(f"escalation:{inst.seq}:{phase}", "escalation", actions=(ActionSpec(
                key=f"escalation:{inst.seq}:{phase}", kind="escalation", role="manager",
                message=f"instalment {inst.seq} still unpaid, {why}; late fee so far {accrued}",
                detail={"seq": inst.seq, "late_fee_so_far": str(accrued), "phase": phase},
            ),)))
            escalated.add(phase)

    async def _start_refund_case(self, inst: Instalment) -> None:
        """Inability / transfer intention: start the refund case itself (the to-do for a person stays recorded).
        Path C is not chosen here: that remains the buyer's choice at the case's choice step; the case
        carries its origin (transfer_intent) for its manager."""
        origin = REFUND_ORIGINS.get(self._outcome)
        if self._inp.subscription_id is None or origin is None:
            return
        if not workflow.patched("followup-starts-refund-case"):
            return
        try:
            case_id = await workflow.execute_activity(
                "start_refund_from_followup", StartRefundCase(self._id, self._inp.subscription_id, origin),
                result_type=str, start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=ACTIVITY_RETRY,
            )
        except ActivityError as err:
            # Not startable (e.g. the subscription is no longer active): the recorded to-do is left to a person.
            workflow.logger.warning("%s: refund case not started: %s", self._id, err.cause or err)
            await self._write(self._record(f"refund_case_failed:{inst.seq}", "refund_case_not_started",
                                           detail={"origin": origin, "error": str(err.cause or err)}))
            return
        await self._write(self._record(f"refund_case:{inst.seq}", "refund_case_started",
                                       detail={"case_id": case_id, "origin": origin,
                                               "subscription_id": self._inp.subscription_id}))

    def _grace_end(self, inst: Instalment) -> datetime:
        return _start_of(inst.due_date + timedelta(days=self._inp.grace_days + 1))

    async def _wait(self, condition, until: datetime) -> bool:
        """True when `condition` held before `until`."""
        remaining = until - workflow.now()
        if remaining > timedelta(0):
            try:
                await workflow.wait_condition(condition, timeout=remaining)
            except asyncio.TimeoutError:
                pass
        return condition()

    def _result(self, outcome: PlanOutcome, carry: PlanCarry | None = None) -> PlanResult:
        c = carry or self._carry
        return PlanResult(self._inp.plan_id, outcome, c.run_no, c.reminders_sent, c.late_fees)

    def _record(self, event_key: str, event: str, actor: str = "system", **kw) -> FollowupRecord:
        detail = kw.pop("detail", {})
        if self._inst is not None:
            detail = {"seq": self._inst.seq, **detail}
        return FollowupRecord(followup_id=self._id, kind="payment_plan", event_key=event_key, event=event, actor=actor,
                              at=workflow.now(), customer_id=self._inp.customer_id, detail=detail, **kw)

    async def _write(self, rec: FollowupRecord, *, human: bool = False) -> ApplyResult:
        if human and workflow.patched(STEP_AFTER_ACCEPT):
            return await workflow.execute_activity(
                "apply_followup", rec, result_type=ApplyResult,
                start_to_close_timeout=STEP_TIMEOUT, retry_policy=STEP_RETRY,
            )
        # The workflow's own writes (a timer fired, the run started): their cause is in history already.
        return await workflow.execute_local_activity(
            "apply_followup", rec, result_type=ApplyResult,
            start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=ACTIVITY_RETRY,
        )

    async def _step(self, rec: FollowupRecord) -> None:
        self._busy = True
        try:
            await self._write(rec, human=True)
        except ActivityError as err:
            raise _err(ErrorType.CONFLICT, f"not recorded: {err.cause or err}") from None
        finally:
            self._busy = False

    @workflow.query
    def status(self) -> PlanStatus:
        return PlanStatus(self._inp.plan_id, self._inst.seq if self._inst else None, self._state, self._carry.run_no)

    # ---- updates --------------------------------------------------------------------------------

    def _check_open(self, seq: int, role: str, roles: frozenset[str]) -> Instalment:
        if role not in roles:
            raise _err(ErrorType.FORBIDDEN, f"role {role} may not do this; allowed: {', '.join(sorted(roles))}")
        if self._outcome is not None:
            raise _err(ErrorType.CONFLICT, f"the plan's follow-up has ended ({self._outcome})")
        if self._inst is None or self._settled:
            raise _err(ErrorType.CONFLICT, "no instalment is open in this run; try again")
        if self._busy:
            raise _err(ErrorType.CONFLICT, "another step is being recorded; try again")
        if seq != self._inst.seq:
            raise _err(ErrorType.CONFLICT, f"instalment {self._inst.seq} is the open one, not {seq}")
        return self._inst

    @workflow.update
    async def record_payment(self, p: PaymentReceived) -> PlanStatus:
        inst = self._check_payment(p)
        fee = late_fee(overdue_amount=inst.amount, due_date=inst.due_date, paid_date=p.paid_on,
                       daily_rate=self._inp.daily_rate)
        seq = inst.seq
        await self._step(self._record(
            f"paid:{seq}", "payment", p.actor.username, stage="settled",
            detail={"amount": str(p.amount), "paid_on": p.paid_on.isoformat(), "late_fee": str(fee)},
            close_actions=(f"reminder:{seq}", f"overdue:{seq}", f"escalation:{seq}:overdue", f"escalation:{seq}:grace"),
        ))
        self._fee = fee
        self._settled = True
        self._state = "settled"
        return self.status()

    @record_payment.validator
    def _validate_payment(self, p: PaymentReceived) -> None:
        self._check_payment(p)

    def _check_payment(self, p: PaymentReceived) -> Instalment:
        inst = self._check_open(p.seq, p.actor.role, PAYMENT_ROLES)
        if isinstance(p.amount, float) or p.amount != inst.amount:
            # Partial payments are not modelled yet: the full instalment, the late fee is recorded apart.
            raise _err(ErrorType.INVALID, f"instalment {inst.seq} is {inst.amount}; received {p.amount}")
        if p.paid_on > china_date(workflow.now()):
            raise _err(ErrorType.INVALID, "the payment date is in the future")
        return inst

    @workflow.update
    async def request_postponement(self, r: BuyerResponse) -> PlanStatus:
        inst = self._check_postponement(r)
        self._postponed = True  # claimed before the write: a second one in the same task is refused
        grace_until = inst.due_date + timedelta(days=self._inp.grace_days)
        try:
            await self._step(self._record(
                f"postpone:{inst.seq}", "postponement", r.actor.username, stage="grace",
                detail={"grace_until": grace_until.isoformat(), "note": r.note,
                        "late_fee_daily": str(late_fee(overdue_amount=inst.amount, due_date=inst.due_date,
                                                       paid_date=inst.due_date + timedelta(days=1),
                                                       daily_rate=self._inp.daily_rate))},
            ))
        except ApplicationError:
            self._postponed = False
            raise
        self._state = "grace"
        return self.status()

    @request_postponement.validator
    def _validate_postponement(self, r: BuyerResponse) -> None:
        self._check_postponement(r)

    def _check_postponement(self, r: BuyerResponse) -> Instalment:
        inst = self._check_open(r.seq, r.actor.role, RESPONSE_ROLES)
        if self._state not in ("overdue", "grace"):
            raise _err(ErrorType.CONFLICT, f"instalment {inst.seq} is not overdue")
        if self._postponed:
            raise _err(ErrorType.CONFLICT, "a postponement was already granted: the buyer may state inability or transfer")
        return inst

    @workflow.update
    async def state_inability(self, r: BuyerResponse) -> PlanStatus:
        return await self._end_with(r, PlanOutcome.REFUND_REQUESTED, "start_refund_case",
                                    "the buyer states they cannot pay: start a refund case (the unit is released when it completes)")

    @state_inability.validator
    def _validate_inability(self, r: BuyerResponse) -> None:
        self._check_open(r.seq, r.actor.role, RESPONSE_ROLES)

    @workflow.update
    async def request_transfer(self, r: BuyerResponse) -> PlanStatus:
        return await self._end_with(r, PlanOutcome.TRANSFER_REQUESTED, "path_c",
                                    "the buyer intends to transfer: path C, part of the deposit returned as a referral incentive")

    @request_transfer.validator
    def _validate_transfer(self, r: BuyerResponse) -> None:
        self._check_open(r.seq, r.actor.role, RESPONSE_ROLES)

    async def _end_with(self, r: BuyerResponse, outcome: PlanOutcome, kind: str, message: str) -> PlanStatus:
        inst = self._check_open(r.seq, r.actor.role, RESPONSE_ROLES)
        accrued = late_fee(overdue_amount=inst.amount, due_date=inst.due_date, paid_date=china_date(workflow.now()),
                           daily_rate=self._inp.daily_rate)
        # Recorded as a request for a person; with a subscription id, run() also starts the refund case.
        await self._step(self._record(
            f"{kind}:{inst.seq}", kind, r.actor.username, stage=str(outcome), detail={"note": r.note},
            actions=(ActionSpec(
                key=kind, kind=kind, role="manager", message=f"{self._inp.contract_ref}: {message}",
                detail={"contract_ref": self._inp.contract_ref, "customer_id": self._inp.customer_id, "seq": inst.seq,
                        "amount_due": str(inst.amount), "late_fee_so_far": str(accrued), "note": r.note},
            ),),
        ))
        self._fee = accrued
        self._outcome = outcome
        self._state = str(outcome)
        return self.status()
