"""Reading and setting the sales policy (domain/sales_policy.py). The caller owns the transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from db.errors import Invalid
from db.sales_policy_models import SalesPolicyRow
from domain.sales_policy import SalesPolicy, policy_errors, policy_from


def sales_policy(session: Session, project_id: int | None) -> SalesPolicy:
    """The policy in force for a project: the defaults, the group's row, then the project's."""
    rows = dict(session.execute(select(SalesPolicyRow.project_id, SalesPolicyRow.body).where(
        (SalesPolicyRow.project_id.is_(None)) | (SalesPolicyRow.project_id == project_id))).all())
    return policy_from(rows.get(None), rows.get(project_id) if project_id is not None else None)


def set_sales_policy(session: Session, project_id: int | None, body: dict, *, by: int, at: datetime) -> SalesPolicy:
    """Replace the fields set for a project (or the group); per-field 422 for a bad value."""
    errors = policy_errors(body)
    if errors:
        err = Invalid("; ".join(m for _, m in errors))
        err.errors = tuple({"field": f"body.{f}", "code": "invalid", "message": m} for f, m in errors)
        raise err
    # The row exists afterwards whoever else is setting it (the unique index is on coalesce(project_id, 0)).
    session.execute(pg_insert(SalesPolicyRow).values(project_id=project_id, body={}, updated_by=by, updated_at=at)
                    .on_conflict_do_nothing())
    row = session.scalar(select(SalesPolicyRow).where(
        SalesPolicyRow.project_id.is_(None) if project_id is None else SalesPolicyRow.project_id == project_id
    ).with_for_update())
    row.body, row.updated_by, row.updated_at = body, by, at
    session.flush()
    return sales_policy(session, project_id)
