"""The unit state machine (DOMAIN §2), table-driven."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from domain.units import (
    INVENTORY_ACTIONS,
    TRANSITIONS,
    ReasonMissing,
    RoleNotAllowed,
    TransitionError,
    UnknownAction,
    WrongState,
    check_deposit,
    check_transition,
    lock_expired,
)

ALL_STATES = {"not_released", "available", "locked", "subscribed", "signed", "filed", "delivered", "held", "refunding", "not_for_sale"}


@pytest.mark.parametrize(
    "trigger, current, role, reason, expected",
    [
        ("release", "not_released", "manager", "", "available"),
        ("lock", "available", "sales", "", "locked"),
        ("unlock", "locked", "system", "", "available"),
        ("subscribe", "available", "sales", "", "subscribed"),
        ("subscribe", "locked", "manager", "", "subscribed"),
        ("sign", "subscribed", "sales", "", "signed"),
        ("file", "signed", "manager", "", "filed"),
        ("deliver", "filed", "manager", "", "delivered"),
        ("hold", "available", "manager", "领导保留", "held"),
        ("unhold", "held", "manager", "解除保留", "available"),
        ("withdraw", "available", "manager", "司法查封", "not_for_sale"),
        ("open_refund", "signed", "frontdesk", "", "refunding"),
    ],
)
def test_allowed_transitions_give_the_next_state(trigger, current, role, reason, expected):
    assert check_transition(trigger, current=current, role=role, reason=reason) == expected


@pytest.mark.parametrize("current", sorted(ALL_STATES - {"available", "locked"}))
def test_only_an_available_or_locked_unit_can_be_subscribed(current):
    with pytest.raises(TransitionError, match="does not allow subscribe"):
        check_transition("subscribe", current=current, role="sales")


@pytest.mark.parametrize(
    "trigger, current, role, reason, message",
    [
        ("subscribe", "available", "finance", "", "may not"),
        ("hold", "available", "manager", "  ", "needs a reason"),
        ("file", "subscribed", "manager", "", "does not allow file"),
        ("teleport", "available", "manager", "", "unknown unit action"),
    ],
)
def test_refused_transitions_say_why(trigger, current, role, reason, message):
    with pytest.raises(TransitionError, match=message):
        check_transition(trigger, current=current, role=role, reason=reason)


@pytest.mark.parametrize(
    "trigger, current, role, reason, kind",
    [
        ("subscribe", "available", "finance", "", RoleNotAllowed),  # the API answers 403
        ("lock", "locked", "sales", "", WrongState),  # 409
        ("hold", "available", "manager", "", ReasonMissing),  # 422
        ("teleport", "available", "manager", "", UnknownAction),  # 422
    ],
)
def test_refusals_say_what_kind_of_refusal_they_are(trigger, current, role, reason, kind):
    with pytest.raises(kind):
        check_transition(trigger, current=current, role=role, reason=reason)


def test_inventory_actions_are_known_and_never_sell():
    assert INVENTORY_ACTIONS <= TRANSITIONS.keys()
    assert not INVENTORY_ACTIONS & {"subscribe", "sign", "file", "deliver", "open_refund"}
    assert {"sales", "manager"} <= TRANSITIONS["lock"].roles and TRANSITIONS["release"].roles == {"manager"}


def test_every_transition_targets_a_known_state():
    for t in TRANSITIONS.values():
        assert t.to_state in ALL_STATES and t.from_states <= ALL_STATES


@pytest.mark.parametrize("minutes, expired", [(14, False), (15, True), (60, True)])
def test_a_lock_expires_at_its_ttl(minutes, expired):
    t0 = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)
    assert lock_expired(t0, now=t0 + timedelta(minutes=minutes), ttl=timedelta(minutes=15)) is expired


@pytest.mark.parametrize(
    "kind, deposit, ok",
    [("定金", "200000.00", True), ("定金", "200000.01", False), ("订金", "250000", True), ("定金", "0", False)],
)
def test_dingjin_is_capped_at_twenty_percent_of_the_price(kind, deposit, ok):
    if ok:
        check_deposit(kind=kind, deposit=Decimal(deposit), price=Decimal("1000000"))
    else:
        with pytest.raises(TransitionError):
            check_deposit(kind=kind, deposit=Decimal(deposit), price=Decimal("1000000"))


def test_float_money_is_refused():
    with pytest.raises(TypeError):
        check_deposit(kind="定金", deposit=1000.0, price=Decimal("1000000"))


@pytest.mark.parametrize(
    "requested, expected_days, ok",
    [(None, 7, True), (1, 1, True), (30, 30, True), (0, None, False), (31, None, False), (-3, None, False)],
)
def test_the_signing_deadline_defaults_to_a_week_and_stays_within_thirty_days(requested, expected_days, ok):
    from datetime import date

    from domain.units import signing_deadline

    today = date(2026, 11, 23)
    req = None if requested is None else today + timedelta(days=requested)
    if ok:
        assert signing_deadline(today=today, requested=req) == today + timedelta(days=expected_days)
    else:
        with pytest.raises(TransitionError):
            signing_deadline(today=today, requested=req)
