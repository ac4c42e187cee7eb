"""The unit state machine of inventory control (销控, DOMAIN §2). Pure: no I/O, time is an argument."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from domain.messages import json_safe, render

NOT_RELEASED = "not_released"  # 未推
AVAILABLE = "available"  # 可售
LOCKED = "locked"  # 锁定
SUBSCRIBED = "subscribed"  # 已认购
SIGNED = "signed"  # 已签约
FILED = "filed"  # 已备案
DELIVERED = "delivered"  # 已交付
HELD = "held"  # 保留
REFUNDING = "refunding"  # 退房中
NOT_FOR_SALE = "not_for_sale"  # 不可售

SYSTEM = "system"  # the refund workflow and lock expiry


class TransitionError(ValueError):
    """A move the state machine does not allow; the message is meant for a person. `key` and `params` are
    its code in domain/messages.py and that code's parameters; the message is their English."""

    def __init__(self, message: str | None = None, *, key: str | None = None, params: dict[str, Any] | None = None):
        self.key = key
        self.params = {k: json_safe(v) for k, v in (params or {}).items()}
        super().__init__(render(key, self.params) if key else message)

    def about_unit(self, unit: str) -> tuple[str | None, dict[str, Any]]:
        """The code and parameters of this refusal as a service answers it about a named unit."""
        return self.key, dict(self.params)


class UnknownAction(TransitionError):
    """No such action (the API answers 422)."""


class RoleNotAllowed(TransitionError):
    """The role may not take this action (the API answers 403)."""


class WrongState(TransitionError):
    """The unit's current state does not allow the action (the API answers 409)."""

    def about_unit(self, unit: str) -> tuple[str | None, dict[str, Any]]:
        return "unit.transition_not_allowed", {"unit": unit, **self.params}


class ReasonMissing(TransitionError):
    """An audited action without a reason (the API answers 422)."""


@dataclass(frozen=True)
class Transition:
    trigger: str
    from_states: frozenset[str]
    to_state: str
    roles: frozenset[str]
    needs_reason: bool = False


def _t(trigger: str, frm: set[str], to: str, roles: set[str], needs_reason: bool = False) -> Transition:
    return Transition(trigger, frozenset(frm), to, frozenset(roles), needs_reason)


# The site manager acts as inventory controller (销控).
TRANSITIONS: dict[str, Transition] = {
    t.trigger: t
    for t in (
        _t("release", {NOT_RELEASED}, AVAILABLE, {"manager"}),
        _t("lock", {AVAILABLE}, LOCKED, {"sales", "manager"}),
        _t("unlock", {LOCKED}, AVAILABLE, {"sales", "manager", SYSTEM}),
        _t("subscribe", {AVAILABLE, LOCKED}, SUBSCRIBED, {"sales", "manager"}),
        _t("sign", {SUBSCRIBED}, SIGNED, {"sales", "manager"}),
        _t("file", {SIGNED}, FILED, {"manager"}),
        _t("deliver", {FILED}, DELIVERED, {"manager"}),
        _t("hold", {AVAILABLE, NOT_RELEASED}, HELD, {"manager"}, needs_reason=True),
        _t("unhold", {HELD}, AVAILABLE, {"manager"}, needs_reason=True),
        _t("withdraw", {AVAILABLE, NOT_RELEASED, HELD}, NOT_FOR_SALE, {"manager"}, needs_reason=True),
        _t("restore", {NOT_FOR_SALE}, AVAILABLE, {"manager"}, needs_reason=True),
        _t("open_refund", {SUBSCRIBED, SIGNED, FILED}, REFUNDING, {SYSTEM, "frontdesk", "sales", "manager", "citygm"}),
    )
}


def check_transition(trigger: str, *, current: str, role: str, reason: str = "") -> str:
    """The state after `trigger`, or TransitionError saying why not."""
    t = TRANSITIONS.get(trigger)
    if t is None:
        raise UnknownAction(key="unit.unknown_action", params={"action": trigger})
    if role not in t.roles:
        raise RoleNotAllowed(key="unit.role_may_not", params={"role": role, "action": trigger})
    if current not in t.from_states:
        raise WrongState(key="unit.state_refuses",
                         params={"from": current, "action": trigger, "allowed": sorted(t.from_states)})
    if t.needs_reason and not (reason or "").strip():
        raise ReasonMissing(key="unit.reason_required", params={"action": trigger})
    return t.to_state


# Actions inventory control (销控) takes directly on a unit. Selling, signing and refunds go through
# their own records (subscriptions, contracts, refund cases), never through a bare state change.
INVENTORY_ACTIONS = frozenset({"release", "lock", "unlock", "hold", "unhold", "withdraw", "restore"})

LOCK_TTL = timedelta(minutes=30)  # 锁定 is short-lived; expired locks go back to 可售 (actor "system")


def lock_expired(locked_at: datetime, *, now: datetime, ttl: timedelta) -> bool:
    """A lock is short-lived: past its TTL the unit is back to 可售."""
    return now >= locked_at + ttl


DINGJIN_CAP = Decimal("0.20")  # Civil Code art. 586: 定金 may not exceed 20% of the price


def check_deposit(*, kind: str, deposit: Decimal, price: Decimal) -> None:
    if isinstance(deposit, float) or isinstance(price, float):
        raise TypeError("money is never a float")
    if deposit <= 0:
        raise TransitionError(key="unit.deposit_not_positive")
    if deposit > price:
        raise TransitionError(key="unit.deposit_above_price")
    if kind == "定金" and deposit > price * DINGJIN_CAP:
        raise TransitionError(key="unit.dingjin_above_cap", params={
            "deposit": deposit, "cap": (price * DINGJIN_CAP).quantize(Decimal("0.01"))})


SIGNING_DAYS = 7  # convention: the online contract is signed within a week of the subscription


def signing_deadline(*, today, requested=None, max_days: int = 30):
    """The day the contract must be signed by: the requested day, or a week after subscribing."""
    deadline = requested or today + timedelta(days=SIGNING_DAYS)
    if deadline <= today:
        raise TransitionError(key="unit.signing_deadline_past")
    if (deadline - today).days > max_days:
        raise TransitionError(key="unit.signing_deadline_too_far", params={"days": max_days})
    return deadline
