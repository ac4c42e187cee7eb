"""Scoping a request to the projects its caller works in (the tenancy model: docs/decisions.md,
"Organisation and tenancy"). Every record belongs to a project; a route that reads or changes one calls
`act_in` with the record's project before anything else, and every list or statistic filters by
`visible_projects`. A record of a project where the caller holds no role at all answers 404 with the same
message as a record that does not exist: its existence is not revealed."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from db.contract_models import Contract
from db.discount_models import DiscountRequest
from db.errors import Forbidden, Invalid, NotFound
from db.evidence_models import CaseEvidence
from db.followup_models import Followup, WarningRecord
from db.inventory_models import PriceList
from db.notice_models import Notice, NoticeDelivery, ProjectRobot
from db.reception_models import PartnerRegistration, WalkIn
from workflows.contracts import Actor
from db.models import Customer, Project, RefundCase, Subscription, Task, Unit, User
from domain.access import Access, acting_role
from workflows.followup_contracts import mortgage_workflow_id, payment_plan_workflow_id


def access_of(user: User) -> Access:
    return user.access  # type: ignore[attr-defined]


def act_in(user: User, project_id: int, not_found: str, roles: Iterable[str] | None = None) -> User:
    """The caller acts on a record of `project_id`: 404 (`not_found`, the message a missing record gets)
    when they hold no role there; 403 when they hold roles there but none of those the route admits (`roles`,
    by default those its require_roles named); else user.role becomes the role they act in, and is returned."""
    access = access_of(user)
    held = access.roles_in(project_id)
    if not held:
        raise NotFound(not_found)
    allowed = tuple(roles) if roles is not None else tuple(user.allowed)  # type: ignore[attr-defined]
    role = acting_role(access, user.role, allowed, project_id)
    if role is None:
        raise Forbidden(f"in this project you are {', '.join(sorted(held))}; allowed: {', '.join(allowed)}")
    user.role = role
    return user


def acting_person(session: Session, user: User, role: str, project_id: int | None) -> Actor:
    """The person as a workflow step's actor in `role`: a substitute names the absent colleague they act for."""
    behalf = user.access.on_behalf_of(role, project_id) if project_id is not None else None  # type: ignore[attr-defined]
    login = session.scalar(select(User.username).where(User.id == behalf)) if behalf is not None else None
    return Actor(user_id=user.id, username=user.username, role=role, on_behalf_of=behalf, on_behalf_of_username=login)


def visible_projects(user: User, roles: Iterable[str] | None = None) -> frozenset[int] | None:
    """The projects whose records the caller may list with `roles` (default: the route's): None = all."""
    allowed = tuple(roles) if roles is not None else tuple(user.allowed)  # type: ignore[attr-defined]
    return access_of(user).projects_for(allowed)


def project_filter(column, user: User, roles: Iterable[str] | None = None):
    """A WHERE clause restricting `column` (a project_id column) to the caller's projects, or None for all."""
    ids = visible_projects(user, roles)
    if ids is None:
        return None
    return column.in_(sorted(ids)) if ids else column.in_([-1])


def choose_project(user: User, project_id: int | None) -> int:
    """The project a new record goes to: the one named (the caller must act there: 404 otherwise), or, when
    none is named, the caller's only project for the route's roles (422 when they have several or none)."""
    if project_id is not None:
        act_in(user, project_id, f"project {project_id} does not exist")
        return project_id
    ids = visible_projects(user)
    if ids is None or len(ids) != 1:
        raise Invalid("project_id is required: you work in several projects; say which one")
    (only,) = ids
    act_in(user, only, f"project {only} does not exist")
    return only


# Path parameter → (how its record's project is found, the message a missing record gets). The project of a
# follow-up or a warning is its customer's; one without a customer belongs to no project (group-wide roles
# only). A value that does not parse, or a record that does not exist, is left to the route.
_V = bindparam("v")
_CUSTOMER_PROJECT = select(Customer.project_id).where(Customer.id == _V)
SCOPED_PARAMS: dict[str, tuple[Callable[[str], object], object, str]] = {
    "project_id": (int, select(Project.id).where(Project.id == _V), "project {v} does not exist"),
    "unit_id": (int, select(Unit.project_id).where(Unit.id == _V), "unit {v} does not exist"),
    "case_id": (uuid.UUID, select(RefundCase.project_id).where(RefundCase.id == _V), "refund case {v} does not exist"),
    "task_id": (int, select(Task.project_id).where(Task.id == _V), "task {v} does not exist"),
    "customer_id": (int, _CUSTOMER_PROJECT, "customer {v} not found"),
    "subscription_id": (int, select(Unit.project_id).join(Subscription, Subscription.unit_id == Unit.id)
                        .where(Subscription.id == _V), "subscription {v} does not exist"),
    "contract_id": (int, select(Unit.project_id).join(Contract, Contract.unit_id == Unit.id).where(Contract.id == _V),
                    "contract {v} does not exist"),
    "price_list_id": (int, select(PriceList.project_id).where(PriceList.id == _V), "price list {v} does not exist"),
    "evidence_id": (int, select(RefundCase.project_id).join(CaseEvidence, CaseEvidence.case_id == RefundCase.id)
                    .where(CaseEvidence.id == _V), "evidence {v} does not exist"),
    "robot_id": (int, select(ProjectRobot.project_id).where(ProjectRobot.id == _V), "robot {v} does not exist"),
    "delivery_id": (int, select(Notice.project_id).join(NoticeDelivery, NoticeDelivery.notice_id == Notice.id)
                    .where(NoticeDelivery.id == _V), "delivery {v} does not exist"),
    "warning_id": (int, select(Customer.project_id).select_from(WarningRecord)
                   .outerjoin(Customer, Customer.id == WarningRecord.customer_id).where(WarningRecord.id == _V),
                   "warning {v} does not exist"),
    "loan_id": (mortgage_workflow_id, select(Customer.project_id).select_from(Followup)
                .outerjoin(Customer, Customer.id == Followup.customer_id).where(Followup.followup_id == _V),
                "loan {raw} has no follow-up"),
    "walk_in_id": (int, select(WalkIn.project_id).where(WalkIn.id == _V), "walk-in {v} does not exist"),
    "registration_id": (int, select(PartnerRegistration.project_id).where(PartnerRegistration.id == _V),
                        "partner registration {v} does not exist"),
    "request_id": (int, select(DiscountRequest.project_id).where(DiscountRequest.id == _V),
                   "discount request {v} does not exist"),
    "plan_id": (payment_plan_workflow_id, select(Customer.project_id).select_from(Followup)
                .outerjoin(Customer, Customer.id == Followup.customer_id).where(Followup.followup_id == _V),
                "payment plan {raw} has no follow-up"),
}


def scoped_params(path_params: dict[str, str]) -> list[tuple[str, str]]:
    return [(k, v) for k, v in path_params.items() if k in SCOPED_PARAMS]


def check_path_scope(session: Session, user: User, params: list[tuple[str, str]]) -> None:
    """Each scoped path parameter's record must belong to a project where the caller holds a role (404,
    with the missing record's own message, otherwise), and one of the route's roles there (403); the caller
    then acts in that role (user.role). Records without a project pass only for group-wide roles."""
    for name, raw in params:
        parse, stmt, message = SCOPED_PARAMS[name]
        try:
            value = parse(raw)
        except (ValueError, TypeError):
            continue  # the route's own validation answers
        found = session.execute(stmt, {"v": value}).first()
        if found is None:
            continue  # no such record: the route answers as it always has
        missing = message.format(v=value, raw=raw)
        if found[0] is None:  # a record of no project (a follow-up without a customer): group-wide roles only
            if visible_projects(user) is not None:
                raise NotFound(missing)
            continue
        act_in(user, found[0], missing)


def check_body_scope(session: Session, user: User, **named: object) -> None:
    """As check_path_scope, for records a request body names (unit_id=..., customer_id=...); None skipped."""
    check_path_scope(session, user, [(k, str(v)) for k, v in named.items() if v is not None])
