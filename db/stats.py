"""Sales statistics (DOMAIN §7): the per-day aggregates of one period, read in a few queries, and the XLSX.

Timestamps are bucketed by China date (`AT TIME ZONE 'Asia/Shanghai'`, the same UTC+8 as
domain.calendar.CHINA); contracts and receipts carry business dates already. Visits, calls and follow-ups
count for their customer's project (a customer belongs to one project); reception's walk-ins (issue 15) count
as visits of their project, anonymous ones too. The figures are assembled by
domain.stats.summarize; docs/decisions.md ("Sales statistics") has the definitions."""

from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, and_, cast, distinct, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from db.contract_models import Contract, Receipt
from db.customer_models import CustomerCall, CustomerFollowUp, CustomerVisit
from db.errors import Invalid, NotFound
from db.reception_models import WalkIn
from db.models import (
    Customer,
    Project,
    RefundCase,
    RefundInstruction,
    Subscription,
    SubscriptionStatus,
    Task,
    TaskStatus,
    Unit,
)
from domain.calendar import CHINA
from domain.stats import RELEASED_STATES, SOLD_STATES, period_bounds, summarize

CHINA_TZ = "Asia/Shanghai"  # = domain.calendar.CHINA (UTC+8; no DST since 1991)
EFFECTIVE_RATINGS = ("A",)  # B is every new record's default rating: it says nothing yet
ZERO = Decimal("0")


def _day(column):
    """The China date of a timestamptz column."""
    return cast(func.timezone(CHINA_TZ, column), Date)


def _between(column, start: datetime, end: datetime):
    return and_(column >= start, column < end)


def sales_stats(session: Session, *, project_id: int, period: str, today: date) -> dict[str, Any]:
    """The statistics of `period` (today / week / month) around `today` (a China date)."""
    if session.get(Project, project_id) is None:
        raise NotFound(f"project {project_id} does not exist")
    try:
        first, last = period_bounds(today, period)
    except ValueError as e:
        raise Invalid(str(e)) from None
    start, end = datetime.combine(first, time(), CHINA), datetime.combine(last + timedelta(days=1), time(), CHINA)
    daily: dict[str, dict[date, Any]] = {}

    def put(rows, *keys: str) -> None:
        for day, *values in rows:
            for key, value in zip(keys, values):
                daily.setdefault(key, {})[day] = value

    in_project = Unit.project_id == project_id
    day = _day(Subscription.subscribed_at).label("day")
    made_in_period = (in_project, Subscription.transferred_from_id.is_(None),
                      _between(Subscription.subscribed_at, start, end))
    put(session.execute(  # a change of buyer (path C) is not a new sale: its row has transferred_from_id
        select(day, func.count(), func.sum(Subscription.price), func.sum(Subscription.deposit_amount),
               func.count().filter(Subscription.status == SubscriptionStatus.CANCELLED))
        .join(Unit, Unit.id == Subscription.unit_id)
        .where(*made_in_period)
        .group_by(day)
    ), "subscriptions", "subscription_amount", "deposits", "cancelled_of_period")

    # A cancellation (path B) is written with its refund instruction, in one transaction: its date.
    day = _day(RefundInstruction.created_at).label("day")
    put(session.execute(
        select(day, func.count(), func.sum(Subscription.price), func.count(Contract.id),
               func.coalesce(func.sum(Contract.price), ZERO))
        .select_from(RefundInstruction)
        .join(RefundCase, RefundCase.id == RefundInstruction.case_id)
        .join(Subscription, Subscription.id == RefundCase.subscription_id)
        .outerjoin(Contract, Contract.subscription_id == Subscription.id)
        .where(RefundCase.project_id == project_id, Subscription.status == SubscriptionStatus.CANCELLED,
               _between(RefundInstruction.created_at, start, end))
        .group_by(day)
    ), "cancelled", "cancelled_amount", "contracts_refunded", "contracts_refunded_amount")

    # Cash out: the refunds finance recorded as paid, on the day the bank paid them, for what was paid.
    put(session.execute(
        select(RefundInstruction.paid_on, func.sum(RefundInstruction.paid_amount))
        .join(RefundCase, RefundCase.id == RefundInstruction.case_id)
        .where(RefundCase.project_id == project_id, RefundInstruction.status == "paid",
               RefundInstruction.paid_on.between(first, last))
        .group_by(RefundInstruction.paid_on)
    ), "refunds_paid")

    put(session.execute(
        select(Contract.signed_on, func.count(), func.sum(Contract.price))
        .join(Unit, Unit.id == Contract.unit_id)
        .where(in_project, Contract.signed_on.between(first, last))
        .group_by(Contract.signed_on)
    ), "contracts", "contract_amount")

    put(session.execute(
        select(Receipt.received_on, func.sum(Receipt.amount))
        .join(Contract, Contract.id == Receipt.contract_id)
        .join(Unit, Unit.id == Contract.unit_id)
        .where(in_project, Receipt.received_on.between(first, last))
        .group_by(Receipt.received_on)
    ), "receipts")

    # Visits, calls and follow-ups count for the project of their customer (a customer per project).
    of_project = Customer.project_id == project_id
    calls = session.scalar(
        select(func.count()).select_from(CustomerCall)
        .join(Customer, Customer.id == CustomerCall.customer_id)
        .where(of_project, CustomerCall.direction == "inbound", _between(CustomerCall.called_at, start, end))
    )
    earlier = aliased(CustomerVisit)
    is_first = ~exists().where(
        earlier.customer_id == CustomerVisit.customer_id,
        or_(earlier.visited_at < CustomerVisit.visited_at,
            and_(earlier.visited_at == CustomerVisit.visited_at, earlier.id < CustomerVisit.id)),
    )
    # A visit registered at reception (a walk-in, anonymous or not) counts once, as the walk-in: the customer
    # visit it wrote for a returning customer is left out here.
    from_reception = exists().where(WalkIn.customer_visit_id == CustomerVisit.id)
    groups, first_visits = session.execute(
        select(func.count(), func.count().filter(is_first))
        .select_from(CustomerVisit)
        .join(Customer, Customer.id == CustomerVisit.customer_id)
        .where(of_project, _between(CustomerVisit.visited_at, start, end), ~from_reception)
    ).one()
    walk_ins, first_walk_ins = session.execute(
        select(func.count(), func.count().filter(WalkIn.first_visit))
        .where(WalkIn.project_id == project_id, _between(WalkIn.arrived_at, start, end))
    ).one()
    groups, first_visits = groups + walk_ins, first_visits + first_walk_ins
    booked = exists().where(
        CustomerFollowUp.customer_id == CustomerVisit.customer_id,
        CustomerFollowUp.next_appointment_at.is_not(None),
        _between(CustomerFollowUp.at, start, end),
    )
    effective = session.scalar(
        select(func.count(distinct(CustomerVisit.customer_id)))
        .join(Customer, Customer.id == CustomerVisit.customer_id)
        .where(of_project, _between(CustomerVisit.visited_at, start, end),
               or_(Customer.rating.in_(EFFECTIVE_RATINGS), booked))
    )

    # Sell-through is cumulative and read from the units' current state: the period always holds today,
    # so "as of date_to" is "now" (a unit cannot be sold in the future).
    sell_through = [
        {"layout": layout, "released": released, "sold": sold}
        for layout, released, sold in session.execute(
            select(Unit.layout, func.count().filter(Unit.state.in_(RELEASED_STATES)),
                   func.count().filter(Unit.state.in_(SOLD_STATES)))
            .where(in_project).group_by(Unit.layout).order_by(Unit.layout)
        )
    ]
    return summarize(
        project_id=project_id, period=period, first=first, last=last, today=today, calls=calls,
        visits={"groups": groups, "first": first_visits, "repeat": groups - first_visits},
        effective_customers=effective, daily=daily, sell_through=sell_through,
        cancelled_of_period=sum(daily.pop("cancelled_of_period", {}).values()),
    )


# ---------------------------------------------------------------- XLSX ----------

PERIOD_LABELS = {"today": "今日", "week": "本周", "month": "本月"}
MONEY_FORMAT = "#,##0.00"
RATE_FORMAT = "0.00%"


def stats_xlsx(stats: dict[str, Any], *, title: str) -> bytes:
    """Sheet 1 the summary (Chinese labels), sheet 2 sell-through by layout, sheet 3 the daily series.
    Money and rates are numbers (formatted), so the workbook sums and charts like the page."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    s, c, k, cash, conv = stats["subscriptions"], stats["contracts"], stats["visits"], stats["collections"], stats["conversion"]
    summary: list[tuple[str, Any, str | None]] = [
        ("统计区间", f"{PERIOD_LABELS[stats['period']]} {stats['date_from']} 至 {stats['date_to']}", None),
        ("来电 (组)", stats["calls"], None),
        ("来访 (组)", k["groups"], None),
        ("首访 (组)", k["first"], None),
        ("复访 (组)", k["repeat"], None),
        ("有效客户", stats["effective_customers"], None),
        ("认购套数", s["count"], None),
        ("认购金额 (元)", s["amount"], MONEY_FORMAT),
        ("退订套数", s["cancelled"], None),
        ("退订金额 (元)", s["cancelled_amount"], MONEY_FORMAT),
        ("净认购套数", s["net_count"], None),
        ("净认购金额 (元)", s["net_amount"], MONEY_FORMAT),
        ("签约套数", c["count"], None),
        ("签约金额 (元)", c["amount"], MONEY_FORMAT),
        ("退房 (已签约) 套数", c["refunded"], None),
        ("净签约套数", c["net_count"], None),
        ("净签约金额 (元)", c["net_amount"], MONEY_FORMAT),
        ("回款 (元)", cash["received"], MONEY_FORMAT),
        ("退款 (元)", cash["refunded"], MONEY_FORMAT),
        ("净回款 (元)", cash["net"], MONEY_FORMAT),
        ("来访→认购转化率", conv["visit_to_subscription"], RATE_FORMAT),
        ("认购→签约转化率", conv["subscription_to_contract"], RATE_FORMAT),
        ("本期认购中已退订", s["cancelled_of_period"], None),
        ("退房率", stats["refund_rate"], RATE_FORMAT),
    ]
    wb = Workbook()
    bold = Font(bold=True)

    def sheet(ws, header: list[str], rows: list[list[Any]], formats: dict[int, str]) -> None:
        ws.append(header)
        for cell in ws[1]:
            cell.font = bold
        for row in rows:
            ws.append(row)
            for col, fmt in formats.items():
                ws.cell(row=ws.max_row, column=col).number_format = fmt
        ws.freeze_panes = "A2"

    ws = wb.active
    ws.title = "汇总"
    ws.append(["指标", "数值"])
    for cell in ws[1]:
        cell.font = bold
    for label, value, fmt in summary:
        ws.append([label, value])
        if fmt:
            ws.cell(row=ws.max_row, column=2).number_format = fmt
    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["B"].width = 30
    sheet(wb.create_sheet("户型去化"), ["户型", "已推套数", "已售套数", "去化率"],
          [[r["layout"], r["released"], r["sold"], r["rate"]] for r in stats["sell_through_by_layout"]], {4: RATE_FORMAT})
    sheet(wb.create_sheet("每日明细"), ["日期", "认购套数", "签约套数", "净回款 (元)"],
          [[r["date"], r["subscriptions"], r["contracts"], r["collections"]] for r in stats["series"]], {4: MONEY_FORMAT})
    wb.properties.title = title
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
