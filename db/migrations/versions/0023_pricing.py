"""Subscription discounts with their approvals, the co-resident acknowledgment's file, co-buyers (issue 15)

The filed price (备案价) and the floor price (底价) already exist per unit (0002: units.filed_price,
units.floor_price; price_list_items.floor_price): nothing is added for them.

Revision ID: 0023
Revises: 0022
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(precision=14, scale=2)
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "subscription_ack_files",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("stored_name", sa.String(64), nullable=False),
        sa.Column("uploaded_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("uploaded_at", TS, nullable=False),
        sa.Column("subscription_id", sa.Integer(), sa.ForeignKey("subscriptions.id"), nullable=True),
    )
    op.create_index("ix_subscription_ack_files_project_id", "subscription_ack_files", ["project_id"])
    op.create_index("ix_subscription_ack_files_customer_id", "subscription_ack_files", ["customer_id"])

    op.create_table(
        "discount_requests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("units.id"), nullable=False),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("requested_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("requested_at", TS, nullable=False),
        sa.Column("deposit_kind", sa.String(8), nullable=False),
        sa.Column("deposit_amount", MONEY, nullable=False),
        sa.Column("signing_deadline", sa.Date(), nullable=True),
        sa.Column("co_buyer_ids", postgresql.JSONB(), nullable=False),
        sa.Column("co_resident_ack", sa.Boolean(), nullable=False),
        sa.Column("ack_file_id", sa.Integer(), sa.ForeignKey("subscription_ack_files.id"), nullable=True),
        sa.Column("list_price", MONEY, nullable=False),
        sa.Column("final_price", MONEY, nullable=False),
        sa.Column("floor_price", MONEY, nullable=True),
        sa.Column("filed_price", MONEY, nullable=True),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("current_level", sa.String(16), nullable=False),
        sa.Column("step_minutes", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("workflow_id", sa.String(64), nullable=False, unique=True),
        sa.Column("decided_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("decided_at", TS, nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("subscription_id", sa.Integer(), sa.ForeignKey("subscriptions.id"), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'approved', 'rejected', 'lapsed')", name="discount_request_status"),
        sa.CheckConstraint("level IN ('manager', 'citygm', 'hqrisk') AND current_level IN ('manager', 'citygm', 'hqrisk')",
                           name="discount_request_level"),
        sa.CheckConstraint("final_price > 0 AND final_price < list_price", name="discount_request_prices"),
    )
    op.create_index("ix_discount_requests_project_id", "discount_requests", ["project_id"])
    op.create_index("ix_discount_requests_unit_id", "discount_requests", ["unit_id"])
    op.create_index("ix_discount_requests_customer_id", "discount_requests", ["customer_id"])
    op.create_index("uq_discount_request_pending_unit", "discount_requests", ["unit_id"], unique=True,
                    postgresql_where=sa.text("status = 'pending'"))

    op.create_table(
        "discount_rows",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("request_id", sa.Integer(), sa.ForeignKey("discount_requests.id", ondelete="CASCADE"), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("value", sa.Numeric(14, 2), nullable=False),
        sa.Column("deduction", MONEY, nullable=False),
        sa.Column("price_after", MONEY, nullable=False),
        sa.UniqueConstraint("request_id", "seq"),
        sa.CheckConstraint("kind IN ('amount', 'percent')", name="discount_row_kind"),
        sa.CheckConstraint("value > 0 AND deduction > 0 AND price_after > 0", name="discount_row_amounts"),
    )

    op.create_table(
        "discount_steps",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("request_id", sa.Integer(), sa.ForeignKey("discount_requests.id", ondelete="CASCADE"), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("opened_at", TS, nullable=False),
        sa.Column("due_at", TS, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("decided_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("on_behalf_of", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("closed_at", TS, nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.UniqueConstraint("request_id", "seq"),
        sa.CheckConstraint("outcome IS NULL OR outcome IN ('approved', 'rejected', 'escalated')",
                           name="discount_step_outcome"),
    )

    op.create_table(
        "subscription_co_buyers",
        sa.Column("subscription_id", sa.Integer(), sa.ForeignKey("subscriptions.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("co_party_id", sa.Integer(), sa.ForeignKey("customer_co_parties.id"), primary_key=True),
    )


def downgrade() -> None:
    op.drop_table("subscription_co_buyers")
    op.drop_table("discount_steps")
    op.drop_table("discount_rows")
    op.drop_index("uq_discount_request_pending_unit", table_name="discount_requests")
    op.drop_index("ix_discount_requests_customer_id", table_name="discount_requests")
    op.drop_index("ix_discount_requests_unit_id", table_name="discount_requests")
    op.drop_index("ix_discount_requests_project_id", table_name="discount_requests")
    op.drop_table("discount_requests")
    op.drop_index("ix_subscription_ack_files_customer_id", table_name="subscription_ack_files")
    op.drop_index("ix_subscription_ack_files_project_id", table_name="subscription_ack_files")
    op.drop_table("subscription_ack_files")
