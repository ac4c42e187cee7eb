"""The refund / cancellation emergency (突发退房) as one durable workflow per case.

Orchestration only: human steps arrive as updates (validated, then written through one activity
each), SLA timers race them, the rules come from domain/. Deterministic: no I/O, no wall clock.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Callable

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.refund import (
        OptionKind,
        PolicyError,
        RefundQuote,
        RefundRoute,
        archive_deadline,
        case_deadlines,
        check_offer,
        escalation_codes,
        escalation_reasons,
        quote_refund,
    )
    from domain.messages import recognise
    from domain.sla import escalation_roles
    from workflows.contracts import (
        DEPARTMENTS,
        Actor,
        ArchiveSubmission,
        AssessmentReturn,
        AssessmentSubmission,
        BuyerChoice,
        BuyerRefusal,
        CaseWithdrawal,
        CasePatch,
        CaseResult,
        CompletionSpec,
        ContractCancellation,
        ErrorType,
        GmDecision,
        IntakeRecord,
        IntakeSubmission,
        LossRevision,
        NotificationSpec,
        OfferedOption,
        RefundCaseInput,
        RefundInstructionSpec,
        RetentionDraw,
        SlaBreachSpec,
        SolutionOffer,
        StepRecord,
        StepResult,
        TaskSpec,
        TransferSpec,
        VoidDecision,
        VoidRequest,
    )
    from domain.refund import speedup_minutes, working_day_deadline

ACTIVITY_TIMEOUT = timedelta(seconds=30)
# Patch ids: runs started before a change replay the old branch (tests/histories/ holds each kind).
LOCAL_APPLY_STEP = "apply-step-local-activity"
# A human step's write runs as a normal activity, which the server dispatches only once the workflow task
# that accepted the update is in history: PostgreSQL never holds a step that the history does not.
STEP_AFTER_ACCEPT = "step-write-after-accept"
ACTIVITY_RETRY = RetryPolicy(maximum_attempts=10, maximum_interval=timedelta(seconds=30))
# A step write retries until PostgreSQL is back (only a business refusal is final): an update whose
# acceptance is in history must end written, never half-done.
STEP_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=10))
# One short transaction: an attempt lost with a killed worker is retried after this, not after 30 s.
STEP_TIMEOUT = timedelta(seconds=10)
# Issue 14: a lowered loss releases a GM step no longer needed (and the finance assessment shows the revised
# loss); the buyer's choice and the online-contract cancellation run on clocks.
LOSS_BOTH_WAYS = "loss-revision-both-ways"
CHOICE_CLOCK = "choice-and-cancellation-clocks"
# The case's escalation reasons are also written as stable codes with parameters (shown by code, in zh or en).
ESCALATION_CODES = "escalation-reason-codes"
WITHDRAW_ROLES = {"frontdesk", "manager"}
VOID_DECIDERS = {"manager", "citygm"}

INTAKE_ROLES = {"frontdesk", "sales", "manager"}
CHOICE_ROLES = {"manager", "frontdesk"}
OPINION_RISKS = {"low", "medium", "high"}
WILLINGNESS = {"yes", "no", "negotiate"}


def _refusal(msg: str, kind: str) -> ApplicationError:
    """A refusal with its stable code and parameters (domain/messages.py) as the error's details, so the API and
    the web app word it in the reader's language; a message the catalogue does not know goes as it is."""
    found = recognise(msg)
    details = ({"key": found[0], "params": found[1]},) if found else ()
    return ApplicationError(msg, *details, type=kind, non_retryable=True)


def _forbidden(msg: str) -> ApplicationError:
    return _refusal(msg, ErrorType.FORBIDDEN)


def _conflict(msg: str) -> ApplicationError:
    return _refusal(msg, ErrorType.CONFLICT)


def _invalid(msg: str) -> ApplicationError:
    return _refusal(msg, ErrorType.INVALID)


def _iso(d: datetime | None) -> str | None:
    return d.isoformat() if d else None


def _money_str(v: Decimal | None) -> str | None:
    return None if v is None else f"{v:.2f}"


@workflow.defn
class RefundCaseWorkflow:
    @workflow.init
    def __init__(self, inp: RefundCaseInput) -> None:
        self._inp = inp
        self._deadlines = case_deadlines(inp.policy, inp.registered_at, inp.speedup)
        self._stage = "intake"
        self._claimed: set[str] = set()  # steps taken or in flight: refuses duplicates
        self._participants: set[int] = {inp.registered_by.user_id}  # four eyes
        self._intake: IntakeSubmission | None = None
        self._assessments: dict[str, AssessmentSubmission] = {}
        self._loss_total: Decimal | None = None
        self._proposed_share: Decimal | None = None
        self._gm_round = 0
        self._gm_approved_loss: Decimal | None = None
        self._gm_approved_share: Decimal | None = None
        self._gm_rejected = False
        self._offer: tuple[OfferedOption, ...] | None = None
        self._choice: BuyerChoice | None = None
        self._contract_cancelled = False
        self._calendar_gaps: set[str] = set()  # working-day clocks counted in calendar days (no data)
        self._outcome_at: datetime | None = None
        self._archive_due: datetime | None = None
        self._closed = False
        self._escalation_level = 0
        self._breaches: list[str] = []
        self._refund_amount: Decimal | None = None
        # Issue 14: ways out and back.
        self._ended: str | None = None  # withdrawn | voided
        self._void_request: VoidRequest | None = None
        self._void_round = 0
        self._offer_round = 1  # the buyer may refuse up to policy.max_offer_rounds offers
        self._disputed = False  # every offer refused: the legal route
        self._solution_seq = 0  # a solution task cancelled (a return, a released GM step) gets a new key
        self._choice_seq = 0
        self._rework: dict[str, int] = {}  # department → times its assessment was returned
        self._corrections = 0

    # ------------------------------------------------------------------ run

    @workflow.run
    async def run(self, inp: RefundCaseInput) -> CaseResult:
        await self._sla("intake", lambda: self._intake is not None or self._ended is not None, self._deadlines.intake)
        await asyncio.gather(
            *(
                self._sla(f"assessment:{d}", lambda d=d: d in self._assessments or self._ended is not None,
                          self._deadlines.assessment)
                for d in DEPARTMENTS
            )
        )
        await self._sla("solution", lambda: self._offer is not None or self._gm_rejected or self._ended is not None,
                        self._deadlines.solution)
        await workflow.wait_condition(lambda: self._archive_due is not None)
        assert self._archive_due is not None
        await self._sla("archive", lambda: self._closed or self._ended == "voided", self._archive_due)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return CaseResult(
            case_id=inp.case_id,
            path=self._path(),
            refund_amount=self._refund_amount,
            escalation_level=self._escalation_level,
            breaches=tuple(self._breaches),
        )

    async def _sla(self, sla: str, done: Callable[[], bool], due: datetime) -> None:
        """Race the step against its deadline; when late, escalate once and keep waiting."""
        remaining = (due - workflow.now()).total_seconds()
        if remaining > 0:
            try:
                await workflow.wait_condition(done, timeout=timedelta(seconds=remaining), timeout_summary=sla)
                return
            except asyncio.TimeoutError:
                pass
        elif done():
            return
        await self._breach(sla, due)
        await workflow.wait_condition(done)

    async def _breach(self, sla: str, due: datetime) -> None:
        self._escalation_level += 1
        self._breaches.append(sla)
        roles = escalation_roles(self._escalation_level)
        now = workflow.now()
        msg = f"案件 {self._inp.case_no}: {sla} 超时 (due {due.isoformat()}), escalation level {self._escalation_level}"
        await self._write(
            StepRecord(
                case_id=self._inp.case_id,
                event_key=f"sla_breach:{sla}",
                kind="sla_breach",
                actor="system",
                at=now,
                detail={"sla": sla, "due_at": due.isoformat(), "escalated_to": list(roles)},
                open_tasks=(
                    TaskSpec(
                        key=f"escalation:{sla}",
                        kind="escalation",
                        role="manager",
                        title=f"超时升级处理：{sla} — 案件 {self._inp.case_no}",
                        # Answered by its deadline (a task's payload: runs recorded before replay unchanged).
                        due_at=self._in(self._inp.policy.escalation_response_minutes),
                    ),
                ),
                notifications=tuple(NotificationSpec(key=f"breach:{sla}:{r}", role=r, message=msg) for r in roles),
                patch=CasePatch(escalation_level=self._escalation_level),
                breach=SlaBreachSpec(sla=sla, due_at=due, breached_at=now, escalated_to=",".join(roles)),
            )
        )

    async def _write(self, record: StepRecord, *, human: bool = False) -> None:
        if human and workflow.patched(STEP_AFTER_ACCEPT):
            await workflow.execute_activity(
                "apply_step", record, start_to_close_timeout=STEP_TIMEOUT, retry_policy=STEP_RETRY
            )
            return
        if workflow.patched(LOCAL_APPLY_STEP):
            # A write the workflow itself decides (an SLA timer fired): its cause is already in history, so a
            # local activity inside the same workflow task is safe — a lost task completion re-runs it, and
            # the write is idempotent on (case, step).
            await workflow.execute_local_activity(
                "apply_step",
                record,
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=STEP_RETRY if workflow.patched(STEP_AFTER_ACCEPT) else ACTIVITY_RETRY,
            )
            return
        await workflow.execute_activity(
            "apply_step",
            record,
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
        )

    async def _step(self, key: str, record: StepRecord, message: str, actor: Actor | None = None) -> StepResult:
        """Write a human step; on a business refusal from the activity, free the step and refuse. A substitute's
        step names the colleague they act for in its event (detail.on_behalf_of), for the timeline."""
        if actor is not None and actor.on_behalf_of_username:
            record = dataclasses.replace(record, detail={**record.detail, "on_behalf_of": actor.on_behalf_of_username})
        try:
            await self._write(record, human=True)
        except Exception as err:
            self._claimed.discard(key)
            cause = err.cause if isinstance(err, ActivityError) else err
            if isinstance(cause, ApplicationError) and cause.non_retryable:
                raise ApplicationError(cause.message, type=cause.type, non_retryable=True) from None
            raise
        return StepResult(case_id=self._inp.case_id, stage=self._stage, message=message)

    def _claim(self, key: str) -> None:
        # Validators can pass two identical updates delivered together; the handler settles it.
        if key in self._claimed:
            raise _conflict(f"step {key} has already been submitted")
        self._claimed.add(key)

    def _clock(self, name: str, done: Callable[[], bool], due: datetime) -> None:
        """A clock started by a step (the buyer's choice, a rework, a new offer): it races the step like the
        four clocks of run() and escalates on breach. Started only by new steps or behind a patch, so runs
        recorded before it replay unchanged."""
        asyncio.create_task(self._sla(name, done, due))

    def _in(self, minutes: int) -> datetime:
        return workflow.now() + speedup_minutes(minutes, self._inp.speedup)

    def _due(self, clock: str) -> datetime:
        """A post-offer clock of the policy (choice, contract_cancellation, refund_payment): its minutes, or the
        statutory working days where the policy counts them so (24:00 China time of the last one; a drill's
        speed-up shortens the span). Runs whose policy has no working days get exactly `_in(minutes)`."""
        policy = self._inp.policy
        days = getattr(policy, f"{clock}_working_days", None)
        if not days:
            return self._in(getattr(policy, f"{clock}_minutes"))
        now = workflow.now()
        overrides = {date.fromisoformat(day): working for day, working in self._inp.calendar_overrides}
        end, covered = working_day_deadline(now, days, overrides=overrides)
        if not covered:
            self._calendar_gaps.add(clock)
        return now + (end - now) / self._inp.speedup

    def _calendar_note(self, clock: str) -> dict:
        """Said in the step's event when the calendar data did not cover a working-day clock."""
        if clock not in self._calendar_gaps:
            return {}
        return {"calendar_not_covered": sorted(self._calendar_gaps)}

    def _over(self) -> bool:
        """The case has an outcome (or ended): nothing before the outcome may change any more."""
        return self._ended is not None or self._choice is not None or self._gm_rejected or self._disputed

    def _assessment_key(self, dept: str) -> str:
        n = self._rework.get(dept, 0)
        return f"assessment:{dept}" if n == 0 else f"assessment:{dept}:{n}"

    def _solution_key(self) -> str:
        return "solution" if self._solution_seq == 0 else f"solution:{self._solution_seq}"

    def _choice_key(self) -> str:
        return "choice" if self._choice_seq == 0 else f"choice:{self._choice_seq}"

    # ------------------------------------------------------------ queries

    @workflow.query
    def stage(self) -> str:
        return self._stage

    # ------------------------------------------------------------ intake

    @workflow.update
    async def submit_intake(self, sub: IntakeSubmission) -> StepResult:
        self._claim("intake")
        self._intake = sub
        self._participants |= sub.actor.people
        self._stage = "assessment"
        now = workflow.now()
        tasks = tuple(
            TaskSpec(
                key=f"assessment:{d}",
                kind="assessment",
                role=d,
                title=f"联席评估 ({d}) — 案件 {self._inp.case_no}",
                due_at=self._deadlines.assessment,
            )
            for d in DEPARTMENTS
        )
        record = StepRecord(
            case_id=self._inp.case_id,
            event_key="intake",
            kind="intake",
            actor=sub.actor.username,
            at=now,
            detail={"reasons": list(sub.reasons), "willing_to_consider": sub.willing_to_consider},
            close_tasks=("intake",),
            completed_by=sub.actor.user_id,
            open_tasks=tasks,
            patch=CasePatch(stage="assessment"),
            intake=IntakeRecord(
                reasons=sub.reasons,
                reason_text=sub.reason_text,
                willing_to_consider=sub.willing_to_consider,
                id_verified=sub.id_verified,
                phone_verified=sub.phone_verified,
                recording_ref=sub.recording_ref,
                submitted_by=sub.actor.user_id,
                submitted_at=now,
            ),
        )
        return await self._step("intake", record, "intake recorded; assessment tasks sent", sub.actor)

    @submit_intake.validator
    def _validate_intake(self, sub: IntakeSubmission) -> None:
        if sub.actor.role not in INTAKE_ROLES:
            raise _forbidden(f"role {sub.actor.role} may not fill the intake form")
        if sub.actor.user_id == self._inp.consultant_id:
            raise _forbidden("the consultant who sold this unit may not take the refund intake")
        if "intake" in self._claimed:
            raise _conflict("the intake form has already been submitted")
        if not sub.reasons:
            raise _invalid("choose at least one main reason")
        if sub.willing_to_consider not in WILLINGNESS:
            raise _invalid("willingness to consider alternatives must be yes, no or negotiate")
        if not (sub.id_verified and sub.phone_verified):
            raise _invalid("the buyer's ID and phone must be verified before the form is uploaded")

    # ------------------------------------------------------------ assessment

    @workflow.update
    async def submit_assessment(self, sub: AssessmentSubmission) -> StepResult:
        dept = sub.actor.role
        key = self._assessment_key(dept)
        self._claim(key)
        self._assessments[dept] = sub
        self._participants |= sub.actor.people
        if dept == "finance":
            assert sub.loss is not None
            self._loss_total = sub.loss.total
            self._proposed_share = sub.proposed_share
        now = workflow.now()
        patch_kwargs: dict = {"assessments": self._assessment_view()}
        open_tasks: tuple[TaskSpec, ...] = ()
        close = (key,)
        if len(self._assessments) == len(DEPARTMENTS):
            open_tasks = self._after_assessment()
            patch_kwargs.update(
                stage=self._stage,
                needs_gm=self._gm_required(),
                escalation_reasons=self._escalation_reasons(),
                loss_total=self._loss_total,
                **self._codes(),
            )
        elif dept == "finance":
            patch_kwargs["loss_total"] = self._loss_total
        record = StepRecord(
            case_id=self._inp.case_id,
            event_key=key,
            kind="assessment",
            actor=sub.actor.username,
            at=now,
            detail=self._assessment_view()[dept],
            close_tasks=close,
            completed_by=sub.actor.user_id,
            open_tasks=open_tasks,
            patch=CasePatch(**patch_kwargs),
        )
        return await self._step(key, record, f"{dept} assessment recorded", sub.actor)

    @submit_assessment.validator
    def _validate_assessment(self, sub: AssessmentSubmission) -> None:
        dept = sub.actor.role
        if dept not in DEPARTMENTS:
            raise _forbidden(f"role {dept} does not take part in the joint assessment")
        if self._intake is None:
            raise _conflict("the intake form has not been submitted yet")
        if self._ended is not None:
            raise _conflict(f"the case was {self._ended}")
        if self._assessment_key(dept) in self._claimed:
            raise _conflict(f"{dept} has already submitted its assessment; finance may revise the loss instead")
        if sub.actor.people & (self._assessor_ids() | {self._inp.registered_by.user_id}):
            raise _forbidden("one person may give only one part of the assessment and may not assess their own case")
        self._check_content(dept, sub)

    def _check_content(self, dept: str, sub: AssessmentSubmission) -> None:
        """What each department's assessment must say (given first, or corrected)."""
        if dept == "finance":
            if sub.loss is None:
                raise _invalid("finance must give the economic loss (commission, advertising, opportunity cost)")
            self._check_loss(sub.loss, sub.proposed_share)
        if dept == "legal" and sub.fault is None:
            raise _invalid("legal must state the fault: buyer, neither or developer")
        if dept == "marketing" and sub.opinion_risk not in OPINION_RISKS:
            raise _invalid("marketing must rate the public-opinion risk: low, medium or high")

    def _check_loss(self, loss, share: Decimal | None) -> None:
        for name in ("commission_accrued", "advertising_allocation", "opportunity_cost"):
            if getattr(loss, name) < 0:
                raise _invalid(f"{name} may not be negative")
        if share is not None and not (Decimal("0") <= share <= Decimal("1")):
            raise _invalid("the proposed refund share must be between 0 and 1")
        if share is not None:
            tier = self._inp.policy.tier_for(self._inp.contract.stage)
            if tier is not None and share < tier.min_share:
                raise _invalid(
                    f"the proposed share {share:.0%} is below the published minimum {tier.min_share:.0%}"
                )

    def _assessor_ids(self) -> set[int]:
        return {i for a in self._assessments.values() for i in a.actor.people}

    def _assessment_view(self) -> dict[str, dict]:
        view: dict[str, dict] = {}
        for dept, a in self._assessments.items():
            item: dict = {"by": a.actor.username, "note": a.note}
            if a.loss is not None:
                item["loss"] = {
                    "commission_accrued": _money_str(a.loss.commission_accrued),
                    "advertising_allocation": _money_str(a.loss.advertising_allocation),
                    "opportunity_cost": _money_str(a.loss.opportunity_cost),
                    "total": _money_str(a.loss.total),
                }
                item["proposed_share"] = None if a.proposed_share is None else str(a.proposed_share)
                item["contract_confirmed"] = a.contract_confirmed
            if a.fault is not None:
                item["fault"] = str(a.fault)
            if dept == "marketing":
                item.update(
                    opinion_risk=a.opinion_risk, media_involved=a.media_involved, group_complaint=a.group_complaint
                )
            view[dept] = item
        return view

    # ------------------------------------------------------------ escalation

    def _media_involved(self) -> bool:
        m = self._assessments.get("marketing")
        return bool(m and m.media_involved)

    def _quote(self) -> RefundQuote | None:
        legal = self._assessments.get("legal")
        if legal is None or legal.fault is None:
            return None
        c = self._inp.contract
        return quote_refund(
            self._inp.policy,
            stage=c.stage,
            deposit_kind=c.deposit_kind,
            fault=legal.fault,
            paid_amount=c.paid_amount,
            deposit_amount=c.deposit_amount,
            proposed_share=self._proposed_share,
        )

    def _escalation_reasons(self) -> tuple[str, ...]:
        quote = self._quote()
        return escalation_reasons(
            self._inp.policy,
            loss_total=self._loss_total,
            media_involved=self._media_involved(),
            share_above_tier=bool(quote and quote.needs_gm),
        )

    def _codes(self) -> dict:
        """The patch's escalation codes, for runs that reach this code after the change."""
        if not workflow.patched(ESCALATION_CODES):
            return {}
        quote = self._quote()
        return {"escalation_codes": escalation_codes(self._inp.policy, loss_total=self._loss_total,
                                                     media_involved=self._media_involved(),
                                                     share_above_tier=bool(quote and quote.needs_gm))}

    def _gm_required(self) -> bool:
        return bool(self._escalation_reasons())

    def _gm_satisfied(self) -> bool:
        """An approval covers the loss and share it saw; a later increase needs a new one."""
        if not self._gm_required():
            return True
        if self._gm_approved_loss is None:
            return False
        loss_ok = (self._loss_total or Decimal("0")) <= self._gm_approved_loss
        share_ok = (self._proposed_share or Decimal("0")) <= (self._gm_approved_share or Decimal("0"))
        return loss_ok and share_ok

    def _gm_task(self) -> TaskSpec:
        self._gm_round += 1
        return TaskSpec(
            key=f"gm_approval:{self._gm_round}",
            kind="gm_approval",
            role="citygm",
            title=f"城市公司总经理审批 — 案件 {self._inp.case_no}: " + "; ".join(self._escalation_reasons()),
            due_at=self._deadlines.solution,
        )

    def _after_assessment(self) -> tuple[TaskSpec, ...]:
        if not self._gm_satisfied():
            self._stage = "gm_approval"
            return (self._gm_task(),)
        self._stage = "solution"
        return (self._solution_task(),)

    def _solution_task(self) -> TaskSpec:
        return TaskSpec(
            key=self._solution_key(),
            kind="solution",
            role="manager",
            title=f"提出解决方案 (至少两种) — 案件 {self._inp.case_no}",
            due_at=self._deadlines.solution if self._offer_round == 1 else self._in(self._inp.policy.solution_minutes),
        )

    @workflow.update
    async def revise_loss(self, rev: LossRevision) -> StepResult:
        key = f"loss_revision:{len([k for k in self._claimed if k.startswith('loss_revision')]) + 1}"
        self._claim(key)
        previous = self._loss_total
        self._loss_total = rev.loss.total
        if rev.proposed_share is not None:
            self._proposed_share = rev.proposed_share
        open_tasks: tuple[TaskSpec, ...] = ()
        cancel: tuple[str, ...] = ()
        released = False
        if workflow.patched(LOSS_BOTH_WAYS):
            # One loss: the finance assessment shows the revised figures; escalation re-evaluated both ways.
            fin = self._assessments["finance"]
            self._assessments["finance"] = dataclasses.replace(fin, loss=rev.loss, proposed_share=self._proposed_share)
            open_tasks, cancel, released = self._reevaluate()
        elif not self._gm_satisfied() and self._stage in ("solution", "choice"):
            # Re-evaluated: the case now needs (another) city GM approval before anything executes.
            open_tasks = (self._gm_task(),)
            if self._stage == "solution":
                self._stage = "gm_approval"
        record = StepRecord(
            case_id=self._inp.case_id,
            event_key=key,
            kind="loss_revision",
            actor=rev.actor.username,
            at=workflow.now(),
            detail={
                "from": _money_str(previous),
                "to": _money_str(self._loss_total),
                "proposed_share": None if self._proposed_share is None else str(self._proposed_share),
                "note": rev.note,
                **({"gm_released": True} if released else {}),
            },
            open_tasks=open_tasks,
            patch=CasePatch(
                stage=self._stage,
                loss_total=self._loss_total,
                needs_gm=self._gm_required(),
                escalation_reasons=self._escalation_reasons(),
                **({"assessments": self._assessment_view()} if workflow.patched(LOSS_BOTH_WAYS) else {}),
                **self._codes(),
            ),
            cancel_tasks=cancel,
        )
        return await self._step(key, record, "loss revised; escalation re-evaluated", rev.actor)

    def _reevaluate(self) -> tuple[tuple[TaskSpec, ...], tuple[str, ...], bool]:
        """After a changed loss or opinion, before anything executes: a case that now needs the city GM goes to
        them (again); a case waiting for the GM that no longer needs them is released to the solution — the GM
        would approve a settlement the rules no longer ask them about. (open tasks, cancelled tasks, released)"""
        if len(self._assessments) < len(DEPARTMENTS) or self._over():
            return (), (), False
        if not self._gm_satisfied():
            if self._stage == "solution":
                self._stage = "gm_approval"
                cancelled = (self._solution_key(),)
                self._solution_seq += 1
                return (self._gm_task(),), cancelled, False
            if self._stage == "choice":
                return (self._gm_task(),), (), False
            return (), (), False
        if self._stage == "gm_approval":
            key = f"gm_approval:{self._gm_round}"
            self._claimed.add(key)  # nobody decides a released GM step
            self._stage = "solution" if self._offer is None else "choice"
            return ((self._solution_task(),) if self._offer is None else ()), (key,), True
        return (), (), False

    @revise_loss.validator
    def _validate_revision(self, rev: LossRevision) -> None:
        if rev.actor.role != "finance":
            raise _forbidden("only finance may revise the economic loss")
        if "assessment:finance" not in self._claimed:
            raise _conflict("finance has not submitted its assessment yet")
        if self._choice is not None or self._gm_rejected:
            raise _conflict("the buyer's choice has been executed; the loss can no longer change this case")
        self._check_loss(rev.loss, rev.proposed_share)

    @workflow.update
    async def decide_gm(self, dec: GmDecision) -> StepResult:
        key = f"gm_approval:{self._gm_round}"
        self._claim(key)
        close = (key,)
        open_tasks: tuple[TaskSpec, ...] = ()
        patch: dict = {}
        if dec.approve:
            self._gm_approved_loss = self._loss_total or Decimal("0")
            self._gm_approved_share = self._proposed_share or Decimal("0")
            if self._offer is None:
                self._stage = "solution"
                open_tasks = (self._solution_task(),)
            patch["stage"] = self._stage
        else:
            # The site may not settle it: the case goes the legal route, then archive.
            self._gm_rejected = True
            self._stage = "archive"
            self._outcome_at = workflow.now()
            self._archive_due = archive_deadline(self._inp.policy, self._outcome_at, self._inp.speedup)
            open_tasks = (self._archive_task(),)
            patch.update(
                stage="archive",
                outcome={"path": "legal", "reason": "city GM did not approve a site settlement", "note": dec.note},
                deadlines=self._deadline_view(),
            )
        record = StepRecord(
            case_id=self._inp.case_id,
            event_key=key,
            kind="gm_decision",
            actor=dec.actor.username,
            at=workflow.now(),
            detail={"approve": dec.approve, "note": dec.note, "reasons": list(self._escalation_reasons())},
            close_tasks=close,
            completed_by=dec.actor.user_id,
            open_tasks=open_tasks,
            patch=CasePatch(**patch),
        )
        return await self._step(key, record, "approved" if dec.approve else "rejected: legal route", dec.actor)

    @decide_gm.validator
    def _validate_gm(self, dec: GmDecision) -> None:
        if dec.actor.role not in ("citygm", "hqrisk"):  # HQ risk control when every city GM is conflicted
            raise _forbidden("only the city-company general manager decides escalated cases")
        if self._gm_round == 0 or f"gm_approval:{self._gm_round}" in self._claimed:
            raise _conflict("this case is not waiting for a city GM decision")
        if dec.actor.people & self._participants:
            raise _forbidden("four eyes: whoever registered or assessed this case may not approve it")

    # ------------------------------------------------------------ solution and choice

    @workflow.update
    async def offer_solution(self, offer: SolutionOffer) -> StepResult:
        key = self._solution_key()
        self._claim(key)
        quote = self._quote()
        options = tuple(self._priced(o, quote) for o in offer.options)
        self._offer = options
        self._stage = "choice"
        choice_key = self._choice_key()
        due = self._due("choice") if workflow.patched(CHOICE_CLOCK) else None
        record = StepRecord(
            case_id=self._inp.case_id,
            event_key=key,
            kind="solution",
            actor=offer.actor.username,
            at=workflow.now(),
            detail={"options": [o.kind.value for o in options], **({"round": self._offer_round} if self._offer_round > 1 else {}),
                    **self._calendar_note("choice")},
            close_tasks=(key,),
            completed_by=offer.actor.user_id,
            open_tasks=(
                TaskSpec(
                    key=choice_key,
                    kind="choice",
                    role="manager",
                    title=f"记录客户选择 — 案件 {self._inp.case_no}",
                    due_at=due,
                ),
            ),
            patch=CasePatch(stage="choice", options=tuple(self._option_view(o) for o in options)),
        )
        result = await self._step(key, record, f"{len(options)} options offered", offer.actor)
        if due is not None:
            self._clock(choice_key, lambda: choice_key in self._claimed or self._ended is not None, due)
        return result

    @offer_solution.validator
    def _validate_offer(self, offer: SolutionOffer) -> None:
        if offer.actor.role != "manager":
            raise _forbidden("the site manager makes the offer")
        if self._ended is not None:
            raise _conflict(f"the case was {self._ended}")
        if self._solution_key() in self._claimed or self._offer is not None:
            raise _conflict("an offer has already been made for this case")
        if len(self._assessments) < len(DEPARTMENTS):
            raise _conflict("the joint assessment is not complete")
        if not self._gm_satisfied():
            raise _conflict("this case is waiting for the city GM's approval")
        if self._gm_rejected:
            raise _conflict("the city GM sent this case to the legal route")
        quote = self._quote()
        route = quote.route if quote else RefundRoute.LEGAL
        try:
            check_offer([o.kind for o in offer.options], min_options=self._inp.policy.min_options, refund_route_=route)
        except PolicyError as e:
            raise _invalid(str(e)) from None
        for o in offer.options:
            if o.kind == OptionKind.A and o.compensation is not None and o.compensation < 0:
                raise _invalid("option A's compensation cannot be negative (zero: the buyer simply continues)")
            if o.kind == OptionKind.C and not o.fee_waiver:
                raise _invalid("option C is a transfer with the fee waived")

    def _priced(self, o: OfferedOption, quote: RefundQuote | None) -> OfferedOption:
        if o.kind != OptionKind.B or quote is None:
            return o
        return OfferedOption(
            kind=o.kind,
            description=o.description or quote.reason,
            refund_amount=quote.amount,
            refund_share=quote.share,
        )

    @staticmethod
    def _option_view(o: OfferedOption) -> dict:
        return {
            "kind": o.kind.value,
            "description": o.description,
            "compensation": _money_str(o.compensation),
            "fee_waiver": o.fee_waiver,
            "refund_amount": _money_str(o.refund_amount),
            "refund_share": None if o.refund_share is None else str(o.refund_share),
        }

    @workflow.update
    async def record_choice(self, choice: BuyerChoice) -> StepResult:
        key = self._choice_key()
        self._claim(key)
        option = next(o for o in (self._offer or ()) if o.kind == choice.kind)
        now = workflow.now()
        inp = self._inp
        record_kwargs: dict = {}
        outcome: dict = {"path": choice.kind.value, "note": choice.note}
        needs_contract_cancel = False
        if choice.kind == OptionKind.A:
            compensation = option.compensation or Decimal("0")
            if compensation > 0:  # zero: the buyer simply continues, nothing is drawn
                record_kwargs["draw"] = RetentionDraw(
                    project_id=inp.project_id, amount=compensation, memo=f"案件 {inp.case_no} 挽留补偿"
                )
            outcome["compensation"] = _money_str(compensation)
        elif choice.kind == OptionKind.B:
            assert option.refund_amount is not None and option.refund_share is not None
            quote = self._quote()
            record_kwargs["refund"] = RefundInstructionSpec(
                customer_id=inp.customer_id,
                amount=option.refund_amount,
                share=option.refund_share,
                route=quote.route.value if quote else "tier",
                policy_version=inp.policy.version,
                pay_by=self._due("refund_payment") if workflow.patched(CHOICE_CLOCK) else None,
            )
            record_kwargs["cancel_subscription_id"] = inp.subscription_id
            self._refund_amount = option.refund_amount
            outcome["refund_amount"] = _money_str(option.refund_amount)
            needs_contract_cancel = inp.contract.stage == "online_signed"
        else:
            assert choice.new_customer_id is not None
            record_kwargs["transfer"] = TransferSpec(
                subscription_id=inp.subscription_id, new_customer_id=choice.new_customer_id, fee_waiver=True
            )
            outcome["new_customer_id"] = choice.new_customer_id
        self._choice = choice
        cancel_due = None
        if needs_contract_cancel:
            self._stage = "contract_cancellation"
            if workflow.patched(CHOICE_CLOCK):
                cancel_due = self._due("contract_cancellation")
            open_tasks: tuple[TaskSpec, ...] = (
                TaskSpec(
                    key="contract_cancellation",
                    kind="contract_cancellation",
                    role="legal",
                    title=f"注销网签合同 — 案件 {inp.case_no}",
                    due_at=cancel_due,
                ),
            )
        else:
            open_tasks = self._reach_outcome(now)
        record = StepRecord(
            case_id=inp.case_id,
            event_key=key,
            kind="choice",
            actor=choice.actor.username,
            at=now,
            detail={**outcome, **self._calendar_note("refund_payment"), **self._calendar_note("contract_cancellation")},
            close_tasks=(key,),
            completed_by=choice.actor.user_id,
            open_tasks=open_tasks,
            patch=CasePatch(
                stage=self._stage,
                chosen_option=choice.kind.value,
                outcome=outcome,
                refund_amount=self._refund_amount,
                deadlines=self._deadline_view(),
            ),
            **record_kwargs,
        )
        try:
            result = await self._step(key, record, f"path {choice.kind.value} recorded", choice.actor)
        except ApplicationError:
            self._choice = None
            self._refund_amount = None
            self._outcome_at = None
            self._archive_due = None
            self._stage = "choice"
            raise
        if cancel_due is not None:
            self._clock("contract_cancellation", lambda: self._contract_cancelled, cancel_due)
        return result

    @record_choice.validator
    def _validate_choice(self, choice: BuyerChoice) -> None:
        if choice.actor.role not in CHOICE_ROLES:
            raise _forbidden("the buyer's choice is recorded by the site manager or the front desk")
        if self._ended is not None:
            raise _conflict(f"the case was {self._ended}")
        if self._offer is None:
            raise _conflict("no solution has been offered yet")
        if self._choice_key() in self._claimed or self._over():
            raise _conflict("the buyer's choice has already been recorded")
        if not self._gm_satisfied():
            raise _conflict("the loss changed: this case is waiting for the city GM's approval again")
        if choice.kind not in {o.kind for o in self._offer}:
            raise _invalid(f"option {choice.kind.value} was not offered to the buyer")
        if choice.kind == OptionKind.C and choice.new_customer_id is None:
            raise _invalid("path C needs the replacement buyer (an existing customer record)")
        if choice.kind == OptionKind.C and choice.new_customer_id == self._inp.customer_id:
            raise _invalid("the replacement buyer must be someone other than the current buyer")

    def _reach_outcome(self, now: datetime) -> tuple[TaskSpec, ...]:
        self._outcome_at = now
        self._archive_due = archive_deadline(self._inp.policy, now, self._inp.speedup)
        self._stage = "archive"
        return (self._archive_task(),)

    def _archive_task(self) -> TaskSpec:
        return TaskSpec(
            key="archive",
            kind="archive",
            role="manager",
            title=f"归档与复盘 (24小时内) — 案件 {self._inp.case_no}",
            due_at=self._archive_due,
        )

    @workflow.update
    async def confirm_contract_cancelled(self, sub: ContractCancellation) -> StepResult:
        self._claim("contract_cancellation")
        self._contract_cancelled = True
        now = workflow.now()
        open_tasks = self._reach_outcome(now)
        record = StepRecord(
            case_id=self._inp.case_id,
            event_key="contract_cancellation",
            kind="contract_cancellation",
            actor=sub.actor.username,
            at=now,
            detail={"note": sub.note},
            close_tasks=("contract_cancellation",),
            completed_by=sub.actor.user_id,
            open_tasks=open_tasks,
            patch=CasePatch(stage="archive", deadlines=self._deadline_view()),
        )
        try:
            return await self._step("contract_cancellation", record, "online contract cancelled", sub.actor)
        except ApplicationError:
            self._contract_cancelled = False
            self._outcome_at = None
            self._archive_due = None
            self._stage = "contract_cancellation"
            raise

    @confirm_contract_cancelled.validator
    def _validate_contract_cancel(self, sub: ContractCancellation) -> None:
        if sub.actor.role != "legal":
            raise _forbidden("legal confirms the cancellation of the online contract")
        if self._stage != "contract_cancellation" or "contract_cancellation" in self._claimed:
            raise _conflict("this case is not waiting for an online-contract cancellation")

    # ------------------------------------------------------------ ways out and back (issue 14)

    @workflow.update
    async def withdraw(self, w: CaseWithdrawal) -> StepResult:
        """撤回: the buyer withdraws the request before the outcome. The unit goes back to the state it had
        before the case, every open task is cancelled, nothing is paid; the archive still runs on its clock."""
        self._claim("withdraw")
        self._ended = "withdrawn"
        stage = self._stage
        now = workflow.now()
        open_tasks = self._reach_outcome(now)
        outcome = {"path": "withdrawn", "reason": w.reason.strip(), "evidence_ids": list(w.evidence_ids)}
        record = StepRecord(
            case_id=self._inp.case_id, event_key="withdraw", kind="withdrawal", actor=w.actor.username, at=now,
            detail=outcome, completed_by=w.actor.user_id, open_tasks=open_tasks, cancel_open_tasks=True,
            restore_unit=True, patch=CasePatch(stage="archive", outcome=outcome, deadlines=self._deadline_view()),
        )
        try:
            return await self._step("withdraw", record, "the request was withdrawn; the unit is back", w.actor)
        except ApplicationError:
            self._ended, self._outcome_at, self._archive_due, self._stage = None, None, None, stage
            raise

    @withdraw.validator
    def _validate_withdraw(self, w: CaseWithdrawal) -> None:
        if w.actor.role not in WITHDRAW_ROLES:
            raise _forbidden("the front desk or the manager records a withdrawal")
        if self._over() or self._archive_due is not None or "withdraw" in self._claimed:
            raise _conflict("the case already has an outcome; a withdrawal is no longer possible")
        if not w.reason.strip():
            raise _invalid("give the reason the buyer gave for withdrawing")

    @workflow.update
    async def request_void(self, req: VoidRequest) -> StepResult:
        """作废, first half: the manager asks, with a reason; another person decides (four eyes)."""
        self._void_round += 1
        key = f"void:{self._void_round}"
        self._claim(key)
        self._void_request = req
        record = StepRecord(
            case_id=self._inp.case_id, event_key=key, kind="void_request", actor=req.actor.username,
            at=workflow.now(), detail={"reason": req.reason.strip()},
            open_tasks=(TaskSpec(key=key, kind="void_approval", role="citygm",  # one level up: a site has one manager
                                 title=f"作废审批 — 案件 {self._inp.case_no}"),),
        )
        try:
            return await self._step(key, record, "void requested; a second person must approve", req.actor)
        except ApplicationError:
            self._void_request = None
            self._void_round -= 1
            raise

    @request_void.validator
    def _validate_void_request(self, req: VoidRequest) -> None:
        if req.actor.role != "manager":
            raise _forbidden("the site manager asks for a registration to be voided")
        if self._over() or self._archive_due is not None:
            raise _conflict("the case already has an outcome; it can no longer be voided")
        if self._void_request is not None:
            raise _conflict("a void is already waiting for approval")
        if not req.reason.strip():
            raise _invalid("give the reason the registration was a mistake")

    @workflow.update
    async def decide_void(self, dec: VoidDecision) -> StepResult:
        key = f"void:{self._void_round}"
        self._claim(f"{key}:decision")
        req = self._void_request
        assert req is not None
        now = workflow.now()
        if not dec.approve:
            self._void_request = None
            record = StepRecord(
                case_id=self._inp.case_id, event_key=f"{key}:rejected", kind="void_rejected", actor=dec.actor.username,
                at=now, detail={"note": dec.note}, close_tasks=(key,), completed_by=dec.actor.user_id,
            )
            return await self._step(f"{key}:decision", record, "void rejected; the case goes on", dec.actor)
        self._ended = "voided"
        self._stage = "closed"
        self._outcome_at = self._archive_due = now
        outcome = {"path": "voided", "reason": req.reason.strip(), "requested_by": req.actor.username, "note": dec.note}
        record = StepRecord(
            case_id=self._inp.case_id, event_key=f"{key}:approved", kind="void", actor=dec.actor.username, at=now,
            detail=outcome, close_tasks=(key,), completed_by=dec.actor.user_id, cancel_open_tasks=True,
            restore_unit=True, patch=CasePatch(stage="closed", outcome=outcome),
            completion=CompletionSpec(
                customer_id=self._inp.customer_id, unit_id=self._inp.unit_id, subscription_id=self._inp.subscription_id,
                path="voided", summary=f"登记作废：{req.reason.strip()}", lessons="", brief={},
                retention_days=self._inp.policy.record_retention_days, release_unit=False,
            ),
        )
        try:
            result = await self._step(f"{key}:decision", record, "voided; the unit is back, nothing is paid", dec.actor)
        except ApplicationError:
            self._ended, self._stage, self._outcome_at, self._archive_due = None, "intake", None, None
            raise
        self._closed = True
        return result

    @decide_void.validator
    def _validate_void_decision(self, dec: VoidDecision) -> None:
        if dec.actor.role not in VOID_DECIDERS:
            raise _forbidden("a manager or the city GM approves a void")
        if self._void_request is None or f"void:{self._void_round}:decision" in self._claimed:
            raise _conflict("no void is waiting for approval")
        if dec.actor.people & self._void_request.actor.people:
            raise _forbidden("four eyes: whoever asked for the void may not approve it")

    @workflow.update
    async def record_refusal(self, r: BuyerRefusal) -> StepResult:
        """The buyer refused every option: a new offer (重新出方案), up to the policy's rounds; after the last,
        the legal route (dispute) with legal holding the case."""
        key = self._choice_key()
        self._claim(key)
        now = workflow.now()
        inp = self._inp
        last = self._offer_round >= inp.policy.max_offer_rounds
        detail = {"refused": True, "round": self._offer_round, "note": r.note}
        if not last:
            self._offer_round += 1
            self._offer = None
            self._solution_seq += 1
            self._choice_seq += 1
            self._stage = "solution"
            task = self._solution_task()
            open_tasks: tuple[TaskSpec, ...] = (task,)
            patch = CasePatch(stage="solution", options=())
            message = f"offer {self._offer_round - 1} refused; a new offer is due"
        else:
            self._disputed = True
            outcome = {"path": "legal", "reason": "the buyer refused every offer", "rounds": self._offer_round,
                       "note": r.note}
            open_tasks = self._reach_outcome(now) + (
                TaskSpec(key="dispute", kind="dispute", role="legal", title=f"争议处理（法务） — 案件 {inp.case_no}"),)
            patch = CasePatch(stage="archive", outcome=outcome, deadlines=self._deadline_view())
            message = "every offer refused: the legal route"
        record = StepRecord(
            case_id=inp.case_id, event_key=key, kind="refusal", actor=r.actor.username, at=now, detail=detail,
            close_tasks=(key,), completed_by=r.actor.user_id, open_tasks=open_tasks, patch=patch,
        )
        result = await self._step(key, record, message, r.actor)
        if not last:
            seq, due = self._solution_key(), open_tasks[0].due_at
            assert due is not None
            self._clock(seq, lambda: seq in self._claimed or self._ended is not None, due)
        return result

    @record_refusal.validator
    def _validate_refusal(self, r: BuyerRefusal) -> None:
        if r.actor.role not in CHOICE_ROLES:
            raise _forbidden("the buyer's answer is recorded by the site manager or the front desk")
        if self._offer is None or self._choice_key() in self._claimed or self._over():
            raise _conflict("no offer is waiting for the buyer's answer")

    @workflow.update
    async def return_assessment(self, ret: AssessmentReturn) -> StepResult:
        """退回: the manager returns one department's assessment for rework; its clock restarts; the others'
        opinions stay. A GM step or a solution task waiting on the old opinion is cancelled."""
        d = ret.department
        n = self._rework.get(d, 0) + 1
        key = f"return:{d}:{n}"
        self._claim(key)
        previous = self._assessments.pop(d)
        self._rework[d] = n
        cancel: tuple[str, ...] = ()
        if self._stage == "gm_approval":
            cancel = (f"gm_approval:{self._gm_round}",)
            self._claimed.add(cancel[0])
        elif self._stage == "solution":
            cancel = (self._solution_key(),)
            self._solution_seq += 1
        self._stage = "assessment"
        due = self._in(self._inp.policy.rework_minutes)
        task = TaskSpec(key=self._assessment_key(d), kind="assessment", role=d,
                        title=f"联席评估 ({d}) 退回重做 — 案件 {self._inp.case_no}", due_at=due)
        record = StepRecord(
            case_id=self._inp.case_id, event_key=key, kind="assessment_returned", actor=ret.actor.username,
            at=workflow.now(), detail={"department": d, "reason": ret.reason.strip(), "round": n},
            open_tasks=(task,), cancel_tasks=cancel,
            patch=CasePatch(stage="assessment", assessments=self._assessment_view()),
        )
        try:
            result = await self._step(key, record, f"{d} assessment returned for rework", ret.actor)
        except ApplicationError:
            self._assessments[d] = previous
            self._rework[d] = n - 1
            raise
        self._clock(task.key, lambda: d in self._assessments or self._ended is not None, due)
        return result

    @return_assessment.validator
    def _validate_return(self, ret: AssessmentReturn) -> None:
        if ret.actor.role != "manager":
            raise _forbidden("the site manager returns an assessment")
        if ret.department not in DEPARTMENTS:
            raise _invalid(f"department must be one of {', '.join(DEPARTMENTS)}")
        if ret.department not in self._assessments:
            raise _conflict(f"{ret.department} has not given its assessment; there is nothing to return")
        if self._offer is not None or self._over():
            raise _conflict("the solution has been offered; assessments can no longer be returned")
        if not ret.reason.strip():
            raise _invalid("give the reason the assessment is returned")

    @workflow.update
    async def correct_assessment(self, sub: AssessmentSubmission) -> StepResult:
        """更正: an assessor corrects their own assessment before the solution is offered; the loss and the
        escalation are re-evaluated both ways."""
        dept = sub.actor.role
        self._corrections += 1
        key = f"correction:{self._corrections}"
        self._claim(key)
        before = self._assessment_view()[dept]
        given = self._assessments[dept]
        self._assessments[dept] = sub
        previous_loss, previous_share = self._loss_total, self._proposed_share
        if dept == "finance":
            assert sub.loss is not None
            self._loss_total, self._proposed_share = sub.loss.total, sub.proposed_share
        open_tasks, cancel, released = self._reevaluate()
        record = StepRecord(
            case_id=self._inp.case_id, event_key=key, kind="assessment_corrected", actor=sub.actor.username,
            at=workflow.now(),
            detail={"department": dept, "from": before, "to": self._assessment_view()[dept],
                    **({"gm_released": True} if released else {})},
            open_tasks=open_tasks, cancel_tasks=cancel,
            patch=CasePatch(stage=self._stage, assessments=self._assessment_view(), loss_total=self._loss_total,
                            needs_gm=self._gm_required(), escalation_reasons=self._escalation_reasons(),
                            **self._codes()),
        )
        try:
            return await self._step(key, record, f"{dept} assessment corrected; escalation re-evaluated", sub.actor)
        except ApplicationError:
            self._loss_total, self._proposed_share, self._assessments[dept] = previous_loss, previous_share, given
            raise

    @correct_assessment.validator
    def _validate_correction(self, sub: AssessmentSubmission) -> None:
        dept = sub.actor.role
        given = self._assessments.get(dept)
        if given is None:
            raise _conflict(f"{dept} has not given an assessment to correct")
        if not (sub.actor.people & given.actor.people):
            raise _forbidden("only the assessor who gave this assessment may correct it")
        if self._offer is not None or self._over():
            raise _conflict("the solution has been offered; assessments can no longer be corrected")
        self._check_content(dept, sub)

    # ------------------------------------------------------------ archive

    @workflow.update
    async def submit_archive(self, sub: ArchiveSubmission) -> StepResult:
        self._claim("archive")
        inp = self._inp
        now = workflow.now()
        path = self._path()
        self._stage = "closed"
        brief = {
            "case_no": inp.case_no,
            "path": path,
            "reasons": list(self._intake.reasons) if self._intake else [],
            "loss_total": _money_str(self._loss_total),
            "refund_amount": _money_str(self._refund_amount),
            "escalation_level": self._escalation_level,
            "sla_breaches": list(self._breaches),
            "summary": sub.summary,
        }
        record = StepRecord(
            case_id=inp.case_id,
            event_key="archive",
            kind="archive",
            actor=sub.actor.username,
            at=now,
            detail={"summary": sub.summary, "lessons": sub.lessons},
            close_tasks=("archive",),
            completed_by=sub.actor.user_id,
            open_tasks=(
                TaskSpec(key="review_meeting", kind="review_meeting", role="manager", title=f"复盘会 — 案件 {inp.case_no}",
                         due_at=self._in(inp.policy.review_meeting_minutes)),
            ),
            notifications=(
                NotificationSpec(key="regional_brief", role="ops", message=f"案件 {inp.case_no} 简报已提交区域运营中心"),
            ),
            patch=CasePatch(stage="closed"),
            completion=CompletionSpec(
                customer_id=inp.customer_id,
                unit_id=inp.unit_id,
                subscription_id=inp.subscription_id,
                path=path,
                summary=sub.summary,
                lessons=sub.lessons,
                brief=brief,
                retention_days=inp.policy.record_retention_days,
                release_unit=path == "B",
            ),
        )
        try:
            result = await self._step("archive", record, "archived; case closed", sub.actor)
        except ApplicationError:
            self._stage = "archive"
            raise
        self._closed = True
        return result

    @submit_archive.validator
    def _validate_archive(self, sub: ArchiveSubmission) -> None:
        if sub.actor.role != "manager":
            raise _forbidden("the site manager archives the case")
        if self._archive_due is None:
            raise _conflict("the case has no outcome yet")
        if "archive" in self._claimed:
            raise _conflict("the case has already been archived")
        if not sub.summary.strip():
            raise _invalid("the archive needs a summary for the knowledge base")

    # ------------------------------------------------------------ helpers

    def _path(self) -> str:
        if self._ended is not None:
            return self._ended
        if self._gm_rejected or self._disputed:
            return "legal"
        return self._choice.kind.value if self._choice else ""

    def _deadline_view(self) -> dict[str, str]:
        d = self._deadlines
        view = {"intake": d.intake.isoformat(), "assessment": d.assessment.isoformat(), "solution": d.solution.isoformat()}
        if self._archive_due is not None:
            view["archive"] = self._archive_due.isoformat()
        return view

