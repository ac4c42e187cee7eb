"""The 话术 library, complaint keywords and the knowledge-base search (issue 16).

Tables: scripts and script_marks (the 话术 library and its used / helpful marks), knowledge_search (one row
per archive entry: jieba-segmented lexemes in a tsvector with a GIN index) and knowledge_index_queue.

Keeping the index current: the archive activity writes knowledge_base_entries and knows nothing of search.
A trigger on that table (insert, or an update of title / body / tags — the retention sweep blanks the body)
deletes the entry's search row and queues the entry, in the writer's own transaction; segmentation needs
jieba, i.e. Python, so db/knowledge.index_pending indexes the queue at the start of every search (and of
the index endpoint). A stale text — say a body the retention sweep removed — is never searchable after the
transaction that changed it commits. Existing entries are queued here.

Revision ID: 0027
Revises: 0026
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scripts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=128), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("reason_codes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("keywords", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("author_role", sa.String(length=16), nullable=False),
        sa.Column("approved_by", sa.Integer(), nullable=True),
        sa.Column("approved_role", sa.String(length=16), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("status IN ('draft', 'approved', 'retired')", name="script_status"),
        sa.CheckConstraint("approved_by IS NULL OR approved_by <> author_id", name="script_four_eyes"),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"]),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["approved_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_scripts_project_status", "scripts", ["project_id", "status"])
    op.create_table(
        "script_marks",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("script_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("used", sa.Boolean(), nullable=False),
        sa.Column("helpful", sa.Boolean(), nullable=True),
        sa.Column("marked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["script_id"], ["scripts.id"]),
        sa.ForeignKeyConstraint(["case_id"], ["refund_cases.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("script_id", "case_id", "user_id"),
    )
    op.create_index("ix_script_marks_script_id", "script_marks", ["script_id"])
    op.create_index("ix_script_marks_case_id", "script_marks", ["case_id"])
    op.create_table(
        "knowledge_search",
        sa.Column("entry_id", sa.BigInteger(), nullable=False),
        sa.Column("case_id", sa.UUID(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("case_no", sa.String(length=32), nullable=False),
        sa.Column("path", sa.String(length=16), nullable=False),
        sa.Column("reasons", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("title", sa.String(length=256), nullable=False),
        sa.Column("doc", sa.Text(), nullable=False),
        sa.Column("tsv", postgresql.TSVECTOR(), nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("indexed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["entry_id"], ["knowledge_base_entries.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("entry_id"),
    )
    op.create_index("ix_knowledge_search_tsv", "knowledge_search", ["tsv"], postgresql_using="gin")
    op.create_index("ix_knowledge_search_project", "knowledge_search", ["project_id", "archived_at"])
    op.create_index("ix_knowledge_search_archived", "knowledge_search", ["archived_at"])
    op.create_table(
        "knowledge_index_queue",
        sa.Column("entry_id", sa.BigInteger(), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["entry_id"], ["knowledge_base_entries.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("entry_id"),
    )
    op.execute("""
        CREATE FUNCTION knowledge_entry_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM knowledge_search WHERE entry_id = NEW.id;
            INSERT INTO knowledge_index_queue (entry_id) VALUES (NEW.id) ON CONFLICT (entry_id) DO NOTHING;
            RETURN NULL;
        END $$
    """)
    op.execute("""
        CREATE TRIGGER knowledge_entry_changed
        AFTER INSERT OR UPDATE OF title, body, tags ON knowledge_base_entries
        FOR EACH ROW EXECUTE FUNCTION knowledge_entry_changed()
    """)
    op.execute("INSERT INTO knowledge_index_queue (entry_id) SELECT id FROM knowledge_base_entries")


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS knowledge_entry_changed ON knowledge_base_entries")
    op.execute("DROP FUNCTION IF EXISTS knowledge_entry_changed()")
    op.drop_table("knowledge_index_queue")
    op.drop_index("ix_knowledge_search_archived", table_name="knowledge_search")
    op.drop_index("ix_knowledge_search_project", table_name="knowledge_search")
    op.drop_index("ix_knowledge_search_tsv", table_name="knowledge_search")
    op.drop_table("knowledge_search")
    op.drop_index("ix_script_marks_case_id", table_name="script_marks")
    op.drop_index("ix_script_marks_script_id", table_name="script_marks")
    op.drop_table("script_marks")
    op.drop_index("ix_scripts_project_status", table_name="scripts")
    op.drop_table("scripts")
