"""The case lists, newest first, without sorting every visible case: (project, registered_at, id),
(registered_at, id) and the open cases' (registered_at, id), read backwards (scripts/bench_inbox.py found
the HQ list sorting 100,000 rows on disk for a page of 50).

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_refund_cases_project_registered", "refund_cases", ["project_id", "registered_at", "id"])
    op.create_index("ix_refund_cases_registered", "refund_cases", ["registered_at", "id"])
    op.create_index("ix_refund_cases_open_registered", "refund_cases", ["registered_at", "id"],
                    postgresql_where=sa.text("stage <> 'closed'"))


def downgrade() -> None:
    op.drop_index("ix_refund_cases_open_registered", table_name="refund_cases")
    op.drop_index("ix_refund_cases_registered", table_name="refund_cases")
    op.drop_index("ix_refund_cases_project_registered", table_name="refund_cases")
