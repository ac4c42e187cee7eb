"""Subscriptions (认购): selling a unit, never twice."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError, OperationalError

from api.clock import china_today
from api.access import check_body_scope
from api.deps import SessionDep, require_roles
from api.strict import RequestModel
from db.errors import Conflict
from db.models import User
from db.subscriptions import subscribe
from domain.refund import DepositKind

router = APIRouter(prefix="/api/subscriptions", tags=["subscriptions"])




class SubscriptionCreate(RequestModel):
    model_config = ConfigDict(extra="forbid")
    unit_id: int
    customer_id: int
    deposit_kind: DepositKind
    deposit_amount: Decimal = Field(gt=0, max_digits=12, decimal_places=2)
    co_resident_ack: bool = False  # 共居人知情确认书 signed
    signing_deadline: date | None = None  # default: a week from today


class SubscriptionOut(BaseModel):
    id: int
    unit_id: int
    customer_id: int
    consultant_id: int
    price: Decimal
    deposit_kind: str
    deposit_amount: Decimal
    stage: str
    status: str
    subscribed_at: datetime
    co_resident_ack: bool
    signing_deadline: date | None


@router.post("", status_code=status.HTTP_201_CREATED, response_model=SubscriptionOut, summary="Subscribe a unit (认购)",
             responses={404: {"description": "The unit does not exist (`not_found`)."}})
def create_subscription(
    body: SubscriptionCreate, session: SessionDep, user: Annotated[User, Depends(require_roles("sales", "manager"))]
) -> SubscriptionOut:
    check_body_scope(session, user, unit_id=body.unit_id, customer_id=body.customer_id)
    sub = subscribe(
        session, unit_id=body.unit_id, customer_id=body.customer_id, consultant=user,
        deposit_kind=body.deposit_kind, deposit_amount=body.deposit_amount,
        today=china_today(), co_resident_ack=body.co_resident_ack, deadline=body.signing_deadline,
    )
    try:
        session.commit()
    except (IntegrityError, OperationalError):
        session.rollback()
        raise Conflict(f"unit {body.unit_id} was sold to someone else a moment ago") from None
    session.refresh(sub)
    return SubscriptionOut.model_validate(sub, from_attributes=True)
