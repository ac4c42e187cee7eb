"""Shared record keeping: audited unit transitions and the retention pool balance."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from db.models import RetentionLedgerEntry, Unit, UnitStateChange


def retention_totals(session: Session, project_id: int) -> tuple[Decimal, Decimal]:
    """(credited, drawn): what the pool was given (entries of no case) and what compensation took from it."""
    given = func.coalesce(func.sum(case((RetentionLedgerEntry.case_id.is_(None), RetentionLedgerEntry.amount))), 0)
    taken = func.coalesce(func.sum(case((RetentionLedgerEntry.case_id.is_not(None), -RetentionLedgerEntry.amount))), 0)
    credited, drawn = session.execute(select(given, taken).where(RetentionLedgerEntry.project_id == project_id)).one()
    return Decimal(credited), Decimal(drawn)


def retention_remaining(session: Session, project_id: int) -> Decimal:
    credited, drawn = retention_totals(session, project_id)
    return credited - drawn


def set_unit_state(session: Session, unit: Unit, to_state: str, *, actor: str, reason: str, at: datetime | None = None) -> None:
    """Every unit transition is audited: who, when, from, to, why."""
    change = UnitStateChange(unit_id=unit.id, from_state=unit.state, to_state=to_state, actor=actor, reason=reason)
    if at is not None:
        change.at = at
    session.add(change)
    unit.state = to_state
