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


# ---------------------------------------------------------------- any date range (issue 16) ----------

# At most three years (with one leap day) per range: longer reads are a data export, not a statistic.
MAX_RANGE_DAYS = 3 * 365 + 1
# Signed: online-signed or beyond. A unit in 退房中 counts as what it was before its refund case opened.
CONTRACTED_STATES = frozenset({units.SIGNED, units.FILED, units.DELIVERED})
# How a visitor heard of the project (domain.reception.CHANNELS), in Chinese for the workbook; a customer's
# source channel is free text and shows as written; None (no profile) is 未知.
CHANNEL_LABELS_ZH = {"walk_in": "自然到访", "referral": "老带新", "online": "线上", "outdoor": "外拓派单",
                     "partner": "中介分销", "call": "来电", "other": "其他"}
FUNNEL_STAGES = ("visits", "effective_customers", "subscriptions", "contracts")


class RangeError(ValueError):
    """A date range that cannot be read; `field` is the query parameter to blame (from / to / period)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def date_range(today: date, *, period: str | None = None, date_from: date | None = None,
               date_to: date | None = None) -> tuple[date, date, str]:
    """(first, last, label) of a request: an explicit from..to (label "custom", both inclusive China dates,
    from ≤ to, at most MAX_RANGE_DAYS days), or a named period around `today` (default: the week)."""
    if date_from is None and date_to is None:
        first, last = period_bounds(today, period or "week")
        return first, last, period or "week"
    if period is not None:
        raise RangeError("period", "give either period or from/to, not both")
    if date_from is None:
        raise RangeError("from", "from is required with to")
    if date_to is None:
        raise RangeError("to", "to is required with from")
    if date_from > date_to:
        raise RangeError("to", f"to ({date_to}) is before from ({date_from})")
    if (date_to - date_from).days + 1 > MAX_RANGE_DAYS:
        raise RangeError("to", f"a range is at most {MAX_RANGE_DAYS} days (about three years)")
    return date_from, date_to, "custom"


def _month_end(d: date) -> date:
    return (d.replace(day=1) + timedelta(days=31)).replace(day=1) - timedelta(days=1)


def previous_period(first: date, last: date) -> tuple[date, date]:
    """The period just before [first, last]: the same number of whole calendar months when the range is
    whole months (March → February, Q2 → Q1), else the same number of days ending the day before `first`."""
    if first.day == 1 and last == _month_end(last):
        months = (last.year - first.year) * 12 + last.month - first.month + 1
        index = first.year * 12 + first.month - 1 - months
        return date(index // 12, index % 12 + 1, 1), first - timedelta(days=1)
    length = (last - first).days + 1
    return first - timedelta(days=length), first - timedelta(days=1)


def funnel_row(key: str | None, label: str | None, figures: Mapping[str, int | Decimal]) -> dict:
    """One row of the funnel visits → effective customers → subscriptions → contracts, with the stage rates.
    The figures are the period's flows (a contract signed this month may come from last month's subscription),
    so a rate can exceed 1; each is None when its denominator is 0."""
    visits, effective = figures.get("visits", 0), figures.get("effective_customers", 0)
    subs, contracts = figures.get("subscriptions", 0), figures.get("contracts", 0)
    return {
        "key": key, "label": label, "visits": visits, "effective_customers": effective, "subscriptions": subs,
        "subscription_amount": money(figures.get("subscription_amount", ZERO)), "contracts": contracts,
        "contract_amount": money(figures.get("contract_amount", ZERO)),
        "conversion": {"visit_to_effective": rate(effective, visits), "effective_to_subscription": rate(subs, effective),
                       "subscription_to_contract": rate(contracts, subs), "visit_to_subscription": rate(subs, visits),
                       "visit_to_contract": rate(contracts, visits)},
    }


def funnel(figures: Mapping[str | None, Mapping[str, int | Decimal]],
           labels: Mapping[str | None, str | None] | None = None) -> list[dict]:
    """Funnel rows per key (consultant or channel; None = not assigned / not known), busiest first (visits,
    then subscriptions, then contracts), ties by key with None last."""
    labels = labels or {}
    rows = [funnel_row(k, labels.get(k), v) for k, v in figures.items()]
    rows.sort(key=lambda r: (-r["visits"], -r["subscriptions"], -r["contracts"], r["key"] is None, r["key"] or ""))
    return rows


def funnel_total(rows: list[dict]) -> dict:
    """The office's row: the sum of the rows (each visit, customer, subscription and contract is in one row)."""
    keys = ("visits", "effective_customers", "subscriptions", "subscription_amount", "contracts", "contract_amount")
    return funnel_row(None, None, {k: sum((r[k] for r in rows), ZERO if k.endswith("amount") else 0) for k in keys})


def unit_counts(state: str, before: str | None) -> tuple[bool, bool, bool]:
    """(released, subscribed, contracted) of a unit in `state` (`before`: its state before a refund case)."""
    contracted = state in CONTRACTED_STATES or (state == units.REFUNDING and before in CONTRACTED_STATES)
    return state in RELEASED_STATES, state in SOLD_STATES, contracted


def batch_rows(rows: list[Mapping]) -> list[dict]:
    """Sell-through per release batch from {batch_id, batch, released, subscribed, contracted,
    period_subscriptions, period_contracts}: sell_through = subscribed / released (去化率), contract_share =
    contracted / released; ordered by batch name, the units of no batch (batch None) last."""
    out = [{"batch_id": r["batch_id"], "batch": r["batch"], "released": r["released"], "subscribed": r["subscribed"],
            "contracted": r["contracted"], "sell_through": rate(r["subscribed"], r["released"]),
            "contract_share": rate(r["contracted"], r["released"]),
            "period_subscriptions": r.get("period_subscriptions", 0), "period_contracts": r.get("period_contracts", 0)}
           for r in rows]
    out.sort(key=lambda r: (r["batch"] is None, r["batch"] or "", r["batch_id"] or 0))
    return out
