"""Contracts and money that hang together; the working-day calendar entered by ops (issue 15)

- calendar_overrides.source: where a day's status comes from (manual / holiday / workday / weekly);
- calendar_years: the years whose State Council schedule ops entered;
- contracts.payment_followup_id: the one payment follow-up per contract.

Revision ID: 0024
Revises: 0023
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("calendar_overrides",
                  sa.Column("source", sa.String(length=16), server_default="manual", nullable=False))
    op.create_table(
        "calendar_years",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("notice", sa.String(length=200), nullable=False),
        sa.Column("holidays", sa.Integer(), nullable=False),
        sa.Column("workdays", sa.Integer(), nullable=False),
        sa.Column("entered_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("year"),
    )
    op.add_column("contracts", sa.Column("payment_followup_id", sa.String(length=96), nullable=True))
    op.create_unique_constraint("contracts_payment_followup_id_key", "contracts", ["payment_followup_id"])


def downgrade() -> None:
    op.drop_constraint("contracts_payment_followup_id_key", "contracts", type_="unique")
    op.drop_column("contracts", "payment_followup_id")
    op.drop_table("calendar_years")
    op.drop_column("calendar_overrides", "source")
