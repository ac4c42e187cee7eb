"""Legal holds on refund cases (being written)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api", tags=["legal_holds"])
