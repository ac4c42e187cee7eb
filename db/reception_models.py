"""Reception: walk-in visits, the duty rotation and its audit; channel partners and their registrations (报备)."""

from __future__ import annotations

from db.models import Base  # noqa: F401
