"""Early warning (DOMAIN §5): signal rules, each with a risk score, and the warning level they give.

Rules are pure functions returning a `RuleHit` or None; `warning_level` turns the hits (plus a
litigation-risk flag) into yellow / orange / red with the response deadline, who responds and who is
escalated to when nobody does. A downgrade needs a reason. Time is an argument.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from domain.calendar import add_working_days, working_days_between

REFUND_INQUIRIES = "refund_policy_inquiries"
VISITS_DROPPED = "visits_dropped_no_appointment"
MORTGAGE_DOCS_LATE = "mortgage_documents_late"

DEFAULT_INQUIRY_THRESHOLD = 3
DEFAULT_INQUIRY_WINDOW = timedelta(days=14)
MORTGAGE_DOCS_GRACE_WORKING_DAYS = 5


class Level(StrEnum):
    YELLOW = "yellow"
    ORANGE = "orange"
    RED = "red"


_RANK = {Level.YELLOW: 1, Level.ORANGE: 2, Level.RED: 3}


@dataclass(frozen=True)
class RuleHit:
    rule: str
    score: int  # 0–100
    detail: str = ""


@dataclass(frozen=True)
class LevelSpec:
    respond_within: timedelta
    respond_role: str  # who intervenes
    escalate_to: str  # who is told when nobody responds by the deadline


# yellow: a person (the consultant) intervenes within 4 h; orange: dedicated follow-up by the site
# manager within 2 h; red: litigation risk, reported to HQ risk control at once.
LEVELS: Mapping[Level, LevelSpec] = {
    Level.YELLOW: LevelSpec(timedelta(hours=4), "sales", "manager"),
    Level.ORANGE: LevelSpec(timedelta(hours=2), "manager", "citygm"),
    Level.RED: LevelSpec(timedelta(0), "hqrisk", "citygm"),
}


@dataclass(frozen=True)
class WarningDecision:
    level: Level
    fired: tuple[RuleHit, ...]
    risk_score: int
    response_due: datetime
    respond_role: str
    escalate_to: str


def refund_inquiry_rule(
    inquiries: Sequence[datetime],
    *,
    now: datetime,
    threshold: int = DEFAULT_INQUIRY_THRESHOLD,
    window: timedelta = DEFAULT_INQUIRY_WINDOW,
) -> RuleHit | None:
    """Fires when the customer asked about the refund policy `threshold` or more times in `window`."""
    if threshold < 1:
        raise ValueError("threshold must be at least 1")
    recent = [t for t in inquiries if now - window <= t <= now]
    if len(recent) < threshold:
        return None
    score = min(40 + 10 * (len(recent) - threshold), 70)
    return RuleHit(REFUND_INQUIRIES, score, f"{len(recent)} refund-policy inquiries within {window.days} days")


def visits_dropped_rule(
    *, visits_recent: int, visits_before: int, next_appointment: date | None, today: date
) -> RuleHit | None:
    """Fires when visits in the recent period fell below the period before and no future appointment exists."""
    if visits_recent < 0 or visits_before < 0:
        raise ValueError("visit counts must not be negative")
    has_appointment = next_appointment is not None and next_appointment >= today
    if visits_recent >= visits_before or has_appointment:
        return None
    score = 30 if visits_recent > 0 else 40
    return RuleHit(VISITS_DROPPED, score, f"visits {visits_before} → {visits_recent}, no next appointment")


def mortgage_documents_late_rule(
    *, expected_by: date, today: date, documents_complete: bool, overrides: Mapping[date, bool] | None = None
) -> RuleHit | None:
    """Fires when documents are still missing more than 5 working days past the expected date."""
    if documents_complete:
        return None
    late = working_days_between(expected_by, today, overrides=overrides)
    if late <= MORTGAGE_DOCS_GRACE_WORKING_DAYS:
        return None
    score = min(50 + 5 * (late - MORTGAGE_DOCS_GRACE_WORKING_DAYS), 80)
    return RuleHit(MORTGAGE_DOCS_LATE, score, f"documents {late} working days late")


def warning_level(fired: Iterable[RuleHit], litigation_risk: bool, *, raised_at: datetime) -> WarningDecision | None:
    """yellow: one signal; orange: two or more; red: litigation risk. None when nothing fired."""
    hits = tuple(fired)
    if litigation_risk:
        level = Level.RED
    elif len(hits) >= 2:
        level = Level.ORANGE
    elif len(hits) == 1:
        level = Level.YELLOW
    else:
        return None
    spec = LEVELS[level]
    score = min(sum(h.score for h in hits) + (50 if litigation_risk else 0), 100)
    return WarningDecision(
        level=level,
        fired=hits,
        risk_score=score,
        response_due=raised_at + spec.respond_within,
        respond_role=spec.respond_role,
        escalate_to=spec.escalate_to,
    )


class DowngradeRefused(ValueError):
    pass


def check_downgrade(current: Level, new: Level, reason: str) -> None:
    """A downgrade must go to a lower level and give a reason."""
    if _RANK[Level(new)] >= _RANK[Level(current)]:
        raise DowngradeRefused(f"{new} is not below {current}")
    if not reason or not reason.strip():
        raise DowngradeRefused("a downgrade needs a reason")


# ---- customer-based warnings (refund inquiries, visits dropped, litigation threat) ------------

LITIGATION_THREAT = "litigation_threat"  # rule name and the follow-up topic tag that raises it
LITIGATION_SCORE = 50  # the same weight `warning_level` gives litigation risk
DEFAULT_LITIGATION_WINDOW = timedelta(days=30)
VISIT_PERIOD = timedelta(days=30)  # visits in the last period are compared with the period before
# After a person responded, the same evidence raises no new warning at the same level for this long.
REOPEN_COOLDOWN = timedelta(days=14)


def rank(level: Level | str) -> int:
    return _RANK[Level(level)]


def litigation_threat_rule(
    threats: Sequence[datetime], *, now: datetime, window: timedelta = DEFAULT_LITIGATION_WINDOW
) -> RuleHit | None:
    """Fires when a follow-up within `window` recorded that the customer threatened litigation."""
    recent = [t for t in threats if now - window <= t <= now]
    if not recent:
        return None
    return RuleHit(LITIGATION_THREAT, LITIGATION_SCORE, f"litigation threat recorded {max(recent).date().isoformat()}")


def visit_periods(now: datetime, period: timedelta = VISIT_PERIOD) -> tuple[tuple[datetime, datetime], tuple[datetime, datetime]]:
    """([start, end) of the recent period, [start, end) of the period before it)."""
    return (now - period, now), (now - 2 * period, now - period)


def customer_warning(hits: Iterable[RuleHit], *, raised_at: datetime) -> WarningDecision | None:
    """The level for a customer's fired rules: a litigation-threat hit makes it red (the hit carries the
    litigation weight, so the risk score is not counted twice)."""
    fired = tuple(hits)
    litigation = any(h.rule == LITIGATION_THREAT for h in fired)
    decision = warning_level([h for h in fired if h.rule != LITIGATION_THREAT], litigation, raised_at=raised_at)
    if decision is None:
        return None
    return WarningDecision(decision.level, fired, decision.risk_score, decision.response_due,
                           decision.respond_role, decision.escalate_to)


def merge_rules(old: Sequence[Mapping], new: Iterable[RuleHit]) -> list[dict]:
    """The rules recorded on a warning after a re-evaluation: old ones kept, a re-fired rule updated."""
    out = {r["rule"]: dict(r) for r in old}
    for h in new:
        out[h.rule] = {"rule": h.rule, "score": h.score, "detail": h.detail}
    return list(out.values())


def needs_new_warning(
    level: Level, *, last_closed_level: Level | str | None, last_responded_at: datetime | None, now: datetime,
    cooldown: timedelta = REOPEN_COOLDOWN,
) -> bool:
    """Whether to open a new warning when none is open. After a response (whose level is the higher of the
    level and what it was downgraded from) the same or a lower level waits for the cool-down: the person
    has already seen that evidence. A higher level opens at once."""
    if last_closed_level is None or last_responded_at is None:
        return True
    return rank(level) > rank(last_closed_level) or now - last_responded_at >= cooldown


# ---- the mortgage timeline the late rule measures against (DOMAIN §3, convention) --------------

DOCUMENTS_MIN_DAYS, DOCUMENTS_MAX_DAYS = 3, 7
APPROVAL_MIN_WORKING_DAYS, APPROVAL_MAX_WORKING_DAYS = 5, 15


def documents_expected_by(opened_on: date, max_days: int = DOCUMENTS_MAX_DAYS) -> date:
    """Documents take 3–7 (calendar) days: they are expected by the end of the longest."""
    if max_days < 0:
        raise ValueError("max_days must not be negative")
    return opened_on + timedelta(days=max_days)


def documents_late_on(expected_by: date, *, overrides: Mapping[date, bool] | None = None) -> date:
    """The first day the documents-late rule fires: more than 5 working days past `expected_by`."""
    return add_working_days(expected_by, MORTGAGE_DOCS_GRACE_WORKING_DAYS + 1, overrides=overrides)


def approval_expected_by(
    submitted_on: date, max_working_days: int = APPROVAL_MAX_WORKING_DAYS, *, overrides: Mapping[date, bool] | None = None
) -> date:
    """Bank approval takes 5–15 working days from submission: expected by the last of them."""
    return add_working_days(submitted_on, max_working_days, overrides=overrides)
