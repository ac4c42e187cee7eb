"""Reception (visits, rotation) and channel partners' registrations (issue 15)

Revision ID: 0022
Revises: 0021
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
