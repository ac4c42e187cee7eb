"""The periodic warning sweep: evaluate customers' signals, escalate unanswered warnings. One transaction."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity

from db.warnings import escalate_overdue_warnings, sweep_customer_warnings
from workflows.warning_sweep import SweepSummary


class WarningActivities:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._sessions = session_factory

    @activity.defn(name="sweep_warnings")
    def sweep_warnings(self) -> SweepSummary:
        now = datetime.now(timezone.utc)
        with self._sessions.begin() as s:
            swept = sweep_customer_warnings(s, now)
            escalated = escalate_overdue_warnings(s, now=now)
        return SweepSummary(customers_checked=swept.evaluated, escalated=len(escalated))
