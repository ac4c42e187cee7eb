"""Evidence files on a refund case: type by magic bytes, a size limit, and all-or-nothing storage.

The bytes live on disk under `data_dir/evidence/<case_id>/<random hex><ext>`; the row in `case_evidence`
describes them. An upload is streamed to a temporary file under `data_dir/evidence/.tmp` (hashing and
counting as it goes), then the row and a case event are written, the file is renamed into place and the
transaction commits. Any failure removes the file and rolls the row back: nothing is left behind."""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.errors import Conflict, Invalid, NotFound, TooLarge
from db.evidence_models import CaseEvidence
from db.models import CaseEvent, CaseStage, RefundCase, User

CHUNK = 1024 * 1024
NOT_ALLOWED = "the file is not a PDF, JPEG, PNG or WebP image"


@dataclass(frozen=True)
class Kind:
    content_type: str
    ext: str


def sniff(head: bytes) -> Kind | None:
    """The file's type from its first bytes (at least 12), whatever its name or declared type says."""
    if head.startswith(b"%PDF-"):
        return Kind("application/pdf", ".pdf")
    if head.startswith(b"\xff\xd8\xff"):
        return Kind("image/jpeg", ".jpg")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Kind("image/png", ".png")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return Kind("image/webp", ".webp")
    return None


_UNSAFE = re.compile(r'[\x00-\x1f\x7f-\x9f<>:"/\\|?*]')
# Bidi marks, embeddings, overrides and isolates: "账单\u202efdp.exe" would show as "账单exe.pdf".
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def clean_filename(name: str | None, ext: str) -> str:
    """The user's file name for display and downloads: the last path part, no control or path
    characters, at most 255 characters (keeping the extension); a fallback when nothing is left."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[/\\]", name)[-1]
    name = _BIDI.sub("", name)
    name = _UNSAFE.sub("_", name).strip().strip(".")
    if not name:
        return f"evidence{ext}"
    if len(name) > 255:
        stem, dot, suffix = name.rpartition(".")
        name = stem[: 255 - len(suffix) - 1] + dot + suffix if dot and len(suffix) <= 16 else name[:255]
    return name


def limit_text(max_bytes: int) -> str:
    """10485760 → "10 MB" (a limit under 1 MB, as in tests, reads in KB)."""
    if max_bytes >= 1024 * 1024:
        return f"{round(max_bytes / (1024 * 1024), 1):g} MB"
    return f"{round(max_bytes / 1024, 1):g} KB"


def evidence_root(data_dir: Path) -> Path:
    return Path(data_dir) / "evidence"


def evidence_path(data_dir: Path, ev: CaseEvidence) -> Path:
    return evidence_root(data_dir) / str(ev.case_id) / ev.stored_name


def open_case(session: Session, case_id: uuid.UUID, *, lock: bool = False) -> RefundCase:
    """The case, 404 if unknown, 409 if closed. `lock` takes a share lock until the commit, so the
    case cannot close between the check and the evidence row."""
    case = session.get(RefundCase, case_id, with_for_update={"read": True} if lock else None, populate_existing=lock)
    if case is None:
        raise NotFound(f"refund case {case_id} does not exist")
    if case.stage == CaseStage.CLOSED:
        raise Conflict(f"refund case {case.case_no} is closed: evidence can no longer be added")
    return case


@dataclass
class Spooled:
    path: Path
    kind: Kind
    size: int
    sha256: str


def spool(src: BinaryIO, *, tmp_dir: Path, max_bytes: int) -> Spooled:
    """Copy the upload to a temporary file, checking its type and size on the way. Raises (and removes
    the temporary file) when it is empty, too large or not an allowed type."""
    head = b""
    while len(head) < 12:  # the most any signature needs
        chunk = src.read(CHUNK)
        if not chunk:
            break
        head += chunk
    if not head:
        raise Invalid("the file is empty")
    kind = sniff(head)
    if kind is None:
        raise Invalid(NOT_ALLOWED)
    too_large = TooLarge(f"the file is larger than the {limit_text(max_bytes)} limit")
    if len(head) > max_bytes:
        raise too_large
    tmp_dir.mkdir(parents=True, exist_ok=True)
    path = tmp_dir / f"{uuid.uuid4().hex}.part"
    digest = hashlib.sha256()
    size = 0
    try:
        with open(path, "xb") as out:
            chunk = head
            while chunk:
                size += len(chunk)
                if size > max_bytes:
                    raise too_large
                digest.update(chunk)
                out.write(chunk)
                chunk = src.read(CHUNK)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return Spooled(path, kind, size, digest.hexdigest())


def add_evidence(session: Session, *, case_id: uuid.UUID, src: BinaryIO, filename: str | None, note: str | None,
                 user: User, data_dir: Path, max_bytes: int, now: Callable[[], datetime] | None = None) -> CaseEvidence:
    """Store one file and commit its row and case event; on any failure nothing is kept."""
    open_case(session, case_id)  # 404/409 before reading the upload
    root = evidence_root(data_dir)
    spooled = spool(src, tmp_dir=root / ".tmp", max_bytes=max_bytes)
    final: Path | None = None
    try:
        case = open_case(session, case_id, lock=True)
        stored_name = f"{uuid.uuid4().hex}{spooled.kind.ext}"
        ev = CaseEvidence(
            case_id=case.id, filename=clean_filename(filename, spooled.kind.ext), content_type=spooled.kind.content_type,
            size_bytes=spooled.size, sha256=spooled.sha256, stored_name=stored_name, uploaded_by=user.id,
            uploaded_at=(now or _utcnow)(), note=note or None,
        )
        session.add(ev)
        session.flush()
        session.add(CaseEvent(
            case_id=case.id, event_key=f"evidence:{ev.id}", kind="evidence_uploaded", actor=user.username,
            at=ev.uploaded_at, detail={"evidence_id": ev.id, "filename": ev.filename, "size_bytes": ev.size_bytes,
                                       "content_type": ev.content_type},
        ))
        session.flush()
        # Into place before the commit: a reader never finds a row without its file, and if the commit
        # fails the file is removed below.
        final = root / str(case.id) / stored_name
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(spooled.path, final)
        session.commit()
    except BaseException:
        session.rollback()
        spooled.path.unlink(missing_ok=True)
        if final is not None:
            final.unlink(missing_ok=True)
        raise
    session.refresh(ev)
    return ev


def list_evidence(session: Session, *, case_id: uuid.UUID) -> list[CaseEvidence]:
    if session.get(RefundCase, case_id) is None:
        raise NotFound(f"refund case {case_id} does not exist")
    return list(session.scalars(
        select(CaseEvidence).where(CaseEvidence.case_id == case_id).order_by(CaseEvidence.uploaded_at, CaseEvidence.id)
    ))


def get_evidence(session: Session, *, evidence_id: int) -> CaseEvidence:
    ev = session.get(CaseEvidence, evidence_id)
    if ev is None:
        raise NotFound(f"evidence {evidence_id} does not exist")
    return ev


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)
