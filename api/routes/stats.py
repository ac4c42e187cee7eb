"""Sales statistics (DOMAIN §7) for the charts page, and the same figures as an XLSX workbook."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field

from api.clock import china_today
from api.deps import SessionDep, require_roles
from db.models import Project, User
from db.stats import sales_stats, stats_xlsx

router = APIRouter(tags=["stats"])

STATS_ROLES = ("manager", "marketing", "finance", "citygm", "hqrisk", "ops", "sales")
Reader = Annotated[User, Depends(require_roles(*STATS_ROLES))]
Period = Literal["today", "week", "month"]
# A named period, an explicit range ("custom"), or the period before either ("previous", under `previous`).
PeriodLabel = Literal["today", "week", "month", "custom", "previous"]
Breakdown = Literal["consultant", "channel"]
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


class FunnelConversionOut(BaseModel):
    visit_to_effective: Decimal | None
    effective_to_subscription: Decimal | None
    subscription_to_contract: Decimal | None
    visit_to_subscription: Decimal | None
    visit_to_contract: Decimal | None


class FunnelRowOut(BaseModel):
    """One consultant's or channel's funnel in the period. Stages are the period's flows (see by_consultant),
    so a rate can exceed 1 (contracts signed now from earlier subscriptions); null when nothing to divide."""

    key: str | None = Field(description="the consultant's user id, or the channel code / text; null: a walk-in "
                                        "nobody took, a customer with no consultant or no recorded channel")
    label: str | None = Field(description="the consultant's name; null for channels (the screen words the codes)")
    visits: int
    effective_customers: int
    subscriptions: int
    subscription_amount: Decimal
    contracts: int
    contract_amount: Decimal
    conversion: FunnelConversionOut


class BatchOut(BaseModel):
    """Sell-through of one release batch (分期); batch_id null: the units of no phase."""

    batch_id: int | None
    batch: str | None
    released: int = Field(description="units released (not 未推 / 保留 / 不可售) as of the end of the range")
    subscribed: int = Field(description="of them subscribed or beyond (incl. 退房中) as of the end of the range")
    contracted: int = Field(description="of them online-signed or beyond (a 退房中 unit that was signed counts)")
    sell_through: Decimal | None = Field(description="去化率 = subscribed / released")
    contract_share: Decimal | None = Field(description="contracted / released")
    period_subscriptions: int = Field(description="subscriptions made in the range on the batch's units")
    period_contracts: int = Field(description="contracts signed in the range on the batch's units")


class StatsOut(BaseModel):
    """Money: Decimal strings with two places; rates: four places, null when there is nothing to divide by."""

    project_id: int
    period: PeriodLabel
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
    sell_through_by_batch: list[BatchOut]
    by_consultant: list[FunnelRowOut] | None = Field(
        None, description="with by=consultant: a walk-in counts for who took it; a customer's visit and an "
                          "effective customer for the customer's consultant; a subscription and its contract for "
                          "the consultant who made the sale. The rows add up to the office's figures.")
    by_channel: list[FunnelRowOut] | None = Field(
        None, description="with by=channel: a walk-in by the channel reception recorded; the rest by the "
                          "customer's source channel.")
    series: list[DayOut]
    previous: StatsOut | None = Field(None, description="with compare=previous: the period just before, "
                                                             "the same figures and breakdowns")


def _read(session, project_id: int, period: Period | None, date_from: date | None, date_to: date | None,
          by: list[Breakdown], compare: Literal["previous"] | None) -> dict:
    return sales_stats(session, project_id=project_id, today=china_today(), period=period, date_from=date_from,
                       date_to=date_to, by=by, compare=compare == "previous")


PERIOD_Q = Query(None, description="today / week (ISO, Monday–Sunday) / month around today; the week when "
                                   "neither period nor from/to is given")
FROM_Q = Query(None, alias="from", description="first China date of the range (with to; not with period)")
TO_Q = Query(None, alias="to", description="last China date, inclusive; from ≤ to, at most 1096 days")
BY_Q = Query([], description="breakdowns: consultant and / or channel (repeat the parameter)")
COMPARE_Q = Query(None, description="previous: the period before, of equal length (whole months: as many months)")


@router.get("/api/projects/{project_id}/stats", response_model=StatsOut,
            summary="Sales statistics of a period or a date range (China dates), with breakdowns and comparison")
def stats_route(project_id: int, session: SessionDep, _: Reader, period: Period | None = PERIOD_Q,
                date_from: date | None = FROM_Q, date_to: date | None = TO_Q, by: list[Breakdown] = BY_Q,
                compare: Literal["previous"] | None = COMPARE_Q) -> StatsOut:
    return StatsOut(**_read(session, project_id, period, date_from, date_to, by, compare))


@router.get("/api/projects/{project_id}/stats.xlsx", summary="The sales statistics as an XLSX workbook",
            response_class=Response,
            responses={200: {"description": "The workbook (an attachment)",
                             "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}}})
def stats_xlsx_route(project_id: int, session: SessionDep, _: Reader, period: Period | None = PERIOD_Q,
                     date_from: date | None = FROM_Q, date_to: date | None = TO_Q, by: list[Breakdown] = BY_Q,
                     compare: Literal["previous"] | None = COMPARE_Q) -> Response:
    stats = _read(session, project_id, period, date_from, date_to, by, compare)
    name = session.get(Project, project_id).name
    span = f"{stats['date_from']:%Y%m%d}-{stats['date_to']:%Y%m%d}"
    data = stats_xlsx(stats, title=f"{name} 销售统计 {span}")
    filename = quote(f"{name}-销售统计-{span}.xlsx")
    return Response(content=data, media_type=XLSX, headers={"Content-Disposition": f"attachment; filename*=UTF-8''{filename}"})
