"""Evidence files on a refund case: upload (PDF, JPEG, PNG, WebP by magic bytes), list, download."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile, status
from fastapi.responses import FileResponse
from pydantic import BaseModel
from sqlalchemy import select

from api.deps import SessionDep, SettingsDep, Staff, require_roles
from db.errors import NotFound
from db.evidence import (
    TooLarge,
    add_evidence,
    evidence_path,
    get_evidence,
    limit_text,
    list_evidence,
)
from db.evidence_models import CaseEvidence
from db.models import User

router = APIRouter(tags=["evidence"])

# Everyone who works a case may add to it; HQ risk control and regional ops only read.
UPLOADERS = ("frontdesk", "sales", "manager", "finance", "legal", "marketing", "citygm")
Uploader = Annotated[User, Depends(require_roles(*UPLOADERS))]

# Multipart framing around the file: a Content-Length above limit + this is refused before parsing.
_FRAMING = 64 * 1024


class EvidenceOut(BaseModel):
    id: int
    case_id: uuid.UUID
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    uploaded_by: int
    uploaded_by_name: str
    uploaded_at: datetime
    note: str | None


def _out(ev: CaseEvidence, names: dict[int, str]) -> EvidenceOut:
    return EvidenceOut(
        id=ev.id, case_id=ev.case_id, filename=ev.filename, content_type=ev.content_type, size_bytes=ev.size_bytes,
        sha256=ev.sha256, uploaded_by=ev.uploaded_by, uploaded_by_name=names.get(ev.uploaded_by, ""),
        uploaded_at=ev.uploaded_at, note=ev.note,
    )


def _names(session, evs: list[CaseEvidence]) -> dict[int, str]:
    ids = {e.uploaded_by for e in evs}
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).tuples().all())


def _early_size_check(request: Request, max_bytes: int) -> None:
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > max_bytes + _FRAMING:
        raise TooLarge(f"the file is larger than the {limit_text(max_bytes)} limit")


@router.post("/api/refund-cases/{case_id}/evidence", status_code=status.HTTP_201_CREATED, response_model=EvidenceOut,
             summary="Attach a file (PDF, JPEG, PNG or WebP) to a refund case",
             responses={409: {"description": "The case is closed (`conflict`)."},
                        413: {"description": "The file is above the size limit (`too_large`; the message names it)."},
                        422: {"description": "The request is malformed (`validation_error`), or the file is empty or not "
                                             "a PDF, JPEG, PNG or WebP image by its content (`invalid`)."}})
def upload_evidence(case_id: uuid.UUID, request: Request, session: SessionDep, settings: SettingsDep, user: Uploader,
                    file: UploadFile = File(...),
                    note: Annotated[str | None, Form(max_length=500)] = None) -> EvidenceOut:
    _early_size_check(request, settings.evidence_max_bytes)
    ev = add_evidence(session, case_id=case_id, src=file.file, filename=file.filename, note=note, user=user,
                      data_dir=settings.data_dir, max_bytes=settings.evidence_max_bytes)
    return _out(ev, {user.id: user.display_name})


@router.get("/api/refund-cases/{case_id}/evidence", response_model=list[EvidenceOut],
            summary="A case's evidence files, oldest first")
def list_case_evidence(case_id: uuid.UUID, session: SessionDep, _: Staff) -> list[EvidenceOut]:
    evs = list_evidence(session, case_id=case_id)
    names = _names(session, evs)
    return [_out(e, names) for e in evs]


def content_disposition(filename: str) -> str:
    """inline (every allowed type is an image or a PDF), an ASCII fallback and the UTF-8 name."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\;' else "_" for c in filename) or "evidence"
    return f"inline; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


_BINARY = {"schema": {"type": "string", "format": "binary"}}


@router.get("/api/evidence/{evidence_id}", response_class=FileResponse, summary="Download one evidence file",
            responses={200: {"description": "The file, with the type detected at upload (`inline`, `no-store`)",
                             "content": {t: _BINARY for t in ("application/pdf", "image/jpeg", "image/png", "image/webp")}}})
def download_evidence(evidence_id: int, session: SessionDep, settings: SettingsDep, _: Staff) -> FileResponse:
    ev = get_evidence(session, evidence_id=evidence_id)
    path = evidence_path(settings.data_dir, ev)
    if not path.is_file():
        raise NotFound(f"the file of evidence {evidence_id} is missing from storage")
    return FileResponse(path, media_type=ev.content_type, headers={
        "Content-Disposition": content_disposition(ev.filename),
        "X-Content-Type-Options": "nosniff",
        # ID scans and contracts: not for shared caches, and not kept by the browser.
        "Cache-Control": "private, no-store",
    })
