"""Helpers for the customers tests: identities unlikely to collide with other tests' customers."""

from __future__ import annotations

import random

from db.demo_ids import resident_id

_rng = random.SystemRandom()
# Regions other than the shared factory's 110105, so the 409 duplicate check never hits its customers.
_REGIONS = ("310104", "440305", "330106", "510107", "320102", "420106")


def fresh_resident_id() -> str:
    region = _rng.choice(_REGIONS)
    birth = f"{_rng.randint(1950, 2004)}{_rng.randint(1, 12):02d}{_rng.randint(1, 28):02d}"
    return resident_id(_rng.randint(0, 999), region=region, birth=birth)


def fresh_mobile() -> str:
    return f"{_rng.choice(('135', '158', '177', '186'))}{_rng.randint(0, 99_999_999):08d}"


def customer_body(project_id: int | None = None, *, name: str = "王小明", consultant_id: int | None = None,
                  **over) -> dict:
    """A valid registration; `project_id` names the project (required of people in several projects)."""
    body = {
        "name": name,
        "id_type": "resident_id",
        "id_number": fresh_resident_id(),
        "mobile": fresh_mobile(),
        "source_channel": "walk_in",
    }
    if consultant_id is not None:
        body["consultant_id"] = consultant_id
    if project_id is not None:
        body["project_id"] = project_id
    body.update(over)
    return body
