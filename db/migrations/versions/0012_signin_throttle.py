"""Failed sign-ins: a counter (and lock) per username and per client address, and an audit of every
failure and lock (db/signin_throttle.py).

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signin_throttle",
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('account', 'address')", name="signin_throttle_kind"),
        sa.PrimaryKeyConstraint("kind", "key"),
    )
    op.create_table(
        "signin_audit",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("username", sa.String(length=128), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=24), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_signin_audit_at", "signin_audit", ["at"], unique=False)
    op.create_index("ix_signin_audit_username", "signin_audit", ["username"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_signin_audit_username", table_name="signin_audit")
    op.drop_index("ix_signin_audit_at", table_name="signin_audit")
    op.drop_table("signin_audit")
    op.drop_table("signin_throttle")
