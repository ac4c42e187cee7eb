"""Notification rules (pure): the notice kinds, retry timing, and what a notice says on a robot."""

from __future__ import annotations

import random
from datetime import timedelta

# What a project's robot may be set to receive (empty: all of them).
NOTICE_KINDS = ("task_opened", "sla_breach", "regional_brief", "channel_dead", "test")
MAX_ATTEMPTS = 8  # then the delivery is dead-lettered and ops hears of it
BASE_DELAY_S = 2.0
MAX_DELAY_S = 300.0


def retry_delay(attempts: int, rng: random.Random | None = None) -> timedelta:
    """Exponential backoff with jitter after `attempts` failed tries: 2 s, 4 s, 8 s … capped at 5 minutes, each
    scaled by a random factor in [0.5, 1.5) so that a robot's many pending deliveries do not retry in step."""
    r = (rng or random).random()
    base = min(MAX_DELAY_S, BASE_DELAY_S * 2 ** max(0, attempts - 1))
    return timedelta(seconds=base * (0.5 + r))


def gives_up(attempts: int, retryable: bool) -> bool:
    return not retryable or attempts >= MAX_ATTEMPTS


def mask_webhook(url: str) -> str:
    """A webhook URL as a screen shows it: scheme and host, the key hidden (…key=ab****yz)."""
    head, _, query = url.partition("?")
    if not query:
        return head[:80]
    name, _, value = query.partition("=")
    shown = value[:2] + "****" + value[-2:] if len(value) > 6 else "****"
    return f"{head[:60]}?{name[:12]}={shown}"
