"""The sales office's "today" for routes (the wall clock lives here, not in domain/)."""

from __future__ import annotations

from datetime import date, datetime, timezone

from domain.calendar import china_date


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def china_today() -> date:
    return china_date(now_utc())
