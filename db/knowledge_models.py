"""The 话术 library, complaint keywords and the knowledge-base search index (issue 16)."""

from __future__ import annotations

from db.models import Base  # noqa: F401
