"""Keyset paging (pure): a cursor is the sort key of the last row a page showed, opaque to the client.

The inbox is ordered by deadline (tasks without one last), then id: the cursor carries both, so the next
page starts right after that row whatever was added or completed meanwhile (no row shown twice, none
skipped that was there before), which offset paging cannot promise on a busy inbox."""

from __future__ import annotations

import base64
import json
from datetime import datetime


class BadCursor(ValueError):
    pass


def encode_cursor(due_at: datetime | None, row_id: int) -> str:
    raw = json.dumps([due_at.isoformat() if due_at else None, row_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime | None, int]:
    """(due_at, id) of the cursor; BadCursor (a 422) when it is not one this API gave out."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        due, row_id = json.loads(raw)
        if not isinstance(row_id, int) or isinstance(row_id, bool):
            raise ValueError("id")
        at = datetime.fromisoformat(due) if due is not None else None
        if at is not None and at.tzinfo is None:
            raise ValueError("naive")
        return at, row_id
    except (ValueError, TypeError, json.JSONDecodeError, UnicodeDecodeError) as e:
        raise BadCursor("cursor is not one this inbox gave out; start again without it") from e
