"""The demo reception's clock (scripts/seed_reception.demo_clock): its rotation and walk-ins belong to today's China
day and to the past, whatever the hour the demo is started — just after China midnight included."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from domain.calendar import CHINA, china_date
from scripts.seed_reception import demo_clock

MINUTES = (0, 5, 6, 20, 21, 22, 40, 41, 70, 120)


@pytest.mark.parametrize("now", [
    datetime(2026, 12, 3, 16, 10, tzinfo=timezone.utc),   # 00:10 China time: the day began 10 minutes ago
    datetime(2026, 12, 3, 16, 0, 1, tzinfo=timezone.utc),  # one second into the China day
    datetime(2026, 12, 3, 17, 59, tzinfo=timezone.utc),   # 01:59
    datetime(2026, 12, 3, 2, 30, tzinfo=timezone.utc),    # 10:30 China time: the two hours before now
])
def test_the_demo_reception_happens_today_and_in_the_past(now):
    day, start, at = demo_clock(now)
    assert day == china_date(now)
    times = [at(m) for m in MINUTES]
    assert times == sorted(times) and times[0] == start
    assert all(china_date(t) == day for t in times), [t.astimezone(CHINA) for t in times]
    assert times[-1] <= now


def test_in_the_day_the_minutes_are_minutes():
    now = datetime(2026, 12, 3, 2, 30, tzinfo=timezone.utc)
    _, start, at = demo_clock(now)
    assert start == now - timedelta(hours=2)
    assert at(41) - at(40) == timedelta(minutes=1)
