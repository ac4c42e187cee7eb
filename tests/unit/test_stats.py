"""Sales statistics (DOMAIN §7): periods, rates, net figures, the daily series and the summary."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from domain.stats import daily_series, net, period_bounds, rate, summarize

D = Decimal


@pytest.mark.parametrize(
    "today, period, bounds",
    [
        (date(2026, 11, 25), "today", (date(2026, 11, 25), date(2026, 11, 25))),
        (date(2026, 11, 29), "week", (date(2026, 11, 23), date(2026, 11, 29))),  # a Sunday ends its week
        (date(2026, 11, 23), "week", (date(2026, 11, 23), date(2026, 11, 29))),  # a Monday starts it
        (date(2026, 12, 31), "week", (date(2026, 12, 28), date(2027, 1, 3))),  # across the year end
        (date(2028, 2, 14), "month", (date(2028, 2, 1), date(2028, 2, 29))),  # leap February
        (date(2026, 2, 28), "month", (date(2026, 2, 1), date(2026, 2, 28))),
        (date(2026, 12, 1), "month", (date(2026, 12, 1), date(2026, 12, 31))),
        (date(2026, 1, 31), "month", (date(2026, 1, 1), date(2026, 1, 31))),
    ],
)
def test_period_bounds(today, period, bounds):
    assert period_bounds(today, period) == bounds


@pytest.mark.parametrize("period", ["year", "", "Week"])
def test_an_unknown_period_is_a_value_error(period):
    with pytest.raises(ValueError, match="unknown period"):
        period_bounds(date(2026, 11, 25), period)


@pytest.mark.parametrize(
    "num, den, expected",
    [
        (1, 4, "0.2500"),
        (0, 5, "0.0000"),
        (3, 0, None),
        (0, 0, None),
        (2, 3, "0.6667"),  # rounded half-up
        (1, 8, "0.1250"),
        (1, 80000, "0.0000"),  # 0.0000125
        (1, 20000, "0.0001"),  # 0.00005 rounds up
        (5, 4, "1.2500"),  # a flow rate may exceed 1
        (D("30000.00"), D("1500000.00"), "0.0200"),
    ],
)
def test_rate(num, den, expected):
    got = rate(num, den)
    assert (None if got is None else str(got)) == expected


def test_rate_refuses_floats():
    with pytest.raises(TypeError):
        rate(0.5, 1)


@pytest.mark.parametrize(
    "args, expected",
    [
        ((3, D("300.00"), 1, D("100.00")), (2, D("200.00"))),
        ((0, D("0"), 1, D("1500000")), (-1, D("-1500000.00"))),
        ((1, D("0.005"), 0, D("0")), (1, D("0.01"))),
    ],
)
def test_net(args, expected):
    count, amount = net(*args)
    assert (count, amount) == expected and str(amount) == str(expected[1])


def test_daily_series_stops_at_today_and_nets_collections():
    series = daily_series(
        date(2026, 11, 23), date(2026, 11, 29), today=date(2026, 11, 25),
        subscriptions={date(2026, 11, 23): 2, date(2026, 11, 28): 9}, contracts={date(2026, 11, 24): 1},
        received={date(2026, 11, 24): D("100.00")}, refunded={date(2026, 11, 24): D("30.50"), date(2026, 11, 25): D("1")},
    )
    assert [(s["date"], s["subscriptions"], s["contracts"], str(s["collections"])) for s in series] == [
        (date(2026, 11, 23), 2, 0, "0.00"),
        (date(2026, 11, 24), 0, 1, "69.50"),
        (date(2026, 11, 25), 0, 0, "-1.00"),
    ]
    assert daily_series(date(2026, 11, 1), date(2026, 11, 30), today=date(2026, 12, 3), subscriptions={}, contracts={},
                        received={}, refunded={})[-1]["date"] == date(2026, 11, 30)


def test_summarize_totals_the_period_only():
    first, last, today = date(2026, 11, 23), date(2026, 11, 29), date(2026, 11, 24)
    before = date(2026, 11, 22)
    out = summarize(
        project_id=7, period="week", first=first, last=last, today=today, calls=5,
        visits={"groups": 8, "first": 6, "repeat": 2}, effective_customers=3,
        daily={
            "subscriptions": {first: 3, today: 1, before: 50},
            "subscription_amount": {first: D("3000000.00"), today: D("1000000.00"), before: D("1")},
            "deposits": {first: D("150000.00"), today: D("20000.00")},
            "cancelled": {today: 1}, "cancelled_amount": {today: D("1000000.00")},
            "contracts": {today: 2}, "contract_amount": {today: D("2000000.00")},
            "contracts_refunded": {today: 0}, "contracts_refunded_amount": {today: D("0")},
            "receipts": {today: D("300000.00")}, "refunds_paid": {today: D("12000.00")},
        },
        sell_through=[{"layout": "三室两厅 98㎡", "released": 10, "sold": 3}, {"layout": "别墅", "released": 0, "sold": 0}],
        cancelled_of_period=1,
    )
    assert out["subscriptions"] == {"count": 4, "amount": D("4000000.00"), "cancelled": 1,
                                    "cancelled_amount": D("1000000.00"), "net_count": 3, "net_amount": D("3000000.00"),
                                    "cancelled_of_period": 1}
    assert out["contracts"] == {"count": 2, "amount": D("2000000.00"), "refunded": 0, "net_count": 2,
                                "net_amount": D("2000000.00")}
    assert {k: str(v) for k, v in out["collections"].items()} == {"received": "470000.00", "refunded": "12000.00",
                                                                  "net": "458000.00"}
    assert out["conversion"] == {"visit_to_subscription": D("0.5000"), "subscription_to_contract": D("0.5000")}
    assert str(out["refund_rate"]) == "0.2500"
    assert [r["rate"] for r in out["sell_through_by_layout"]] == [D("0.3000"), None]
    assert [s["collections"] for s in out["series"]] == [D("150000.00"), D("308000.00")]
    assert (out["date_from"], out["date_to"], out["calls"], out["effective_customers"]) == (first, last, 5, 3)


def test_summarize_with_nothing_gives_zeros_and_null_rates():
    out = summarize(project_id=1, period="today", first=date(2026, 11, 24), last=date(2026, 11, 24),
                    today=date(2026, 11, 24), calls=0, visits={"groups": 0, "first": 0, "repeat": 0},
                    effective_customers=0, daily={}, sell_through=[])
    assert str(out["subscriptions"]["amount"]) == "0.00" and str(out["collections"]["net"]) == "0.00"
    assert out["conversion"] == {"visit_to_subscription": None, "subscription_to_contract": None}
    assert out["refund_rate"] is None and len(out["series"]) == 1


def test_a_week_with_one_sale_and_the_refund_of_an_older_one():
    """The week the statistics screen showed 认购金额 −¥552,800.00 and 退房率 100 %: one subscription made this
    week (1,200,000) and the cancellation of one made last month (1,752,800). The gross figures are this week's
    sale; the net is a flow and says so; the refund rate is of this week's sales, none of which was refunded."""
    monday, today = date(2026, 11, 30), date(2026, 12, 2)
    out = summarize(
        project_id=1, period="week", first=monday, last=monday + timedelta(days=6), today=today, calls=0,
        visits={"groups": 4, "first": 4, "repeat": 0}, effective_customers=1,
        daily={"subscriptions": {today: 1}, "subscription_amount": {today: D("1200000.00")},
               "cancelled": {today: 1}, "cancelled_amount": {today: D("1752800.00")}},
        sell_through=[], cancelled_of_period=0,
    )
    subs = out["subscriptions"]
    assert (subs["count"], subs["amount"]) == (1, D("1200000.00"))
    assert (subs["cancelled"], subs["cancelled_amount"]) == (1, D("1752800.00"))
    assert (subs["net_count"], subs["net_amount"]) == (0, D("-552800.00"))
    assert out["refund_rate"] == D("0.0000")
    # and when this week's own sale is the one refunded, the rate says all of it
    again = summarize(project_id=1, period="week", first=monday, last=monday + timedelta(days=6), today=today, calls=0,
                      visits={"groups": 4, "first": 4, "repeat": 0}, effective_customers=1,
                      daily={"subscriptions": {today: 1}, "subscription_amount": {today: D("1200000.00")},
                             "cancelled": {today: 1}, "cancelled_amount": {today: D("1200000.00")}},
                      sell_through=[], cancelled_of_period=1)
    assert again["refund_rate"] == D("1.0000") and again["subscriptions"]["net_amount"] == D("0.00")
