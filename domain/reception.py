"""Reception rules (issue 15; DOMAIN §10), pure: the duty rotation (轮序), who a returning visitor belongs to
(撞单 protection), and a channel partner's protection window (报备). No I/O, no clock: callers pass times.

The rotation of a day is a queue over the consultants on that day's roster, in roster order:
- a consultant who takes a walk-in in turn (or out of turn) moves to the back of the queue;
- a returning customer's walk-in taken by their own consultant does not move the queue (it was never a turn);
- an absent consultant leaves the queue; back, they rejoin it at the back (they missed the turns meanwhile,
  but do not jump ahead of the colleagues who waited);
- a skip (with a reason) passes over a consultant for that one walk-in only: they keep their place, so the
  next walk-in is offered to them again.
The next in turn for a walk-in is the first in the queue not skipped for it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

CHANNELS = ("walk_in", "referral", "online", "outdoor", "partner", "call", "other")  # how the visitor heard of us
PARTNER_KINDS = ("agency", "distributor")  # 中介 / 分销
GROUP_SIZE_MAX = 50
SKIP_REASON_MAX = 200

# rotation_events.kind: what was done, in the audit
EVENT_KINDS = ("roster_set", "offered", "taken", "skipped", "absent", "back")


@dataclass(frozen=True)
class RosterEntry:
    consultant_id: int
    position: int


@dataclass(frozen=True)
class QueueEvent:
    """A change of the queue, in the order it happened: `taken` (in or out of turn; `moves` false for a
    returning customer taken by their own consultant), `absent`, `back`."""

    kind: str
    consultant_id: int
    moves: bool = True


def rotation_queue(roster: Iterable[RosterEntry], events: Iterable[QueueEvent]) -> list[int]:
    """The consultants present now, the next in turn first."""
    queue = [e.consultant_id for e in sorted(roster, key=lambda e: (e.position, e.consultant_id))]
    on_roster = set(queue)
    for ev in events:
        who = ev.consultant_id
        if who not in on_roster:
            continue  # a take by someone off the roster (an own customer's consultant) changes nothing
        if ev.kind == "absent":
            if who in queue:
                queue.remove(who)
        elif ev.kind == "back":
            if who not in queue:
                queue.append(who)
        elif ev.kind == "taken" and ev.moves and who in queue:
            queue.remove(who)
            queue.append(who)
    return queue


def next_in_turn(queue: Sequence[int], skipped: Iterable[int] = ()) -> int | None:
    """The consultant offered the walk-in: the first in the queue not skipped for it; None when everyone
    present was skipped (or nobody is on duty)."""
    passed = set(skipped)
    return next((c for c in queue if c not in passed), None)


def protected_until(registered_at: datetime, protection_days: int) -> datetime:
    """The end of a partner registration's protection: `protection_days` whole days after it was made."""
    if protection_days < 1:
        raise ValueError("a protection period is at least one day")
    return registered_at + timedelta(days=protection_days)


def registration_protects(status: str, until: datetime, at: datetime) -> bool:
    """Whether a registration still holds its prospect at `at` (active and not yet past its end)."""
    return status == "active" and at < until


@dataclass(frozen=True)
class Assignment:
    """Where a walk-in goes: `own_consultant` (a returning customer, to `consultant_id`) or `rotation`."""

    kind: str
    consultant_id: int | None = None


def assignment_for(customer_consultants: Sequence[int | None]) -> Assignment:
    """A walk-in whose mobile matches customers of the project goes to their consultant (the first one that
    has a consultant: the most recent customer comes first); otherwise to the rotation."""
    for c in customer_consultants:
        if c is not None:
            return Assignment("own_consultant", c)
    return Assignment("rotation")


def is_first_visit(declared: bool, visited_before: bool) -> bool:
    """First visit as the front desk was told, unless the records show an earlier visit."""
    return declared and not visited_before


def may_take(*, reserved_for: int | None, taker: int, queue: Sequence[int], offered: int | None,
             reserved_present: bool) -> str:
    """How `taker` may take a walk-in (a code the caller turns into an answer):
    - "own": the returning customer's own consultant;
    - "cover": a consultant present on duty, for a returning customer whose own consultant is not (代接: a
      reason is needed; the customer stays their consultant's);
    - "reserved": refused, the customer's own consultant is on duty;
    - "in_turn": the consultant offered;
    - "out_of_turn": another consultant present on duty (a reason is needed);
    - "off_duty": refused, not present on today's rotation."""
    if reserved_for is not None:
        if taker == reserved_for:
            return "own"
        if reserved_present:
            return "reserved"
        return "cover" if taker in queue else "off_duty"
    if taker not in queue:
        return "off_duty"
    return "in_turn" if taker == offered else "out_of_turn"
