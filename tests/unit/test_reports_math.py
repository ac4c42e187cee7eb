"""The report figures' definitions (domain/reports.py) on known answers."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from domain import reports as R

DAY = 86400
# Ten cases taking 1, 2, ..., 10 days (given shuffled: the order must not matter).
TEN = [d * DAY for d in (7, 3, 10, 1, 5, 9, 2, 8, 4, 6)]


def test_ten_cases_median_and_p90_exactly():
    assert R.median(TEN) == Decimal(5.5 * DAY)
    assert R.p90(TEN) == Decimal("9.1") * DAY  # h = 9·0.9 = 8.1: 9 days + 0.1·(10 − 9)
    assert R.days_1(R.median(TEN)) == Decimal("5.5")
    assert R.days_1(R.p90(TEN)) == Decimal("9.1")
    assert R.summarize_durations(TEN) == {"n": 10, "mean_days": Decimal("5.5"), "median_days": Decimal("5.5"),
                                          "p90_days": Decimal("9.1")}


def test_three_of_ten_breached_is_thirty_percent():
    assert R.share(3, 10) == Decimal("0.3000")
    assert R.share(1, 3) == Decimal("0.3333") and R.share(2, 3) == Decimal("0.6667")  # half up
    assert R.share(0, 10) == Decimal("0.0000") and R.share(10, 10) == Decimal("1.0000")


def test_an_empty_period_has_no_figures():
    assert R.median([]) is None and R.p90([]) is None and R.mean([]) is None
    assert R.share(0, 0) is None
    assert R.days_1(None) is None and R.minutes_1(None) is None
    assert R.summarize_durations([]) == {"n": 0, "mean_days": None, "median_days": None, "p90_days": None}


def test_one_case_is_its_own_median_and_p90():
    one = [Decimal("1.25") * DAY]
    assert R.median(one) == R.p90(one) == R.mean(one) == Decimal("1.25") * DAY
    assert R.days_1(R.median(one)) == Decimal("1.3")  # half up
    assert R.share(1, 1) == Decimal("1.0000")


def test_percentile_is_linear_interpolation_between_closest_ranks():
    xs = [10, 20, 30, 40]
    assert R.percentile(xs, "0") == 10 and R.percentile(xs, "1") == 40
    assert R.percentile(xs, "0.5") == 25  # the mean of the two middle values
    assert R.percentile(xs, "0.9") == Decimal("37")  # h = 2.7: 30 + 0.7·10
    assert R.percentile([5, 5, 5], "0.9") == 5
    with pytest.raises(ValueError):
        R.percentile(xs, "1.5")
    with pytest.raises(TypeError):
        R.percentile([1.5], "0.5")  # never float


def test_rounding_to_a_tenth_half_up():
    assert R.days_1(Decimal(DAY) * Decimal("1.25")) == Decimal("1.3")
    assert R.days_1(Decimal(DAY) * Decimal("1.24999")) == Decimal("1.2")
    assert R.days_1(timedelta(hours=30)) == Decimal("1.3")  # 1.25 days
    assert R.minutes_1(timedelta(minutes=29, seconds=57)) == Decimal("30.0")
    assert R.minutes_1(Decimal(90)) == Decimal("1.5")
    assert R.seconds(timedelta(days=1, microseconds=5)) == Decimal("86400.000005")


def test_breached_steps():
    now = datetime(2026, 12, 1, 12, tzinfo=timezone.utc)
    due = now - timedelta(hours=1)
    assert R.is_breached(status="done", due_at=due, completed_at=due + timedelta(seconds=1), now=now)
    assert not R.is_breached(status="done", due_at=due, completed_at=due, now=now)  # on time, to the second
    assert R.is_breached(status="open", due_at=due, completed_at=None, now=now)
    assert not R.is_breached(status="open", due_at=now + timedelta(minutes=1), completed_at=None, now=now)
    assert not R.is_breached(status="cancelled", due_at=due, completed_at=now, now=now)
    assert not R.is_breached(status="done", due_at=None, completed_at=now, now=now)


def test_baseline_and_buckets_and_months():
    assert R.vs_baseline(Decimal("1.2"), Decimal("5.8")) == Decimal("0.7931")  # 5.8 → 1.2 days: 79 % shorter
    assert R.vs_baseline(None, Decimal("5.8")) is None and R.vs_baseline(Decimal("1"), None) is None
    assert R.vs_baseline(Decimal("1"), Decimal("0")) is None
    assert [R.time_left_bucket(h) for h in (None, Decimal("-0.1"), Decimal(0), Decimal("3.99"), Decimal(4), Decimal(24))] == [
        "no_clock", "overdue", "lt_1h", "lt_4h", "lt_24h", "ge_24h"]
    assert R.months(date(2025, 11, 30), date(2026, 2, 1)) == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert R.default_period(date(2026, 3, 15)) == (date(2025, 10, 1), date(2026, 3, 15))
    with pytest.raises(ValueError):
        R.check_period(date(2026, 2, 1), date(2026, 1, 31))
    with pytest.raises(ValueError):
        R.check_period(date(2020, 1, 1), date(2026, 1, 1))
    assert sorted(["archive", "zeta", "intake", "assessment"], key=R.step_order) == ["intake", "assessment", "archive", "zeta"]
