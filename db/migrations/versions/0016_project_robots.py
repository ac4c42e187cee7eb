"""A project's WeCom / DingTalk group robots (webhook and secret encrypted) and the notice kinds they receive.

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "project_robots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("webhook_enc", sa.Text(), nullable=False),
        sa.Column("webhook_masked", sa.String(length=96), nullable=False),
        sa.Column("secret_enc", sa.Text(), nullable=True),
        sa.Column("notice_kinds", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("kind IN ('wecom', 'dingtalk')", name="project_robot_kind"),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"]),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_project_robots_project_id", "project_robots", ["project_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_project_robots_project_id", table_name="project_robots")
    op.drop_table("project_robots")
