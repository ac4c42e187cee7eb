"""The notification rules on their own: reminder points and times, quiet hours, urgency, and what a notice says
in Chinese and in English (the time left counted when it is read)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import pytest

from domain.calendar import CHINA
from domain.notify import (
    clock_reminders,
    end_of_day,
    is_urgent,
    lead_reminders,
    quiet_until,
    reminder_points,
    render,
    time_left,
)

T0 = datetime(2026, 12, 3, 10, 0, tzinfo=CHINA)


def test_reminder_points_default_to_half_and_eighty_per_cent_then_the_breach():
    assert reminder_points(None) == (50, 80, 100)
    assert reminder_points({"reminders": {"points": [90, 25, 25]}}) == (25, 90, 100)


@pytest.mark.parametrize("bad", [[0], [100], [50.5], ["50"], [True]])
def test_a_policy_point_outside_1_to_99_is_refused(bad):
    with pytest.raises(ValueError, match="between 1 and 99"):
        reminder_points({"reminders": {"points": bad}})


def test_a_30_minute_clock_reminds_at_15_and_24_minutes_and_breaches_at_30():
    got = clock_reminders(T0, T0 + timedelta(minutes=30), (50, 80, 100), now=T0)
    assert got == [(50, T0 + timedelta(minutes=15)), (80, T0 + timedelta(minutes=24)), (100, T0 + timedelta(minutes=30))]


def test_points_already_past_are_skipped_but_the_breach_is_kept():
    due = T0 + timedelta(hours=2)
    assert clock_reminders(T0, due, (50, 80, 100), now=T0 + timedelta(minutes=90)) == [(80, T0 + timedelta(minutes=96)), (100, due)]
    assert clock_reminders(T0, T0 - timedelta(hours=1), (50, 80, 100), now=T0) == [(100, T0 - timedelta(hours=1))]


def test_leads_before_an_appointment_that_are_still_ahead():
    appointment = T0 + timedelta(hours=5)
    assert lead_reminders(appointment, (timedelta(hours=24), timedelta(hours=1)), now=T0) == [(60, T0 + timedelta(hours=4))]


def test_a_days_deadline_ends_at_midnight_in_china():
    assert end_of_day(date(2026, 12, 31)) == datetime(2027, 1, 1, 0, 0, tzinfo=CHINA)


@pytest.mark.parametrize("local, expected_end", [
    ((23, 30), datetime(2026, 12, 4, 8, 0, tzinfo=CHINA)),   # after the start: ends tomorrow morning
    ((6, 59), datetime(2026, 12, 3, 8, 0, tzinfo=CHINA)),    # before the end: ends this morning
    ((8, 0), None),                                          # the end itself is no longer quiet
    ((21, 59), None),
])
def test_quiet_hours_that_cross_midnight(local, expected_end):
    now = datetime(2026, 12, 3, *local, tzinfo=CHINA).astimezone(timezone.utc)
    assert quiet_until(now, time(22, 0), time(8, 0)) == expected_end


def test_quiet_hours_within_a_day_and_none_set():
    noon = datetime(2026, 12, 3, 12, 30, tzinfo=CHINA)
    assert quiet_until(noon, time(12, 0), time(13, 30)) == datetime(2026, 12, 3, 13, 30, tzinfo=CHINA)
    assert quiet_until(noon, None, None) is None
    assert quiet_until(noon, time(12, 0), time(12, 0)) is None


def test_breaches_and_red_warnings_are_urgent_nothing_else():
    assert is_urgent("sla_breach", {})
    assert is_urgent("reminder", {"point": 100})
    assert is_urgent("warning_raised", {"level": "red"}) and is_urgent("warning_escalated", {"level": "red"})
    assert not is_urgent("reminder", {"point": 80})
    assert not is_urgent("warning_raised", {"level": "orange"})
    assert not is_urgent("task_opened", {"level": "red"})


def test_time_left_and_overdue_in_both_languages():
    assert time_left(T0 + timedelta(minutes=25), T0, "zh-CN") == "剩余 25 分钟"
    assert time_left(T0 + timedelta(hours=2, minutes=5), T0, "en") == "2 h 5 min left"
    assert time_left(T0 - timedelta(hours=26), T0, "zh-CN") == "已超时 1 天 2 小时"
    assert time_left(T0 - timedelta(seconds=20), T0, "en") == "1 min overdue"


FACTS = {"case_no": "RF20261203-01", "unit": "1-2-1201", "customer": "李*", "stage": "intake",
         "due_at": (T0 + timedelta(minutes=30)).isoformat()}


def test_a_task_notice_in_chinese_names_the_case_unit_masked_customer_and_time_left():
    title, body = render("task_opened", FACTS, "zh-CN", T0 + timedelta(minutes=12))
    assert title == "新任务：情绪隔离与信息采集 — 案件 RF20261203-01"
    assert body.splitlines() == ["1-2-1201 · 李*", "截止 2026-12-03 10:30（剩余 18 分钟）"]


def test_the_same_notice_in_english_and_as_a_reminder_and_a_breach():
    assert render("task_opened", FACTS, "en", T0)[0] == "New task: Intake — Case RF20261203-01"
    assert render("reminder", {**FACTS, "point": 80}, "zh-CN", T0)[0] == "提醒：情绪隔离与信息采集 已过 80% 时限 — 案件 RF20261203-01"
    title, body = render("reminder", {**FACTS, "point": 100}, "en", T0 + timedelta(minutes=31))
    assert title == "Overdue: Intake — Case RF20261203-01" and "1 min overdue" in body


def test_an_assessment_names_its_department_and_a_warning_its_level():
    assert render("task_opened", {**FACTS, "stage": "assessment:legal"}, "zh-CN", T0)[0].startswith("新任务：法务评估")
    assert render("warning_raised", {"level": "red", "customer": "王**"}, "zh-CN", T0)[0] == "红色预警，请按时响应"
    assert render("warning_raised", {"level": "red", "customer": "王**"}, "en", T0)[0] == "Red warning: answer it in time"
