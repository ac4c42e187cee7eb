"""Subscription: co-resident acknowledgment and signing deadline.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("subscriptions", sa.Column("co_resident_ack", sa.Boolean(), server_default=sa.text("false"), nullable=False))
    op.add_column("subscriptions", sa.Column("signing_deadline", sa.Date(), nullable=True))


def downgrade() -> None:
    op.drop_column("subscriptions", "signing_deadline")
    op.drop_column("subscriptions", "co_resident_ack")
