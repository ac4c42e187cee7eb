"""follow-ups: mortgage cases, payment plans, warnings, calendar overrides (hand-written)

Revision ID: 0005
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0001"
branch_labels = None
depends_on = None

JSONB = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
MONEY = sa.Numeric(precision=14, scale=2)
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "calendar_overrides",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("is_workday", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("day"),
    )
    op.create_table(
        "followups",
        sa.Column("followup_id", sa.String(length=96), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("detail", JSONB, nullable=False),
        sa.Column("updated_at", TS, server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("followup_id"),
    )
    op.create_index("ix_followups_customer_id", "followups", ["customer_id"])
    op.create_table(
        "followup_events",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("followup_id", sa.String(length=96), nullable=False),
        sa.Column("event_key", sa.String(length=96), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("detail", JSONB, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("followup_id", "event_key"),
    )
    op.create_index("ix_followup_events_followup_id", "followup_events", ["followup_id"])
    op.create_table(
        "followup_actions",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("followup_id", sa.String(length=96), nullable=False),
        sa.Column("action_key", sa.String(length=96), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("detail", JSONB, nullable=False),
        sa.Column("due_at", TS, nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", TS, server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("followup_id", "action_key"),
    )
    op.create_index("ix_followup_actions_followup_id", "followup_actions", ["followup_id"])
    op.create_index(
        "ix_followup_actions_open_role", "followup_actions", ["role"], postgresql_where=sa.text("status = 'open'")
    )
    op.create_table(
        "warnings",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("warning_key", sa.String(length=128), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("case_ref", sa.String(length=96), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("rules", JSONB, nullable=False),
        sa.Column("risk_score", sa.Integer(), nullable=False),
        sa.Column("raised_at", TS, nullable=False),
        sa.Column("response_due", TS, nullable=False),
        sa.Column("respond_role", sa.String(length=16), nullable=False),
        sa.Column("escalate_to", sa.String(length=16), nullable=False),
        sa.Column("responded_at", TS, nullable=True),
        sa.Column("responded_by", sa.Integer(), nullable=True),
        sa.Column("response_note", sa.Text(), nullable=True),
        sa.Column("downgraded_from", sa.String(length=8), nullable=True),
        sa.Column("downgrade_reason", sa.Text(), nullable=True),
        sa.Column("escalated_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("warning_key"),
    )
    op.create_index("ix_warnings_customer_id", "warnings", ["customer_id"])
    op.create_index("ix_warnings_open", "warnings", ["response_due"], postgresql_where=sa.text("responded_at IS NULL"))
    op.create_table(
        "mortgage_disbursements",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("loan_id", sa.String(length=64), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("disbursed_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("loan_id"),
    )


def downgrade() -> None:
    op.drop_table("mortgage_disbursements")
    op.drop_index("ix_warnings_open", table_name="warnings")
    op.drop_index("ix_warnings_customer_id", table_name="warnings")
    op.drop_table("warnings")
    op.drop_index("ix_followup_actions_open_role", table_name="followup_actions")
    op.drop_index("ix_followup_actions_followup_id", table_name="followup_actions")
    op.drop_table("followup_actions")
    op.drop_index("ix_followup_events_followup_id", table_name="followup_events")
    op.drop_table("followup_events")
    op.drop_index("ix_followups_customer_id", table_name="followups")
    op.drop_table("followups")
    op.drop_table("calendar_overrides")
