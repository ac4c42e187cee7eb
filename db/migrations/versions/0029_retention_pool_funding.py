"""Who funded a project's retention pool: `retention_ledger.created_by` (a credit or reduction made through
PUT /api/projects/{id}/retention-pool names the person; draws and the seed's opening credits leave it empty).

Revision ID: 0029
Revises: 0028
"""

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("retention_ledger", sa.Column("created_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=True))


def downgrade() -> None:
    op.drop_column("retention_ledger", "created_by")
