"""Complaint keywords, the 话术 library and the knowledge-base search (issue 16).

- `GET /api/knowledge/search?q=` — archived cases of the caller's projects holding every word of the query
  (jieba words, PostgreSQL full-text index), best first, with the case number and a snippet. Indexes what
  the archive wrote since the last search first (db/knowledge.index_pending).
- `GET /api/keywords/report` — top complaint keywords and their weekly counts; `GET /api/keywords/warnings`;
  `POST /api/keywords/sweep` raises the rising-keyword warnings for marketing.
- `/api/scripts` — the 话术 library: marketing or legal write, another person of marketing or legal approves;
  `GET /api/refund-cases/{case_id}/script-suggestions` and `POST /api/refund-cases/{case_id}/script-marks`.
"""

from __future__ import annotations

import time
import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field
from sqlalchemy import select

from api.access import act_in, visible_projects
from api.clock import now_utc
from api.deps import SessionDep, require_roles
from api.strict import RequestModel
from db import knowledge as kb
from db.errors import Conflict, Forbidden, Invalid, NotFound
from db.knowledge_models import Script, ScriptMark
from db.models import IntakeForm, RefundCase, User
from domain.keywords import RISING_FACTOR, RISING_MIN
from domain.permissions import ACTIONS

router = APIRouter(tags=["knowledge"])

SCRIPT_READERS = ACTIONS["scripts"]
AUTHORS = ("marketing", "legal")
KNOWLEDGE = ACTIONS["knowledge"]
REPORTS = ACTIONS["reports"]
Readers = Annotated[User, Depends(require_roles(*SCRIPT_READERS))]
Authors = Annotated[User, Depends(require_roles(*AUTHORS))]
Searchers = Annotated[User, Depends(require_roles(*KNOWLEDGE))]
Reporters = Annotated[User, Depends(require_roles(*REPORTS))]
Sweepers = Annotated[User, Depends(require_roles("ops", "manager", "marketing"))]

Reason = Literal["family_disagreement", "funds_shortfall", "competitor_comparison", "other"]
Keyword = Annotated[str, Field(min_length=2, max_length=32)]


# ---- the knowledge base -------------------------------------------------------------------------------


class HitOut(BaseModel):
    case_id: uuid.UUID
    case_no: str
    project_id: int
    title: str
    path: str
    reasons: list[str]
    snippet: str
    archived_at: datetime
    rank: float


class SearchOut(BaseModel):
    query: str
    terms: list[str] = Field(description="the words searched for (jieba); every one must be in a result")
    items: list[HitOut]
    more: bool
    took_ms: float


@router.get("/api/knowledge/search", response_model=SearchOut, summary="Search the archived cases (Chinese words)")
def search_knowledge(
    session: SessionDep,
    user: Searchers,
    q: str = Query(min_length=1, max_length=200),
    limit: int = Query(default=20, ge=1, le=50),
    offset: int = Query(default=0, ge=0, le=1000),
) -> SearchOut:
    t0 = time.perf_counter()
    if kb.index_pending(session):
        session.commit()
    found = kb.search(session, q, projects=visible_projects(user), limit=limit, offset=offset)
    session.commit()
    return SearchOut(query=q, terms=found.terms, items=[HitOut(**vars(h)) for h in found.items], more=found.more,
                     took_ms=round((time.perf_counter() - t0) * 1000, 2))


class IndexOut(BaseModel):
    indexed: int
    pending: int


@router.post("/api/knowledge/index", response_model=IndexOut, summary="Index the archive entries not yet indexed")
def index_knowledge(session: SessionDep, _: Annotated[User, Depends(require_roles("ops", "admin"))]) -> IndexOut:
    n = 0
    while (k := kb.index_pending(session, limit=500)):
        n += k
        session.commit()
    pending = kb.pending_count(session)
    session.commit()
    return IndexOut(indexed=n, pending=pending)


# ---- complaint keywords -------------------------------------------------------------------------------


class KeywordRowOut(BaseModel):
    keyword: str
    total: int
    weeks: list[int]
    rising: bool


class KeywordReportOut(BaseModel):
    weeks: list[str]
    week_starts: list[date]
    documents: int
    by_source: dict[str, int]
    top: list[KeywordRowOut]
    rule: str


@router.get("/api/keywords/report", response_model=KeywordReportOut, summary="Top complaint keywords by week")
def keyword_report(
    session: SessionDep,
    user: Reporters,
    weeks: int = Query(default=8, ge=2, le=26),
    top: int = Query(default=20, ge=1, le=100),
    project_id: int | None = Query(default=None, description="one project (default: every project of the caller)"),
) -> KeywordReportOut:
    projects = frozenset({project_id}) if project_id is not None else visible_projects(user)
    r = kb.keyword_report(session, now=now_utc(), projects=projects, weeks=weeks, top=top)
    session.commit()
    return KeywordReportOut(weeks=r.weeks, week_starts=r.week_starts, documents=r.documents, by_source=r.by_source,
                            top=[KeywordRowOut(**vars(x)) for x in r.top],
                            rule=f"rising: this week ≥ {RISING_MIN} and ≥ {RISING_FACTOR}× last week")


class KeywordWarningOut(BaseModel):
    id: int
    project_id: int
    level: str
    detail: str
    raised_at: datetime
    response_due: datetime
    respond_role: str
    responded_at: datetime | None


def _warning_out(w) -> KeywordWarningOut:
    return KeywordWarningOut(
        id=w.id, project_id=int(w.case_ref.rsplit("-", 1)[1]), level=w.level,
        detail=(w.rules or [{}])[0].get("detail", ""), raised_at=w.raised_at, response_due=w.response_due,
        respond_role=w.respond_role, responded_at=w.responded_at)


@router.get("/api/keywords/warnings", response_model=list[KeywordWarningOut],
            summary="Rising-keyword warnings of the caller's projects")
def keyword_warnings(session: SessionDep, user: Reporters, open: bool = True) -> list[KeywordWarningOut]:  # noqa: A002
    out = [_warning_out(w) for w in kb.keyword_warnings(session, visible_projects(user), open_only=open)]
    session.commit()
    return out


@router.post("/api/keywords/sweep", response_model=list[KeywordWarningOut],
             summary="Raise a warning for marketing for each keyword rising this week (once per keyword and week)")
def keyword_sweep(session: SessionDep, _: Sweepers) -> list[KeywordWarningOut]:
    raised = kb.raise_rising_keyword_warnings(session, now_utc())
    out = [_warning_out(w) for w in raised]
    session.commit()
    return out


# ---- 话术 ---------------------------------------------------------------------------------------------------


class ScriptIn(RequestModel):
    title: str = Field(min_length=1, max_length=128)
    body: str = Field(min_length=1, max_length=4000)
    reason_codes: list[Reason] = Field(default_factory=list, max_length=4)
    keywords: list[Keyword] = Field(default_factory=list, max_length=20)
    project_id: int | None = Field(default=None, description="None: the group's library (group-wide authors only)")


class ScriptOut(BaseModel):
    id: int
    project_id: int | None
    title: str
    body: str
    reason_codes: list[str]
    keywords: list[str]
    status: Literal["draft", "approved", "retired"]
    author_id: int
    author: str
    author_role: str
    approved_by: int | None
    approver: str | None
    approved_at: datetime | None
    updated_at: datetime
    used: int = 0
    helpful: int = 0
    not_helpful: int = 0
    cases: int = 0


def _names(session, ids) -> dict[int, str]:
    ids = sorted({i for i in ids if i is not None})
    return dict(session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).tuples().all()) if ids else {}


def _scripts_out(session, scripts: list[Script]) -> list[ScriptOut]:
    names = _names(session, [x for s in scripts for x in (s.author_id, s.approved_by)])
    counts = kb.usage(session, [s.id for s in scripts])
    out = []
    for s in scripts:
        u = counts.get(s.id, kb.Usage())
        out.append(ScriptOut(
            id=s.id, project_id=s.project_id, title=s.title, body=s.body, reason_codes=list(s.reason_codes or []),
            keywords=list(s.keywords or []), status=s.status, author_id=s.author_id,
            author=names.get(s.author_id, ""), author_role=s.author_role, approved_by=s.approved_by,
            approver=names.get(s.approved_by) if s.approved_by else None, approved_at=s.approved_at,
            updated_at=s.updated_at, used=u.used, helpful=u.helpful, not_helpful=u.not_helpful, cases=u.cases))
    return out


def _script(session, user: User, script_id: int, *, lock: bool = False) -> Script:
    stmt = kb.visible_scripts(visible_projects(user, SCRIPT_READERS)).where(Script.id == script_id)
    s = session.scalar(stmt.with_for_update() if lock else stmt)
    if s is None:
        raise NotFound(f"script {script_id} does not exist")
    return s


def _may_write(user: User, project_id: int | None) -> str:
    """The author's role for a script of `project_id` (None: the group's)."""
    if project_id is None:
        if visible_projects(user, AUTHORS) is not None:
            raise Forbidden("only marketing or legal of the whole group write the group's scripts; name a project")
        return user.role
    return act_in(user, project_id, f"project {project_id} does not exist", roles=AUTHORS).role


ScriptPath = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/api/scripts", response_model=list[ScriptOut], summary="The 话术 library with usage counts")
def list_scripts(
    session: SessionDep,
    user: Readers,
    status: Literal["draft", "approved", "retired"] | None = None,
    reason: Reason | None = None,
) -> list[ScriptOut]:
    stmt = kb.visible_scripts(visible_projects(user)).order_by(Script.status, Script.id)
    if status is not None:
        stmt = stmt.where(Script.status == status)
    if user.role not in AUTHORS:  # drafts are the authors' business
        stmt = stmt.where(Script.status == "approved")
    scripts = [s for s in session.scalars(stmt) if reason is None or reason in (s.reason_codes or [])]
    out = _scripts_out(session, scripts)
    session.commit()
    return out


@router.post("/api/scripts", response_model=ScriptOut, status_code=201, summary="Write a 话术 (a draft)")
def create_script(body: ScriptIn, session: SessionDep, user: Authors) -> ScriptOut:
    role = _may_write(user, body.project_id)
    now = now_utc()
    s = Script(project_id=body.project_id, title=body.title.strip(), body=body.body.strip(),
               reason_codes=sorted(set(body.reason_codes)), keywords=list(dict.fromkeys(k.strip() for k in body.keywords)),
               status="draft", author_id=user.id, author_role=role, created_at=now, updated_at=now)
    session.add(s)
    session.flush()
    out = _scripts_out(session, [s])[0]
    session.commit()
    return out


@router.put("/api/scripts/{script_id}", response_model=ScriptOut,
            summary="Change a 话术: the editor becomes its author and it needs approval again")
def update_script(script_id: ScriptPath, body: ScriptIn, session: SessionDep, user: Authors) -> ScriptOut:
    s = _script(session, user, script_id, lock=True)
    role = _may_write(user, s.project_id)
    if body.project_id != s.project_id:
        raise Invalid("a script stays in its project (or the group's library)")
    if s.status == "retired":
        raise Conflict(f"script {script_id} is retired")
    s.title, s.body = body.title.strip(), body.body.strip()
    s.reason_codes = sorted(set(body.reason_codes))
    s.keywords = list(dict.fromkeys(k.strip() for k in body.keywords))
    s.status, s.author_id, s.author_role = "draft", user.id, role
    s.approved_by = s.approved_role = s.approved_at = None
    s.updated_at = now_utc()
    session.flush()
    out = _scripts_out(session, [s])[0]
    session.commit()
    return out


@router.post("/api/scripts/{script_id}/approve", response_model=ScriptOut,
             summary="Approve a draft: marketing or legal, not its author")
def approve_script(script_id: ScriptPath, session: SessionDep, user: Authors) -> ScriptOut:
    s = _script(session, user, script_id, lock=True)
    role = _may_write(user, s.project_id)
    if s.status != "draft":
        raise Conflict(f"script {script_id} is {s.status}, not a draft")
    if s.author_id == user.id:
        raise Forbidden("the author may not approve their own script: another person of marketing or legal does")
    now = now_utc()
    s.status, s.approved_by, s.approved_role, s.approved_at, s.updated_at = "approved", user.id, role, now, now
    session.flush()
    out = _scripts_out(session, [s])[0]
    session.commit()
    return out


@router.post("/api/scripts/{script_id}/retire", response_model=ScriptOut, summary="Retire a 话术: no longer suggested")
def retire_script(script_id: ScriptPath, session: SessionDep, user: Authors) -> ScriptOut:
    s = _script(session, user, script_id, lock=True)
    _may_write(user, s.project_id)
    s.status, s.updated_at = "retired", now_utc()
    session.flush()
    out = _scripts_out(session, [s])[0]
    session.commit()
    return out


class SuggestionOut(BaseModel):
    script: ScriptOut
    score: int
    my_mark: Literal["used", "helpful", "not_helpful"] | None


@router.get("/api/refund-cases/{case_id}/script-suggestions", response_model=list[SuggestionOut],
            summary="话术 for the case's reasons (default: the intake's reasons and words)")
def script_suggestions(
    case_id: uuid.UUID,
    session: SessionDep,
    user: Readers,
    reasons: Annotated[list[Reason] | None, Query(description="the reasons on the form now")] = None,
) -> list[SuggestionOut]:
    case = session.get(RefundCase, case_id)
    if case is None:
        raise NotFound(f"refund case {case_id} does not exist")
    intake = session.get(IntakeForm, case_id)
    chosen = list(reasons) if reasons else list(intake.reasons or []) if intake else []
    words = intake.reason_text if intake else ""
    found = kb.suggest(session, project_id=case.project_id, reasons=chosen, text_=words or "")
    scripts = _scripts_out(session, [s for s, _ in found])
    marks = {m.script_id: m for m in session.scalars(select(ScriptMark).where(
        ScriptMark.case_id == case_id, ScriptMark.user_id == user.id))}
    out = []
    for (s, score), so in zip(found, scripts):
        m = marks.get(s.id)
        mine = None if m is None else "helpful" if m.helpful else "not_helpful" if m.helpful is False else "used"
        out.append(SuggestionOut(script=so, score=score, my_mark=mine))
    session.commit()
    return out


class MarkIn(RequestModel):
    script_id: int = Field(ge=1, le=2**31 - 1)
    used: bool = True
    helpful: bool | None = None


class MarkOut(BaseModel):
    script_id: int
    case_id: uuid.UUID
    used: bool
    helpful: bool | None
    marked_at: datetime


@router.post("/api/refund-cases/{case_id}/script-marks", response_model=MarkOut,
             summary="Mark a 话术 used / helpful on this case (one mark per person, script and case)")
def mark_script(case_id: uuid.UUID, body: MarkIn, session: SessionDep, user: Readers) -> MarkOut:
    case = session.get(RefundCase, case_id)
    if case is None:
        raise NotFound(f"refund case {case_id} does not exist")
    s = _script(session, user, body.script_id)
    if s.project_id not in (None, case.project_id):
        raise Invalid(f"script {s.id} belongs to another project than the case")
    if s.status != "approved":
        raise Conflict(f"script {s.id} is {s.status}: only approved scripts are marked")
    if body.helpful is not None and not body.used:
        raise Invalid("a script not used cannot have helped")
    m = kb.mark(session, script_id=s.id, case_id=case_id, user_id=user.id, used=body.used, helpful=body.helpful,
                at=now_utc())
    out = MarkOut(script_id=m.script_id, case_id=m.case_id, used=m.used, helpful=m.helpful, marked_at=m.marked_at)
    session.commit()
    return out
