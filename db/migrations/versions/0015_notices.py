"""The notification outbox: notices and their deliveries. The unread rows of the old `notifications` table
(SLA-breach notices, regional briefs) become notices, delivered in-app to the people who hold the role they
were for in the case's project.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notices",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("notice_key", sa.String(length=160), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=True),
        sa.Column("case_id", postgresql.UUID(as_uuid=True), nullable=True),
        sa.Column("task_id", sa.BigInteger(), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=True),
        sa.Column("title", sa.String(length=256), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=256), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"]),
        sa.ForeignKeyConstraint(["case_id"], ["refund_cases.id"]),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("notice_key"),
    )
    op.create_index("ix_notices_project_id", "notices", ["project_id"], unique=False)
    op.create_table(
        "notice_deliveries",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("notice_id", sa.BigInteger(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("target", sa.String(length=64), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["notice_id"], ["notices.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe_key"),
    )
    op.create_index("ix_notice_deliveries_notice_id", "notice_deliveries", ["notice_id"], unique=False)
    op.create_index("ix_notice_deliveries_inbox", "notice_deliveries", ["user_id", "id"], unique=False,
                    postgresql_where=sa.text("channel = 'inapp'"))
    op.create_index("ix_notice_deliveries_unread", "notice_deliveries", ["user_id"], unique=False,
                    postgresql_where=sa.text("channel = 'inapp' AND read_at IS NULL"))
    op.create_index("ix_notice_deliveries_due", "notice_deliveries", ["next_attempt_at"], unique=False,
                    postgresql_where=sa.text("status = 'pending'"))
    # The old notifications become notices, and in-app deliveries to the role's people in the case's project.
    op.execute("""
        INSERT INTO notices (notice_key, kind, project_id, case_id, role, title, body, link, created_at)
        SELECT 'legacy:' || n.id, CASE WHEN n.notification_key LIKE 'breach:%' THEN 'sla_breach'
                                        WHEN n.notification_key = 'regional_brief' THEN 'regional_brief'
                                        ELSE 'notice' END,
               r.project_id, n.case_id, n.role, left(n.message, 256), n.message, '/case/' || n.case_id, n.created_at
        FROM notifications n JOIN refund_cases r ON r.id = n.case_id
    """)
    op.execute("""
        INSERT INTO notice_deliveries (notice_id, channel, user_id, target, dedupe_key, status, sent_at)
        SELECT DISTINCT ON (x.id, m.user_id) x.id, 'inapp', m.user_id, 'user:' || m.user_id,
               x.notice_key || ':inapp:user:' || m.user_id, 'sent', x.created_at
        FROM notices x
        JOIN projects p ON p.id = x.project_id
        JOIN memberships m ON m.role = x.role AND m.revoked_at IS NULL
             AND (m.project_id = p.id OR m.city_company_id = p.city_company_id OR m.scope = 'group')
        JOIN users u ON u.id = m.user_id AND u.active
        WHERE x.notice_key LIKE 'legacy:%'
    """)


def downgrade() -> None:
    op.drop_index("ix_notice_deliveries_due", table_name="notice_deliveries")
    op.drop_index("ix_notice_deliveries_unread", table_name="notice_deliveries")
    op.drop_index("ix_notice_deliveries_inbox", table_name="notice_deliveries")
    op.drop_index("ix_notice_deliveries_notice_id", table_name="notice_deliveries")
    op.drop_table("notice_deliveries")
    op.drop_index("ix_notices_project_id", table_name="notices")
    op.drop_table("notices")
