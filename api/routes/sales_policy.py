"""The sales office's policy per project (issue 15): partner protection, discount limits, the co-resident
acknowledgment, commission rates, the opportunity daily rate. Read by the project's staff; set by the city GM,
HQ risk or an administrator (a project's row overrides the group's, field by field)."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends
from pydantic import BaseModel

from api.access import act_in, visible_projects
from api.deps import SessionDep, Staff, require_roles
from db.errors import Forbidden
from db.models import User
from db.sales_policy import sales_policy, set_sales_policy
from domain.sales_policy import policy_to_json

router = APIRouter(tags=["sales policy"])
SETTERS = ("citygm", "hqrisk", "admin")
Setters = Annotated[User, Depends(require_roles(*SETTERS))]
_FORBIDDEN = {403: {"description": "Only a city GM, HQ risk control or an administrator sets it (`forbidden`)."}}


class SalesPolicyOut(BaseModel):
    partner_protection_days: int
    manager_discount_limit: Decimal
    discount_approval_minutes: int
    co_resident_ack_required: bool
    consultant_commission_rate: Decimal
    partner_commission_rate: Decimal
    opportunity_daily_rate: Decimal


@router.get("/api/projects/{project_id}/sales-policy", response_model=SalesPolicyOut,
            summary="The sales policy in force for the project (the group's, overridden field by field)")
def get_policy(project_id: int, session: SessionDep, user: Staff) -> dict:
    act_in(user, project_id, f"project {project_id} does not exist")
    return policy_to_json(sales_policy(session, project_id))


@router.put("/api/projects/{project_id}/sales-policy", response_model=SalesPolicyOut, responses=_FORBIDDEN,
            summary="Set the project's own values (only the fields given; the rest follow the group's)")
def put_policy(project_id: int, session: SessionDep, user: Setters,
               body: Annotated[dict[str, Any], Body(description="e.g. {\"manager_discount_limit\": \"0.03\"}")]) -> dict:
    act_in(user, project_id, f"project {project_id} does not exist", SETTERS)
    out = set_sales_policy(session, project_id, body, by=user.id, at=datetime.now(timezone.utc))
    session.commit()
    return policy_to_json(out)


@router.put("/api/sales-policy", response_model=SalesPolicyOut, responses=_FORBIDDEN,
            summary="Set the group's default values (a group-wide role)")
def put_group_policy(session: SessionDep, user: Setters,
                     body: Annotated[dict[str, Any], Body(description="the group's defaults")]) -> dict:
    if visible_projects(user, SETTERS) is not None:
        raise Forbidden("only a group-wide role sets the group's sales policy")
    out = set_sales_policy(session, None, body, by=user.id, at=datetime.now(timezone.utc))
    session.commit()
    return policy_to_json(out)
