"""The 话术 library, complaint keywords and the knowledge-base search index (issue 16)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import TSVECTOR, UUID
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base, JsonB


class Script(Base):
    """A 话术: written by a person of marketing or legal, approved by another person of marketing or legal.
    `project_id` None: the group's library (every project sees it). Only approved scripts are suggested."""

    __tablename__ = "scripts"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'approved', 'retired')", name="script_status"),
        CheckConstraint("approved_by IS NULL OR approved_by <> author_id", name="script_four_eyes"),
        Index("ix_scripts_project_status", "project_id", "status"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"), nullable=True)
    title: Mapped[str] = mapped_column(String(128))
    body: Mapped[str] = mapped_column(Text)
    reason_codes: Mapped[list] = mapped_column(JsonB, default=list)  # intake reason codes it answers
    keywords: Mapped[list] = mapped_column(JsonB, default=list)  # complaint keywords it answers
    status: Mapped[str] = mapped_column(String(16), default="draft")
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    author_role: Mapped[str] = mapped_column(String(16))
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    approved_role: Mapped[str | None] = mapped_column(String(16), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ScriptMark(Base):
    """One person's mark on one script for one case: used it, and whether it helped (None: not said)."""

    __tablename__ = "script_marks"
    __table_args__ = (UniqueConstraint("script_id", "case_id", "user_id"),)
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    script_id: Mapped[int] = mapped_column(ForeignKey("scripts.id"), index=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("refund_cases.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    used: Mapped[bool] = mapped_column(Boolean, default=True)
    helpful: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    marked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class KnowledgeSearchEntry(Base):
    """The search row of one archive entry (knowledge_base_entries): the case's number, project, path and
    reasons, the text shown (`doc`), and `tsv`, the jieba words of the text as lexemes (no parser: see
    domain/keywords.py), weighted: reasons and path A, case number B, summary and lessons D. Written by db/knowledge.index_pending
    from the queue the database trigger fills (migration 0027)."""

    __tablename__ = "knowledge_search"
    __table_args__ = (
        Index("ix_knowledge_search_tsv", "tsv", postgresql_using="gin"),
        Index("ix_knowledge_search_project", "project_id", "archived_at"),
        Index("ix_knowledge_search_archived", "archived_at"),
    )
    entry_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("knowledge_base_entries.id", ondelete="CASCADE"), primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    project_id: Mapped[int] = mapped_column(Integer)
    case_no: Mapped[str] = mapped_column(String(32))
    path: Mapped[str] = mapped_column(String(16), default="")
    reasons: Mapped[list] = mapped_column(JsonB, default=list)
    title: Mapped[str] = mapped_column(String(256))
    doc: Mapped[str] = mapped_column(Text)
    tsv: Mapped[str] = mapped_column(TSVECTOR)
    archived_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    indexed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("now()"))


class KnowledgeIndexQueue(Base):
    """Archive entries to (re)index: the trigger on knowledge_base_entries puts an entry here when it is
    written or changed (and drops its stale search row in the same transaction)."""

    __tablename__ = "knowledge_index_queue"
    entry_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("knowledge_base_entries.id", ondelete="CASCADE"), primary_key=True)
    queued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("now()"))

