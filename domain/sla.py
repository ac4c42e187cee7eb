"""Who an SLA miss escalates to. Pure."""

from __future__ import annotations


def escalation_target(level: int) -> str:
    """The first miss goes to the site manager; from the second on, to the city GM as well."""
    if level < 1:
        raise ValueError("escalation level starts at 1")
    return "manager" if level == 1 else "citygm"
