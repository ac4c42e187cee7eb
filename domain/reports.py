"""The figures of the reports (issue 16), as pure functions: the definitions the SQL in db/reports.py follows.

Definitions
- Percentile: linear interpolation between the closest ranks ("type 7" of Hyndman & Fan, the method of
  PostgreSQL's percentile_cont, numpy's default and Excel's PERCENTILE.INC). For n sorted values x[0..n-1]
  and 0 <= p <= 1, h = (n - 1)·p, and the p-th percentile is x[floor h] + (h - floor h)·(x[floor h + 1] - x[floor h]).
  The median is the 0.5 percentile (the mean of the two middle values when n is even); p90 is 0.9.
  No values: None. One value: that value for every p.
- Durations are exact (Decimal seconds from the timestamps); a person reads days to 0.1 (a case's handling
  time) or minutes to 0.1 (a step), rounded half up, only after the percentile is taken.
- Share: part / whole rounded half up to 0.0001 (0.3000 is 30 %); None when the whole is 0.
- A step (a task) is breached when it was done after its due time, or is still open past it; tasks without a
  due time are neither breached nor counted in the share's whole; cancelled tasks count nowhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

SHARE_PLACES = Decimal("0.0001")
TENTH = Decimal("0.1")
SECONDS_PER_DAY = Decimal(86400)
SECONDS_PER_MINUTE = Decimal(60)
MAX_SPAN_DAYS = 3 * 366  # a report covers at most about three years

# The steps of a case in the order a person reads them (tasks.kind); other kinds follow, by name.
STEP_ORDER = ("intake", "assessment", "gm_approval", "solution", "choice", "contract_cancellation",
              "refund_payment", "archive", "review_meeting", "escalation", "void_approval", "dispute")
# The paths a case ends by (refund_cases.outcome->>'path'); "open": no outcome yet.
PATHS = ("A", "B", "C", "withdrawn", "voided", "legal", "open")
# Time left until an open case's nearest deadline, in hours: the dashboard's buckets.
TIME_LEFT_BUCKETS = ("overdue", "lt_1h", "lt_4h", "lt_24h", "ge_24h", "no_clock")


def _dec(value: Decimal | int) -> Decimal:
    if isinstance(value, float) or isinstance(value, bool):
        raise TypeError("report figures are computed from Decimal or int, never float")
    return Decimal(value)


def percentile(values: Iterable[Decimal | int], p: Decimal | str) -> Decimal | None:
    """The p-th percentile (0 <= p <= 1) by linear interpolation between closest ranks (see the module)."""
    p = Decimal(p)
    if not 0 <= p <= 1:
        raise ValueError("p lies in [0, 1]")
    xs = sorted(_dec(v) for v in values)
    if not xs:
        return None
    h = (len(xs) - 1) * p
    lo = int(h.to_integral_value(rounding=ROUND_FLOOR))
    if lo >= len(xs) - 1:
        return xs[-1]
    return xs[lo] + (h - lo) * (xs[lo + 1] - xs[lo])


def median(values: Iterable[Decimal | int]) -> Decimal | None:
    return percentile(values, "0.5")


def p90(values: Iterable[Decimal | int]) -> Decimal | None:
    return percentile(values, "0.9")


def mean(values: Iterable[Decimal | int]) -> Decimal | None:
    xs = [_dec(v) for v in values]
    return sum(xs, Decimal(0)) / len(xs) if xs else None


def share(part: int, whole: int) -> Decimal | None:
    """part / whole, half up to 0.0001; None when there is nothing to divide by."""
    if whole == 0:
        return None
    if part < 0 or part > whole:
        raise ValueError("a share's part lies between 0 and its whole")
    return (Decimal(part) / Decimal(whole)).quantize(SHARE_PLACES, rounding=ROUND_HALF_UP)


def seconds(d: timedelta) -> Decimal:
    """A duration as exact Decimal seconds (microsecond precision)."""
    return Decimal(d.days * 86400 + d.seconds) + Decimal(d.microseconds) / Decimal(1_000_000)


def days_1(value: Decimal | timedelta | None) -> Decimal | None:
    """Seconds (or a timedelta) as days to 0.1, half up; None stays None."""
    if value is None:
        return None
    s = seconds(value) if isinstance(value, timedelta) else _dec(value)
    return (s / SECONDS_PER_DAY).quantize(TENTH, rounding=ROUND_HALF_UP)


def minutes_1(value: Decimal | timedelta | None) -> Decimal | None:
    """Seconds (or a timedelta) as minutes to 0.1, half up; None stays None."""
    if value is None:
        return None
    s = seconds(value) if isinstance(value, timedelta) else _dec(value)
    return (s / SECONDS_PER_MINUTE).quantize(TENTH, rounding=ROUND_HALF_UP)


def is_breached(*, status: str, due_at, completed_at, now) -> bool:
    """A step is breached when done after its due time, or still open past it (see the module)."""
    if due_at is None or status == "cancelled":
        return False
    if status == "done":
        return completed_at is not None and completed_at > due_at
    return now > due_at


def step_order(kind: str) -> tuple[int, str]:
    return (STEP_ORDER.index(kind) if kind in STEP_ORDER else len(STEP_ORDER), kind)


def time_left_bucket(hours_left: Decimal | None) -> str:
    """The dashboard's bucket for the hours until an open case's nearest deadline (None: no clock runs)."""
    if hours_left is None:
        return "no_clock"
    if hours_left < 0:
        return "overdue"
    if hours_left < 1:
        return "lt_1h"
    if hours_left < 4:
        return "lt_4h"
    if hours_left < 24:
        return "lt_24h"
    return "ge_24h"


def months(first: date, last: date) -> list[str]:
    """The months 'YYYY-MM' from first's month to last's, both included."""
    out, y, m = [], first.year, first.month
    while (y, m) <= (last.year, last.month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def check_period(first: date, last: date) -> None:
    if last < first:
        raise ValueError("date_to is before date_from")
    if (last - first).days + 1 > MAX_SPAN_DAYS:
        raise ValueError(f"a report covers at most {MAX_SPAN_DAYS} days")


def default_period(today: date) -> tuple[date, date]:
    """Six months: the first day of the month five months before today's, to today."""
    y, m = today.year, today.month - 5
    while m < 1:
        y, m = y - 1, m + 12
    return date(y, m, 1), today


def vs_baseline(value: Decimal | None, baseline: Decimal | None) -> Decimal | None:
    """(baseline − value) / baseline, the saving against the baseline (0.7931 for 5.8 → 1.2); None when either
    is missing or the baseline is 0."""
    if value is None or baseline is None or baseline == 0:
        return None
    return ((baseline - value) / baseline).quantize(SHARE_PLACES, rounding=ROUND_HALF_UP)


def summarize_durations(values: Sequence[Decimal | int]) -> dict:
    """n, mean, median and p90 of durations in seconds, as days to 0.1 (the one-list form of the SQL's figures)."""
    return {"n": len(values), "mean_days": days_1(mean(values)), "median_days": days_1(median(values)),
            "p90_days": days_1(p90(values))}
