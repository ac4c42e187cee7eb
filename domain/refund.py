"""Refund rules of the emergency SOP (DOMAIN §4): the published policy, tiers, law before tiers,
escalation by loss, SLA deadlines. Pure: no I/O, time is an argument, money is Decimal."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from domain.calendar import CHINA, CalendarNotCovered, add_working_days, china_date
from domain.messages import render

CENT = Decimal("0.01")


class ContractStage(StrEnum):
    """How far the purchase went; decides the refund tier."""

    DEPOSIT_PAID = "deposit_paid"  # 仅付定金未网签
    ONLINE_SIGNED = "online_signed"  # 已网签未放贷
    LOAN_DISBURSED = "loan_disbursed"  # 已放贷未交房


class DepositKind(StrEnum):
    DINGJIN = "定金"  # earnest money: penalty rule applies (Civil Code art. 586)
    DINGJIN_PREPAY = "订金"  # prepayment / 意向金: refundable in full


class Fault(StrEnum):
    BUYER = "buyer"  # buyer-initiated, no fault of the developer: the tiers apply
    NEITHER = "neither"  # e.g. a purchase-restriction policy change: full refund of the deposit
    DEVELOPER = "developer"  # goes to legal


class RefundRoute(StrEnum):
    FULL = "full"  # the law refunds everything paid
    TIER = "tier"  # the published tier applies
    LEGAL = "legal"  # no computed refund: legal route


class PolicyError(ValueError):
    """A request the published policy does not allow; the message is meant for a person."""


@dataclass(frozen=True)
class RefundTier:
    stage: ContractStage
    min_share: Decimal
    max_share: Decimal
    note: str = ""


@dataclass(frozen=True)
class RefundPolicy:
    """The published, versioned refund policy, captured into each workflow at its start."""

    version: str
    intake_minutes: int = 30
    assessment_minutes: int = 120
    solution_minutes: int = 240
    archive_minutes: int = 24 * 60
    escalation_loss_threshold: Decimal = Decimal("50000")
    min_options: int = 2
    tiers: tuple[RefundTier, ...] = field(
        default_factory=lambda: (
            RefundTier(ContractStage.DEPOSIT_PAID, Decimal("0.60"), Decimal("0.80"), "扣除营销服务费"),
            RefundTier(ContractStage.ONLINE_SIGNED, Decimal("0.30"), Decimal("0.50"), "含行政成本分摊"),
        )
    )
    record_retention_days: int = 2 * 365 + 1
    # Issue 14: the clocks after the offer, rework, and how many offers a buyer may refuse.
    choice_minutes: int = 3 * 24 * 60  # the buyer's choice after the offer
    contract_cancellation_minutes: int = 5 * 24 * 60  # legal cancels the online contract
    rework_minutes: int = 120  # an assessment returned for rework
    refund_payment_minutes: int = 7 * 24 * 60  # finance pays the refund after the instruction
    escalation_response_minutes: int = 4 * 60  # an SLA escalation is answered (what was done, by whom)
    review_meeting_minutes: int = 24 * 60  # the review meeting (复盘会) after the archive
    max_offer_rounds: int = 2  # after the last refused offer: the legal route (dispute)
    # Where set, the clock counts statutory working days instead of its minutes (ends 24:00 China time).
    choice_working_days: int | None = None
    contract_cancellation_working_days: int | None = None
    refund_payment_working_days: int | None = None
    retention_pool_share: Decimal = Decimal("0.05")  # of a project's marketing budget (DOMAIN §4)

    def tier_for(self, stage: ContractStage) -> RefundTier | None:
        for tier in self.tiers:
            if tier.stage == stage:
                return tier
        return None


def money(value: Decimal | int | str) -> Decimal:
    """Money as Decimal with two places; floats are refused."""
    if isinstance(value, float):
        raise TypeError("money is never a float")
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def refund_route(*, stage: ContractStage, deposit_kind: DepositKind, fault: Fault) -> RefundRoute:
    """Law before tiers (DOMAIN §4 decision)."""
    if fault == Fault.DEVELOPER:
        return RefundRoute.LEGAL
    if fault == Fault.NEITHER:
        return RefundRoute.FULL
    if stage == ContractStage.LOAN_DISBURSED:
        return RefundRoute.LEGAL
    if stage == ContractStage.DEPOSIT_PAID and deposit_kind == DepositKind.DINGJIN_PREPAY:
        return RefundRoute.FULL
    return RefundRoute.TIER


@dataclass(frozen=True)
class RefundQuote:
    route: RefundRoute
    share: Decimal | None
    amount: Decimal | None
    base: Decimal
    needs_gm: bool  # a share above the tier's range needs the city GM
    reason: str


def quote_refund(
    policy: RefundPolicy,
    *,
    stage: ContractStage,
    deposit_kind: DepositKind,
    fault: Fault,
    paid_amount: Decimal,
    deposit_amount: Decimal,
    proposed_share: Decimal | None = None,
) -> RefundQuote:
    """The refund a path-B cancellation gives.

    Base: in the deposit stage the deposit; after online signing everything paid.
    A proposed share below the tier's minimum is refused (the published policy promises it);
    above the maximum it is allowed but needs the city GM.
    """
    base = money(deposit_amount if stage == ContractStage.DEPOSIT_PAID else paid_amount)
    route = refund_route(stage=stage, deposit_kind=deposit_kind, fault=fault)
    if route == RefundRoute.LEGAL:
        why = "developer fault" if fault == Fault.DEVELOPER else "loan already disbursed"
        return RefundQuote(route, None, None, base, False, f"legal route ({why}): no refund is computed")
    if route == RefundRoute.FULL:
        why = "订金 is refundable in full" if fault == Fault.BUYER else "neither side at fault: full refund"
        return RefundQuote(route, Decimal("1"), base, base, False, why)
    tier = policy.tier_for(stage)
    if tier is None:
        raise PolicyError(f"policy {policy.version} has no refund tier for stage {stage}")
    if isinstance(proposed_share, float):
        raise TypeError("a refund share is a Decimal, never a float")
    share = tier.min_share if proposed_share is None else Decimal(proposed_share)
    if share < 0 or share > 1:
        raise PolicyError(f"refund share {share} must be between 0 and 1")
    if share < tier.min_share:
        raise PolicyError(
            f"refund share {share:.0%} is below the published minimum {tier.min_share:.0%} for {stage}"
        )
    needs_gm = share > tier.max_share
    amount = money(base * share)
    reason = f"tier {stage}: {tier.min_share:.0%}–{tier.max_share:.0%}, share {share:.0%}"
    if needs_gm:
        reason += " (above the tier: city GM approval required)"
    return RefundQuote(route, share, amount, base, needs_gm, reason)


@dataclass(frozen=True)
class LossAssessment:
    commission_accrued: Decimal = Decimal("0")
    advertising_allocation: Decimal = Decimal("0")
    opportunity_cost: Decimal = Decimal("0")

    @property
    def total(self) -> Decimal:
        return money(self.commission_accrued + self.advertising_allocation + self.opportunity_cost)


# Why the city GM must approve, by stable code; their words (English and Chinese, with the code's parameters) are
# the error catalogue's (domain/messages.py), so there is one copy of them.
ESCALATION_REASONS: tuple[str, ...] = (
    "escalation.loss_over_threshold",  # {loss, threshold}
    "escalation.media_involved",
    "escalation.share_above_tier",
)


def escalation_codes(
    policy: RefundPolicy,
    *,
    loss_total: Decimal | None,
    media_involved: bool,
    share_above_tier: bool = False,
) -> tuple[dict, ...]:
    """Why the city GM must approve, as {code, params}; empty when the site can decide. Loss strictly over the
    threshold."""
    out: list[dict] = []
    if loss_total is not None and loss_total > policy.escalation_loss_threshold:
        out.append({"code": "escalation.loss_over_threshold",
                    "params": {"loss": str(loss_total), "threshold": str(policy.escalation_loss_threshold)}})
    if media_involved:
        out.append({"code": "escalation.media_involved", "params": {}})
    if share_above_tier:
        out.append({"code": "escalation.share_above_tier", "params": {}})
    return tuple(out)


def reason_text(reason: dict, lang: str = "en") -> str:
    return render(reason["code"], reason["params"], "zh" if lang.startswith("zh") else "en")


def escalation_reasons(
    policy: RefundPolicy,
    *,
    loss_total: Decimal | None,
    media_involved: bool,
    share_above_tier: bool = False,
) -> tuple[str, ...]:
    """The reasons of `escalation_codes` in English (the words runs recorded before the codes carry)."""
    return tuple(reason_text(r) for r in escalation_codes(policy, loss_total=loss_total, media_involved=media_involved,
                                                           share_above_tier=share_above_tier))


def speedup_minutes(minutes: int, speedup: int) -> timedelta:
    if speedup < 1:
        raise ValueError("speedup must be at least 1")
    return timedelta(minutes=minutes) / speedup


@dataclass(frozen=True)
class CaseDeadlines:
    intake: datetime
    assessment: datetime
    solution: datetime


def case_deadlines(policy: RefundPolicy, registered_at: datetime, speedup: int = 1) -> CaseDeadlines:
    """Intake, assessment and solution deadlines all run from registration."""
    return CaseDeadlines(
        intake=registered_at + speedup_minutes(policy.intake_minutes, speedup),
        assessment=registered_at + speedup_minutes(policy.assessment_minutes, speedup),
        solution=registered_at + speedup_minutes(policy.solution_minutes, speedup),
    )


def working_day_deadline(start: datetime, days: int, *, overrides=None) -> tuple[datetime, bool]:
    """(deadline, covered): the end (24:00 China time) of the `days`-th statutory working day after `start`'s
    day. Where the calendar data does not reach that far, the same number of calendar days is counted instead
    and covered is False (a clock never hangs on missing data; the caller says so)."""
    day0 = china_date(start)
    try:
        last, covered = add_working_days(day0, days, overrides=overrides), True
    except CalendarNotCovered:
        last, covered = day0 + timedelta(days=days), False
    end = datetime(last.year, last.month, last.day, tzinfo=CHINA) + timedelta(days=1)
    return end.astimezone(start.tzinfo) if start.tzinfo else end, covered


def archive_deadline(policy: RefundPolicy, outcome_at: datetime, speedup: int = 1) -> datetime:
    """Archive and review within 24 hours of the outcome."""
    return outcome_at + speedup_minutes(policy.archive_minutes, speedup)


class OptionKind(StrEnum):
    A = "A"  # continue + compensation from the retention pool
    B = "B"  # cancel + tiered refund
    C = "C"  # transfer to a replacement buyer + fee waiver


def check_offer(kinds: list[OptionKind], *, min_options: int, refund_route_: RefundRoute) -> None:
    """An offer needs at least `min_options` distinct options; B is not offered on the legal route."""
    distinct = set(kinds)
    if len(distinct) != len(kinds):
        raise PolicyError("each option kind may be offered once")
    if len(distinct) < min_options:
        raise PolicyError(f"an offer needs at least {min_options} options, got {len(distinct)}")
    if OptionKind.B in distinct and refund_route_ == RefundRoute.LEGAL:
        raise PolicyError("option B (cancel + refund) cannot be offered: this case goes the legal route")


def retention_draw_allowed(*, remaining: Decimal, amount: Decimal) -> bool:
    """A draw from the retention pool never takes it below zero."""
    return amount > 0 and amount <= remaining


def retention_allotment(marketing_budget: Decimal, share: Decimal) -> Decimal:
    """What a project's retention pool is given: its marketing budget times the policy's share (DOMAIN §4,
    default 5 %), to the fen, half up.

    >>> retention_allotment(Decimal("4000000"), Decimal("0.05"))
    Decimal('200000.00')
    """
    if marketing_budget < 0 or not (0 <= share <= 1):
        raise ValueError("the budget is never negative and the share lies between 0 and 1")
    return money(marketing_budget * share)


def retention_top_up(*, allotment: Decimal, credited: Decimal, drawn: Decimal) -> Decimal | None:
    """The credit (negative: a reduction) that brings what the pool was given to `allotment`; None when the
    pool would then hold less than it has already paid out (a paid compensation is never taken back)."""
    if allotment < drawn:
        return None
    return money(allotment - credited)


def policy_to_body(policy: RefundPolicy) -> dict:
    """The policy as published JSON (money and shares as strings, never floats)."""
    return {
        "intake_minutes": policy.intake_minutes,
        "assessment_minutes": policy.assessment_minutes,
        "solution_minutes": policy.solution_minutes,
        "archive_minutes": policy.archive_minutes,
        "escalation_loss_threshold": str(policy.escalation_loss_threshold),
        "min_options": policy.min_options,
        "record_retention_days": policy.record_retention_days,
        "choice_minutes": policy.choice_minutes,
        "contract_cancellation_minutes": policy.contract_cancellation_minutes,
        "rework_minutes": policy.rework_minutes,
        "max_offer_rounds": policy.max_offer_rounds,
        "refund_payment_minutes": policy.refund_payment_minutes,
        "escalation_response_minutes": policy.escalation_response_minutes,
        "review_meeting_minutes": policy.review_meeting_minutes,
        "choice_working_days": policy.choice_working_days,
        "contract_cancellation_working_days": policy.contract_cancellation_working_days,
        "refund_payment_working_days": policy.refund_payment_working_days,
        "retention_pool_share": str(policy.retention_pool_share),
        "tiers": [
            {"stage": t.stage.value, "min_share": str(t.min_share), "max_share": str(t.max_share), "note": t.note}
            for t in policy.tiers
        ],
    }


def policy_from_body(version: str, body: dict) -> RefundPolicy:
    if isinstance(body.get("escalation_loss_threshold"), float) or any(
        isinstance(t.get(k), float) for t in body.get("tiers", ()) for k in ("min_share", "max_share")
    ):
        raise PolicyError("policy amounts and shares must be written as strings, never floats")
    tiers = tuple(
        RefundTier(ContractStage(t["stage"]), Decimal(t["min_share"]), Decimal(t["max_share"]), t.get("note", ""))
        for t in body["tiers"]
    )
    for t in tiers:
        if not (Decimal(0) <= t.min_share <= t.max_share <= Decimal(1)):
            raise PolicyError(f"tier {t.stage}: shares must satisfy 0 <= min <= max <= 1")
    return RefundPolicy(
        version=version,
        intake_minutes=int(body["intake_minutes"]),
        assessment_minutes=int(body["assessment_minutes"]),
        solution_minutes=int(body["solution_minutes"]),
        archive_minutes=int(body["archive_minutes"]),
        escalation_loss_threshold=Decimal(body["escalation_loss_threshold"]),
        min_options=int(body.get("min_options", 2)),
        record_retention_days=int(body.get("record_retention_days", 731)),
        tiers=tiers,
        **{k: int(body[k]) for k in ("choice_minutes", "contract_cancellation_minutes", "rework_minutes",
                                     "max_offer_rounds", "refund_payment_minutes", "escalation_response_minutes",
                                     "review_meeting_minutes") if k in body},
        **{k: None if body[k] is None else int(body[k])
           for k in ("choice_working_days", "contract_cancellation_working_days", "refund_payment_working_days")
           if k in body},
        **({"retention_pool_share": Decimal(body["retention_pool_share"])}
           if body.get("retention_pool_share") is not None else {}),
    )


# Why a task may outlive its case's closing (the archive does not wait for them): (Chinese, English).
STILL_OPEN_WHY: dict[str, tuple[str, str]] = {
    "refund_payment": ("退款尚未支付：财务按退款指令付款后完成", "the refund is not paid yet: finance pays the instruction"),
    "review_meeting": ("复盘会在归档后召开", "the review meeting follows the archive"),
    "escalation": ("超时升级尚待答复", "an SLA escalation still awaits its answer"),
    "dispute": ("争议由法务处理中", "legal is handling the dispute"),
    "contract_cancellation": ("网签合同尚未注销", "the online contract is not cancelled yet"),
}


def still_open_why(kind: str, lang: str = "zh") -> str:
    """Why a task of this kind is still open after its case closed (a kind not foreseen: said plainly)."""
    zh, en = STILL_OPEN_WHY.get(kind, ("结案后仍待处理", "still to be done after the case closed"))
    return zh if lang.startswith("zh") else en
