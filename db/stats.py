"""Sales statistics (DOMAIN §7): the per-day aggregates of one period, read in a few queries, and the XLSX.

Timestamps are bucketed by China date (`AT TIME ZONE 'Asia/Shanghai'`, the same UTC+8 as
domain.calendar.CHINA); contracts and receipts carry business dates already. Visits, calls and follow-ups
count for their customer's project (a customer belongs to one project); reception's walk-ins (issue 15) count
as visits of their project, anonymous ones too. The figures are assembled by
domain.stats.summarize; docs/decisions.md ("Sales statistics") has the definitions."""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, and_, cast, distinct, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from db.contract_models import Contract, Receipt
from db.customer_models import CustomerCall, CustomerFollowUp, CustomerProfile, CustomerVisit
from db.errors import Invalid, NotFound
from db.inventory_models import Phase
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
    UnitStateChange,
    User,
)
from domain.calendar import CHINA
from domain.stats import (
    CHANNEL_LABELS_ZH,
    RangeError,
    batch_rows,
    date_range,
    funnel,
    funnel_total,
    previous_period,
    summarize,
    unit_counts,
)

CHINA_TZ = "Asia/Shanghai"  # = domain.calendar.CHINA (UTC+8; no DST since 1991)
EFFECTIVE_RATINGS = ("A",)  # B is every new record's default rating: it says nothing yet
ZERO = Decimal("0")


def _day(column):
    """The China date of a timestamptz column."""
    return cast(func.timezone(CHINA_TZ, column), Date)


def _between(column, start: datetime, end: datetime):
    return and_(column >= start, column < end)


def sales_stats(session: Session, *, project_id: int, today: date, period: str | None = None,
                date_from: date | None = None, date_to: date | None = None, by: Iterable[str] = (),
                compare: bool = False) -> dict[str, Any]:
    """The statistics of `period` (today / week / month) around `today` (a China date), or of the China dates
    `date_from`..`date_to`; `by` adds the funnel per consultant and / or per channel; `compare` adds the
    previous period (domain.stats.previous_period) with the same breakdowns under "previous"."""
    if session.get(Project, project_id) is None:
        raise NotFound(f"project {project_id} does not exist")
    try:
        first, last, label = date_range(today, period=period, date_from=date_from, date_to=date_to)
    except RangeError as e:
        raise range_invalid(e.field, str(e)) from None
    except ValueError as e:
        raise range_invalid("period", str(e)) from None
    by = tuple(dict.fromkeys(by))
    out = _period_stats(session, project_id=project_id, first=first, last=last, label=label, today=today, by=by)
    out["previous"] = None
    if compare:
        p_first, p_last = previous_period(first, last)
        out["previous"] = _period_stats(session, project_id=project_id, first=p_first, last=p_last, label="previous",
                                        today=today, by=by)
        out["previous"]["previous"] = None
    return out


def range_invalid(field: str, message: str) -> Invalid:
    """A 422 naming the query parameter at fault."""
    err = Invalid(message)
    err.errors = ({"field": f"query.{field}", "code": "invalid_range", "message": message},)
    return err


def _period_stats(session: Session, *, project_id: int, first: date, last: date, label: str, today: date,
                  by: tuple[str, ...]) -> dict[str, Any]:
    period = label
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
        .where(WalkIn.project_id == project_id, WalkIn.day.between(first, last))  # day: arrived_at's China date
    ).one()
    groups, first_visits = groups + walk_ins, first_visits + first_walk_ins
    effective = session.scalar(
        select(func.count(distinct(CustomerVisit.customer_id)))
        .join(Customer, Customer.id == CustomerVisit.customer_id)
        .where(of_project, _between(CustomerVisit.visited_at, start, end), _effective(start, end))
    )

    layouts, batches = _sell_through(session, project_id=project_id, first=first, last=last, today=today,
                                     start=start, end=end)
    out = summarize(
        project_id=project_id, period=period, first=first, last=last, today=today, calls=calls,
        visits={"groups": groups, "first": first_visits, "repeat": groups - first_visits},
        effective_customers=effective, daily=daily, sell_through=layouts,
        cancelled_of_period=sum(daily.pop("cancelled_of_period", {}).values()),
    )
    out["sell_through_by_batch"] = batches
    for dim in ("consultant", "channel"):
        out[f"by_{dim}"] = _funnel(session, dim, project_id=project_id, first=first, last=last, start=start,
                                   end=end) if dim in by else None
    return out


def _sell_through(session: Session, *, project_id: int, first: date, last: date, today: date, start: datetime,
                  end: datetime) -> tuple[list[dict], list[dict]]:
    """Sell-through per layout and per release batch (分期), as of the end of the range (or now, for a range
    that runs past today): each unit's state then is the target of its last audited change before that
    instant, else the origin of its first change after it, else its current state (db.ledger audits every
    transition). One GROUP BY over (layout, phase, state, state before a refund); the counting rule is
    domain.stats.unit_counts. Plus, per batch, the subscriptions made and contracts signed in the range."""
    as_of = datetime.combine(min(last, today) + timedelta(days=1), time(), CHINA)
    in_project = Unit.project_id == project_id
    change = UnitStateChange
    before = (select(change.unit_id, change.to_state.label("state"), change.from_state.label("prior"))
              .join(Unit, Unit.id == change.unit_id).where(in_project, change.at < as_of)
              .distinct(change.unit_id).order_by(change.unit_id, change.at.desc(), change.id.desc())).subquery()
    after = (select(change.unit_id, change.from_state.label("state"))
             .join(Unit, Unit.id == change.unit_id).where(in_project, change.at >= as_of)
             .distinct(change.unit_id).order_by(change.unit_id, change.at, change.id)).subquery()
    state = func.coalesce(before.c.state, after.c.state, Unit.state).label("state")
    prior = func.coalesce(before.c.prior, Unit.state_before_refund).label("prior")
    by_layout: dict[str, list[int]] = {}
    by_batch: dict[int | None, dict[str, int]] = {}
    for layout, phase_id, st, pr, n in session.execute(
        select(Unit.layout, Unit.phase_id, state, prior, func.count())
        .select_from(Unit)
        .outerjoin(before, before.c.unit_id == Unit.id)
        .outerjoin(after, after.c.unit_id == Unit.id)
        .where(in_project)
        .group_by(Unit.layout, Unit.phase_id, state, prior)
    ):
        released, sold, contracted = unit_counts(st, pr)
        row = by_layout.setdefault(layout, [0, 0])
        row[0] += n * released
        row[1] += n * sold
        batch = by_batch.setdefault(phase_id, {"released": 0, "subscribed": 0, "contracted": 0,
                                               "period_subscriptions": 0, "period_contracts": 0})
        batch["released"] += n * released
        batch["subscribed"] += n * sold
        batch["contracted"] += n * contracted
    for phase_id, n in session.execute(
        select(Unit.phase_id, func.count()).select_from(Subscription).join(Unit, Unit.id == Subscription.unit_id)
        .where(in_project, Subscription.transferred_from_id.is_(None), _between(Subscription.subscribed_at, start, end))
        .group_by(Unit.phase_id)
    ):
        by_batch.setdefault(phase_id, {"released": 0, "subscribed": 0, "contracted": 0, "period_subscriptions": 0,
                                       "period_contracts": 0})["period_subscriptions"] = n
    for phase_id, n in session.execute(
        select(Unit.phase_id, func.count()).select_from(Contract).join(Unit, Unit.id == Contract.unit_id)
        .where(in_project, Contract.signed_on.between(first, last)).group_by(Unit.phase_id)
    ):
        by_batch.setdefault(phase_id, {"released": 0, "subscribed": 0, "contracted": 0, "period_subscriptions": 0,
                                       "period_contracts": 0})["period_contracts"] = n
    names = dict(session.execute(select(Phase.id, Phase.name).where(Phase.project_id == project_id)).all())
    layouts = [{"layout": k, "released": v[0], "sold": v[1]} for k, v in sorted(by_layout.items())]
    batches = batch_rows([{"batch_id": k, "batch": names.get(k) if k is not None else None, **v}
                          for k, v in by_batch.items()])
    return layouts, batches


def _funnel(session: Session, dim: str, *, project_id: int, first: date, last: date, start: datetime,
            end: datetime) -> list[dict]:
    """The funnel visits → effective customers → subscriptions → contracts per consultant or per channel.

    Consultant: a walk-in is the consultant's who took it (None: nobody took it); a visit recorded on a
    customer, and an effective customer, are the customer's consultant's; a subscription is the consultant's
    who made it, and so is its contract. Channel: a walk-in's is the one reception recorded; everything else
    follows the customer's source channel (CustomerProfile; None when the customer has none). Each visit,
    customer, subscription and contract falls in exactly one row, so the rows add up to the office's figures."""
    figures: dict[Any, dict[str, Any]] = {}

    def put(rows, *keys: str) -> None:
        for key, *values in rows:
            row = figures.setdefault(key, {})
            for name, value in zip(keys, values):
                row[name] = row.get(name, 0) + (value or 0)

    of_project = Customer.project_id == project_id
    if dim == "consultant":
        walk_in_key, customer_key = WalkIn.consultant_id, Customer.consultant_id
        sale_key = Subscription.consultant_id

        def via_customer(q, customer_id):
            return q.join(Customer, Customer.id == customer_id)
    else:
        walk_in_key, customer_key = WalkIn.channel, CustomerProfile.source_channel
        sale_key = CustomerProfile.source_channel

        def via_customer(q, customer_id):
            return q.join(Customer, Customer.id == customer_id).outerjoin(
                CustomerProfile, CustomerProfile.customer_id == Customer.id)

    put(session.execute(
        select(walk_in_key, func.count())
        .where(WalkIn.project_id == project_id, WalkIn.day.between(first, last)).group_by(walk_in_key)
    ), "visits")
    from_reception = exists().where(WalkIn.customer_visit_id == CustomerVisit.id)
    put(session.execute(
        via_customer(select(customer_key, func.count()).select_from(CustomerVisit), CustomerVisit.customer_id)
        .where(of_project, _between(CustomerVisit.visited_at, start, end), ~from_reception).group_by(customer_key)
    ), "visits")
    put(session.execute(
        via_customer(select(customer_key, func.count(distinct(CustomerVisit.customer_id))).select_from(CustomerVisit),
                     CustomerVisit.customer_id)
        .where(of_project, _between(CustomerVisit.visited_at, start, end), _effective(start, end))
        .group_by(customer_key)
    ), "effective_customers")
    sales = select(sale_key, func.count(), func.sum(Subscription.price)).select_from(Subscription)
    if dim == "channel":
        sales = via_customer(sales, Subscription.customer_id)
    put(session.execute(
        sales.join(Unit, Unit.id == Subscription.unit_id)
        .where(Unit.project_id == project_id, Subscription.transferred_from_id.is_(None),
               _between(Subscription.subscribed_at, start, end))
        .group_by(sale_key)
    ), "subscriptions", "subscription_amount")
    signed = (select(sale_key, func.count(), func.sum(Contract.price)).select_from(Contract)
              .join(Subscription, Subscription.id == Contract.subscription_id))
    if dim == "channel":
        signed = via_customer(signed, Subscription.customer_id)
    put(session.execute(
        signed.join(Unit, Unit.id == Contract.unit_id)
        .where(Unit.project_id == project_id, Contract.signed_on.between(first, last)).group_by(sale_key)
    ), "contracts", "contract_amount")

    if dim == "consultant":
        ids = [k for k in figures if k is not None]
        names = dict(session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all()) if ids else {}
        return funnel({str(k) if k is not None else None: v for k, v in figures.items()},
                      {str(k): n for k, n in names.items()})
    return funnel({k or None: v for k, v in _merge_blank(figures).items()})


def _merge_blank(figures: dict[Any, dict[str, Any]]) -> dict[Any, dict[str, Any]]:
    """A blank channel is no channel: its figures join those of None."""
    out: dict[Any, dict[str, Any]] = {}
    for key, row in figures.items():
        target = out.setdefault((key or "").strip() or None, {})
        for name, value in row.items():
            target[name] = target.get(name, 0) + value
    return out


def _effective(start: datetime, end: datetime):
    """Effective customer (有效客户; docs/decisions.md "Sales statistics"): a registered customer who visited in
    the period and is rated A or booked a next appointment in a follow-up recorded in the period."""
    booked = exists().where(
        CustomerFollowUp.customer_id == CustomerVisit.customer_id,
        CustomerFollowUp.next_appointment_at.is_not(None),
        _between(CustomerFollowUp.at, start, end),
    )
    return or_(Customer.rating.in_(EFFECTIVE_RATINGS), booked)


# ---------------------------------------------------------------- XLSX ----------

PERIOD_LABELS = {"today": "今日", "week": "本周", "month": "本月", "custom": "自定义", "previous": "上期"}
MONEY_FORMAT = "#,##0.00"
RATE_FORMAT = "0.00%"


def _summary_rows(stats: dict[str, Any]) -> list[tuple[str, Any, str | None]]:
    s, c, k, cash, conv = stats["subscriptions"], stats["contracts"], stats["visits"], stats["collections"], stats["conversion"]
    return [
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


FUNNEL_HEADER = ["来访 (组)", "有效客户", "认购套数", "认购金额 (元)", "签约套数", "签约金额 (元)",
                 "来访→有效", "有效→认购", "认购→签约", "来访→认购", "来访→签约"]
FUNNEL_FORMATS = {5: MONEY_FORMAT, 7: MONEY_FORMAT, **{i: RATE_FORMAT for i in range(8, 13)}}


def _funnel_cells(r: dict[str, Any]) -> list[Any]:
    v = r["conversion"]
    return [r["visits"], r["effective_customers"], r["subscriptions"], r["subscription_amount"], r["contracts"],
            r["contract_amount"], v["visit_to_effective"], v["effective_to_subscription"], v["subscription_to_contract"],
            v["visit_to_subscription"], v["visit_to_contract"]]


def stats_xlsx(stats: dict[str, Any], *, title: str) -> bytes:
    """Sheet 1 the summary (Chinese labels; with the previous period and the change beside it when compared),
    then sell-through by layout, the daily series, sell-through by release batch, and the funnels per
    consultant and per channel when asked for. Money and rates are numbers (formatted), so the workbook sums
    and charts like the page."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    previous = stats.get("previous")
    summary = _summary_rows(stats)
    before = _summary_rows(previous) if previous else None
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
    ws.append(["指标", "数值"] + (["上期", "变化"] if before else []))
    for cell in ws[1]:
        cell.font = bold
    for i, (label, value, fmt) in enumerate(summary):
        row = [label, value]
        if before:
            old = before[i][1]
            change = value - old if isinstance(value, (int, Decimal)) and isinstance(old, (int, Decimal)) else None
            row += [old, change]
        ws.append(row)
        if fmt:
            for col in range(2, len(row) + 1):
                ws.cell(row=ws.max_row, column=col).number_format = fmt
    for col, width in zip("ABCD", (22, 30, 30, 16)):
        ws.column_dimensions[col].width = width
    sheet(wb.create_sheet("户型去化"), ["户型", "已推套数", "已售套数", "去化率"],
          [[r["layout"], r["released"], r["sold"], r["rate"]] for r in stats["sell_through_by_layout"]], {4: RATE_FORMAT})
    sheet(wb.create_sheet("每日明细"), ["日期", "认购套数", "签约套数", "净回款 (元)"],
          [[r["date"], r["subscriptions"], r["contracts"], r["collections"]] for r in stats["series"]], {4: MONEY_FORMAT})
    sheet(wb.create_sheet("批次去化"),
          ["推售批次 (分期)", "已推套数", "已认购套数", "已签约套数", "去化率", "签约占比", "本期认购", "本期签约"],
          [[r["batch"] or "未分期", r["released"], r["subscribed"], r["contracted"], r["sell_through"],
            r["contract_share"], r["period_subscriptions"], r["period_contracts"]] for r in stats["sell_through_by_batch"]],
          {5: RATE_FORMAT, 6: RATE_FORMAT})
    if stats.get("by_consultant") is not None:
        sheet(wb.create_sheet("顾问漏斗"), ["置业顾问", *FUNNEL_HEADER],
              [[r["label"] or ("未分配" if r["key"] is None else r["key"]), *_funnel_cells(r)] for r in stats["by_consultant"]]
              + [["合计", *_funnel_cells(funnel_total(stats["by_consultant"]))]], FUNNEL_FORMATS)
    if stats.get("by_channel") is not None:
        sheet(wb.create_sheet("渠道漏斗"), ["渠道", *FUNNEL_HEADER],
              [[CHANNEL_LABELS_ZH.get(r["key"], r["key"]) if r["key"] is not None else "未知", *_funnel_cells(r)]
               for r in stats["by_channel"]] + [["合计", *_funnel_cells(funnel_total(stats["by_channel"]))]], FUNNEL_FORMATS)
    wb.properties.title = title
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
