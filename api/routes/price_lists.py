"""A project's price lists with their state (issue 15)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["price_lists"])
