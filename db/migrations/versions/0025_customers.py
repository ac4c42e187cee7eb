"""Customers' needs, commission accrual (with its reversal trigger) and campaign spend (issue 15)

Follow-up appointments already exist (customer_follow_ups.next_appointment_at, reminders by
db/reminders.schedule_appointment since 0017); nothing is added for them.

Revision ID: 0025
Revises: 0024
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

JSONB = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)
MONEY = sa.Numeric(14, 2)

# A subscription cancelled (the refund's path B, in the same transaction as the buyer's choice): each accrual
# of its contract gets its reversal, once (the unique constraint on contract, party, kind).
REVERSAL_FUNCTION = """
CREATE OR REPLACE FUNCTION commission_reversal() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO commission_entries (project_id, contract_id, subscription_id, unit_id, party, user_id, partner_id,
                                    kind, base, rate, amount, reverses_id, at)
    SELECT a.project_id, a.contract_id, a.subscription_id, a.unit_id, a.party, a.user_id, a.partner_id,
           'reversal', a.base, a.rate, -a.amount, a.id, now()
      FROM commission_entries a
     WHERE a.subscription_id = NEW.id AND a.kind = 'accrual'
    ON CONFLICT ON CONSTRAINT uq_commission_contract_party_kind DO NOTHING;
    RETURN NULL;
END
$$;
"""
REVERSAL_TRIGGER = """
CREATE TRIGGER commission_reversal AFTER UPDATE OF status ON subscriptions
FOR EACH ROW WHEN (OLD.status = 'active' AND NEW.status = 'cancelled')
EXECUTE FUNCTION commission_reversal();
"""


def upgrade() -> None:
    op.create_table(
        "customer_needs",
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customers.id"), primary_key=True),
        sa.Column("budget_min", MONEY, nullable=True),
        sa.Column("budget_max", MONEY, nullable=True),
        sa.Column("layouts", JSONB, nullable=False),
        sa.Column("area_min", sa.Numeric(10, 2), nullable=True),
        sa.Column("area_max", sa.Numeric(10, 2), nullable=True),
        sa.Column("purpose", sa.String(16), nullable=True),
        sa.Column("concerns", JSONB, nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("updated_at", TS, server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("budget_min IS NULL OR budget_max IS NULL OR budget_min <= budget_max",
                           name="needs_budget_range"),
        sa.CheckConstraint("area_min IS NULL OR area_max IS NULL OR area_min <= area_max", name="needs_area_range"),
    )
    op.create_table(
        "commission_entries",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("contract_id", sa.Integer(), sa.ForeignKey("contracts.id"), nullable=False),
        sa.Column("subscription_id", sa.Integer(), sa.ForeignKey("subscriptions.id"), nullable=False),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("units.id"), nullable=False),
        sa.Column("party", sa.String(16), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("base", MONEY, nullable=False),
        sa.Column("rate", sa.Numeric(8, 6), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("reverses_id", sa.BigInteger(), sa.ForeignKey("commission_entries.id"), nullable=True),
        sa.Column("at", TS, server_default=sa.func.now(), nullable=False),
        sa.UniqueConstraint("contract_id", "party", "kind", name="uq_commission_contract_party_kind"),
        sa.CheckConstraint("party IN ('consultant', 'partner')", name="commission_party"),
        sa.CheckConstraint("kind IN ('accrual', 'reversal')", name="commission_kind"),
        sa.CheckConstraint("(kind = 'accrual' AND amount >= 0) OR (kind = 'reversal' AND amount <= 0)",
                           name="commission_sign"),
    )
    op.create_index("ix_commission_entries_project_id", "commission_entries", ["project_id"])
    op.create_index("ix_commission_entries_subscription", "commission_entries", ["subscription_id"])
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("spend", MONEY, nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("scope", sa.String(8), nullable=False),
        sa.Column("building_id", sa.Integer(), sa.ForeignKey("buildings.id"), nullable=True),
        sa.Column("unit_count", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("spend > 0", name="campaign_spend_positive"),
        sa.CheckConstraint("scope IN ('units', 'building', 'project')", name="campaign_scope"),
        sa.CheckConstraint("unit_count > 0", name="campaign_units_positive"),
        sa.CheckConstraint("ended_on IS NULL OR ended_on >= started_on", name="campaign_period"),
    )
    op.create_index("ix_campaigns_project_id", "campaigns", ["project_id"])
    op.create_table(
        "campaign_units",
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("campaigns.id"), primary_key=True),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("units.id"), primary_key=True),
    )
    op.create_index("ix_campaign_units_unit_id", "campaign_units", ["unit_id"])
    op.execute(REVERSAL_FUNCTION)
    op.execute(REVERSAL_TRIGGER)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS commission_reversal ON subscriptions")
    op.execute("DROP FUNCTION IF EXISTS commission_reversal()")
    op.drop_index("ix_campaign_units_unit_id", table_name="campaign_units")
    op.drop_table("campaign_units")
    op.drop_index("ix_campaigns_project_id", table_name="campaigns")
    op.drop_table("campaigns")
    op.drop_index("ix_commission_entries_subscription", table_name="commission_entries")
    op.drop_index("ix_commission_entries_project_id", table_name="commission_entries")
    op.drop_table("commission_entries")
    op.drop_table("customer_needs")
