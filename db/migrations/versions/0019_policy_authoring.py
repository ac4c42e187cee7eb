"""Refund policies that legal authors and publishes: a version is a draft (its author edits it), approved by a
person with the legal role who is not its author, then published with an effective time for the group, a city
company or a project. Versions published before this migration are group-wide and in force since they were
published.

The case's escalation reasons gain their stable codes (refund_cases.escalation_codes).

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

COLUMNS = (
    sa.Column("status", sa.String(length=16), nullable=False, server_default="published"),
    sa.Column("scope", sa.String(length=8), nullable=False, server_default="group"),
    sa.Column("city_company_id", sa.Integer(), nullable=True),
    sa.Column("project_id", sa.Integer(), nullable=True),
    sa.Column("effective_from", sa.DateTime(timezone=True), nullable=True),
    sa.Column("author_id", sa.Integer(), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("approved_by_id", sa.Integer(), nullable=True),
    sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("published_by_id", sa.Integer(), nullable=True),
    sa.Column("summary", sa.Text(), nullable=False, server_default=""),
)
FKS = (
    ("fk_refund_policies_city", "city_company_id", "city_companies"),
    ("fk_refund_policies_project", "project_id", "projects"),
    ("fk_refund_policies_author", "author_id", "users"),
    ("fk_refund_policies_approver", "approved_by_id", "users"),
    ("fk_refund_policies_publisher", "published_by_id", "users"),
)


def upgrade() -> None:
    op.add_column("refund_cases", sa.Column("escalation_codes", postgresql.JSONB(), nullable=False,
                                            server_default=sa.text("'[]'::jsonb")))
    for column in COLUMNS:
        op.add_column("refund_policies", column.copy())
    for name, col, table in FKS:
        op.create_foreign_key(name, "refund_policies", table, [col], ["id"])
    op.execute("UPDATE refund_policies SET effective_from = published_at, created_at = published_at, "
               "updated_at = published_at")
    op.alter_column("refund_policies", "approved_by", existing_type=sa.String(64), nullable=True)
    op.alter_column("refund_policies", "published_at", existing_type=sa.DateTime(timezone=True), nullable=True,
                    server_default=None)
    op.create_check_constraint(
        "refund_policy_scope", "refund_policies",
        "(scope = 'group' AND city_company_id IS NULL AND project_id IS NULL)"
        " OR (scope = 'city' AND city_company_id IS NOT NULL AND project_id IS NULL)"
        " OR (scope = 'project' AND project_id IS NOT NULL AND city_company_id IS NULL)")
    op.create_check_constraint(
        "refund_policy_status", "refund_policies",
        "status IN ('draft', 'approved', 'published', 'discarded')"
        " AND (status <> 'published' OR (effective_from IS NOT NULL AND published_at IS NOT NULL))")
    # In force at a time: the published versions of a scope, newest effective first.
    op.create_index("ix_refund_policies_in_force", "refund_policies", ["scope", "effective_from"],
                    postgresql_where=sa.text("status = 'published'"))


def downgrade() -> None:
    op.drop_index("ix_refund_policies_in_force", table_name="refund_policies")
    op.drop_constraint("refund_policy_status", "refund_policies", type_="check")
    op.drop_constraint("refund_policy_scope", "refund_policies", type_="check")
    op.execute("DELETE FROM refund_policies WHERE status <> 'published'")
    op.alter_column("refund_policies", "published_at", existing_type=sa.DateTime(timezone=True), nullable=False,
                    server_default=sa.func.now())
    op.execute("UPDATE refund_policies SET approved_by = '' WHERE approved_by IS NULL")
    op.alter_column("refund_policies", "approved_by", existing_type=sa.String(64), nullable=False)
    for name, _, _ in reversed(FKS):
        op.drop_constraint(name, "refund_policies", type_="foreignkey")
    for column in reversed(COLUMNS):
        op.drop_column("refund_policies", column.name)
    op.drop_column("refund_cases", "escalation_codes")
