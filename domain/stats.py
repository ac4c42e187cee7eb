"""Sales statistics (DOMAIN §7): periods, rates, net figures and the daily series. Pure: no I/O, no clock.

Counts are flows: a subscription counts on the day it was made, its cancellation on the day it was
cancelled (so a past day's figures never change). Money is Decimal with two places, rates Decimal with
four places, or None when there is nothing to divide by."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from domain import units
from domain.refund import money

PERIODS = ("today", "week", "month")
# 去化率 = sold / released. Released: put on sale at some point (not 未推, 保留 or 不可售). Sold: a sale is on
# record; a unit in 退房中 still counts until its refund case completes (it is freed only then).
SOLD_STATES = frozenset({units.SUBSCRIBED, units.SIGNED, units.FILED, units.DELIVERED, units.REFUNDING})
RELEASED_STATES = SOLD_STATES | {units.AVAILABLE, units.LOCKED}
RATE_PLACES = Decimal("0.0001")
ZERO = Decimal("0.00")


def period_bounds(today: date, period: str) -> tuple[date, date]:
    """Inclusive (first, last) China dates: today; the ISO week (Monday..Sunday); the calendar month."""
    if period == "today":
        return today, today
    if period == "week":
        monday = today - timedelta(days=today.weekday())
        return monday, monday + timedelta(days=6)
    if period == "month":
        first = today.replace(day=1)
        following = (first + timedelta(days=31)).replace(day=1)
        return first, following - timedelta(days=1)
    raise ValueError(f"unknown period {period!r}; one of {', '.join(PERIODS)}")


def rate(numerator: int | Decimal, denominator: int | Decimal) -> Decimal | None:
    """numerator / denominator rounded half-up to 0.0001; None when the denominator is 0."""
    if isinstance(numerator, float) or isinstance(denominator, float):
        raise TypeError("rates are computed from Decimal or int, never float")
    if denominator == 0:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


def net(count: int, amount: Decimal, less_count: int, less_amount: Decimal) -> tuple[int, Decimal]:
    """(count − less_count, amount − less_amount): may be negative in a period with more undone than done."""
    return count - less_count, money(Decimal(amount) - Decimal(less_amount))


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def daily_series(first: date, last: date, *, today: date, subscriptions: Mapping[date, int],
                 contracts: Mapping[date, int], received: Mapping[date, Decimal],
                 refunded: Mapping[date, Decimal]) -> list[dict]:
    """One entry per day from `first` to min(`last`, today): subscriptions and contracts made that day,
    collections = cash received minus refunds paid that day."""
    return [
        {"date": d, "subscriptions": subscriptions.get(d, 0), "contracts": contracts.get(d, 0),
         "collections": money(received.get(d, ZERO) - refunded.get(d, ZERO))}
        for d in days(first, min(last, today))
    ]


def _total(per_day: Mapping[date, Decimal | int], first: date, last: date, zero: Decimal | int) -> Decimal | int:
    return sum((v for d, v in per_day.items() if first <= d <= last), zero)


def summarize(*, project_id: int, period: str, first: date, last: date, today: date, calls: int,
              visits: Mapping[str, int], effective_customers: int, daily: Mapping[str, Mapping[date, Decimal | int]],
              sell_through: list[dict], cancelled_of_period: int = 0) -> dict:
    """The statistics of one period from per-day figures. `daily` holds, per key, {China date: value}:
    subscriptions, subscription_amount, deposits, cancelled, cancelled_amount, contracts, contract_amount,
    contracts_refunded, contracts_refunded_amount, receipts, refunds_paid. Days outside [first, last] are
    ignored. `sell_through` rows are {layout, released, sold}. `cancelled_of_period`: how many of the
    subscriptions made in the period have been cancelled since (the refund rate's numerator: a rate of this
    period's sales, at most 1, not this period's cancellations of older sales over its new ones)."""

    def tot(key: str, zero: Decimal | int = 0) -> Decimal | int:
        return _total(daily.get(key, {}), first, last, zero)

    subs, subs_amount = tot("subscriptions"), money(tot("subscription_amount", ZERO))
    cancelled, cancelled_amount = tot("cancelled"), tot("cancelled_amount", ZERO)
    sub_net = net(subs, subs_amount, cancelled, cancelled_amount)
    contracts, contract_amount = tot("contracts"), money(tot("contract_amount", ZERO))
    refunded, refunded_amount = tot("contracts_refunded"), tot("contracts_refunded_amount", ZERO)
    con_net = net(contracts, contract_amount, refunded, refunded_amount)
    received: dict[date, Decimal] = {}
    for key in ("deposits", "receipts"):
        for d, v in daily.get(key, {}).items():
            received[d] = received.get(d, ZERO) + v
    cash_in, cash_out = money(_total(received, first, last, ZERO)), money(tot("refunds_paid", ZERO))
    groups = visits.get("groups", 0)
    return {
        "project_id": project_id, "period": period, "date_from": first, "date_to": last,
        "calls": calls,
        "visits": {"groups": groups, "first": visits.get("first", 0), "repeat": visits.get("repeat", 0)},
        "effective_customers": effective_customers,
        "subscriptions": {"count": subs, "amount": subs_amount, "cancelled": cancelled,
                          "cancelled_amount": money(cancelled_amount), "net_count": sub_net[0], "net_amount": sub_net[1],
                          "cancelled_of_period": cancelled_of_period},
        "contracts": {"count": contracts, "amount": contract_amount, "refunded": refunded,
                      "net_count": con_net[0], "net_amount": con_net[1]},
        "collections": {"received": cash_in, "refunded": cash_out, "net": money(cash_in - cash_out)},
        "conversion": {"visit_to_subscription": rate(subs, groups), "subscription_to_contract": rate(contracts, subs)},
        "refund_rate": rate(cancelled_of_period, subs),
        "sell_through_by_layout": [
            {"layout": r["layout"], "released": r["released"], "sold": r["sold"], "rate": rate(r["sold"], r["released"])}
            for r in sell_through
        ],
        "series": daily_series(first, last, today=today, subscriptions=daily.get("subscriptions", {}),
                               contracts=daily.get("contracts", {}), received=received,
                               refunded=daily.get("refunds_paid", {})),
    }
