"""Early-warning rules and levels (DOMAIN §5)."""

from datetime import date, datetime, timedelta, timezone

import pytest

from domain.calendar import CalendarNotCovered
from domain.warnings import (
    MORTGAGE_DOCS_LATE,
    REFUND_INQUIRIES,
    VISITS_DROPPED,
    DowngradeRefused,
    Level,
    RuleHit,
    check_downgrade,
    mortgage_documents_late_rule,
    refund_inquiry_rule,
    visits_dropped_rule,
    warning_level,
)

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)


@pytest.mark.parametrize(
    "ages_days, fires",
    [
        ([], False),
        ([1, 2], False),
        ([1, 2, 3], True),
        ([1, 2, 20], False),  # one outside the 14-day window
        ([0, 5, 13, 13.9], True),
    ],
)
def test_repeated_refund_policy_inquiries_fire_at_the_threshold_within_the_window(ages_days, fires):
    hit = refund_inquiry_rule([NOW - timedelta(days=a) for a in ages_days], now=NOW)
    assert (hit is not None) == fires
    if hit:
        assert hit.rule == REFUND_INQUIRIES and 0 < hit.score <= 100


@pytest.mark.parametrize(
    "recent, before, appointment, fires",
    [
        (0, 3, None, True),
        (1, 3, None, True),
        (1, 3, date(2026, 11, 25), False),  # a next appointment is booked
        (1, 3, date(2026, 11, 20), True),  # an appointment in the past does not count
        (3, 3, None, False),  # visits did not drop
    ],
)
def test_visits_dropped_fires_only_without_a_next_appointment(recent, before, appointment, fires):
    hit = visits_dropped_rule(visits_recent=recent, visits_before=before, next_appointment=appointment, today=date(2026, 11, 23))
    assert (hit is not None) == fires
    if hit:
        assert hit.rule == VISITS_DROPPED


@pytest.mark.parametrize(
    "expected_by, today, complete, fires",
    [
        (date(2026, 11, 2), date(2026, 11, 9), False, False),  # exactly 5 working days late
        (date(2026, 11, 2), date(2026, 11, 10), False, True),  # 6 working days late
        (date(2026, 11, 2), date(2026, 11, 10), True, False),  # documents complete
        (date(2026, 9, 28), date(2026, 10, 10), False, False),  # 5 working days across National Day
        (date(2026, 9, 28), date(2026, 10, 12), False, True),
    ],
)
def test_mortgage_documents_late_by_more_than_5_working_days(expected_by, today, complete, fires):
    hit = mortgage_documents_late_rule(expected_by=expected_by, today=today, documents_complete=complete)
    assert (hit is not None) == fires
    if hit:
        assert hit.rule == MORTGAGE_DOCS_LATE


def test_mortgage_rule_raises_when_the_calendar_does_not_cover_the_year():
    with pytest.raises(CalendarNotCovered):
        mortgage_documents_late_rule(expected_by=date(2026, 12, 28), today=date(2027, 1, 8), documents_complete=False)


H1 = RuleHit(REFUND_INQUIRIES, 40)
H2 = RuleHit(VISITS_DROPPED, 30)


@pytest.mark.parametrize(
    "fired, litigation, level, within, respond_role, escalate_to",
    [
        ([H1], False, Level.YELLOW, timedelta(hours=4), "sales", "manager"),
        ([H1, H2], False, Level.ORANGE, timedelta(hours=2), "manager", "citygm"),
        ([H1], True, Level.RED, timedelta(0), "hqrisk", "citygm"),
        ([], True, Level.RED, timedelta(0), "hqrisk", "citygm"),
    ],
)
def test_warning_level_table(fired, litigation, level, within, respond_role, escalate_to):
    d = warning_level(fired, litigation, raised_at=NOW)
    assert d.level == level
    assert d.response_due == NOW + within
    assert (d.respond_role, d.escalate_to) == (respond_role, escalate_to)
    assert d.fired == tuple(fired)
    assert 0 <= d.risk_score <= 100


def test_no_signal_and_no_litigation_risk_gives_no_warning():
    assert warning_level([], False, raised_at=NOW) is None


def test_risk_score_adds_up_and_is_capped():
    assert warning_level([H1, H2], False, raised_at=NOW).risk_score == 70
    assert warning_level([H1, H2], True, raised_at=NOW).risk_score == 100


@pytest.mark.parametrize(
    "current, new, reason, ok",
    [
        (Level.ORANGE, Level.YELLOW, "customer booked a visit", True),
        (Level.RED, Level.YELLOW, "lawyer letter withdrawn", True),
        (Level.ORANGE, Level.YELLOW, "  ", False),  # no reason
        (Level.YELLOW, Level.ORANGE, "x", False),  # not a downgrade
        (Level.YELLOW, Level.YELLOW, "x", False),
    ],
)
def test_a_downgrade_needs_a_lower_level_and_a_reason(current, new, reason, ok):
    if ok:
        check_downgrade(current, new, reason)
    else:
        with pytest.raises(DowngradeRefused):
            check_downgrade(current, new, reason)


def test_mortgage_timeline_documents_within_7_days_late_after_5_more_working_days():
    from domain.warnings import (
        approval_expected_by,
        documents_expected_by,
        documents_late_on,
    )

    assert documents_expected_by(date(2026, 9, 21)) == date(2026, 9, 28)
    # 6 working days after 09-28 across National Day: 10-10 is the 5th (a Saturday workday), 10-12 the 6th
    assert documents_late_on(date(2026, 9, 28)) == date(2026, 10, 12)
    assert mortgage_documents_late_rule(expected_by=date(2026, 9, 28), today=documents_late_on(date(2026, 9, 28)),
                                        documents_complete=False) is not None
    assert approval_expected_by(date(2026, 11, 2)) == date(2026, 11, 23)  # 15 working days, 3 weeks


# ---- customer-based warnings ------------------------------------------------------------------

from domain.warnings import (  # noqa: E402
    LITIGATION_THREAT,
    customer_warning,
    litigation_threat_rule,
    merge_rules,
    needs_new_warning,
    visit_periods,
)


def test_a_litigation_threat_within_the_window_fires():
    assert litigation_threat_rule([], now=NOW) is None
    assert litigation_threat_rule([NOW - 40 * DAY], now=NOW) is None
    hit = litigation_threat_rule([NOW - 40 * DAY, NOW - 2 * DAY], now=NOW)
    assert hit is not None and hit.rule == LITIGATION_THREAT and hit.score == 50


def test_customer_warning_levels_and_deadlines():
    inq, drop, lit = RuleHit(REFUND_INQUIRIES, 40), RuleHit(VISITS_DROPPED, 40), RuleHit(LITIGATION_THREAT, 50)
    assert customer_warning([], raised_at=NOW) is None
    y = customer_warning([inq], raised_at=NOW)
    assert y.level == Level.YELLOW and y.response_due == NOW + timedelta(hours=4) and y.respond_role == "sales"
    o = customer_warning([inq, drop], raised_at=NOW)
    assert o.level == Level.ORANGE and o.response_due == NOW + timedelta(hours=2) and o.respond_role == "manager"
    r = customer_warning([lit], raised_at=NOW)
    assert r.level == Level.RED and r.response_due == NOW and r.respond_role == "hqrisk"
    assert [h.rule for h in r.fired] == [LITIGATION_THREAT] and r.risk_score == 50  # not counted twice
    r2 = customer_warning([inq, lit], raised_at=NOW)
    assert r2.level == Level.RED and r2.risk_score == 90 and len(r2.fired) == 2


def test_merge_rules_keeps_old_and_updates_refired():
    old = [{"rule": REFUND_INQUIRIES, "score": 40, "detail": "3"}]
    merged = merge_rules(old, [RuleHit(REFUND_INQUIRIES, 50, "4"), RuleHit(VISITS_DROPPED, 30, "x")])
    assert merged == [{"rule": REFUND_INQUIRIES, "score": 50, "detail": "4"}, {"rule": VISITS_DROPPED, "score": 30, "detail": "x"}]
    assert old == [{"rule": REFUND_INQUIRIES, "score": 40, "detail": "3"}]


def test_after_a_response_only_a_higher_level_or_the_cooldown_opens_a_new_warning():
    assert needs_new_warning(Level.YELLOW, last_closed_level=None, last_responded_at=None, now=NOW)
    closed = {"last_closed_level": Level.ORANGE, "last_responded_at": NOW - DAY}
    assert not needs_new_warning(Level.YELLOW, now=NOW, **closed)
    assert not needs_new_warning(Level.ORANGE, now=NOW, **closed)
    assert needs_new_warning(Level.RED, now=NOW, **closed)
    assert needs_new_warning(Level.ORANGE, now=NOW + 14 * DAY, **closed)


def test_visit_periods_are_adjacent():
    (rs, re_), (bs, be) = visit_periods(NOW)
    assert re_ == NOW and rs == be
    assert rs - bs == re_ - rs == timedelta(days=30)
