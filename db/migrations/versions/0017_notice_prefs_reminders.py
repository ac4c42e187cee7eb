"""Notifications that reach people: a person's e-mail and notification settings (channels, language, quiet
hours), a notice's facts (rendered per reader) and urgency, and reminders scheduled before every deadline.

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

JSONB = postgresql.JSONB(astext_type=sa.Text())


def upgrade() -> None:
    op.add_column("users", sa.Column("email", sa.String(length=254), nullable=True))
    op.create_table(
        "notification_prefs",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("channels", JSONB, server_default=sa.text("'[\"inapp\"]'::jsonb"), nullable=False),
        sa.Column("language", sa.String(length=8), server_default="zh-CN", nullable=False),
        sa.Column("quiet_start", sa.Time(), nullable=True),
        sa.Column("quiet_end", sa.Time(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.add_column("notices", sa.Column("params", JSONB, server_default=sa.text("'{}'::jsonb"), nullable=False))
    op.add_column("notice_deliveries", sa.Column("message_key", sa.String(length=200), nullable=True))
    op.add_column("notices", sa.Column("urgent", sa.Boolean(), server_default=sa.text("false"), nullable=False))
    op.create_table(
        "reminders",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("reminder_key", sa.String(length=160), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("source_id", sa.BigInteger(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=True),
        sa.Column("point", sa.Integer(), nullable=False),
        sa.Column("fire_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("params", JSONB, server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.Column("link", sa.String(length=256), nullable=True),
        sa.Column("case_id", sa.UUID(), nullable=True),
        sa.Column("status", sa.String(length=12), server_default="pending", nullable=False),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["case_id"], ["refund_cases.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reminder_key"),
    )
    op.create_index("ix_reminders_due", "reminders", ["fire_at"], unique=False,
                    postgresql_where=sa.text("status = 'pending'"))
    op.create_index("ix_reminders_source", "reminders", ["source", "source_id"], unique=False)
    # The old per-case notifications: their unread rows became notices in 0015; nothing writes them now.
    op.drop_index("ix_notifications_case_id", table_name="notifications")
    op.drop_table("notifications")


def downgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("case_id", sa.UUID(), nullable=False),
        sa.Column("notification_key", sa.String(length=96), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["refund_cases.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "notification_key"),
    )
    op.create_index("ix_notifications_case_id", "notifications", ["case_id"], unique=False)
    op.drop_index("ix_reminders_source", table_name="reminders")
    op.drop_index("ix_reminders_due", table_name="reminders")
    op.drop_table("reminders")
    op.drop_column("notices", "urgent")
    op.drop_column("notice_deliveries", "message_key")
    op.drop_column("notices", "params")
    op.drop_table("notification_prefs")
    op.drop_column("users", "email")
