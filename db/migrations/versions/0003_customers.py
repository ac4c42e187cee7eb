"""customers: profiles, co-parties, visits, calls, follow-ups, reveal audit, look-up indexes (hand-written)

Revision ID: 0003
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None

JSONB = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_index(
        "ix_customers_name_prefix", "customers", ["name"], postgresql_ops={"name": "varchar_pattern_ops"}
    )
    op.create_index("ix_customers_consultant_id", "customers", ["consultant_id"])
    op.create_table(
        "customer_profiles",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("source_channel", sa.String(length=32), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"]),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("customer_id"),
    )
    op.create_table(
        "customer_co_parties",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("relation", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("id_type", sa.String(length=32), nullable=True),
        sa.Column("id_number_enc", sa.Text(), nullable=True),
        sa.Column("id_number_masked", sa.String(length=32), nullable=True),
        sa.Column("mobile_enc", sa.Text(), nullable=True),
        sa.Column("mobile_masked", sa.String(length=16), nullable=True),
        sa.Column("created_at", TS, server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("relation IN ('co_owner', 'co_resident')", name="co_party_relation"),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_customer_co_parties_customer_id", "customer_co_parties", ["customer_id"])
    op.create_table(
        "customer_visits",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("visited_at", TS, nullable=False),
        sa.Column("group_size", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("group_size >= 1", name="visit_group_size_positive"),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"]),
        sa.ForeignKeyConstraint(["recorded_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_customer_visits_customer_at", "customer_visits", ["customer_id", "visited_at"])
    op.create_table(
        "customer_calls",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("called_at", TS, nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("duration_seconds", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("direction IN ('inbound', 'outbound')", name="call_direction"),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"]),
        sa.ForeignKeyConstraint(["recorded_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_customer_calls_customer_at", "customer_calls", ["customer_id", "called_at"])
    op.create_table(
        "customer_follow_ups",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("topics", JSONB, nullable=False),
        sa.Column("next_appointment_at", TS, nullable=True),
        sa.Column("recorded_by", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"]),
        sa.ForeignKeyConstraint(["recorded_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_customer_follow_ups_customer_at", "customer_follow_ups", ["customer_id", "at"])
    op.create_table(
        "customer_reveals",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=16), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("revealed_by", sa.Integer(), nullable=False),
        sa.Column("revealed_by_role", sa.String(length=16), nullable=False),
        sa.Column("revealed_at", TS, server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("field IN ('id_number', 'mobile')", name="reveal_field"),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"]),
        sa.ForeignKeyConstraint(["revealed_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_customer_reveals_customer_id", "customer_reveals", ["customer_id"])


def downgrade() -> None:
    for table in ("customer_reveals", "customer_follow_ups", "customer_calls", "customer_visits",
                  "customer_co_parties", "customer_profiles"):
        op.drop_table(table)
    op.drop_index("ix_customers_consultant_id", table_name="customers")
    op.drop_index("ix_customers_name_prefix", table_name="customers")
