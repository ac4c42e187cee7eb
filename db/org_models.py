"""The organisation (migration 0011): group (集团) → city company (城市公司) → project (项目 / 案场), and the
memberships that give a person roles in a scope. Projects live in db/models.py (with their city company);
this module adds the city companies and the memberships."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base


class CityCompany(Base):
    __tablename__ = "city_companies"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class MembershipScope:
    PROJECT = "project"
    CITY = "city"
    GROUP = "group"


class Membership(Base):
    """A person holds `role` in one project, in every project of one city company, or group-wide. Revoked
    rows stay (who granted and revoked what, when); only rows with `revoked_at` null count."""

    __tablename__ = "memberships"
    __table_args__ = (
        CheckConstraint(
            "(scope = 'project' AND project_id IS NOT NULL AND city_company_id IS NULL)"
            " OR (scope = 'city' AND city_company_id IS NOT NULL AND project_id IS NULL)"
            " OR (scope = 'group' AND project_id IS NULL AND city_company_id IS NULL)",
            name="membership_scope",
        ),
        Index(
            "uq_membership_live", "user_id", "role", "scope", text("coalesce(project_id, 0)"),
            text("coalesce(city_company_id, 0)"), unique=True, postgresql_where=text("revoked_at IS NULL"),
        ),
        Index("ix_memberships_project_role", "project_id", "role", postgresql_where=text("revoked_at IS NULL")),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    scope: Mapped[str] = mapped_column(String(8))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"), nullable=True)
    city_company_id: Mapped[int | None] = mapped_column(ForeignKey("city_companies.id"), nullable=True)
    granted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Delegation(Base):
    """An out-of-office substitute (代理): from `starts_at` to `ends_at` the substitute acts with the
    delegator's roles in their scopes, on the delegator's behalf; `ended_at` stops it early. Kept after it ends."""

    __tablename__ = "delegations"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="delegation_period"),
        CheckConstraint("delegator_id <> substitute_id", name="delegation_two_people"),
        Index("ix_delegations_substitute_live", "substitute_id", "ends_at", postgresql_where=text("ended_at IS NULL")),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delegator_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    substitute_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    ended_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
