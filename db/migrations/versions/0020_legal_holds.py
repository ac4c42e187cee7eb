"""Records outlive the engine, and retain_until is enforced (PIPL): legal holds on refund cases, and the mark a
case gets when the daily sweep has removed its personal data (db/retention.py).

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("refund_cases", sa.Column("anonymised_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_refund_cases_retention_due", "refund_cases", ["retain_until"], unique=False,
                    postgresql_where=sa.text("stage = 'closed' AND anonymised_at IS NULL"))
    op.create_table(
        "legal_holds",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("case_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("set_by", sa.Integer(), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("lifted_by", sa.Integer(), nullable=True),
        sa.Column("lifted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lift_reason", sa.Text(), nullable=True),
        sa.CheckConstraint("length(btrim(reason)) > 0", name="legal_hold_reason"),
        sa.CheckConstraint(
            "(lifted_at IS NULL AND lifted_by IS NULL AND lift_reason IS NULL)"
            " OR (lifted_at IS NOT NULL AND lifted_by IS NOT NULL AND length(btrim(lift_reason)) > 0)",
            name="legal_hold_lift"),
        sa.ForeignKeyConstraint(["case_id"], ["refund_cases.id"]),
        sa.ForeignKeyConstraint(["set_by"], ["users.id"]),
        sa.ForeignKeyConstraint(["lifted_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_legal_holds_case_id", "legal_holds", ["case_id"], unique=False)
    op.create_index("uq_legal_hold_active_case", "legal_holds", ["case_id"], unique=True,
                    postgresql_where=sa.text("lifted_at IS NULL"))


def downgrade() -> None:
    op.drop_index("uq_legal_hold_active_case", table_name="legal_holds")
    op.drop_index("ix_legal_holds_case_id", table_name="legal_holds")
    op.drop_table("legal_holds")
    op.drop_index("ix_refund_cases_retention_due", table_name="refund_cases")
    op.drop_column("refund_cases", "anonymised_at")
