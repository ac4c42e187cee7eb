"""Pure rules for customer records (DOMAIN §3): ratings, tags, topic tags, visibility, first / repeat visits.

No I/O; time is an argument.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

RATINGS = ("A", "B", "C", "D")
SENSITIVE_TAG = "敏感"  # set by the refund archive step (activities/refund.py)
ASKED_REFUND_POLICY = "asked_refund_policy"
LITIGATION_THREAT = "litigation_threat"  # the customer threatened to sue: a red warning (domain/warnings.py)
CO_PARTY_RELATIONS = ("co_owner", "co_resident")  # 共有人 / 共居人
REVEALABLE_FIELDS = ("id_number", "mobile")
REVEAL_ROLES = ("manager", "finance", "legal")
REVEAL_LOG_ROLES = ("manager", "ops")
# Roles that see every customer; a sales consultant sees only their own.
SEES_ALL = ("frontdesk", "manager", "finance", "legal", "marketing", "citygm", "hqrisk", "ops")

_TOPIC = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
MAX_TAG_LEN = 32
MIN_PURPOSE_LEN = 4


class RuleViolation(ValueError):
    """A request that breaks a customer rule; the message says which."""


def can_see(role: str, user_id: int, consultant_id: int | None) -> bool:
    if role in SEES_ALL:
        return True
    return role == "sales" and consultant_id is not None and consultant_id == user_id


def check_rating(rating: str) -> str:
    r = (rating or "").strip().upper()
    if r not in RATINGS:
        raise RuleViolation(f"rating must be one of {', '.join(RATINGS)}")
    return r


def may_rate(role: str, user_id: int, consultant_id: int | None) -> bool:
    """The customer's own consultant or a manager."""
    return role == "manager" or (role == "sales" and consultant_id == user_id)


def normalize_topics(topics: Iterable[str]) -> list[str]:
    """Topic tags are lowercase slugs (`asked_refund_policy`); duplicates dropped, order kept."""
    out: list[str] = []
    for t in topics:
        t = (t or "").strip().lower()
        if not _TOPIC.fullmatch(t):
            raise RuleViolation(f"topic {t!r} must be a lowercase slug (letters, digits, underscores, 2–40 chars)")
        if t not in out:
            out.append(t)
    return out


def normalize_tags(tags: Iterable[str]) -> list[str]:
    out: list[str] = []
    for t in tags:
        t = (t or "").strip()
        if not t or len(t) > MAX_TAG_LEN:
            raise RuleViolation(f"a tag must be 1 to {MAX_TAG_LEN} characters")
        if t not in out:
            out.append(t)
    return out


def check_tag_change(old: Sequence[str], new: Sequence[str], role: str) -> None:
    """Only a manager may remove 敏感: it marks a customer who went through a refund case."""
    if SENSITIVE_TAG in old and SENSITIVE_TAG not in new and role != "manager":
        raise RuleViolation(f"only a manager may remove the {SENSITIVE_TAG} tag")


def check_appointment(at: datetime, next_appointment_at: datetime | None) -> None:
    if next_appointment_at is not None and next_appointment_at <= at:
        raise RuleViolation("the next appointment must be after the follow-up")


def check_purpose(purpose: str) -> str:
    p = (purpose or "").strip()
    if len(p) < MIN_PURPOSE_LEN:
        raise RuleViolation(f"state the purpose of the reveal (at least {MIN_PURPOSE_LEN} characters)")
    return p


def visit_kinds(visits: Sequence[tuple[int, datetime]]) -> dict[int, str]:
    """{visit id: "first" | "repeat"} for one customer's visits (id, visited_at): the earliest is first."""
    ordered = sorted(visits, key=lambda v: (v[1], v[0]))
    return {vid: ("first" if i == 0 else "repeat") for i, (vid, _) in enumerate(ordered)}


def like_prefix(q: str) -> str:
    """A LIKE pattern matching names starting with q (%, _ and \\ escaped)."""
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


# --- needs and preferences (issue 15) -------------------------------------------------------------

PURPOSES = ("self_use", "investment", "upgrade", "education", "retirement", "other")  # 自住 投资 改善 教育 养老 其他
CONCERNS = ("school_district", "delivery", "price", "location", "transport", "layout", "developer",
            "property_service", "environment", "loan", "other")  # 学区 交付 价格 地段 交通 户型 开发商 物业 环境 贷款 其他
# What an import's or a person's Chinese word means (the XLSX a sales office keeps is in Chinese).
PURPOSE_WORDS = {"自住": "self_use", "投资": "investment", "改善": "upgrade", "教育": "education", "学区": "education",
                 "养老": "retirement", "其他": "other"}
CONCERN_WORDS = {"学区": "school_district", "交付": "delivery", "价格": "price", "地段": "location", "交通": "transport",
                 "户型": "layout", "开发商": "developer", "品牌": "developer", "物业": "property_service",
                 "环境": "environment", "贷款": "loan", "其他": "other"}
MAX_BUDGET = Decimal("10000000000")  # 100 亿: beyond is a typo
MAX_AREA = Decimal("100000")
MAX_LAYOUTS = 10
MAX_LAYOUT_LEN = 32
MAX_NEEDS_NOTE = 2000


@dataclass(frozen=True)
class Needs:
    budget_min: Decimal | None = None
    budget_max: Decimal | None = None
    layouts: tuple[str, ...] = ()
    area_min: Decimal | None = None
    area_max: Decimal | None = None
    purpose: str | None = None
    concerns: tuple[str, ...] = ()
    note: str = ""


def _code(value: str, codes: Sequence[str], words: dict[str, str]) -> str | None:
    v = (value or "").strip()
    return v if v in codes else words.get(v) if v else None


def check_needs(*, budget_min: Decimal | None, budget_max: Decimal | None, layouts: Sequence[str],
                area_min: Decimal | None, area_max: Decimal | None, purpose: str | None, concerns: Sequence[str],
                note: str) -> tuple[Needs | None, list[tuple[str, str]]]:
    """(the needs normalised, []) or (None, [(field, a message a person understands), …]) for every fault."""
    errors: list[tuple[str, str]] = []
    for name, v, top, unit in (("budget_min", budget_min, MAX_BUDGET, "CNY"), ("budget_max", budget_max, MAX_BUDGET, "CNY"),
                               ("area_min", area_min, MAX_AREA, "m²"), ("area_max", area_max, MAX_AREA, "m²")):
        if v is not None and not (Decimal(0) < v <= top):
            errors.append((name, f"must be above 0 and at most {top:,} {unit}"))
    if budget_min is not None and budget_max is not None and budget_min > budget_max:
        errors.append(("budget_max", "the highest budget is below the lowest"))
    if area_min is not None and area_max is not None and area_min > area_max:
        errors.append(("area_max", "the largest area is below the smallest"))
    clean_layouts: list[str] = []
    for x in layouts:
        s = (x or "").strip()
        if not s or len(s) > MAX_LAYOUT_LEN:
            errors.append(("layouts", f"each layout is 1 to {MAX_LAYOUT_LEN} characters"))
            break
        if s not in clean_layouts:
            clean_layouts.append(s)
    if len(clean_layouts) > MAX_LAYOUTS:
        errors.append(("layouts", f"at most {MAX_LAYOUTS} layouts"))
    p = None
    if purpose is not None and str(purpose).strip():
        p = _code(purpose, PURPOSES, PURPOSE_WORDS)
        if p is None:
            errors.append(("purpose", f"unknown purpose {purpose!r}; one of {', '.join(PURPOSES)} (自住/投资/改善/教育/养老/其他)"))
    clean_concerns: list[str] = []
    for c in concerns:
        code = _code(c, CONCERNS, CONCERN_WORDS)
        if code is None:
            errors.append(("concerns", f"unknown concern {c!r}; one of {', '.join(CONCERNS)} (学区/交付/价格/地段/交通/…)"))
            break
        if code not in clean_concerns:
            clean_concerns.append(code)
    note = (note or "").strip()
    if len(note) > MAX_NEEDS_NOTE:
        errors.append(("note", f"at most {MAX_NEEDS_NOTE} characters"))
    if errors:
        return None, errors
    return Needs(budget_min, budget_max, tuple(clean_layouts), area_min, area_max, p, tuple(clean_concerns), note), []


def split_list(cell: object) -> list[str]:
    """A spreadsheet cell listing several values: separated by commas, 、, ; or /."""
    if cell is None:
        return []
    return [x.strip() for x in re.split(r"[,，、;；/]", str(cell)) if x.strip()]


# --- appointments: the consultant's list (issue 15) -------------------------------------------------

APPOINTMENT_STATES = ("overdue", "due_today", "upcoming", "none")


def appointment_state(appointment_at: datetime | None, last_contact_at: datetime | None, now: datetime,
                      today: date, tz) -> str:
    """The state of a customer's latest booked appointment: met (a contact at or after it) counts as none;
    past and unmet is overdue; later today (China date) is due_today; later still upcoming."""
    if appointment_at is None or (last_contact_at is not None and last_contact_at >= appointment_at):
        return "none"
    if appointment_at < now:
        return "overdue"
    if appointment_at.astimezone(tz).date() == today:
        return "due_today"
    return "upcoming"


def appointment_sort_key(state: str, appointment_at: datetime | None, last_contact_at: datetime | None,
                         customer_id: int) -> tuple:
    """Overdue (longest overdue first), due today, upcoming (soonest first), then the rest (longest without a
    contact first, never contacted first of all)."""
    rank = APPOINTMENT_STATES.index(state)
    if state != "none":
        return (rank, appointment_at.timestamp() if appointment_at else 0.0, customer_id)
    return (rank, last_contact_at.timestamp() if last_contact_at else float("-inf"), customer_id)
