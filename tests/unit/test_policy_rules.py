"""Authoring rules of a refund policy (domain/policy.py) and working-day deadlines (domain/refund.py)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from domain.calendar import CHINA
from domain.policy import compare, public_rules, validate_body
from domain.refund import RefundPolicy, policy_from_body, policy_to_body, working_day_deadline


def body(**changes) -> dict:
    b = policy_to_body(RefundPolicy(version="t"))
    b.update(changes)
    return b


def fields(errors) -> set[str]:
    return {e.field for e in errors}


def test_the_default_policy_is_valid_and_round_trips():
    assert validate_body(body()) == []
    assert policy_from_body("t", body(choice_working_days=3)).choice_working_days == 3


def test_each_fault_is_named_by_its_field():
    tiers = [{"stage": "deposit_paid", "min_share": "0.9", "max_share": "0.8"},
             {"stage": "online_signed", "min_share": "1.2", "max_share": "0.5"}]
    errors = validate_body(body(intake_minutes=0, choice_working_days=0, escalation_loss_threshold="-1",
                                min_options=1, record_retention_days=365, tiers=tiers,
                                reminders={"points": [50, 100]}, retention_pool_share=0.05))
    assert fields(errors) == {"intake_minutes", "choice_working_days", "escalation_loss_threshold", "min_options",
                              "record_retention_days", "tiers.0.max_share", "tiers.1.min_share",
                              "reminders.points.1", "retention_pool_share"}
    by = {e.field: e for e in errors}
    assert by["tiers.1.min_share"].code == "share_range" and "0–100 %" in by["tiers.1.min_share"].message
    assert by["retention_pool_share"].code == "float"


def test_tiers_must_cover_every_stage_the_tiers_decide_and_never_the_disbursed_loan():
    only_one = [{"stage": "deposit_paid", "min_share": "0.6", "max_share": "0.8"}]
    [err] = validate_body(body(tiers=only_one))
    assert (err.field, err.code) == ("tiers", "coverage") and "online_signed" in err.message
    loan = [*body()["tiers"], {"stage": "loan_disbursed", "min_share": "0.1", "max_share": "0.2"}]
    [err] = validate_body(body(tiers=loan))
    assert (err.field, err.code) == ("tiers.2.stage", "legal_route")
    dup = [body()["tiers"][0], body()["tiers"][0]]
    assert fields(validate_body(body(tiers=dup))) == {"tiers.1.stage"}


def test_missing_fields_and_a_non_object_are_reported():
    b = body()
    del b["solution_minutes"]
    assert [(e.field, e.code) for e in validate_body(b)] == [("solution_minutes", "missing")]
    assert [e.field for e in validate_body([1, 2])] == ["body"]
    assert {e.code for e in validate_body(body(assessment_minutes=True))} == {"int_type"}


def test_compare_marks_changed_fields_and_treats_0_6_as_0_60():
    a = body()
    b = body(choice_minutes=2 * 24 * 60, tiers=[{**a["tiers"][0], "min_share": "0.6"},
                                               {**a["tiers"][1], "max_share": "0.55"}])
    rows = {r["field"]: r for r in compare(a, b)}
    changed = {k for k, r in rows.items() if r["changed"]}
    assert changed == {"choice_minutes", "tiers.online_signed.max_share"}
    assert rows["tiers.online_signed.max_share"]["label_zh"].startswith("已网签未放贷")
    assert rows["choice_minutes"]["a"] == 4320 and rows["choice_minutes"]["b"] == 2880


def test_the_public_rules_are_written_from_the_versions_own_figures():
    tiers = [{"stage": "deposit_paid", "min_share": "0.7", "max_share": "0.9", "note": ""},
             {"stage": "online_signed", "min_share": "0.35", "max_share": "0.5", "note": "含行政成本分摊"}]
    rules = public_rules(body(tiers=tiers, escalation_loss_threshold="80000", refund_payment_working_days=5))
    zh, en = "\n".join(rules["zh"]), "\n".join(rules["en"])
    assert "退还定金的 70%–90%" in zh and "退还已付款项的 35%–50%（含行政成本分摊）" in zh
    assert "80,000 元" in zh and "CNY 80,000" in en and "50,000" not in zh
    assert "退款支付：5 个工作日内" in zh and "Refund payment: within 5 working days" in en
    assert "客户选择：3 天内" in zh
    assert len(rules["zh"]) == len(rules["en"])


def test_a_working_day_deadline_ends_at_midnight_china_time_and_skips_holidays():
    # Monday 2026-09-28 10:00 China time + 5 working days: 29, 30 Sep, then the National Day holiday to 10-08
    # (a Thursday, working), 10-09 Friday, 10-10 the Saturday 调休 workday.
    start = datetime(2026, 9, 28, 10, 0, tzinfo=CHINA).astimezone(timezone.utc)
    end, covered = working_day_deadline(start, 5)
    assert covered and end.astimezone(CHINA) == datetime(2026, 10, 11, 0, 0, tzinfo=CHINA)
    # An override (a local working Sunday 10-04) brings it forward.
    end, _ = working_day_deadline(start, 5, overrides={date(2026, 10, 4): True})
    assert end.astimezone(CHINA) == datetime(2026, 10, 10, 0, 0, tzinfo=CHINA)


def test_beyond_the_calendar_data_the_clock_counts_calendar_days_and_says_so():
    start = datetime(2026, 12, 30, 9, 0, tzinfo=CHINA)
    end, covered = working_day_deadline(start, 3)
    assert not covered and end == datetime(2027, 1, 3, 0, 0, tzinfo=CHINA)
    # An override for the new year covers it: 12-31 working, 01-01 holiday, 01-02 / 01-03 weekend, 01-04 Monday.
    table = {date(2027, 1, 1): False, date(2027, 1, 2): False, date(2027, 1, 3): False, date(2027, 1, 4): True}
    end, covered = working_day_deadline(start, 2, overrides=table)
    assert covered and end.date() - timedelta(days=1) == date(2027, 1, 4)
