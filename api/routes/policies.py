"""Refund-policy versions (issue 14): a draft its author edits, approved by another person with the legal role
(four eyes), published with an effective time for the group, a city company or a project; listed, and compared
side by side. The public page (GET /api/refund-policy) renders the version in force from its own figures."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, status
from pydantic import BaseModel, Field
from sqlalchemy import select

from api.access import act_in, visible_projects
from api.deps import SessionDep, require_roles
from api.strict import RequestModel
from db import policies
from db.errors import Forbidden, Invalid, NotFound
from db.models import Project, RefundPolicyVersion, User
from domain.permissions import ACTIONS
from domain.notify import reminder_points
from domain.policy import FIELD_LABELS, compare, public_rules, validate_body
from domain.refund import RefundPolicy, policy_from_body, policy_to_body

router = APIRouter(prefix="/api/refund-policies", tags=["refund policies"])

READERS = ACTIONS["policies"]
AUTHORS = ACTIONS["author_policy"]
APPROVERS = ("legal",)
Readers = Annotated[User, Depends(require_roles(*READERS))]
Authors = Annotated[User, Depends(require_roles(*AUTHORS))]
Approvers = Annotated[User, Depends(require_roles(*APPROVERS))]
VERSION = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$"
VersionPath = Annotated[str, Path(pattern=VERSION, description="the version's name, e.g. 2027.1")]

_NOT_FOUND = {404: {"description": "No such version (`not_found`)."}}
_CONFLICT = {409: {"description": "The version is not in the state this needs, or the name is taken (`conflict`)."}}
_FORBIDDEN = {403: {"description": "Not allowed: the role, the scope, or the four-eyes rule (`forbidden`)."}}


class PolicyVersionOut(BaseModel):
    version: str
    status: Literal["draft", "approved", "published", "discarded"]
    state: Literal["draft", "approved", "scheduled", "in_force", "superseded", "discarded"] = Field(
        description="published versions: scheduled (not yet effective), in_force, superseded (a newer one of the "
                    "same scope is in force)")
    scope: Literal["group", "city", "project"]
    scope_name: str
    city_company_id: int | None
    project_id: int | None
    summary: str
    author: str | None
    author_id: int | None
    approved_by: str | None
    approved_at: datetime | None
    published_by: str | None
    published_at: datetime | None
    effective_from: datetime | None
    created_at: datetime
    updated_at: datetime


class FieldProblem(BaseModel):
    field: str
    code: str
    message: str


class PolicyDetailOut(PolicyVersionOut):
    body: dict[str, Any] = Field(description="minutes, the escalation threshold (CNY string), shares as fractions "
                                             "0–1 (strings), tiers per contract stage, reminder points")
    problems: list[FieldProblem] = Field(description="what approval would refuse (empty: the body is valid)")
    labels: dict[str, list[str]] = Field(description="each field's [Chinese, English] label, for editors")


class DraftIn(RequestModel):
    version: str = Field(pattern=VERSION, description="the version's name, e.g. 2027.1 (letters, digits, . _ -)")
    scope: Literal["group", "city", "project"] = "group"
    city_company_id: int | None = Field(default=None, ge=1)
    project_id: int | None = Field(default=None, ge=1)
    summary: str = Field(default="", max_length=2000, description="what changes, in the author's words")
    from_version: str | None = Field(default=None, pattern=VERSION,
                                     description="start from this version's body (default: the group's in force)")
    body: dict[str, Any] | None = Field(default=None, description="the whole body (instead of from_version)")


class DraftEdit(RequestModel):
    body: dict[str, Any] | None = None
    summary: str | None = Field(default=None, max_length=2000)
    scope: Literal["group", "city", "project"] | None = None
    city_company_id: int | None = Field(default=None, ge=1)
    project_id: int | None = Field(default=None, ge=1)


class PublishIn(RequestModel):
    effective_from: datetime | None = Field(default=None, description="when it takes effect (default: now); cases "
                                                                      "registered before keep their own version")


class CompareRow(BaseModel):
    field: str
    label_zh: str
    label_en: str
    a: Any
    b: Any
    changed: bool


class CompareOut(BaseModel):
    a: PolicyVersionOut
    b: PolicyVersionOut
    rows: list[CompareRow]


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _may_author(session, user: User, scope: str, city_company_id: int | None, project_id: int | None) -> None:
    """An author writes for what their own role covers: a group-wide role for the group, every project of a city
    company for the city, the project for a project."""
    mine = visible_projects(user, AUTHORS)
    if scope == "project" and project_id is not None:
        act_in(user, project_id, f"project {project_id} does not exist", AUTHORS)
    elif scope == "city" and mine is not None:
        ids = set(session.scalars(select(Project.id).where(Project.city_company_id == city_company_id)))
        if not ids or not ids <= mine:
            raise Forbidden("your role does not cover every project of this city company")
    elif scope == "group" and mine is not None:
        raise Forbidden("only a group-wide legal or risk role writes the group's policy")


def _validated(body: dict[str, Any]) -> dict[str, Any]:
    errors = validate_body(body)
    if errors:
        raise policies.invalid(errors)
    return body


def _listed(session, version: str) -> dict:
    [one] = policies.listing(session, now=_now(), only=frozenset({version}))
    return one


def _detail(session, row: RefundPolicyVersion) -> dict:
    problems = [{"field": e.field, "code": e.code, "message": e.message} for e in validate_body(row.body)]
    return {**_listed(session, row.version), "body": row.body, "problems": problems,
            "labels": {k: list(v) for k, v in FIELD_LABELS.items()}}


@router.get("", response_model=list[PolicyVersionOut], responses=_FORBIDDEN,
            summary="Every refund-policy version, newest first, with its state now")
def list_versions(session: SessionDep, _: Readers) -> list[dict]:
    return policies.listing(session, now=_now())


@router.get("/compare", response_model=CompareOut, responses={**_FORBIDDEN, **_NOT_FOUND},
            summary="Two versions side by side: one row per field, changed where they differ")
def compare_versions(session: SessionDep, _: Readers, a: Annotated[str, Query(pattern=VERSION)],
                     b: Annotated[str, Query(pattern=VERSION)]) -> dict:
    ra, rb = policies.get(session, a), policies.get(session, b)
    return {"a": _listed(session, a), "b": _listed(session, b), "rows": compare(ra.body, rb.body)}


@router.get("/{version}", response_model=PolicyDetailOut, responses={**_FORBIDDEN, **_NOT_FOUND},
            summary="One version with its body and what approval would refuse")
def get_version(version: VersionPath, session: SessionDep, _: Readers) -> dict:
    return _detail(session, policies.get(session, version))


@router.post("", response_model=PolicyDetailOut, status_code=status.HTTP_201_CREATED,
             responses={**_FORBIDDEN, **_NOT_FOUND, **_CONFLICT},
             summary="A new draft: from a version's body (default: the group's in force) or a whole body")
def create_draft(data: DraftIn, session: SessionDep, user: Authors) -> dict:
    _may_author(session, user, data.scope, data.city_company_id, data.project_id)
    if data.body is not None and data.from_version is not None:
        raise Invalid("give either body or from_version, not both")
    if data.body is not None:
        body = _validated(data.body)
    elif data.from_version is not None:
        body = dict(policies.get(session, data.from_version).body)
    else:
        body = dict(policies.in_force_row(session, project_id=None, at=_now()).body)
    row = policies.create_draft(session, author=user, version=data.version, scope=data.scope,
                                city_company_id=data.city_company_id, project_id=data.project_id, body=body,
                                summary=data.summary, now=_now())
    session.commit()
    return _detail(session, row)


@router.put("/{version}", response_model=PolicyDetailOut, responses={**_FORBIDDEN, **_NOT_FOUND, **_CONFLICT},
            summary="Edit a draft (its author only); the body is checked field by field (422 names each field)")
def edit_draft(version: VersionPath, data: DraftEdit, session: SessionDep,
               user: Authors) -> dict:
    if data.scope is not None:
        _may_author(session, user, data.scope, data.city_company_id, data.project_id)
    row = policies.update_draft(session, editor=user, version=version,
                                body=_validated(data.body) if data.body is not None else None, summary=data.summary,
                                scope=data.scope, city_company_id=data.city_company_id, project_id=data.project_id,
                                now=_now())
    session.commit()
    return _detail(session, row)


@router.post("/{version}/approve", response_model=PolicyDetailOut,
             responses={**_FORBIDDEN, **_NOT_FOUND, **_CONFLICT},
             summary="Legal approves a draft: a person with the legal role who is not its author (four eyes)")
def approve(version: VersionPath, session: SessionDep, user: Approvers) -> dict:
    row = policies.get(session, version)
    _may_author(session, user, row.scope, row.city_company_id, row.project_id)  # legal covering the scope
    row = policies.approve(session, approver=user, version=version, now=_now())
    session.commit()
    return _detail(session, row)


@router.post("/{version}/publish", response_model=PolicyDetailOut,
             responses={**_FORBIDDEN, **_NOT_FOUND, **_CONFLICT},
             summary="Publish an approved version, in force from effective_from (default now) for its scope")
def publish(version: VersionPath, data: PublishIn, session: SessionDep,
            user: Approvers) -> dict:
    now = _now()
    at = data.effective_from
    if at is not None and at.tzinfo is None:
        err = Invalid("effective_from needs a time zone (e.g. 2027-01-01T00:00:00+08:00)")
        err.errors = ({"field": "body.effective_from", "code": "timezone",
                       "message": "effective_from needs a time zone (e.g. 2027-01-01T00:00:00+08:00)"},)
        raise err
    row = policies.get(session, version)
    _may_author(session, user, row.scope, row.city_company_id, row.project_id)
    row = policies.publish(session, publisher=user, version=version, effective_from=at, now=now)
    session.commit()
    return _detail(session, row)


@router.post("/{version}/discard", response_model=PolicyDetailOut,
             responses={**_FORBIDDEN, **_NOT_FOUND, **_CONFLICT},
             summary="Discard a draft (its author) or an approved version not yet published")
def discard(version: VersionPath, session: SessionDep, user: Authors) -> dict:
    row = policies.discard(session, user=user, version=version, now=_now())
    session.commit()
    return _detail(session, row)


def public_page(session, *, project_id: int | None, version: str | None) -> dict:
    """The 公示 of the version in force for a project (or the group), or of a named published version."""
    if version is not None:
        row = policies.get(session, version)
        if row.status != "published":
            raise NotFound(f"refund policy version {version} has not been published")
    else:
        row = policies.in_force_row(session, project_id=project_id, at=_now())
    rules = public_rules(row.body)
    policy: RefundPolicy = policy_from_body(row.version, row.body)
    listed = _listed(session, row.version)
    return {
        "version": row.version, "approved_by": row.approved_by or "", "published_at": row.published_at,
        "effective_from": row.effective_from, "scope": row.scope, "scope_name": listed["scope_name"],
        "state": listed["state"], **policy_to_body(policy), "rules": rules["en"], "rules_zh": rules["zh"],
        "reminder_points": list(reminder_points(row.body)),
    }
