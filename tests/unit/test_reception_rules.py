"""Reception rules (domain/reception.py): the rotation queue, next in turn, protection windows, 撞单."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from domain.reception import (
    QueueEvent,
    RosterEntry,
    assignment_for,
    is_first_visit,
    may_take,
    next_in_turn,
    protected_until,
    registration_protects,
    rotation_queue,
)

ROSTER = [RosterEntry(11, 2), RosterEntry(10, 1), RosterEntry(12, 3)]


def test_the_queue_starts_in_roster_order():
    assert rotation_queue(ROSTER, []) == [10, 11, 12]
    assert rotation_queue([], []) == []


def test_a_take_moves_the_taker_to_the_back():
    q = rotation_queue(ROSTER, [QueueEvent("taken", 10)])
    assert q == [11, 12, 10]
    assert rotation_queue(ROSTER, [QueueEvent("taken", 10), QueueEvent("taken", 11)]) == [12, 10, 11]
    assert rotation_queue(ROSTER, [QueueEvent("taken", 12)]) == [10, 11, 12]  # out of turn: to the back all the same


def test_an_own_customer_taken_is_not_a_turn():
    assert rotation_queue(ROSTER, [QueueEvent("taken", 10, moves=False)]) == [10, 11, 12]
    assert rotation_queue(ROSTER, [QueueEvent("taken", 99)]) == [10, 11, 12]  # off the roster: nothing


def test_absent_drops_out_and_back_rejoins_at_the_back():
    events = [QueueEvent("absent", 10)]
    assert rotation_queue(ROSTER, events) == [11, 12]
    events.append(QueueEvent("taken", 11))
    assert rotation_queue(ROSTER, events) == [12, 11]
    events.append(QueueEvent("back", 10))
    assert rotation_queue(ROSTER, events) == [12, 11, 10]
    # twice absent or twice back changes nothing more
    assert rotation_queue(ROSTER, [QueueEvent("absent", 10), QueueEvent("absent", 10), QueueEvent("back", 10),
                                   QueueEvent("back", 10)]) == [11, 12, 10]
    # an absent consultant's take (a returning customer of theirs, on the phone) does not bring them back
    assert rotation_queue(ROSTER, [QueueEvent("absent", 10), QueueEvent("taken", 10)]) == [11, 12]


def test_a_skip_passes_over_for_that_walk_in_only():
    q = rotation_queue(ROSTER, [])
    assert next_in_turn(q) == 10
    assert next_in_turn(q, skipped=[10]) == 11
    assert next_in_turn(q, skipped=[10, 11]) == 12
    assert next_in_turn(q, skipped=[10, 11, 12]) is None
    assert next_in_turn([], []) is None
    assert next_in_turn(q, skipped=[]) == 10  # the next walk-in is offered to the skipped one again


def test_protection_window():
    at = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)
    until = protected_until(at, 30)
    assert until == at + timedelta(days=30)
    assert registration_protects("active", until, until - timedelta(seconds=1))
    assert not registration_protects("active", until, until)
    assert not registration_protects("withdrawn", until, at)
    with pytest.raises(ValueError):
        protected_until(at, 0)


def test_a_returning_customer_goes_to_their_own_consultant():
    assert assignment_for([]).kind == "rotation"
    assert assignment_for([None]).kind == "rotation"
    a = assignment_for([None, 7, 8])
    assert (a.kind, a.consultant_id) == ("own_consultant", 7)


def test_first_visit_unless_the_records_say_otherwise():
    assert is_first_visit(True, False)
    assert not is_first_visit(True, True)
    assert not is_first_visit(False, False)


def test_who_may_take():
    q = [10, 11, 12]
    assert may_take(reserved_for=None, taker=10, queue=q, offered=10, reserved_present=False) == "in_turn"
    assert may_take(reserved_for=None, taker=11, queue=q, offered=10, reserved_present=False) == "out_of_turn"
    assert may_take(reserved_for=None, taker=99, queue=q, offered=10, reserved_present=False) == "off_duty"
    assert may_take(reserved_for=20, taker=20, queue=q, offered=10, reserved_present=False) == "own"
    assert may_take(reserved_for=11, taker=10, queue=q, offered=10, reserved_present=True) == "reserved"
    assert may_take(reserved_for=20, taker=10, queue=q, offered=10, reserved_present=False) == "cover"
    assert may_take(reserved_for=20, taker=99, queue=q, offered=10, reserved_present=False) == "off_duty"
