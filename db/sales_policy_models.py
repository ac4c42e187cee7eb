"""The sales policy's rows: a group default (no project) and per-project overrides (domain/sales_policy.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, func, text
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base, JsonB


class SalesPolicyRow(Base):
    __tablename__ = "sales_policies"
    __table_args__ = (Index("uq_sales_policy_project", text("coalesce(project_id, 0)"), unique=True),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"), nullable=True)  # null: the group's
    body: Mapped[dict] = mapped_column(JsonB, default=dict)  # only the fields set here (the rest inherited)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
