"""Mortgage follow-up (按揭跟进), one workflow per loan.

Stages arrive as one update with a validator (order and role); the documents-late signal is a timer
computed on the Chinese working-day calendar (the override table travels in the input, so the
calculation stays deterministic). Writes go through the single `apply_followup` activity.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.calendar import CalendarNotCovered
    from domain.warnings import (
        approval_expected_by,
        documents_expected_by,
        documents_late_on,
        mortgage_documents_late_rule,
        warning_level,
    )
    from workflows.followup_contracts import (
        CHINA,
        ActionSpec,
        ApplyResult,
        DisbursementSpec,
        ErrorType,
        FollowupRecord,
        MortgageInput,
        MortgageResult,
        MortgageStage,
        MortgageStatus,
        RuleHitRecord,
        StageChange,
        StartRefundCase,
        WarningEscalation,
        WarningSpec,
        china_date,
    )

S = MortgageStage
ACTIVITY_TIMEOUT = timedelta(seconds=30)
ACTIVITY_RETRY = RetryPolicy(maximum_attempts=10, maximum_interval=timedelta(seconds=30))
# A person's step is written by a normal activity, dispatched only once the update's acceptance is in
# history (a local activity would commit before it); it retries until PostgreSQL answers.
STEP_AFTER_ACCEPT = "step-write-after-accept"
STEP_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=10))
# One short transaction: an attempt lost with a killed worker is retried after this, not after 30 s.
STEP_TIMEOUT = timedelta(seconds=10)

# Issue 15: the documents deadline comes in the input (working days after the request date, counted by the
# API on the calendar in force) instead of calendar days from the start.
DOCUMENTS_DUE_IN_INPUT = "mortgage-documents-due-in-input"

NEXT: dict[MortgageStage, tuple[MortgageStage, ...]] = {
    S.AWAITING_DOCUMENTS: (S.DOCUMENTS_COMPLETE,),
    S.DOCUMENTS_COMPLETE: (S.SIGNED,),
    S.SIGNED: (S.UNDER_REVIEW,),
    S.UNDER_REVIEW: (S.APPROVED, S.REJECTED),
    S.APPROVED: (S.REGISTERING,),
    S.REGISTERING: (S.DISBURSED,),
    S.REJECTED: (),
    S.DISBURSED: (),
}
FINAL = {S.REJECTED, S.DISBURSED}
# Sales collects documents and accompanies the signing; finance deals with the bank.
ROLES: dict[MortgageStage, frozenset[str]] = {
    S.DOCUMENTS_COMPLETE: frozenset({"sales", "finance"}),
    S.SIGNED: frozenset({"sales", "finance"}),
    S.UNDER_REVIEW: frozenset({"finance"}),
    S.APPROVED: frozenset({"finance"}),
    S.REJECTED: frozenset({"finance"}),
    S.REGISTERING: frozenset({"finance"}),
    S.DISBURSED: frozenset({"finance"}),
}


def _err(kind: ErrorType, msg: str) -> ApplicationError:
    return ApplicationError(msg, type=kind, non_retryable=True)


@workflow.defn
class MortgageWorkflow:
    @workflow.init
    def __init__(self, inp: MortgageInput) -> None:
        self._inp = inp
        self._id = f"mortgage-{inp.loan_id}"
        self._stage = S.AWAITING_DOCUMENTS
        self._busy = False
        self._overrides = {e.day: e.is_workday for e in inp.calendar_overrides}
        self._docs_expected_by = documents_expected_by(china_date(inp.opened_at), inp.documents_max_days)
        self._approval_expected_by: date | None = None
        self._warning_key: str | None = None
        self._escalated = False
        self._rejection_cause = ""

    @workflow.run
    async def run(self, inp: MortgageInput) -> MortgageResult:
        if inp.documents_due is not None and workflow.patched(DOCUMENTS_DUE_IN_INPUT):
            self._docs_expected_by = inp.documents_due  # working days after the request date (the API's count)
        await self._write(self._record("opened", "opened", "system", stage=S.AWAITING_DOCUMENTS, actions=(
            ActionSpec(key="collect_documents", kind="collect_documents", role="sales",
                       message=f"collect the mortgage documents by {self._docs_expected_by.isoformat()}"),
        )))
        await self._watch_documents()
        await workflow.wait_condition(lambda: self._stage in FINAL)
        await workflow.wait_condition(workflow.all_handlers_finished)
        if (self._stage == S.REJECTED and self._inp.subscription_id is not None
                and workflow.patched("mortgage-rejection-starts-refund-case")):
            await self._start_refund_case()
        return MortgageResult(inp.loan_id, self._stage, self._warning_key is not None, self._escalated)

    async def _watch_documents(self) -> None:
        """Documents late by more than 5 working days → a warning; unanswered by its deadline → escalate."""
        docs_in = lambda: self._stage != S.AWAITING_DOCUMENTS  # noqa: E731
        try:
            late_on = documents_late_on(self._docs_expected_by, overrides=self._overrides)
        except CalendarNotCovered as err:
            await self._calendar_not_covered(err)
            return
        if await self._wait(docs_in, datetime.combine(late_on, time(0), CHINA)):
            return
        now = workflow.now()
        try:
            hit = mortgage_documents_late_rule(expected_by=self._docs_expected_by, today=china_date(now),
                                               documents_complete=False, overrides=self._overrides)
        except CalendarNotCovered as err:
            await self._calendar_not_covered(err)
            return
        decision = warning_level([hit] if hit else [], False, raised_at=now)
        if decision is None:  # cannot happen after the timer, kept for safety under overrides edits
            return
        key = f"{self._id}:{hit.rule}"
        await self._write(self._record("warning:documents_late", "warning", "system", warning=WarningSpec(
            warning_key=key, level=decision.level, risk_score=decision.risk_score, raised_at=now,
            rules=tuple(RuleHitRecord(h.rule, h.score, h.detail) for h in decision.fired),
            response_due=decision.response_due, respond_role=decision.respond_role, escalate_to=decision.escalate_to,
        ), actions=(
            ActionSpec(key=f"warning:{hit.rule}", kind="warning", role=decision.respond_role, due_at=decision.response_due,
                       message=f"{decision.level} warning: {hit.detail}; respond by {decision.response_due.isoformat()}"),
        )))
        self._warning_key = key
        # Escalation is driven from here for this signal: at the deadline, escalate if nobody responded
        # (the activity checks `responded_at` in its transaction). Documents arriving first clear the signal.
        if await self._wait(docs_in, decision.response_due):
            return
        result = await self._write(self._record("escalation:documents_late", "warning_escalation", "system",
                                                escalation=WarningEscalation(key)))
        self._escalated = result.escalated

    async def _wait(self, condition, until: datetime) -> bool:
        """True when `condition` held before `until`."""
        remaining = until - workflow.now()
        if remaining > timedelta(0):
            try:
                await workflow.wait_condition(condition, timeout=remaining)
            except asyncio.TimeoutError:
                pass
        return condition()

    async def _start_refund_case(self) -> None:
        """A rejection: start the refund case with the cause as its origin (the offer to-do stays recorded)."""
        origin = f"loan_rejected: {self._rejection_cause}"
        try:
            case_id = await workflow.execute_activity(
                "start_refund_from_followup", StartRefundCase(self._id, self._inp.subscription_id, origin),
                result_type=str, start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=ACTIVITY_RETRY,
            )
        except ActivityError as err:
            # Not startable (e.g. the subscription is no longer active): the offer to-do is left to a person.
            workflow.logger.warning("%s: refund case not started: %s", self._id, err.cause or err)
            await self._write(self._record("refund_case_failed", "refund_case_not_started", "system",
                                           detail={"origin": origin, "error": str(err.cause or err)}))
            return
        await self._write(self._record("refund_case", "refund_case_started", "system",
                                       detail={"case_id": case_id, "origin": origin,
                                               "subscription_id": self._inp.subscription_id}))

    async def _calendar_not_covered(self, err: CalendarNotCovered) -> None:
        await self._write(self._record("calendar_not_covered", "calendar_not_covered", "system", actions=(
            ActionSpec(key="calendar_not_covered", kind="calendar", role="ops", message=str(err)),
        )))

    def _record(self, event_key: str, event: str, actor: str, **kw) -> FollowupRecord:
        return FollowupRecord(followup_id=self._id, kind="mortgage", event_key=event_key, event=event, actor=actor,
                              at=workflow.now(), customer_id=self._inp.customer_id, **kw)

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

    def _status(self) -> MortgageStatus:
        return MortgageStatus(self._inp.loan_id, self._stage, self._docs_expected_by, self._approval_expected_by,
                              self._warning_key)

    @workflow.query
    def status(self) -> MortgageStatus:
        return self._status()

    @workflow.update
    async def advance(self, change: StageChange) -> MortgageStatus:
        self._check(change)  # again: two updates in one workflow task both passed their validators
        self._busy = True
        try:
            rec = self._stage_record(change)
            await self._write(rec, human=True)
        except ActivityError as err:
            raise _err(ErrorType.CONFLICT, f"stage change not recorded: {err.cause or err}") from None
        finally:
            self._busy = False
        if change.to_stage == S.REJECTED:
            self._rejection_cause = change.rejection_cause
        if rec.detail.get("approval_expected_by"):
            self._approval_expected_by = date.fromisoformat(rec.detail["approval_expected_by"])
        self._stage = change.to_stage
        return self._status()

    @advance.validator
    def _validate_advance(self, change: StageChange) -> None:
        self._check(change)

    def _check(self, change: StageChange) -> None:
        to = MortgageStage(change.to_stage)
        if self._stage in FINAL:
            raise _err(ErrorType.CONFLICT, f"the mortgage case is closed ({self._stage})")
        if self._busy:
            raise _err(ErrorType.CONFLICT, "another stage change is being recorded; try again")
        if to not in NEXT[self._stage]:
            allowed = " or ".join(NEXT[self._stage])
            raise _err(ErrorType.CONFLICT, f"from {self._stage} the next stage is {allowed}, not {to}")
        if change.actor.role not in ROLES[to]:
            raise _err(ErrorType.FORBIDDEN, f"role {change.actor.role} may not record {to}; allowed: "
                       + ", ".join(sorted(ROLES[to])))
        if to == S.REJECTED and not change.rejection_cause.strip():
            raise _err(ErrorType.INVALID, "a rejection needs the bank's cause")
        if to == S.DISBURSED:
            amount = change.disbursed_amount
            if amount is None or isinstance(amount, float) or amount <= 0:
                raise _err(ErrorType.INVALID, "a disbursement needs a positive amount (Decimal)")
            if change.disbursed_on is None:
                raise _err(ErrorType.INVALID, "a disbursement needs its date")

    def _stage_record(self, change: StageChange) -> FollowupRecord:
        to = MortgageStage(change.to_stage)
        detail: dict = {"from": str(self._stage), "to": str(to), "role": change.actor.role, "note": change.note}
        actions: list[ActionSpec] = []
        disbursement = None
        if to == S.UNDER_REVIEW:
            try:
                due = approval_expected_by(china_date(workflow.now()), self._inp.approval_max_working_days,
                                           overrides=self._overrides)
                detail["approval_expected_by"] = due.isoformat()
            except CalendarNotCovered as err:
                actions.append(ActionSpec(key="calendar_not_covered:approval", kind="calendar", role="ops",
                                          message=str(err)))
        if to == S.REJECTED:
            detail["rejection_cause"] = change.rejection_cause
            # The offer, with the cause, is recorded for a person; with a subscription id in the input, run()
            # also starts the refund case (patch "mortgage-rejection-starts-refund-case").
            actions.append(ActionSpec(
                key="offer_refund", kind="offer_refund", role="manager",
                message=f"loan {self._inp.loan_id} rejected by {self._inp.bank}: {change.rejection_cause}; "
                        "offer the buyer the refund path",
                detail={"cause": change.rejection_cause, "loan_id": self._inp.loan_id,
                        "contract_ref": self._inp.contract_ref, "customer_id": self._inp.customer_id},
            ))
        if to == S.DISBURSED:
            detail["amount"] = str(change.disbursed_amount)
            disbursement = DisbursementSpec(
                self._inp.loan_id, change.disbursed_amount, change.disbursed_on,
                subscription_id=self._inp.subscription_id, recorded_by_user_id=change.actor.user_id,
            )
        return self._record(
            f"stage:{to}", "stage", change.actor.username, stage=to, detail=detail, actions=tuple(actions),
            close_actions=("collect_documents",) if to == S.DOCUMENTS_COMPLETE else (),
            disbursement=disbursement,
        )
