"""People as screens show them: a login (kept on audit rows) → the person's display name."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import User


def display_names(session: Session, usernames: Iterable[str | None]) -> dict[str, str]:
    """login → display name, for the logins given that belong to a user (not system, not temporal)."""
    wanted = {u for u in usernames if u}
    if not wanted:
        return {}
    return dict(session.execute(select(User.username, User.display_name).where(User.username.in_(wanted))).all())
