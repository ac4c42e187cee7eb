"""The working-day calendar ops maintains: a new year's holiday schedule (issue 15)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["work_calendar"])
