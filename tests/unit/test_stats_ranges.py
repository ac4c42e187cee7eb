"""Sales statistics over any date range (issue 16): ranges, the previous period, funnels, batches."""

from datetime import date
from decimal import Decimal

import pytest

from domain import units
from domain.stats import (
    MAX_RANGE_DAYS,
    RangeError,
    batch_rows,
    date_range,
    funnel,
    funnel_row,
    funnel_total,
    previous_period,
    unit_counts,
)

D = Decimal
TODAY = date(2026, 11, 25)  # a Wednesday


def test_a_named_period_or_the_week_by_default():
    assert date_range(TODAY) == (date(2026, 11, 23), date(2026, 11, 29), "week")
    assert date_range(TODAY, period="month") == (date(2026, 11, 1), date(2026, 11, 30), "month")
    assert date_range(TODAY, period="today") == (TODAY, TODAY, "today")


def test_an_explicit_range_is_custom_and_inclusive():
    assert date_range(TODAY, date_from=date(2026, 3, 1), date_to=date(2026, 3, 1)) == (date(2026, 3, 1), date(2026, 3, 1), "custom")
    longest = date(2023, 11, 26)
    assert (date(2026, 11, 25) - longest).days + 1 == MAX_RANGE_DAYS == 1096
    assert date_range(TODAY, date_from=longest, date_to=TODAY)[2] == "custom"


@pytest.mark.parametrize(
    "kw, field",
    [
        ({"date_from": date(2026, 3, 2), "date_to": date(2026, 3, 1)}, "to"),  # from after to
        ({"date_from": date(2023, 11, 25), "date_to": TODAY}, "to"),  # 1097 days
        ({"date_from": date(2026, 3, 1)}, "to"),
        ({"date_to": date(2026, 3, 1)}, "from"),
        ({"period": "week", "date_from": date(2026, 3, 1), "date_to": date(2026, 3, 2)}, "period"),
    ],
)
def test_bad_ranges_name_their_field(kw, field):
    with pytest.raises(RangeError) as e:
        date_range(TODAY, **kw)
    assert e.value.field == field


@pytest.mark.parametrize(
    "first, last, previous",
    [
        (date(2026, 11, 25), date(2026, 11, 25), (date(2026, 11, 24), date(2026, 11, 24))),  # a day: the day before
        (date(2026, 11, 23), date(2026, 11, 29), (date(2026, 11, 16), date(2026, 11, 22))),  # a week
        (date(2026, 3, 1), date(2026, 3, 31), (date(2026, 2, 1), date(2026, 2, 28))),  # March → February
        (date(2028, 3, 1), date(2028, 3, 31), (date(2028, 2, 1), date(2028, 2, 29))),  # leap February
        (date(2026, 1, 1), date(2026, 1, 31), (date(2025, 12, 1), date(2025, 12, 31))),  # across the year
        (date(2026, 4, 1), date(2026, 6, 30), (date(2026, 1, 1), date(2026, 3, 31))),  # Q2 → Q1
        (date(2026, 3, 5), date(2026, 3, 14), (date(2026, 2, 23), date(2026, 3, 4))),  # 10 days → 10 days
        (date(2026, 3, 1), date(2026, 3, 30), (date(2026, 1, 30), date(2026, 2, 28))),  # not a whole month: 30 days
    ],
)
def test_previous_period(first, last, previous):
    assert previous_period(first, last) == previous


def test_a_funnel_row_has_exact_stage_rates():
    row = funnel_row("7", "王顾问", {"visits": 12, "effective_customers": 5, "subscriptions": 2, "contracts": 1,
                                    "subscription_amount": D("3000000"), "contract_amount": D("1500000.005")})
    assert (row["visits"], row["effective_customers"], row["subscriptions"], row["contracts"]) == (12, 5, 2, 1)
    assert row["subscription_amount"] == D("3000000.00") and row["contract_amount"] == D("1500000.01")
    assert row["conversion"] == {"visit_to_effective": D("0.4167"), "effective_to_subscription": D("0.4000"),
                                 "subscription_to_contract": D("0.5000"), "visit_to_subscription": D("0.1667"),
                                 "visit_to_contract": D("0.0833")}


def test_nothing_to_divide_is_none_and_flows_may_exceed_one():
    empty = funnel_row(None, None, {})
    assert empty["visits"] == 0 and empty["subscription_amount"] == D("0.00")
    assert set(empty["conversion"].values()) == {None}
    late = funnel_row("online", None, {"visits": 0, "subscriptions": 1, "contracts": 3})  # older sales signed now
    assert late["conversion"]["subscription_to_contract"] == D("3.0000")
    assert late["conversion"]["visit_to_subscription"] is None


def test_funnel_orders_busiest_first_and_the_unassigned_last_and_the_total_adds_up():
    rows = funnel({None: {"visits": 3}, "2": {"visits": 3, "subscriptions": 1, "subscription_amount": D("10")},
                   "1": {"visits": 3}, "3": {"visits": 9, "effective_customers": 2}},
                  {"1": "甲", "2": "乙", "3": "丙"})
    assert [(r["key"], r["label"]) for r in rows] == [("3", "丙"), ("2", "乙"), ("1", "甲"), (None, None)]
    total = funnel_total(rows)
    assert (total["visits"], total["effective_customers"], total["subscriptions"]) == (18, 2, 1)
    assert total["subscription_amount"] == D("10.00") and total["conversion"]["visit_to_subscription"] == D("0.0556")


@pytest.mark.parametrize(
    "state, before, counts",
    [
        (units.NOT_RELEASED, None, (False, False, False)),
        (units.HELD, None, (False, False, False)),
        (units.NOT_FOR_SALE, None, (False, False, False)),
        (units.AVAILABLE, None, (True, False, False)),
        (units.LOCKED, None, (True, False, False)),
        (units.SUBSCRIBED, None, (True, True, False)),
        (units.SIGNED, None, (True, True, True)),
        (units.FILED, None, (True, True, True)),
        (units.DELIVERED, None, (True, True, True)),
        (units.REFUNDING, units.SUBSCRIBED, (True, True, False)),  # sold until its case completes
        (units.REFUNDING, units.SIGNED, (True, True, True)),
    ],
)
def test_unit_counts(state, before, counts):
    assert unit_counts(state, before) == counts


def test_batch_rows_rates_and_order():
    rows = batch_rows([
        {"batch_id": None, "batch": None, "released": 0, "subscribed": 0, "contracted": 0},
        {"batch_id": 5, "batch": "二期", "released": 3, "subscribed": 2, "contracted": 1, "period_subscriptions": 1},
        {"batch_id": 4, "batch": "一期", "released": 8, "subscribed": 6, "contracted": 6, "period_contracts": 2},
    ])
    assert [r["batch"] for r in rows] == ["一期", "二期", None]
    assert (rows[0]["sell_through"], rows[0]["contract_share"]) == (D("0.7500"), D("0.7500"))
    assert (rows[1]["sell_through"], rows[1]["contract_share"]) == (D("0.6667"), D("0.3333"))
    assert (rows[0]["period_subscriptions"], rows[0]["period_contracts"], rows[1]["period_subscriptions"]) == (0, 2, 1)
    assert rows[2]["sell_through"] is None and rows[2]["contract_share"] is None
