"""Pure rules for customer records (DOMAIN §3): ratings, tags, topic tags, visibility, first / repeat visits.

No I/O; time is an argument.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime

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
