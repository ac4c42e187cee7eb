"""Pure customer rules (domain/customers.py)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from domain import customers as rules

T = datetime(2026, 11, 23, 10, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "role, user_id, consultant_id, sees",
    [("sales", 1, 1, True), ("sales", 1, 2, False), ("sales", 1, None, False),
     ("manager", 1, 2, True), ("frontdesk", 1, None, True), ("finance", 9, 2, True)],
)
def test_visibility(role, user_id, consultant_id, sees):
    assert rules.can_see(role, user_id, consultant_id) is sees


def test_ratings_a_to_d():
    assert rules.check_rating(" c ") == "C"
    for bad in ("E", "", "AB"):
        with pytest.raises(rules.RuleViolation):
            rules.check_rating(bad)


def test_who_may_rate():
    assert rules.may_rate("manager", 5, 1)
    assert rules.may_rate("sales", 1, 1)
    assert not rules.may_rate("sales", 2, 1)
    assert not rules.may_rate("finance", 1, 1)


def test_topics_are_slugs_deduplicated():
    assert rules.normalize_topics(["Asked_Refund_Policy", "asked_refund_policy", " price "]) == ["asked_refund_policy", "price"]
    for bad in ("has space", "x", "退房", "1abc"):
        with pytest.raises(rules.RuleViolation):
            rules.normalize_topics([bad])


def test_tags_and_the_sensitive_tag():
    assert rules.normalize_tags(["a", " a ", "敏感"]) == ["a", "敏感"]
    with pytest.raises(rules.RuleViolation):
        rules.normalize_tags([""])
    with pytest.raises(rules.RuleViolation):
        rules.normalize_tags(["x" * 33])
    rules.check_tag_change(["敏感"], ["敏感", "b"], "sales")
    rules.check_tag_change(["敏感"], [], "manager")
    with pytest.raises(rules.RuleViolation, match="manager"):
        rules.check_tag_change(["敏感"], ["b"], "sales")


def test_appointment_after_the_follow_up():
    rules.check_appointment(T, None)
    rules.check_appointment(T, T + timedelta(minutes=1))
    with pytest.raises(rules.RuleViolation):
        rules.check_appointment(T, T)


def test_reveal_purpose_required():
    assert rules.check_purpose("  合同核对 ") == "合同核对"
    with pytest.raises(rules.RuleViolation):
        rules.check_purpose("ab")


def test_first_visit_is_the_earliest_whatever_the_recording_order():
    kinds = rules.visit_kinds([(1, T), (2, T - timedelta(days=1)), (3, T + timedelta(days=1))])
    assert kinds == {2: "first", 1: "repeat", 3: "repeat"}
    assert rules.visit_kinds([(7, T), (5, T)]) == {5: "first", 7: "repeat"}
    assert rules.visit_kinds([]) == {}


def test_like_prefix_escapes_wildcards():
    assert rules.like_prefix("王") == "王%"
    assert rules.like_prefix("50%_a\\") == "50\\%\\_a\\\\%"
