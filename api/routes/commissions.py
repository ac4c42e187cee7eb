"""Commission accrued per contract, marketing's campaign spend, and the refund case's loss from the records (issue 15).

`GET /api/refund-cases/{case_id}/loss-estimate` is what finance's assessment form is prefilled from: each of
the three loss figures with how it was computed (domain/loss.py). Finance may still submit other figures; the
form then asks for the reason (`override_reason`)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, Field

from api.clock import china_today
from api.deps import SessionDep, Staff, require_roles
from api.strict import RequestModel
from db import commissions as svc
from db.errors import NotFound
from db.models import Project, User
from domain.loss import Component

router = APIRouter(tags=["commissions"])

Marketing = Annotated[User, Depends(require_roles("marketing"))]
# Who sees a case's loss estimate: the assessment's departments, the approvers and ops (not the front desk).
LossReader = Annotated[User, Depends(require_roles("finance", "manager", "marketing", "legal", "citygm", "hqrisk", "ops"))]
CommissionReader = Annotated[User, Depends(require_roles("finance", "manager", "citygm", "hqrisk", "ops"))]


class CampaignIn(RequestModel):
    name: str = Field(min_length=1, max_length=128, description="e.g. 2026 春季地铁广告")
    channel: str = Field(default="", max_length=32, description="e.g. 地铁, 抖音, 户外")
    spend: Decimal = Field(gt=0, max_digits=14, decimal_places=2, description="CNY")
    started_on: date
    ended_on: date | None = None
    scope: Literal["units", "building", "project"]
    building_id: int | None = None
    unit_ids: list[int] | None = Field(default=None, max_length=5000)
    note: str = Field(default="", max_length=2000)


class CampaignOut(BaseModel):
    id: int
    project_id: int
    name: str
    channel: str
    spend: Decimal
    started_on: date
    ended_on: date | None
    scope: str
    building_id: int | None
    unit_count: int
    per_unit: Decimal = Field(description="spend / unit_count, to the fen")
    note: str
    created_by: int
    created_at: datetime


def _campaign(c) -> CampaignOut:
    from domain.loss import CampaignLine

    return CampaignOut(id=c.id, project_id=c.project_id, name=c.name, channel=c.channel, spend=c.spend,
                       started_on=c.started_on, ended_on=c.ended_on, scope=c.scope, building_id=c.building_id,
                       unit_count=c.unit_count, per_unit=CampaignLine(c.id, c.name, c.spend, c.unit_count).share,
                       note=c.note, created_by=c.created_by, created_at=c.created_at)


def _project(session, project_id: int) -> None:
    if session.get(Project, project_id) is None:
        raise NotFound(f"project {project_id} does not exist")


@router.post("/api/projects/{project_id}/campaigns", response_model=CampaignOut, status_code=status.HTTP_201_CREATED,
             summary="Record a campaign's spend over units, a building or the whole project (marketing)")
def post_campaign(project_id: int, body: CampaignIn, user: Marketing, session: SessionDep) -> CampaignOut:
    _project(session, project_id)
    c = svc.record_campaign(session, project_id=project_id, name=body.name, channel=body.channel, spend=body.spend,
                            started_on=body.started_on, ended_on=body.ended_on, scope=body.scope,
                            building_id=body.building_id, unit_ids=body.unit_ids, note=body.note, actor=user)
    out = _campaign(c)
    session.commit()
    return out


@router.get("/api/projects/{project_id}/campaigns", response_model=list[CampaignOut],
            summary="The project's campaigns, newest first")
def get_campaigns(project_id: int, _: Staff, session: SessionDep) -> list[CampaignOut]:
    _project(session, project_id)
    return [_campaign(c) for c in svc.campaigns_of(session, project_id)]


class ComponentOut(BaseModel):
    amount: Decimal
    how: str = Field(description="how it was computed (Chinese)")
    how_en: str
    lines: list[dict]


class LossEstimateOut(BaseModel):
    case_id: uuid.UUID
    unit_id: int
    contract_id: int | None
    price: Decimal
    until: date = Field(description="the last day counted off the market: today, or the day the case closed")
    commission_accrued: ComponentOut
    advertising_allocation: ComponentOut
    opportunity_cost: ComponentOut
    total: Decimal


def _component(c: Component) -> ComponentOut:
    return ComponentOut(amount=c.amount, how=c.how, how_en=c.how_en, lines=list(c.lines))


@router.get("/api/refund-cases/{case_id}/loss-estimate", response_model=LossEstimateOut,
            summary="The case's economic loss from the records: commission, advertising allocation, opportunity cost")
def get_loss_estimate(case_id: uuid.UUID, _: LossReader, session: SessionDep) -> LossEstimateOut:
    r = svc.loss_estimate(session, case_id=case_id, today=china_today())
    e = r.estimate
    return LossEstimateOut(case_id=r.case_id, unit_id=r.unit_id, contract_id=r.contract_id, price=r.price, until=r.until,
                           commission_accrued=_component(e.commission_accrued),
                           advertising_allocation=_component(e.advertising_allocation),
                           opportunity_cost=_component(e.opportunity_cost), total=e.total)


class CommissionEntryOut(BaseModel):
    id: int
    party: str
    user_id: int | None
    partner_id: int | None
    kind: str
    base: Decimal
    rate: Decimal
    amount: Decimal
    reverses_id: int | None
    at: datetime


class ContractCommissionOut(BaseModel):
    contract_id: int
    entries: list[CommissionEntryOut]
    net: Decimal


@router.get("/api/contracts/{contract_id}/commission", response_model=ContractCommissionOut,
            summary="A contract's commission: the accrual per party at the rate then in force, and any reversal")
def get_contract_commission(contract_id: int, _: CommissionReader, session: SessionDep) -> ContractCommissionOut:
    from db.contracts import get_contract

    get_contract(session, contract_id=contract_id)
    rows = svc.commission_of_contract(session, contract_id)
    return ContractCommissionOut(
        contract_id=contract_id,
        entries=[CommissionEntryOut(id=e.id, party=e.party, user_id=e.user_id, partner_id=e.partner_id, kind=e.kind,
                                    base=e.base, rate=e.rate, amount=e.amount, reverses_id=e.reverses_id, at=e.at)
                 for e in rows],
        net=sum((e.amount for e in rows), Decimal("0.00")),
    )
