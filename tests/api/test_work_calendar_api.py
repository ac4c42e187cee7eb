"""The working-day calendar beyond 2026 (issue 15): ops enters a year's holiday schedule (with 调休 workdays)
through the API, every day says where its status comes from, coverage and the 90-day warning, and the
备案 deadline follows Civil Code art. 203 on the calendar in force."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import delete, select

from db.followup_models import CalendarOverride, CalendarYear, WarningRecord
from db.contract_models import Contract
from db.models import Subscription
from db.work_calendar import raise_coverage_warning
from tests.api.conftest import Api
from tests.factories_contracts import sign

# 2027 as ops would enter it from the State Council's notice (元旦 is Friday 1 January).
SCHEDULE_2027 = {
    "notice": "国务院办公厅关于2027年部分节假日安排的通知",
    "holidays": [{"day": "2027-01-01", "name": "元旦"}, {"day": "2027-01-02", "name": "元旦"},
                 {"day": "2027-01-03", "name": "元旦"},
                 *({"day": f"2027-02-{d:02d}", "name": "春节"} for d in range(6, 14)),
                 {"day": "2027-10-01", "name": "国庆节"}, {"day": "2027-10-07", "name": "国庆节"}],
    "workdays": [{"day": "2027-02-14", "name": "春节调休"}, {"day": "2027-10-09", "name": "国庆节调休"}],
}


@pytest.fixture
def api(factory, http) -> Api:
    return Api(http, factory.users(extra=("admin",)), factory.project_id())


async def enter_2027(api: Api) -> dict:
    r = await api.http.put("/api/work-calendar/2027", json=SCHEDULE_2027, headers=await api.as_("ops"))
    assert r.status_code == 200, r.text
    return r.json()


async def test_ops_enters_2027_and_every_day_says_where_its_status_comes_from(api, session_factory):
    r = await api.http.put("/api/work-calendar/2027", json=SCHEDULE_2027, headers=await api.as_("finance"))
    assert r.status_code == 403
    out = await enter_2027(api)
    days = {d["day"]: d for d in out["days"]}
    assert out["entered"] and out["notice"].startswith("国务院") and len(days) == 365
    assert days["2027-01-01"] | {} == {"day": "2027-01-01", "workday": False, "source": "holiday", "name": "元旦",
                                       "statutory": None}
    assert days["2027-02-14"]["workday"] is True and days["2027-02-14"]["source"] == "workday"  # a 调休 Sunday
    assert days["2027-01-04"]["workday"] is True and days["2027-01-04"]["source"] == "weekly"
    assert days["2027-01-09"]["workday"] is False and days["2027-01-09"]["source"] == "weekly"  # a Saturday
    r = await api.get("ops", "/api/work-calendar/2026")  # the package's year: statutory, with its names
    d26 = {d["day"]: d for d in r.json()["days"]}
    assert r.json()["entered"] is False
    assert d26["2026-10-01"]["source"] == "statutory" and d26["2026-10-01"]["workday"] is False
    assert d26["2026-10-10"]["workday"] is True  # the 调休 Saturday
    r = await api.get("ops", "/api/work-calendar/coverage", params={"as_of": "2026-12-03"})
    assert r.status_code == 200 and 2027 in r.json()["entered_years"] and 2026 in r.json()["statutory_years"]
    assert r.json()["covered_until"] == "2027-12-31" and r.json()["warning"] is False
    # entered again (a correction): replaced, not doubled
    await enter_2027(api)
    with session_factory() as s:
        n = s.scalar(select(CalendarOverride).where(CalendarOverride.day == date(2027, 1, 1)))
        assert n.source == "holiday" and s.get(CalendarYear, 2027).holidays == len(SCHEDULE_2027["holidays"])


async def test_a_bad_schedule_is_refused_field_by_field_and_nothing_is_written(api, session_factory):
    bad = {"holidays": [{"day": "2028-01-01", "name": "元旦"}, {"day": "2029-05-01"}, {"day": "2028-01-01"}],
           "workdays": [{"day": "2028-01-03"}, {"day": "2028-01-08"}, {"day": "2028-01-01"}]}
    r = await api.http.put("/api/work-calendar/2028", json=bad, headers=await api.as_("ops"))
    assert r.status_code == 422, r.text
    fields = {(e["field"], e["code"]) for e in r.json()["errors"]}
    assert fields == {("body.holidays.1.day", "outside_year"), ("body.holidays.2.day", "duplicate"),
                      ("body.workdays.0.day", "not_weekend"), ("body.workdays.2.day", "duplicate")}
    r = await api.http.put("/api/work-calendar/2026", json=SCHEDULE_2027, headers=await api.as_("ops"))
    assert r.status_code == 422 and any(e["field"] == "body.year" for e in r.json()["errors"])
    r = await api.http.put("/api/work-calendar/2028", json={"holidays": []}, headers=await api.as_("ops"))
    assert r.status_code == 422 and any(e["field"] == "body.holidays" for e in r.json()["errors"])
    with session_factory() as s:
        assert s.get(CalendarYear, 2028) is None
        assert s.scalar(select(CalendarOverride).where(CalendarOverride.day == date(2028, 1, 1))) is None


async def test_a_contract_signed_2026_12_02_is_due_for_filing_2027_01_04(api, factory, session_factory):
    await enter_2027(api)
    sc = factory.scenario(deposit=Decimal("50000"), price=Decimal("2000000"))
    sales = Api(api.http, sc.users)
    c = await sign(sales, sc.subscription_id, signed_on=date(2026, 12, 2))
    # 30 days → 2027-01-01, 元旦; 01-02 and 01-03 are the holiday's weekend: the next working day (art. 203)
    assert c["filing_due"] == "2027-01-04"
    with session_factory() as s:
        assert s.get(Subscription, sc.subscription_id).stage == "online_signed"


async def test_entering_the_year_moves_an_unfiled_contracts_deadline_and_its_reminders_with_it(api, factory,
                                                                                             session_factory):
    from db.notice_models import Reminder
    from domain.notify import end_of_day

    with session_factory.begin() as s:  # 2027 not entered yet (another test of this module may have entered it)
        s.execute(delete(CalendarOverride).where(CalendarOverride.day >= date(2027, 1, 1),
                                                 CalendarOverride.day <= date(2027, 12, 31)))
        s.execute(delete(CalendarYear).where(CalendarYear.year == 2027))
    sc = factory.scenario(deposit=Decimal("50000"), price=Decimal("2000000"))
    c = await sign(Api(api.http, sc.users), sc.subscription_id, signed_on=date(2026, 12, 2))
    assert c["filing_due"] == "2027-01-01"  # beyond the data: the unadjusted 30th day, never later than the truth

    def reminders() -> dict[int, Reminder]:
        with session_factory() as s:
            return {r.point: r for r in s.scalars(select(Reminder).where(Reminder.source == "filing",
                                                                         Reminder.source_id == c["id"]))}

    before = reminders()
    assert set(before) == {50, 80, 100} and before[100].fire_at == end_of_day(date(2027, 1, 1))
    with session_factory.begin() as s:  # the first reminder has gone out already
        s.get(Reminder, before[50].id).status = "fired"
    await enter_2027(api)
    with session_factory() as s:
        assert s.get(Contract, c["id"]).filing_due == date(2027, 1, 4)
    after = reminders()
    # The breach moved to the new deadline (not a false "overdue" on 1 January); the fired one stays as it was.
    assert after[100].fire_at == end_of_day(date(2027, 1, 4)) and after[100].status == "pending"
    assert after[80].fire_at > before[80].fire_at and after[80].status == "pending"
    assert after[50].id == before[50].id and after[50].status == "fired" and after[50].fire_at == before[50].fire_at


async def test_the_warning_comes_90_days_before_the_data_runs_out_and_ops_answers_it(api, session_factory):
    # A constructed "today": 2026-10-01 is 91 days before the end of 2026 (no warning), 2026-10-02 is 90.
    # 2027 may already be entered by another test: count from the end of the data in force instead.
    from db.work_calendar import coverage

    with session_factory() as s:
        end = coverage(s, date(2026, 10, 1)).covered_until
    quiet = datetime.combine(date.fromordinal(end.toordinal() - 91), datetime.min.time(), timezone.utc)
    loud = datetime.combine(date.fromordinal(end.toordinal() - 89), datetime.min.time(), timezone.utc)
    with session_factory.begin() as s:
        assert raise_coverage_warning(s, quiet) is None
        w = raise_coverage_warning(s, loud)
        assert w is not None and w.level == "yellow" and w.respond_role == "ops" and w.customer_id is None
        assert w.rules[0]["rule"] == "calendar_coverage" and str(end.year + 1) in w.rules[0]["detail"]
        wid = w.id
    with session_factory.begin() as s:
        assert raise_coverage_warning(s, loud) is None  # once per missing year and level
    r = await api.get("ops", "/api/warnings")
    assert wid in [x["id"] for x in r.json()]
    r = await api.post("ops", f"/api/warnings/{wid}/respond", json={"note": "the notice is expected in November"})
    assert r.status_code == 200, r.text
    with session_factory.begin() as s:
        s.delete(s.get(WarningRecord, wid))  # the shared database: later runs raise it again
