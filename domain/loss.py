"""The refund case's economic loss from the records (DOMAIN §4 step 2, §10): commission accrued, advertising
allocation and opportunity cost, each with how it was computed. Pure: no I/O, time is an argument, money is
Decimal rounded half-up to the fen (0.01) per line, and a total is the sum of its rounded lines.

- Commission: a contract's accrual is price × the policy's rate when it was accrued, per party (consultant,
  channel partner); a refund reverses it. The loss counts what was accrued net of reversals recorded before the
  case was registered (its own reversal, written when the buyer chooses to cancel, does not make the loss
  vanish after the fact).
- Advertising: each campaign covering the unit contributes its spend / the number of units it covers.
- Opportunity cost: the days the unit is off the market (退房中), counted from the China date of the
  registration to today or to the day the case closed, both days included, × the policy's daily rate × price.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

FEN = Decimal("0.01")


def money(x: Decimal) -> Decimal:
    """Rounded half-up to the fen."""
    return x.quantize(FEN, rounding=ROUND_HALF_UP)


def commission_amount(base: Decimal, rate: Decimal) -> Decimal:
    """One party's commission on a contract price."""
    if base < 0 or rate < 0:
        raise ValueError("a commission needs a non-negative price and rate")
    return money(base * rate)


@dataclass(frozen=True)
class CommissionLine:
    party: str  # consultant / partner
    kind: str  # accrual / reversal
    base: Decimal
    rate: Decimal
    amount: Decimal  # signed: a reversal is negative


@dataclass(frozen=True)
class CampaignLine:
    campaign_id: int
    name: str
    spend: Decimal
    units: int

    @property
    def share(self) -> Decimal:
        if self.units <= 0:
            raise ValueError(f"campaign {self.campaign_id} covers no unit")
        return money(self.spend / self.units)


@dataclass(frozen=True)
class Component:
    amount: Decimal
    how: str  # how it was computed, in words and figures (Chinese: the sales office's language)
    how_en: str
    lines: tuple[dict, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class LossEstimate:
    commission_accrued: Component
    advertising_allocation: Component
    opportunity_cost: Component

    @property
    def total(self) -> Decimal:
        return self.commission_accrued.amount + self.advertising_allocation.amount + self.opportunity_cost.amount


def commission_component(lines: Sequence[CommissionLine], *, has_contract: bool) -> Component:
    if not has_contract:
        return Component(Decimal("0.00"), "未网签：按合同计提的佣金为 0", "no contract signed: no commission accrued")
    total = money(sum((ln.amount for ln in lines), Decimal("0")))
    parts = [f"{ln.base} × {ln.rate} = {ln.amount}" for ln in lines]
    party_zh = {"consultant": "置业顾问", "partner": "渠道"}
    how = "；".join(f"{party_zh.get(ln.party, ln.party)}{'冲回' if ln.kind == 'reversal' else '计提'} {p}"
                   for ln, p in zip(lines, parts)) or "合同未计提佣金"
    how_en = "; ".join(f"{ln.party} {ln.kind} {p}" for ln, p in zip(lines, parts)) or "no commission accrued on the contract"
    return Component(total, f"{how}，合计 {total}", f"{how_en}; total {total}", tuple(
        {"party": ln.party, "kind": ln.kind, "base": str(ln.base), "rate": str(ln.rate), "amount": str(ln.amount)}
        for ln in lines))


def advertising_component(campaigns: Iterable[CampaignLine]) -> Component:
    lines = list(campaigns)
    total = sum((c.share for c in lines), Decimal("0.00"))
    if not lines:
        return Component(Decimal("0.00"), "没有覆盖该房源的推广活动", "no campaign covers this unit")
    how = "；".join(f"{c.name} {c.spend} ÷ {c.units} 套 = {c.share}" for c in lines)
    how_en = "; ".join(f"{c.name} {c.spend} / {c.units} units = {c.share}" for c in lines)
    return Component(money(total), f"{how}，合计 {money(total)}", f"{how_en}; total {money(total)}", tuple(
        {"campaign_id": c.campaign_id, "name": c.name, "spend": str(c.spend), "units": c.units, "share": str(c.share)}
        for c in lines))


def days_off_market(registered_on: date, until: date) -> int:
    """Both days included: a unit registered and assessed on the same day has been off the market one day."""
    if until < registered_on:
        raise ValueError("the end of the period is before the registration")
    return (until - registered_on).days + 1


def opportunity_component(*, price: Decimal, daily_rate: Decimal, registered_on: date, until: date,
                          closed: bool) -> Component:
    days = days_off_market(registered_on, until)
    amount = money(price * daily_rate * days)
    end_zh, end_en = ("结案日", "closed") if closed else ("今天", "today")
    how = f"{registered_on} 登记至{end_zh} {until}，共 {days} 天 × 日费率 {daily_rate} × 房价 {price} = {amount}"
    how_en = f"{days} days from {registered_on} (registered) to {until} ({end_en}) × daily rate {daily_rate} × price {price} = {amount}"
    return Component(amount, how, how_en, ({"days": days, "daily_rate": str(daily_rate), "price": str(price),
                                            "from": registered_on.isoformat(), "to": until.isoformat()},))


def estimate(*, commission: Sequence[CommissionLine], has_contract: bool, campaigns: Iterable[CampaignLine],
             price: Decimal, daily_rate: Decimal, registered_on: date, until: date, closed: bool) -> LossEstimate:
    return LossEstimate(
        commission_component(commission, has_contract=has_contract),
        advertising_component(campaigns),
        opportunity_component(price=price, daily_rate=daily_rate, registered_on=registered_on, until=until,
                              closed=closed),
    )
