"""Subscription discounts and their approvals (price control)."""

from __future__ import annotations

from db.models import Base  # noqa: F401
