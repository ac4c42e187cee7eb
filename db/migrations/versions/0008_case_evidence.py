"""Evidence files on refund cases; a (unit_id, id) index for the board's change version.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_evidence",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("case_id", sa.UUID(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("stored_name", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["refund_cases.id"]),
        sa.ForeignKeyConstraint(["uploaded_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("stored_name"),
    )
    op.create_index("ix_case_evidence_case_id", "case_evidence", ["case_id"], unique=False)
    # The board version asks for the newest change of each of a project's units: with (unit_id, id)
    # that is one backward index probe per unit. It serves every `unit_id = ?` query the old index did.
    op.create_index("ix_unit_state_changes_unit_id_id", "unit_state_changes", ["unit_id", "id"], unique=False)
    op.drop_index("ix_unit_state_changes_unit_id", table_name="unit_state_changes")


def downgrade() -> None:
    op.create_index("ix_unit_state_changes_unit_id", "unit_state_changes", ["unit_id"], unique=False)
    op.drop_index("ix_unit_state_changes_unit_id_id", table_name="unit_state_changes")
    op.drop_index("ix_case_evidence_case_id", table_name="case_evidence")
    op.drop_table("case_evidence")
