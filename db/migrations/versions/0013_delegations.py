"""Out-of-office substitutes (delegations).

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "delegations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delegator_id", sa.Integer(), nullable=False),
        sa.Column("substitute_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_by", sa.Integer(), nullable=True),
        sa.CheckConstraint("ends_at > starts_at", name="delegation_period"),
        sa.CheckConstraint("delegator_id <> substitute_id", name="delegation_two_people"),
        sa.ForeignKeyConstraint(["delegator_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["substitute_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"]),
        sa.ForeignKeyConstraint(["ended_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_delegations_delegator_id", "delegations", ["delegator_id"], unique=False)
    op.create_index("ix_delegations_substitute_live", "delegations", ["substitute_id", "ends_at"], unique=False,
                    postgresql_where=sa.text("ended_at IS NULL"))


def downgrade() -> None:
    op.drop_index("ix_delegations_substitute_live", table_name="delegations")
    op.drop_index("ix_delegations_delegator_id", table_name="delegations")
    op.drop_table("delegations")
