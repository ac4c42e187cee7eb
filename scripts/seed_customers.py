"""Demo data of the sales office's daily workspace (issue 15): customers. Called by scripts/seed.py for the main project."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from db.models import Project, Unit, User
from db.pii import PiiCipher


def seed(s: Session, cipher: PiiCipher, *, project: Project, users: dict[str, User], people: dict[str, User],
         units: list[Unit], today: date) -> None:
    """users: the demo account per role (scripts/seed.py DEMO_USERS); people: the other demo people by login."""
