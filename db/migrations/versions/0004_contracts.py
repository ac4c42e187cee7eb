"""contracts, payment plans and receipts

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-23 12:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0001"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(precision=14, scale=2)


def upgrade() -> None:
    op.create_table(
        "contracts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("contract_no", sa.String(length=64), nullable=False),
        sa.Column("price", MONEY, nullable=False),
        sa.Column("deposit_amount", MONEY, nullable=False),
        sa.Column("daily_late_fee_rate", sa.Numeric(precision=8, scale=6), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("signed_by", sa.Integer(), nullable=False),
        sa.Column("filing_due", sa.Date(), nullable=False),
        sa.Column("filed_on", sa.Date(), nullable=True),
        sa.Column("filed_by", sa.Integer(), nullable=True),
        sa.Column("loan_disbursed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("loan_amount", MONEY, nullable=True),
        sa.Column("payment_method", sa.String(length=24), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["subscription_id"], ["subscriptions.id"]),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"]),
        sa.ForeignKeyConstraint(["signed_by"], ["users.id"]),
        sa.ForeignKeyConstraint(["filed_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("subscription_id"),
        sa.UniqueConstraint("contract_no"),
    )
    op.create_index("ix_contracts_unit_id", "contracts", ["unit_id"], unique=False)
    op.create_index("ix_contracts_filing_due", "contracts", ["filing_due"], unique=False)

    op.create_table(
        "contract_instalments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("amount_due", MONEY, nullable=False),
        sa.Column("amount_paid", MONEY, nullable=False),
        sa.CheckConstraint(
            "amount_due > 0 AND amount_paid >= 0 AND amount_paid <= amount_due", name="instalment_amounts"
        ),
        sa.ForeignKeyConstraint(["contract_id"], ["contracts.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("contract_id", "seq"),
    )
    op.create_index("ix_contract_instalments_contract_id", "contract_instalments", ["contract_id"], unique=False)

    op.create_table(
        "contract_receipts",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("reference", sa.String(length=128), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("amount > 0", name="receipt_amount_positive"),
        sa.ForeignKeyConstraint(["contract_id"], ["contracts.id"]),
        sa.ForeignKeyConstraint(["recorded_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_contract_receipts_contract_id", "contract_receipts", ["contract_id"], unique=False)

    op.create_table(
        "contract_receipt_allocations",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("receipt_id", sa.BigInteger(), nullable=False),
        sa.Column("instalment_id", sa.Integer(), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("days_overdue", sa.Integer(), nullable=False),
        sa.Column("late_fee", MONEY, nullable=False),
        sa.ForeignKeyConstraint(["receipt_id"], ["contract_receipts.id"]),
        sa.ForeignKeyConstraint(["instalment_id"], ["contract_instalments.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("receipt_id", "instalment_id"),
    )
    op.create_index(
        "ix_contract_receipt_allocations_receipt_id", "contract_receipt_allocations", ["receipt_id"], unique=False
    )
    op.create_index(
        "ix_contract_receipt_allocations_instalment_id", "contract_receipt_allocations", ["instalment_id"], unique=False
    )


def downgrade() -> None:
    op.drop_table("contract_receipt_allocations")
    op.drop_table("contract_receipts")
    op.drop_table("contract_instalments")
    op.drop_table("contracts")
