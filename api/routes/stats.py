"""Sales statistics (DOMAIN §7) for the charts page, and the same figures as an XLSX workbook."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field

from api.clock import china_today
from api.deps import SessionDep, require_roles
from db.models import Project, User
from db.stats import sales_stats, stats_xlsx

router = APIRouter(tags=["stats"])

STATS_ROLES = ("manager", "marketing", "finance", "citygm", "hqrisk", "ops", "sales")
Reader = Annotated[User, Depends(require_roles(*STATS_ROLES))]
Period = Literal["today", "week", "month"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class VisitsOut(BaseModel):
    groups: int
    first: int
    repeat: int


class SubscriptionsOut(BaseModel):
    count: int = Field(description="subscriptions made in the period (a change of buyer is not a new sale)")
    amount: Decimal = Field(description="their total price")
    cancelled: int = Field(description="subscriptions cancelled in the period, whenever they were made")
    cancelled_amount: Decimal
    net_count: int = Field(description="count − cancelled: a flow, negative when more were undone than made")
    net_amount: Decimal = Field(description="amount − cancelled_amount: a flow, may be negative")
    cancelled_of_period: int = Field(description="of the subscriptions made in the period, how many are cancelled now")


class ContractsOut(BaseModel):
    count: int
    amount: Decimal
    refunded: int
    net_count: int
    net_amount: Decimal


class CollectionsOut(BaseModel):
    received: Decimal
    refunded: Decimal
    net: Decimal


class ConversionOut(BaseModel):
    visit_to_subscription: Decimal | None
    subscription_to_contract: Decimal | None


class SellThroughOut(BaseModel):
    layout: str
    released: int
    sold: int
    rate: Decimal | None


class DayOut(BaseModel):
    date: date
    subscriptions: int
    contracts: int
    collections: Decimal


class StatsOut(BaseModel):
    """Money: Decimal strings with two places; rates: four places, null when there is nothing to divide by."""

    project_id: int
    period: Period
    date_from: date
    date_to: date
    calls: int
    visits: VisitsOut
    effective_customers: int
    subscriptions: SubscriptionsOut
    contracts: ContractsOut
    collections: CollectionsOut
    conversion: ConversionOut
    refund_rate: Decimal | None = Field(description="cancelled_of_period / count: the share of the period's sales "
                                                    "refunded since (0–1); null with no sales")
    sell_through_by_layout: list[SellThroughOut]
    series: list[DayOut]


@router.get("/api/projects/{project_id}/stats", response_model=StatsOut,
            summary="Sales statistics of today / this ISO week / this month (China dates)")
def stats_route(project_id: int, session: SessionDep, _: Reader, period: Period = "week") -> StatsOut:
    return StatsOut(**sales_stats(session, project_id=project_id, period=period, today=china_today()))


@router.get("/api/projects/{project_id}/stats.xlsx", summary="The sales statistics as an XLSX workbook",
            response_class=Response,
            responses={200: {"description": "The workbook (an attachment)",
                             "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}}})
def stats_xlsx_route(project_id: int, session: SessionDep, _: Reader, period: Period = "week") -> Response:
    stats = sales_stats(session, project_id=project_id, period=period, today=china_today())
    name = session.get(Project, project_id).name
    span = f"{stats['date_from']:%Y%m%d}-{stats['date_to']:%Y%m%d}"
    data = stats_xlsx(stats, title=f"{name} 销售统计 {span}")
    filename = quote(f"{name}-销售统计-{span}.xlsx")
    return Response(content=data, media_type=XLSX, headers={"Content-Disposition": f"attachment; filename*=UTF-8''{filename}"})
