"""Refund instructions: what finance must pay back, one per case (path B)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy import select

from api.access import project_filter
from api.deps import SessionDep, require_roles
from db.models import Customer, RefundCase, RefundInstruction, User
from domain.identity import mask_name

router = APIRouter(prefix="/api/refund-instructions", tags=["refund cases"])
READERS = ("finance", "manager", "citygm", "hqrisk", "ops")


class RefundInstructionOut(BaseModel):
    id: int
    case_id: uuid.UUID
    case_no: str
    customer_name: str
    amount: Decimal
    share: Decimal
    route: str
    policy_version: str
    status: str
    created_at: datetime


@router.get("", response_model=list[RefundInstructionOut], summary="Refund instructions, newest first")
def list_instructions(
    session: SessionDep,
    user: Annotated[User, Depends(require_roles(*READERS))],
    case_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[RefundInstructionOut]:
    q = (
        select(RefundInstruction, RefundCase.case_no, Customer.name)
        .join(RefundCase, RefundCase.id == RefundInstruction.case_id)
        .join(Customer, Customer.id == RefundInstruction.customer_id)
        .order_by(RefundInstruction.created_at.desc(), RefundInstruction.id.desc())
        .limit(limit)
    )
    if case_id is not None:
        q = q.where(RefundInstruction.case_id == case_id)
    mine = project_filter(RefundCase.project_id, user)
    if mine is not None:
        q = q.where(mine)
    return [
        RefundInstructionOut(
            id=r.id, case_id=r.case_id, case_no=case_no, customer_name=mask_name(name), amount=r.amount, share=r.share,
            route=r.route, policy_version=r.policy_version, status=r.status, created_at=r.created_at,
        )
        for r, case_no, name in session.execute(q).all()
    ]
