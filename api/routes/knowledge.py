"""Complaint keywords, the 话术 library and the knowledge-base search (issue 16)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["knowledge"])
