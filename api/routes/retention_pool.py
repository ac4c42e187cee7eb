"""A project's retention pool (挽留资金池): what it was given, drawn and has left, with its latest entries;
funded from the project's marketing budget at the share of the refund policy in force. Read by those who
offer, assess or oversee compensation; funded by finance, the city GM or HQ risk control."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from api.deps import SessionDep, require_roles
from api.schemas import MoneyIn
from api.strict import Reason, RequestModel
from db.models import User
from db.retention_pool import fund, pool_of
from domain.permissions import ACTIONS

router = APIRouter(tags=["retention pool"])
READERS = ACTIONS["retention_pool"]
FUNDERS = ACTIONS["fund_retention_pool"]
Readers = Annotated[User, Depends(require_roles(*READERS))]
Funders = Annotated[User, Depends(require_roles(*FUNDERS))]
_RESPONSES = {
    403: {"description": "Not one of the roles that may (`forbidden`)."},
    404: {"description": "No such project, or none of yours (`not_found`)."},
}


class LedgerEntryOut(BaseModel):
    id: int
    at: datetime
    amount: Decimal = Field(description="a credit (positive), a reduction or a compensation drawn (negative)")
    memo: str
    case_id: uuid.UUID | None = None
    case_no: str | None = None
    by: str | None = Field(default=None, description="who funded it (a credit or a reduction)")


class RetentionPoolOut(BaseModel):
    project_id: int
    marketing_budget: Decimal
    share: Decimal | None = Field(description="the retention_pool_share of the refund policy in force (null: none is)")
    policy_version: str | None
    allotment: Decimal | None = Field(description="marketing_budget × share: what the pool should have been given")
    credited: Decimal = Field(description="what it has been given")
    drawn: Decimal = Field(description="what compensation has taken from it")
    remaining: Decimal
    entries: list[LedgerEntryOut] = Field(description="the latest 50, newest first")


class FundingIn(RequestModel):
    marketing_budget: MoneyIn = Field(ge=0, max_digits=14, decimal_places=2, description="the project's, in CNY")
    reason: Reason = Field(min_length=1, max_length=120, description="why (a budget approval, a mid-year change …)")


@router.get("/api/projects/{project_id}/retention-pool", response_model=RetentionPoolOut, responses=_RESPONSES,
            summary="The project's retention pool: allotment, credited, drawn, remaining and the latest entries")
def get_pool(project_id: int, session: SessionDep, _: Readers) -> dict:
    return pool_of(session, project_id, at=datetime.now(timezone.utc))


@router.put("/api/projects/{project_id}/retention-pool", response_model=RetentionPoolOut,
            responses={**_RESPONSES, 409: {"description": "The pool would hold less than it has paid out "
                                                          "(`retention.below_drawn`)."}},
            summary="Set the project's marketing budget; the pool is given budget × the policy's share (the "
                    "difference as one entry naming you and the reason)")
def put_pool(project_id: int, body: FundingIn, session: SessionDep, user: Funders) -> dict:
    out = fund(session, project_id, marketing_budget=body.marketing_budget, reason=body.reason,
               by=user.id, at=datetime.now(timezone.utc))
    session.commit()
    return out
