"""Who an SLA miss escalates to. Pure."""

from __future__ import annotations


def escalation_roles(level: int) -> tuple[str, ...]:
    """Every miss escalates to the site manager; from the second miss of a case on, the city GM is told too."""
    if level < 1:
        raise ValueError("escalation level starts at 1")
    return ("manager",) if level == 1 else ("manager", "citygm")
