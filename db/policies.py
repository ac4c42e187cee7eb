"""Refund-policy versions: drafts, four-eyes approval, publication with an effective time and a scope, and the
version in force for a project at a time (the most specific one: project, then city company, then group).
The caller owns the transaction: nothing here commits."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, text
from sqlalchemy.orm import Session

from db.errors import Conflict, Forbidden, Invalid, NotFound
from db.models import Project, RefundPolicyVersion, User
from db.org_models import CityCompany
from domain.policy import FieldError, validate_body
from domain.refund import PolicyError, RefundPolicy, policy_from_body

SCOPES = ("group", "city", "project")
# A publication may not reach back: in force from now (a minute's slack for the clock of the person's device).
PAST_SLACK = timedelta(minutes=1)

_IN_FORCE = text("""
    SELECT rp.version, rp.body
    FROM refund_policies rp
    WHERE rp.status = 'published' AND rp.effective_from <= :at
      AND (rp.scope = 'group'
           OR (rp.scope = 'city' AND rp.city_company_id = :city)
           OR (rp.scope = 'project' AND rp.project_id = :project))
    ORDER BY CASE rp.scope WHEN 'project' THEN 0 WHEN 'city' THEN 1 ELSE 2 END, rp.effective_from DESC, rp.id DESC
    LIMIT 1
""")
_PROJECT_OF_SUBSCRIPTION = text("""
    SELECT p.id, p.city_company_id FROM subscriptions s JOIN units u ON u.id = s.unit_id
    JOIN projects p ON p.id = u.project_id WHERE s.id = :sid
""")

# Published versions never change: each is parsed once per process.
_PARSED: dict[str, RefundPolicy] = {}


def _parsed(version: str, body: dict) -> RefundPolicy:
    policy = _PARSED.get(version)
    if policy is None:
        policy = _PARSED[version] = policy_from_body(version, body)
    return policy


def in_force(session: Session, *, project_id: int | None, city_company_id: int | None, at: datetime) -> RefundPolicy:
    """The version that applies at `at` to a project (both ids None: the group's own)."""
    row = session.execute(_IN_FORCE, {"at": at, "city": city_company_id, "project": project_id}).first()
    if row is None:
        raise Conflict("no refund policy is in force; legal must publish one first")
    return _parsed(row.version, row.body)


def in_force_for_subscription(session: Session, subscription_id: int, at: datetime) -> RefundPolicy:
    """The version a case registered now for this subscription captures."""
    where = session.execute(_PROJECT_OF_SUBSCRIPTION, {"sid": subscription_id}).first()
    project_id, city_id = (where.id, where.city_company_id) if where else (None, None)
    return in_force(session, project_id=project_id, city_company_id=city_id, at=at)


def in_force_row(session: Session, *, project_id: int | None, at: datetime) -> RefundPolicyVersion:
    city_id = session.scalar(select(Project.city_company_id).where(Project.id == project_id)) if project_id else None
    if project_id is not None and city_id is None:
        raise NotFound(f"project {project_id} does not exist")
    version = in_force(session, project_id=project_id, city_company_id=city_id, at=at).version
    return session.scalar(select(RefundPolicyVersion).where(RefundPolicyVersion.version == version))


def get(session: Session, version: str, *, lock: bool = False) -> RefundPolicyVersion:
    q = select(RefundPolicyVersion).where(RefundPolicyVersion.version == version)
    row = session.scalar(q.with_for_update() if lock else q)
    if row is None:
        raise NotFound(f"refund policy version {version} does not exist")
    return row


def field_errors(errors: list[FieldError], prefix: str = "body.body") -> list[dict]:
    return [{"field": f"{prefix}.{e.field}" if e.field != "body" else prefix, "code": e.code, "message": e.message}
            for e in errors]


def invalid(errors: list[FieldError]) -> Invalid:
    err = Invalid(f"the policy has {len(errors)} problem{'s' if len(errors) != 1 else ''}: "
                  + "; ".join(e.message for e in errors[:3]) + ("; …" if len(errors) > 3 else ""))
    err.errors = tuple(field_errors(errors))
    return err


def check_scope(session: Session, scope: str, city_company_id: int | None, project_id: int | None) -> None:
    if scope not in SCOPES:
        raise Invalid(f"scope must be one of {', '.join(SCOPES)}")
    wanted = {"group": (False, False), "city": (True, False), "project": (False, True)}[scope]
    if (city_company_id is not None, project_id is not None) != wanted:
        raise Invalid({"group": "a group-wide policy names no city company and no project",
                       "city": "a city company's policy names the city company (city_company_id) and no project",
                       "project": "a project's policy names the project (project_id) and no city company"}[scope])
    if city_company_id is not None and session.get(CityCompany, city_company_id) is None:
        raise NotFound(f"city company {city_company_id} does not exist")
    if project_id is not None and session.get(Project, project_id) is None:
        raise NotFound(f"project {project_id} does not exist")


def create_draft(session: Session, *, author: User, version: str, scope: str, city_company_id: int | None,
                 project_id: int | None, body: dict, summary: str, now: datetime) -> RefundPolicyVersion:
    """A new draft (its body may still be incomplete: it is validated when saved for approval and approved)."""
    check_scope(session, scope, city_company_id, project_id)
    if session.scalar(select(RefundPolicyVersion.id).where(RefundPolicyVersion.version == version)) is not None:
        raise Conflict(f"version {version} already exists; choose another name")
    row = RefundPolicyVersion(version=version, body=body, status="draft", scope=scope,
                              city_company_id=city_company_id, project_id=project_id, summary=summary,
                              author_id=author.id, created_at=now, updated_at=now,
                              published_at=None, effective_from=None, approved_by=None)
    session.add(row)
    session.flush()
    return row


def update_draft(session: Session, *, editor: User, version: str, body: dict | None, summary: str | None,
                 scope: str | None, city_company_id: int | None, project_id: int | None,
                 now: datetime) -> RefundPolicyVersion:
    row = get(session, version, lock=True)
    if row.status != "draft":
        raise Conflict(f"version {version} is {row.status}: only a draft is edited; start a new draft from it")
    if row.author_id != editor.id:
        raise Forbidden(f"version {version} is {_name(session, row.author_id)}'s draft: only its author edits it")
    if scope is not None:
        check_scope(session, scope, city_company_id, project_id)
        row.scope, row.city_company_id, row.project_id = scope, city_company_id, project_id
    if body is not None:
        row.body = body
    if summary is not None:
        row.summary = summary
    row.updated_at = now
    session.flush()
    return row


def approve(session: Session, *, approver: User, version: str, now: datetime) -> RefundPolicyVersion:
    """Legal approves a draft: a person holding the legal role who is not its author (four eyes); the body must
    be valid (per-field 422)."""
    row = get(session, version, lock=True)
    if row.status != "draft":
        raise Conflict(f"version {version} is {row.status}, not a draft awaiting approval")
    if row.author_id == approver.id:
        raise Forbidden(f"you wrote version {version}: another person with the legal role must approve it "
                        "(four eyes)")
    errors = validate_body(row.body)
    if errors:
        raise invalid(errors)
    row.status, row.approved_by_id, row.approved_at = "approved", approver.id, now
    row.approved_by = approver.display_name or approver.username
    row.updated_at = now
    session.flush()
    return row


def publish(session: Session, *, publisher: User, version: str, effective_from: datetime | None,
            now: datetime) -> RefundPolicyVersion:
    """An approved version goes in force at `effective_from` (now when not given; never in the past)."""
    row = get(session, version, lock=True)
    if row.status != "approved":
        raise Conflict(f"version {version} is {row.status}: only an approved version is published")
    at = effective_from or now
    if at < now - PAST_SLACK:
        err = Invalid("a policy cannot take effect in the past: cases already registered keep their version")
        err.errors = ({"field": "body.effective_from", "code": "past", "message": "effective_from is in the past"},)
        raise err
    try:
        policy_from_body(row.version, row.body)
    except (PolicyError, KeyError, ValueError, TypeError) as exc:  # approved bodies are valid; belt and braces
        raise Invalid(f"version {version} cannot be read: {exc}") from None
    row.status, row.published_by_id, row.published_at, row.effective_from = "published", publisher.id, now, at
    row.updated_at = now
    session.flush()
    return row


def discard(session: Session, *, user: User, version: str, now: datetime) -> RefundPolicyVersion:
    row = get(session, version, lock=True)
    if row.status not in ("draft", "approved"):
        raise Conflict(f"version {version} is {row.status}: a published version stays on record")
    if row.status == "draft" and row.author_id != user.id:
        raise Forbidden(f"version {version} is {_name(session, row.author_id)}'s draft: only its author discards it")
    if row.status == "approved" and "legal" not in user.access.roles:  # type: ignore[attr-defined]
        raise Forbidden(f"version {version} is approved: only legal discards it")
    row.status, row.updated_at = "discarded", now
    session.flush()
    return row


def _name(session: Session, user_id: int | None) -> str:
    if user_id is None:
        return "—"
    u = session.get(User, user_id)
    return (u.display_name or u.username) if u else str(user_id)


_NAMES = select(User.id, User.display_name, User.username).where(User.id.in_(bindparam("ids", expanding=True)))


def listing(session: Session, *, now: datetime, only: frozenset[str] | None = None) -> list[dict[str, Any]]:
    """Every version (or those named in `only`), newest first, with people's names, its scope's name, and its
    state now: draft / approved / scheduled (published, not yet effective) / in_force / superseded / discarded.
    The states are decided over every version; names are looked up only for the versions returned."""
    every = session.scalars(select(RefundPolicyVersion).order_by(RefundPolicyVersion.id.desc())).all()
    rows = every if only is None else [r for r in every if r.version in only]
    ids = {i for r in rows for i in (r.author_id, r.approved_by_id, r.published_by_id) if i is not None}
    names = {i: d or u for i, d, u in session.execute(_NAMES, {"ids": sorted(ids) or [-1]})}
    city_ids = sorted({r.city_company_id for r in rows if r.city_company_id is not None}) or [-1]
    project_ids = sorted({r.project_id for r in rows if r.project_id is not None}) or [-1]
    cities = dict(session.execute(select(CityCompany.id, CityCompany.name).where(CityCompany.id.in_(city_ids))).all())
    projects = dict(session.execute(select(Project.id, Project.name).where(Project.id.in_(project_ids))).all())
    # The newest effective published version of each scope target is in force; older ones are superseded.
    live: dict[tuple, int] = {}
    for r in sorted((r for r in every if r.status == "published" and r.effective_from <= now),
                    key=lambda r: (r.effective_from, r.id), reverse=True):
        live.setdefault((r.scope, r.city_company_id, r.project_id), r.id)
    out = []
    for r in rows:
        if r.status == "published":
            state = ("scheduled" if r.effective_from > now
                     else "in_force" if live.get((r.scope, r.city_company_id, r.project_id)) == r.id else "superseded")
        else:
            state = r.status
        out.append({
            "version": r.version, "status": r.status, "state": state, "scope": r.scope,
            "city_company_id": r.city_company_id, "project_id": r.project_id,
            "scope_name": {"group": "集团", "city": cities.get(r.city_company_id, ""),
                           "project": projects.get(r.project_id, "")}[r.scope],
            "summary": r.summary, "author": names.get(r.author_id), "author_id": r.author_id,
            "approved_by": r.approved_by or names.get(r.approved_by_id), "approved_at": r.approved_at,
            "published_by": names.get(r.published_by_id), "published_at": r.published_at,
            "effective_from": r.effective_from, "created_at": r.created_at, "updated_at": r.updated_at,
        })
    return out


def mark_stale_cache() -> None:
    """Tests that rewrite a published row by hand (never done by the product) drop the parsed copies."""
    _PARSED.clear()


__all__ = ["in_force", "in_force_for_subscription", "in_force_row", "get", "create_draft", "update_draft", "approve",
           "publish", "discard", "listing", "check_scope", "field_errors"]
