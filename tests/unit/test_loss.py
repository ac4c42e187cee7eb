"""The refund loss from the records (domain/loss.py), and the pure rules of customers' needs and appointments
(domain/customers.py): exact Decimal, known answers."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from domain import customers as rules
from domain import loss
from domain.calendar import CHINA

D = Decimal


def test_commission_is_price_times_rate_rounded_half_up_to_the_fen():
    assert loss.commission_amount(D("2000000"), D("0.01")) == D("20000.00")
    assert loss.commission_amount(D("1234567"), D("0.015")) == D("18518.51")  # 18518.505 → .51
    assert loss.commission_amount(D("1234567"), D("0")) == D("0.00")
    with pytest.raises(ValueError):
        loss.commission_amount(D("-1"), D("0.01"))


def test_advertising_is_each_campaigns_spend_over_its_units_summed_from_rounded_lines():
    c = loss.advertising_component([
        loss.CampaignLine(1, "地铁广告", D("300000.00"), 200),  # 1500.00
        loss.CampaignLine(2, "抖音", D("100000.00"), 3),  # 33333.333… → 33333.33
    ])
    assert c.amount == D("34833.33")
    assert [ln["share"] for ln in c.lines] == ["1500.00", "33333.33"]
    assert "300000.00 ÷ 200 套 = 1500.00" in c.how and "100000.00 / 3 units = 33333.33" in c.how_en
    assert loss.advertising_component([]).amount == D("0.00")
    with pytest.raises(ValueError):
        _ = loss.CampaignLine(3, "空", D("1"), 0).share


def test_days_off_the_market_count_both_ends():
    assert loss.days_off_market(date(2026, 3, 2), date(2026, 3, 2)) == 1
    assert loss.days_off_market(date(2026, 3, 2), date(2026, 3, 20)) == 19
    assert loss.days_off_market(date(2026, 12, 30), date(2027, 1, 2)) == 4
    with pytest.raises(ValueError):
        loss.days_off_market(date(2026, 3, 2), date(2026, 3, 1))


def test_opportunity_cost_is_days_times_daily_rate_times_price():
    c = loss.opportunity_component(price=D("2000000"), daily_rate=D("0.0001"), registered_on=date(2026, 3, 2),
                                   until=date(2026, 3, 20), closed=False)
    assert c.amount == D("3800.00")  # 19 × 0.0001 × 2,000,000
    assert "19 天" in c.how and "今天" in c.how
    c = loss.opportunity_component(price=D("1234567"), daily_rate=D("0.0001"), registered_on=date(2026, 3, 2),
                                   until=date(2026, 3, 4), closed=True)
    assert c.amount == D("370.37")  # 370.3701
    assert "结案日" in c.how and "closed" in c.how_en


def test_commission_component_nets_accruals_and_reversals():
    lines = [loss.CommissionLine("consultant", "accrual", D("2000000"), D("0.01"), D("20000.00")),
             loss.CommissionLine("partner", "accrual", D("2000000"), D("0.015"), D("30000.00")),
             loss.CommissionLine("partner", "reversal", D("2000000"), D("0.015"), D("-30000.00"))]
    c = loss.commission_component(lines, has_contract=True)
    assert c.amount == D("20000.00")
    assert "置业顾问计提 2000000 × 0.01 = 20000.00" in c.how and "渠道冲回" in c.how
    none = loss.commission_component([], has_contract=False)
    assert none.amount == D("0.00") and "未网签" in none.how


def test_the_estimate_adds_the_three_rounded_components():
    e = loss.estimate(
        commission=[loss.CommissionLine("consultant", "accrual", D("2000000"), D("0.01"), D("20000.00"))],
        has_contract=True, campaigns=[loss.CampaignLine(1, "地铁", D("300000"), 200)], price=D("2000000"),
        daily_rate=D("0.0001"), registered_on=date(2026, 3, 2), until=date(2026, 3, 2), closed=False,
    )
    assert (e.commission_accrued.amount, e.advertising_allocation.amount, e.opportunity_cost.amount) == (
        D("20000.00"), D("1500.00"), D("200.00"))
    assert e.total == D("21700.00")


# --- needs ----------------------------------------------------------------------------------------


def _needs(**over):
    base = dict(budget_min=None, budget_max=None, layouts=[], area_min=None, area_max=None, purpose=None, concerns=[],
                note="")
    return rules.check_needs(**{**base, **over})


def test_needs_are_normalised_and_chinese_words_map_to_codes():
    n, errors = _needs(budget_min=D("3000000"), budget_max=D("4000000"), layouts=[" 三室两厅", "三室两厅", "四室"],
                       area_min=D("89"), area_max=D("120"), purpose="改善", concerns=["学区", "delivery", "学区"])
    assert errors == []
    assert n.layouts == ("三室两厅", "四室") and n.purpose == "upgrade" and n.concerns == ("school_district", "delivery")


def test_every_bad_need_is_named_with_its_field():
    n, errors = _needs(budget_min=D("5000000"), budget_max=D("4000000"), area_min=D("0"), purpose="炒房",
                       concerns=["风水"], layouts=["x" * 40])
    assert n is None
    fields = [f for f, _ in errors]
    assert fields == ["area_min", "budget_max", "layouts", "purpose", "concerns"]
    assert dict(errors)["budget_max"] == "the highest budget is below the lowest"


def test_a_cell_lists_values_with_any_common_separator():
    assert rules.split_list("三室, 四室、五室；复式/别墅") == ["三室", "四室", "五室", "复式", "别墅"]
    assert rules.split_list(None) == [] and rules.split_list("") == []


# --- appointments ---------------------------------------------------------------------------------

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc)  # 10:00 in China
TODAY = date(2026, 3, 2)


@pytest.mark.parametrize("appt, last, state", [
    (None, None, "none"),
    (NOW - timedelta(hours=1), None, "overdue"),
    (NOW - timedelta(hours=1), NOW - timedelta(minutes=30), "none"),  # met: a contact after it
    (NOW + timedelta(hours=5), None, "due_today"),  # 15:00 China
    (NOW + timedelta(hours=14), None, "upcoming"),  # 00:00 China the next day
    (NOW + timedelta(hours=13, minutes=59), NOW - timedelta(days=3), "due_today"),  # 23:59 China
])
def test_appointment_state(appt, last, state):
    assert rules.appointment_state(appt, last, NOW, TODAY, CHINA) == state


def test_the_list_puts_overdue_then_due_today_then_upcoming_then_the_longest_untouched():
    rows = [
        (1, "none", None, NOW - timedelta(days=1)),
        (2, "upcoming", NOW + timedelta(days=2), None),
        (3, "due_today", NOW + timedelta(hours=2), None),
        (4, "overdue", NOW - timedelta(hours=1), None),
        (5, "overdue", NOW - timedelta(days=1), None),
        (6, "none", None, None),
        (7, "none", None, NOW - timedelta(days=9)),
    ]
    ordered = sorted(rows, key=lambda r: rules.appointment_sort_key(r[1], r[2], r[3], r[0]))
    assert [r[0] for r in ordered] == [5, 4, 3, 2, 6, 7, 1]
