"""The sales office's own policy (issue 15), per project with a group default: partner protection, discount
approval limits, the co-resident acknowledgment, commission rates, the opportunity cost of a unit off the market.
Pure: no I/O. Shares are fractions (0.02 = 2 %), money is Decimal, never a float."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from decimal import Decimal, InvalidOperation
from typing import Any


@dataclass(frozen=True)
class SalesPolicy:
    # 报备: a channel partner's registration of a prospect protects it this many days.
    partner_protection_days: int = 30
    # Discounts on the list price: the manager approves up to this share of the list total; above it the city
    # GM; a price below the floor price (底价) needs HQ risk control, whatever the share.
    manager_discount_limit: Decimal = Decimal("0.02")
    discount_approval_minutes: int = 240  # each approval step's clock
    # 共居人知情确认书: required (with its signed file) before a subscription is recorded.
    co_resident_ack_required: bool = True
    # Commission accrued per contract on its price, reversed on refund.
    consultant_commission_rate: Decimal = Decimal("0.01")
    partner_commission_rate: Decimal = Decimal("0.015")
    # Opportunity cost of a unit off the market: its price × this rate per day (e.g. 0.0001 ≈ 3.65 % a year).
    opportunity_daily_rate: Decimal = Decimal("0.0001")


_SHARES = ("manager_discount_limit", "consultant_commission_rate", "partner_commission_rate", "opportunity_daily_rate")
_INTS = {"partner_protection_days": (1, 365), "discount_approval_minutes": (1, 30 * 24 * 60)}


def policy_errors(body: Any) -> list[tuple[str, str]]:
    """(field, message) for each fault of a (partial) policy body; unknown fields are faults too."""
    if not isinstance(body, Mapping):
        return [("body", "a sales policy is an object of named fields")]
    known = {f.name for f in fields(SalesPolicy)}
    out: list[tuple[str, str]] = [(k, f"unknown field {k}") for k in body if k not in known]
    for k, (lo, hi) in _INTS.items():
        if k in body:
            v = body[k]
            if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
                out.append((k, f"{k} is a whole number between {lo} and {hi}"))
    for k in _SHARES:
        if k in body:
            v = body[k]
            if isinstance(v, float) or isinstance(v, bool):
                out.append((k, f"{k} is a decimal string such as \"0.02\", never a float"))
                continue
            try:
                d = Decimal(str(v))
            except InvalidOperation:
                out.append((k, f"{k} is not a number: {v!r}"))
                continue
            if not d.is_finite() or not Decimal(0) <= d <= Decimal(1):
                out.append((k, f"{k} is a share between 0 and 1 (0–100 %)"))
    if "co_resident_ack_required" in body and not isinstance(body["co_resident_ack_required"], bool):
        out.append(("co_resident_ack_required", "co_resident_ack_required is true or false"))
    return out


def policy_from(*bodies: Mapping[str, Any] | None) -> SalesPolicy:
    """The defaults overlaid by each body in turn (group, then city company, then project)."""
    values: dict[str, Any] = {}
    for b in bodies:
        for k, v in (b or {}).items():
            if k in _SHARES:
                values[k] = Decimal(str(v))
            elif k in {f.name for f in fields(SalesPolicy)}:
                values[k] = v
    return SalesPolicy(**values)


def policy_to_json(p: SalesPolicy) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in asdict(p).items()}
