"""Reports for those who run the office: SLA and handling time, refund reasons and money, the live dashboard (issue 16)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["reports"])
