"""Commission accrual per contract, marketing's campaigns, and the refund case's loss estimate from the records.
Keyword-only after the session; nothing here commits (the caller owns the transaction).

The reversal of a refunded contract's commission is the database's: migration 0025's trigger
`commission_reversal` writes it in the transaction that cancels the subscription (db/commission_models.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from db.commission_models import Campaign, CampaignUnit, CommissionEntry
from db.contract_models import Contract
from db.errors import Invalid, NotFound
from db.models import Building, RefundCase, Subscription, Unit, User
from db.sales_policy import sales_policy
from domain import loss
from domain.calendar import CHINA


def accrue_commission(session: Session, contract: Contract, *, at: datetime | None = None) -> list[CommissionEntry]:
    """The contract's accrual at the rates in force now: the consultant of its subscription, and the channel
    partner whose registration (报备) the customer came through. Called where the contract is created; idempotent."""
    sub = session.get(Subscription, contract.subscription_id)
    unit = session.get(Unit, contract.unit_id)
    assert sub is not None and unit is not None
    policy = sales_policy(session, unit.project_id)
    existing = session.scalars(select(CommissionEntry).where(
        CommissionEntry.contract_id == contract.id, CommissionEntry.kind == "accrual")).all()
    if existing:
        return list(existing)
    row = CommissionEntry(
        project_id=unit.project_id, contract_id=contract.id, subscription_id=sub.id, unit_id=unit.id,
        party="consultant", user_id=sub.consultant_id, kind="accrual", base=contract.price,
        rate=policy.consultant_commission_rate, amount=loss.commission_amount(contract.price, policy.consultant_commission_rate),
        **({"at": at} if at is not None else {}),
    )
    rows = [row]
    partner_id = _crediting_partner(session, sub.customer_id)
    if partner_id is not None:
        rows.append(CommissionEntry(
            project_id=unit.project_id, contract_id=contract.id, subscription_id=sub.id, unit_id=unit.id,
            party="partner", partner_id=partner_id, kind="accrual", base=contract.price,
            rate=policy.partner_commission_rate, amount=loss.commission_amount(contract.price, policy.partner_commission_rate),
            **({"at": at} if at is not None else {}),
        ))
    session.add_all(rows)
    session.flush()
    return rows


# The channel partner a customer came through: the registration (报备) credited with the customer's first
# credited visit (db/reception_models.py: a walk-in within a registration's protection carries it).
_CREDITING_PARTNER = text("""
    SELECT r.partner_id FROM walk_ins w JOIN partner_registrations r ON r.id = w.registration_id
     WHERE w.customer_id = :c ORDER BY w.arrived_at, w.id LIMIT 1""")


def _crediting_partner(session: Session, customer_id: int) -> int | None:
    return session.scalar(_CREDITING_PARTNER, {"c": customer_id})


def commission_of_contract(session: Session, contract_id: int) -> list[CommissionEntry]:
    return list(session.scalars(select(CommissionEntry).where(CommissionEntry.contract_id == contract_id)
                                .order_by(CommissionEntry.id)))


# ---------------------------------------------------------------- campaigns ----------


def _invalid(errors: list[tuple[str, str]]) -> Invalid:
    err = Invalid("; ".join(f"{f}: {m}" for f, m in errors))
    err.errors = tuple({"field": f"body.{f}", "code": "invalid", "message": m} for f, m in errors)
    return err


def record_campaign(session: Session, *, project_id: int, name: str, channel: str, spend: Decimal, started_on: date,
                    ended_on: date | None, scope: str, building_id: int | None, unit_ids: list[int] | None,
                    note: str, actor: User) -> Campaign:
    """A campaign over named units, a building or the whole project; the covered units are fixed now."""
    errors: list[tuple[str, str]] = []
    if not name.strip():
        errors.append(("name", "the campaign needs a name"))
    if ended_on is not None and ended_on < started_on:
        errors.append(("ended_on", "the campaign cannot end before it starts"))
    units: list[int] = []
    if scope == "units":
        if building_id is not None:
            errors.append(("building_id", "give building_id only with scope building"))
        if not unit_ids:
            errors.append(("unit_ids", "name the units the campaign covers"))
        else:
            wanted = sorted(set(unit_ids))
            units = list(session.scalars(select(Unit.id).where(Unit.id.in_(wanted), Unit.project_id == project_id)))
            missing = sorted(set(wanted) - set(units))
            if missing:
                errors.append(("unit_ids", f"not units of this project: {', '.join(map(str, missing[:10]))}"))
    elif scope == "building":
        if unit_ids:
            errors.append(("unit_ids", "give unit_ids only with scope units"))
        b = session.get(Building, building_id) if building_id is not None else None
        if b is None or b.project_id != project_id:
            errors.append(("building_id", "name a building of this project"))
        else:
            units = list(session.scalars(select(Unit.id).where(Unit.building_id == b.id)))
            if not units:
                errors.append(("building_id", "the building has no units"))
    else:  # project (the model's Literal keeps anything else out)
        if unit_ids or building_id is not None:
            errors.append(("scope", "a project-wide campaign names no building and no units"))
        units = list(session.scalars(select(Unit.id).where(Unit.project_id == project_id)))
        if not units:
            errors.append(("scope", "the project has no units"))
    if errors:
        raise _invalid(errors)
    c = Campaign(project_id=project_id, name=name.strip(), channel=channel.strip(), spend=spend, started_on=started_on,
                 ended_on=ended_on, scope=scope, building_id=building_id if scope == "building" else None,
                 unit_count=len(units), note=note.strip(), created_by=actor.id)
    session.add(c)
    session.flush()
    session.add_all([CampaignUnit(campaign_id=c.id, unit_id=u) for u in units])
    session.flush()
    return c


def campaigns_of(session: Session, project_id: int) -> list[Campaign]:
    return list(session.scalars(select(Campaign).where(Campaign.project_id == project_id)
                                .order_by(Campaign.started_on.desc(), Campaign.id.desc())))


def campaigns_covering(session: Session, unit_id: int, *, by: date | None = None) -> list[Campaign]:
    """The campaigns covering a unit (started by `by`, when given), oldest first."""
    q = select(Campaign).join(CampaignUnit, CampaignUnit.campaign_id == Campaign.id).where(CampaignUnit.unit_id == unit_id)
    if by is not None:
        q = q.where(Campaign.started_on <= by)
    return list(session.scalars(q.order_by(Campaign.started_on, Campaign.id)))


# ---------------------------------------------------------------- the loss estimate ----------


@dataclass(frozen=True)
class CaseLoss:
    case_id: uuid.UUID
    unit_id: int
    contract_id: int | None
    price: Decimal
    estimate: loss.LossEstimate
    until: date


def loss_estimate(session: Session, *, case_id: uuid.UUID, today: date) -> CaseLoss:
    case = session.get(RefundCase, case_id)
    if case is None:
        raise NotFound(f"refund case {case_id} does not exist")
    sub = session.get(Subscription, case.subscription_id)
    assert sub is not None
    contract = session.scalar(select(Contract).where(Contract.subscription_id == sub.id))
    lines: list[loss.CommissionLine] = []
    if contract is not None:
        for e in commission_of_contract(session, contract.id):
            if e.kind == "reversal" and e.at >= case.registered_at:
                continue  # this case's own reversal: the loss is what the sale had accrued when it began
            lines.append(loss.CommissionLine(e.party, e.kind, e.base, e.rate, e.amount))
    registered_on = case.registered_at.astimezone(CHINA).date()
    closed = case.closed_at is not None
    until = case.closed_at.astimezone(CHINA).date() if closed else max(today, registered_on)
    campaigns = [loss.CampaignLine(c.id, c.name, c.spend, c.unit_count)
                 for c in campaigns_covering(session, case.unit_id, by=registered_on)]
    price = contract.price if contract is not None else sub.price
    policy = sales_policy(session, case.project_id)
    est = loss.estimate(commission=lines, has_contract=contract is not None, campaigns=campaigns, price=price,
                        daily_rate=policy.opportunity_daily_rate, registered_on=registered_on, until=until, closed=closed)
    return CaseLoss(case.id, case.unit_id, contract.id if contract else None, price, est, until)

