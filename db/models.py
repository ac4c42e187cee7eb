"""SQLAlchemy 2.0 models: the sales office's records and the refund case projection."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

Money = Numeric(14, 2)
JsonB = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    pass


class Role(StrEnum):
    FRONTDESK = "frontdesk"
    SALES = "sales"
    MANAGER = "manager"
    FINANCE = "finance"
    LEGAL = "legal"
    MARKETING = "marketing"
    CITYGM = "citygm"
    HQRISK = "hqrisk"
    OPS = "ops"
    ADMIN = "admin"  # the organisation's administration (people, memberships, projects)


class UnitState(StrEnum):
    NOT_RELEASED = "not_released"  # 未推
    AVAILABLE = "available"  # 可售
    LOCKED = "locked"  # 锁定
    SUBSCRIBED = "subscribed"  # 已认购
    SIGNED = "signed"  # 已签约 (网签)
    FILED = "filed"  # 已备案
    DELIVERED = "delivered"  # 已交付
    HELD = "held"  # 保留
    REFUNDING = "refunding"  # 退房中
    NOT_FOR_SALE = "not_for_sale"  # 不可售


UNIT_STATE_LABELS = {
    UnitState.NOT_RELEASED: "未推",
    UnitState.AVAILABLE: "可售",
    UnitState.LOCKED: "锁定",
    UnitState.SUBSCRIBED: "已认购",
    UnitState.SIGNED: "已签约",
    UnitState.FILED: "已备案",
    UnitState.DELIVERED: "已交付",
    UnitState.HELD: "保留",
    UnitState.REFUNDING: "退房中",
    UnitState.NOT_FOR_SALE: "不可售",
}


def _uuid() -> uuid.UUID:
    return uuid.uuid4()


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    # A person (migration 0011): `role` is the primary role (what a screen shows first); what the person may do,
    # and where, comes from their memberships (db/org_models.py).
    employee_no: Mapped[str | None] = mapped_column(String(32), unique=True, nullable=True)
    mobile_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    mobile_masked: Mapped[str | None] = mapped_column(String(16), nullable=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)  # where e-mail notices go


class Project(Base):
    __tablename__ = "projects"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    city: Mapped[str] = mapped_column(String(64), default="")
    city_company_id: Mapped[int] = mapped_column(ForeignKey("city_companies.id"), index=True)
    marketing_budget: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    # DOMAIN §4 decision: the retention pool defaults to 5% of the marketing budget.
    retention_ratio: Mapped[Decimal] = mapped_column(Numeric(5, 4), default=Decimal("0.05"))
    grace_days: Mapped[int] = mapped_column(Integer, default=7)


class Building(Base):
    __tablename__ = "buildings"
    __table_args__ = (UniqueConstraint("project_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    name: Mapped[str] = mapped_column(String(32))


class Unit(Base):
    __tablename__ = "units"
    __table_args__ = (
        UniqueConstraint("building_id", "code"),
        CheckConstraint("total_price >= 0", name="unit_total_price_nonnegative"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id"))
    code: Mapped[str] = mapped_column(String(16))  # 房号, e.g. 1203
    floor: Mapped[int] = mapped_column(Integer)
    layout: Mapped[str] = mapped_column(String(32))
    gross_area: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    unit_price: Mapped[Decimal] = mapped_column(Money)
    total_price: Mapped[Decimal] = mapped_column(Money)
    state: Mapped[str] = mapped_column(String(16), default=UnitState.AVAILABLE)
    # The state a refunding unit returns to when the buyer stays (path A or C).
    state_before_refund: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # Inventory control (DOMAIN §2, migration 0002): hierarchy, §2 fields, lock and hold bookkeeping.
    phase_id: Mapped[int | None] = mapped_column(ForeignKey("phases.id"), nullable=True)  # 分期
    entrance: Mapped[str | None] = mapped_column(String(16), nullable=True)  # 单元
    use: Mapped[str | None] = mapped_column(String(16), nullable=True)  # 住宅/商业/车位
    orientation: Mapped[str | None] = mapped_column(String(16), nullable=True)
    net_area: Mapped[Decimal | None] = mapped_column(Numeric(10, 2), nullable=True)  # 套内
    floor_price: Mapped[Decimal | None] = mapped_column(Money, nullable=True)  # 底价 (total)
    filed_price: Mapped[Decimal | None] = mapped_column(Money, nullable=True)  # 备案价 (total)
    presale_permit: Mapped[str | None] = mapped_column(String(64), nullable=True)
    price_list_id: Mapped[int | None] = mapped_column(ForeignKey("price_lists.id"), nullable=True)  # prices in force
    locked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    locked_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    hold_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class UnitStateChange(Base):
    __tablename__ = "unit_state_changes"
    # (unit_id, id): a unit's history, and its newest change in one index probe (the board version).
    __table_args__ = (Index("ix_unit_state_changes_unit_id_id", "unit_id", "id"),)
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Customer(Base):
    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    id_type: Mapped[str] = mapped_column(String(32))
    id_number_enc: Mapped[str] = mapped_column(Text)
    id_number_bidx: Mapped[str] = mapped_column(String(64), index=True)
    id_number_masked: Mapped[str] = mapped_column(String(32))
    mobile_enc: Mapped[str] = mapped_column(Text)
    mobile_bidx: Mapped[str] = mapped_column(String(64), index=True)
    mobile_masked: Mapped[str] = mapped_column(String(16))
    consultant_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    # A customer registered at two projects is two rows (linked by the blind indexes).
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    rating: Mapped[str] = mapped_column(String(1), default="B")
    tags: Mapped[list] = mapped_column(JsonB, default=list)


class SubscriptionStatus(StrEnum):
    ACTIVE = "active"
    CANCELLED = "cancelled"
    TRANSFERRED = "transferred"


class Subscription(Base):
    """认购. At most one active subscription per unit, enforced by a partial unique index."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        Index(
            "uq_subscription_active_unit",
            "unit_id",
            unique=True,
            postgresql_where=text("status = 'active'"),
        ),
        CheckConstraint("deposit_amount >= 0 AND paid_amount >= deposit_amount", name="subscription_amounts"),
        # The transfers made from a subscription (fee waived: the refund reports, migration 0028).
        Index("ix_subscriptions_transferred_from_id", "transferred_from_id",
              postgresql_where=text("transferred_from_id IS NOT NULL")),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    consultant_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    price: Mapped[Decimal] = mapped_column(Money)
    deposit_amount: Mapped[Decimal] = mapped_column(Money)
    deposit_kind: Mapped[str] = mapped_column(String(8))
    paid_amount: Mapped[Decimal] = mapped_column(Money)
    stage: Mapped[str] = mapped_column(String(16))  # domain.refund.ContractStage
    status: Mapped[str] = mapped_column(String(16), default=SubscriptionStatus.ACTIVE)
    subscribed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    transferred_from_id: Mapped[int | None] = mapped_column(ForeignKey("subscriptions.id"), nullable=True)
    fee_waived: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # 共居人知情确认书: the family's acknowledgment, recommended by the SOP against family-dispute refunds.
    co_resident_ack: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    signing_deadline: Mapped[date | None] = mapped_column(Date, nullable=True)  # sign the contract by this day


class RefundPolicyVersion(Base):
    """A refund policy version (公示). A draft is edited by its author, approved by legal (another person),
    published with an effective time for the group, a city company or a project; published versions are
    immutable, and at any time the most specific published version in force applies (db/policies.py)."""

    __tablename__ = "refund_policies"
    __table_args__ = (
        CheckConstraint(
            "(scope = 'group' AND city_company_id IS NULL AND project_id IS NULL)"
            " OR (scope = 'city' AND city_company_id IS NOT NULL AND project_id IS NULL)"
            " OR (scope = 'project' AND project_id IS NOT NULL AND city_company_id IS NULL)",
            name="refund_policy_scope",
        ),
        CheckConstraint(
            "status IN ('draft', 'approved', 'published', 'discarded')"
            " AND (status <> 'published' OR (effective_from IS NOT NULL AND published_at IS NOT NULL))",
            name="refund_policy_status",
        ),
        # In force at a time: the published versions of a scope, newest effective first.
        Index("ix_refund_policies_in_force", "scope", "effective_from", postgresql_where=text("status = 'published'")),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[str] = mapped_column(String(32), unique=True)
    body: Mapped[dict] = mapped_column(JsonB)
    status: Mapped[str] = mapped_column(String(16), default="published")  # draft / approved / published / discarded
    scope: Mapped[str] = mapped_column(String(8), default="group")  # group / city / project
    city_company_id: Mapped[int | None] = mapped_column(ForeignKey("city_companies.id"), nullable=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"), nullable=True)
    summary: Mapped[str] = mapped_column(Text, default="")  # what changed, in the author's words
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    approved_by: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the approver as named on the 公示
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    # A version written directly as published (seed, tests) is in force from its insert.
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True, default=func.now())
    effective_from: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True, default=func.now())


class CaseStage(StrEnum):
    INTAKE = "intake"
    ASSESSMENT = "assessment"
    GM_APPROVAL = "gm_approval"
    SOLUTION = "solution"
    CHOICE = "choice"
    CONTRACT_CANCELLATION = "contract_cancellation"
    ARCHIVE = "archive"
    CLOSED = "closed"


class RefundCase(Base):
    """The case row; the workflow owns its progress and writes it through activities."""

    __tablename__ = "refund_cases"
    __table_args__ = (
        # One open case per subscription.
        Index(
            "uq_refund_case_open_subscription",
            "subscription_id",
            unique=True,
            postgresql_where=text("stage <> 'closed'"),
        ),
        # The case lists, newest first (read backwards): a project's, every project's, the open ones.
        Index("ix_refund_cases_project_registered", "project_id", "registered_at", "id"),
        Index("ix_refund_cases_registered", "registered_at", "id"),
        Index("ix_refund_cases_open_registered", "registered_at", "id", postgresql_where=text("stage <> 'closed'")),
        # A subscription's cases (the report facts follow a change of its consultant or a transfer: migration 0028).
        Index("ix_refund_cases_subscription_id", "subscription_id"),
        # The dashboard's cases closed this week (migration 0028).
        Index("ix_refund_cases_closed_at", "closed_at", postgresql_where=text("closed_at IS NOT NULL")),
    )
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=_uuid)
    case_no: Mapped[str] = mapped_column(String(32), unique=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    registered_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    workflow_id: Mapped[str] = mapped_column(String(128), unique=True)
    run_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    policy_version: Mapped[str] = mapped_column(String(32))
    stage: Mapped[str] = mapped_column(String(24), default=CaseStage.INTAKE, index=True)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    needs_gm: Mapped[bool] = mapped_column(Boolean, default=False)
    escalation_reasons: Mapped[list] = mapped_column(JsonB, default=list)
    # The same reasons as {code, params} (cases whose workflow reached the change; older ones have none).
    escalation_codes: Mapped[list] = mapped_column(JsonB, default=list, server_default=text("'[]'::jsonb"))
    deadlines: Mapped[dict] = mapped_column(JsonB, default=dict)
    assessments: Mapped[dict] = mapped_column(JsonB, default=dict)
    options: Mapped[list] = mapped_column(JsonB, default=list)
    chosen_option: Mapped[str | None] = mapped_column(String(1), nullable=True)
    outcome: Mapped[dict] = mapped_column(JsonB, default=dict)
    loss_total: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    refund_amount: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Communication records are kept at least two years (DOMAIN §4).
    retain_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # When the daily sweep removed the case's personal data past retain_until (db/retention.py; None: not yet).
    anonymised_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class IntakeForm(Base):
    """退房原因初步登记表. The identity checks are recorded as results; the numbers stay on the customer."""

    __tablename__ = "intake_forms"
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("refund_cases.id"), primary_key=True)
    reasons: Mapped[list] = mapped_column(JsonB)
    reason_text: Mapped[str] = mapped_column(Text, default="")
    willing_to_consider: Mapped[str] = mapped_column(String(16))
    id_verified: Mapped[bool] = mapped_column(Boolean)
    phone_verified: Mapped[bool] = mapped_column(Boolean)
    recording_ref: Mapped[str] = mapped_column(String(256), default="")
    submitted_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CaseEvent(Base):
    """Who did what when. `event_key` makes every write idempotent under activity retries."""

    __tablename__ = "case_events"
    __table_args__ = (UniqueConstraint("case_id", "event_key"),)
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("refund_cases.id"), index=True)
    event_key: Mapped[str] = mapped_column(String(96))
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    detail: Mapped[dict] = mapped_column(JsonB, default=dict)


class TaskStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class Task(Base):
    """A human step waiting on a role pool of a project, which one eligible person may claim. Workflow steps
    are completed through the workflow."""

    __tablename__ = "tasks"
    __table_args__ = (
        UniqueConstraint("case_id", "task_key"),
        Index("ix_tasks_open_role", "role", "due_at", postgresql_where=text("status = 'open'")),
        Index("ix_tasks_open_pool", "project_id", "role", "due_at", postgresql_where=text("status = 'open'")),
        Index("ix_tasks_open_claimed", "claimed_by", "due_at", postgresql_where=text("status = 'open'")),
        # An open case's nearest deadline, read from the index alone (the dashboard: migration 0028).
        Index("ix_tasks_open_case_due", "case_id", "due_at", postgresql_where=text("status = 'open'")),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("refund_cases.id"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    task_key: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(256))
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default=TaskStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    completed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    claimed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class SlaBreach(Base):
    __tablename__ = "sla_breaches"
    __table_args__ = (UniqueConstraint("case_id", "sla"),)
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("refund_cases.id"), index=True)
    sla: Mapped[str] = mapped_column(String(32))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    breached_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    escalated_to: Mapped[str] = mapped_column(String(16))


class RefundInstruction(Base):
    """Exactly one refund instruction per case: the unique constraint is the guarantee."""

    __tablename__ = "refund_instructions"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("refund_cases.id"), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    amount: Mapped[Decimal] = mapped_column(Money)
    share: Mapped[Decimal] = mapped_column(Numeric(5, 4))
    route: Mapped[str] = mapped_column(String(8))
    policy_version: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="issued")  # issued | pending_approval | paid
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # The payment finance recorded against it (issue 14); a different amount needs a reason and a second person.
    paid_amount: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    paid_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    bank_reference: Mapped[str | None] = mapped_column(String(64), nullable=True)
    voucher_evidence_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("case_evidence.id"), nullable=True)
    paid_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    paid_recorded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    difference_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    difference_approved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)


class RetentionLedgerEntry(Base):
    """The project's retention pool: the budget is a credit, each compensation a draw (negative)."""

    __tablename__ = "retention_ledger"
    __table_args__ = (
        Index("uq_retention_draw_case", "case_id", unique=True, postgresql_where=text("case_id IS NOT NULL")),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("refund_cases.id"), nullable=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    memo: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)  # a funding's person


class KnowledgeBaseEntry(Base):
    __tablename__ = "knowledge_base_entries"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("refund_cases.id"), unique=True)
    title: Mapped[str] = mapped_column(String(256))
    body: Mapped[str] = mapped_column(Text)
    tags: Mapped[list] = mapped_column(JsonB, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class RegionalBrief(Base):
    """The brief sent to the regional ops centre after archive."""

    __tablename__ = "regional_briefs"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("refund_cases.id"), unique=True)
    body: Mapped[dict] = mapped_column(JsonB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
