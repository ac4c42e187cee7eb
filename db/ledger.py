"""Shared record keeping: audited unit transitions and the retention pool balance."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import RetentionLedgerEntry, Unit, UnitStateChange


def retention_remaining(session: Session, project_id: int) -> Decimal:
    total = session.scalar(
        select(func.coalesce(func.sum(RetentionLedgerEntry.amount), 0)).where(
            RetentionLedgerEntry.project_id == project_id
        )
    )
    return Decimal(total)


def set_unit_state(session: Session, unit: Unit, to_state: str, *, actor: str, reason: str, at: datetime | None = None) -> None:
    """Every unit transition is audited: who, when, from, to, why."""
    change = UnitStateChange(unit_id=unit.id, from_state=unit.state, to_state=to_state, actor=actor, reason=reason)
    if at is not None:
        change.at = at
    session.add(change)
    unit.state = to_state
