"""The refund is paid, not just instructed: the payment against the instruction (amount, date, bank reference,
voucher), a different amount only with a reason and a second person's approval.

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

COLUMNS = (
    sa.Column("paid_amount", sa.Numeric(14, 2), nullable=True),
    sa.Column("paid_on", sa.Date(), nullable=True),
    sa.Column("bank_reference", sa.String(length=64), nullable=True),
    sa.Column("voucher_evidence_id", sa.BigInteger(), nullable=True),
    sa.Column("paid_by", sa.Integer(), nullable=True),
    sa.Column("paid_recorded_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("difference_reason", sa.Text(), nullable=True),
    sa.Column("difference_approved_by", sa.Integer(), nullable=True),
)


def upgrade() -> None:
    for column in COLUMNS:
        op.add_column("refund_instructions", column.copy())
    op.create_foreign_key("fk_refund_instructions_voucher", "refund_instructions", "case_evidence",
                          ["voucher_evidence_id"], ["id"])
    op.create_foreign_key("fk_refund_instructions_paid_by", "refund_instructions", "users", ["paid_by"], ["id"])
    op.create_foreign_key("fk_refund_instructions_difference_approved_by", "refund_instructions", "users",
                          ["difference_approved_by"], ["id"])


def downgrade() -> None:
    for name in ("fk_refund_instructions_difference_approved_by", "fk_refund_instructions_paid_by",
                 "fk_refund_instructions_voucher"):
        op.drop_constraint(name, "refund_instructions", type_="foreignkey")
    for column in reversed(COLUMNS):
        op.drop_column("refund_instructions", column.name)
