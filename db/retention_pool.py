"""A project's retention pool (挽留资金池, DOMAIN §4): what it was given, what compensation has drawn, what is
left, and funding it from the project's marketing budget at the share the refund policy in force sets.

A funding writes the difference between the new allotment (budget × share) and what the pool was given
before as one ledger entry naming the person and the reason, under the project's row lock — the lock a draw
takes (activities.refund) — so a funding and a draw never both read the same balance. The pool is never
given less than compensation has already drawn from it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.errors import Conflict, NotFound
from db.ledger import retention_totals
from db.models import Project, RefundCase, RetentionLedgerEntry, User
from db.policies import in_force
from domain.refund import RefundPolicy, money, retention_allotment, retention_top_up

ENTRIES_SHOWN = 50


def _project(session: Session, project_id: int, *, lock: bool = False) -> Project:
    project = session.get(Project, project_id, with_for_update=lock)
    if project is None:
        raise NotFound(f"project {project_id} does not exist")
    return project


def _policy(session: Session, project: Project, at: datetime) -> RefundPolicy | None:
    try:
        return in_force(session, project_id=project.id, city_company_id=project.city_company_id, at=at)
    except Conflict:  # none published yet: the pool is shown, its allotment is not known (funding says why)
        return None


def _totals(session: Session, project_id: int) -> tuple[Decimal, Decimal]:
    credited, drawn = retention_totals(session, project_id)
    return money(credited), money(drawn)


def pool_of(session: Session, project_id: int, *, at: datetime) -> dict[str, Any]:
    project = _project(session, project_id)
    return _view(session, project, _policy(session, project, at), *_totals(session, project_id))


def _view(session: Session, project: Project, policy: RefundPolicy | None, credited: Decimal,
          drawn: Decimal) -> dict[str, Any]:
    rows = session.execute(
        select(RetentionLedgerEntry, RefundCase.case_no, User.display_name)
        .outerjoin(RefundCase, RefundCase.id == RetentionLedgerEntry.case_id)
        .outerjoin(User, User.id == RetentionLedgerEntry.created_by)
        .where(RetentionLedgerEntry.project_id == project.id)
        .order_by(RetentionLedgerEntry.created_at.desc(), RetentionLedgerEntry.id.desc())
        .limit(ENTRIES_SHOWN)
    ).all()
    return {
        "project_id": project.id, "marketing_budget": money(project.marketing_budget),
        "share": policy and policy.retention_pool_share, "policy_version": policy and policy.version,
        "allotment": policy and retention_allotment(money(project.marketing_budget), policy.retention_pool_share),
        "credited": credited, "drawn": drawn, "remaining": credited - drawn,
        "entries": [{"id": e.id, "at": e.created_at, "amount": money(e.amount), "memo": e.memo, "case_id": e.case_id,
                     "case_no": case_no, "by": by} for e, case_no, by in rows],
    }


def fund(session: Session, project_id: int, *, marketing_budget: Decimal, reason: str, by: int,
         at: datetime) -> dict[str, Any]:
    """Set the project's marketing budget and give its pool the allotment at the policy's share: one entry for
    the difference (of 0.00 when only the budget changed; none when nothing did). 409 when the pool would hold
    less than it has paid out, or when no refund policy is in force (its share is not known)."""
    project = _project(session, project_id, lock=True)
    policy = in_force(session, project_id=project_id, city_company_id=project.city_company_id, at=at)
    share = policy.retention_pool_share
    allotment = retention_allotment(money(marketing_budget), share)
    credited, drawn = _totals(session, project_id)
    top_up = retention_top_up(allotment=allotment, credited=credited, drawn=drawn)
    if top_up is None:
        raise Conflict(key="retention.below_drawn", params={
            "project": project.name, "allotment": str(allotment), "drawn": str(drawn)})
    changed = money(marketing_budget) != money(project.marketing_budget)
    project.marketing_budget = money(marketing_budget)
    project.retention_ratio = share
    if top_up or changed:  # a budget change the pool does not feel (the same allotment) is recorded all the same
        memo = f"营销预算 {money(marketing_budget)} × {share}（{policy.version}）：{reason}"
        session.add(RetentionLedgerEntry(project_id=project_id, amount=top_up, memo=memo[:256], created_by=by,
                                         created_at=at))
    session.flush()
    return _view(session, project, policy, credited + top_up, drawn)  # the totals as written, not read again
