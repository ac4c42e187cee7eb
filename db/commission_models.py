"""Commission accrued per contract, and marketing's campaign spend (the refund loss from the records)."""

from __future__ import annotations

from db.models import Base  # noqa: F401
