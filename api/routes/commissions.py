"""Commission accrued per contract and campaign spend (issue 15)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["commissions"])
