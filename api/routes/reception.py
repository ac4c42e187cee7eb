"""Reception: walk-ins, the duty rotation, channel partners' registrations (issue 15)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["reception"])
