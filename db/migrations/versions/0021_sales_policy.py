"""The sales office's policy per project with a group default (issue 15).

Revision ID: 0021
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sales_policies",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("projects.id"), nullable=True),
        sa.Column("body", postgresql.JSONB(), nullable=False),
        sa.Column("updated_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_index("uq_sales_policy_project", "sales_policies", [sa.text("coalesce(project_id, 0)")], unique=True)


def downgrade() -> None:
    op.drop_index("uq_sales_policy_project", table_name="sales_policies")
    op.drop_table("sales_policies")
