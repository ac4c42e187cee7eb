"""The periodic warning sweep: evaluate customers' signals, escalate unanswered warnings (one transaction); then
refresh the report summaries (another)."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity

from db.reports import refresh_summaries
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
        # The same few minutes bring the report summaries up to date (db.reports.refresh_summaries: the cases the
        # records' writers marked), in a transaction of its own, so the marks never pile up between two reports.
        with self._sessions.begin() as s:
            refresh_summaries(s)
        return SweepSummary(customers_checked=swept.evaluated, escalated=len(escalated))
