"""Who may act where (pure): a person's memberships, resolved to the projects each role covers.

A membership gives a role in one project, in every project of a city company, or group-wide. The API loads
a person's live memberships once per request (cached briefly), resolves city memberships to the city's
projects, and asks this module three questions:
- which roles does the person hold anywhere (may they reach this route at all),
- which roles do they hold in project P (may they act on this record; none at all → 404, not 403),
- which projects does role set R cover (the filter of every list and every statistic).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

ROLES = ("frontdesk", "sales", "manager", "finance", "legal", "marketing", "citygm", "hqrisk", "ops", "admin")
# Where each role may be held: a project role in a project (or, for a regional team, a city company or the
# group); the city GM in a city company; HQ roles group-wide.
SCOPES_OF_ROLE = {
    **{r: ("project", "city", "group") for r in ("frontdesk", "sales", "manager", "finance", "legal", "marketing")},
    "citygm": ("city",),
    "hqrisk": ("group",),
    "ops": ("group",),
    "admin": ("group",),  # a city-scoped administrator would need its own limits: not offered
}
# Escalation goes one level up: project → city company → group.
LEVELS = ("project", "city", "group")


@dataclass(frozen=True)
class Grant:
    role: str
    scope: str  # project | city | group
    project_id: int | None = None
    city_company_id: int | None = None


def scope_error(role: str, scope: str, project_id: int | None, city_company_id: int | None) -> str | None:
    """Why a membership cannot be granted as asked (a sentence), or None when it can."""
    if role not in SCOPES_OF_ROLE:
        return f"unknown role {role!r}; allowed roles: {', '.join(ROLES)}"
    if scope not in SCOPES_OF_ROLE[role]:
        return f"the role {role} is held in scope {' or '.join(SCOPES_OF_ROLE[role])}, not {scope}"
    if scope == "project" and (project_id is None or city_company_id is not None):
        return "a project membership names a project (project_id) and no city company"
    if scope == "city" and (city_company_id is None or project_id is not None):
        return "a city membership names a city company (city_company_id) and no project"
    if scope == "group" and (project_id is not None or city_company_id is not None):
        return "a group membership names neither a project nor a city company"
    return None


@dataclass(frozen=True)
class Access:
    """A person's live memberships, resolved: for each role, the projects it covers (None: every project).
    `behalf`: the roles they hold only as a substitute — (role, projects, the colleague they stand in for)."""

    by_role: dict[str, frozenset[int] | None] = field(default_factory=dict)
    behalf: tuple[tuple[str, frozenset[int] | None, int], ...] = ()
    own: dict[str, frozenset[int] | None] | None = None  # by_role without the delegations (None: the same)

    @staticmethod
    def _resolve(grants: Iterable[Grant], city_projects: dict[int, Iterable[int]]) -> dict[str, frozenset[int] | None]:
        out: dict[str, set[int] | None] = {}
        for g in grants:
            if g.scope == "group":
                out[g.role] = None
                continue
            if g.role in out and out[g.role] is None:
                continue
            ids = {g.project_id} if g.scope == "project" else set(city_projects.get(g.city_company_id, ()))
            out.setdefault(g.role, set()).update(i for i in ids if i is not None)
        return {r: (None if p is None else frozenset(p)) for r, p in out.items()}

    @classmethod
    def resolve(cls, grants: Iterable[Grant], city_projects: dict[int, Iterable[int]],
                delegated: Iterable[tuple[int, Grant]] = ()) -> Access:
        """`city_projects`: city company id → its project ids (for the city grants). `delegated`: (colleague's
        user id, one of their grants) for each colleague this person stands in for now: the person acts with
        those roles in those scopes too, on the colleague's behalf."""
        own = cls._resolve(grants, city_projects)
        lent: dict[int, list[Grant]] = {}
        for delegator, g in delegated:
            lent.setdefault(delegator, []).append(g)
        merged: dict[str, frozenset[int] | None] = dict(own)
        behalf = []
        for delegator, gs in sorted(lent.items()):
            for role, projects in cls._resolve(gs, city_projects).items():
                behalf.append((role, projects, delegator))
                if role in merged:
                    mine = merged[role]
                    merged[role] = None if mine is None or projects is None else mine | projects
                else:
                    merged[role] = projects
        return cls(merged, tuple(behalf), own if behalf else None)

    def on_behalf_of(self, role: str, project_id: int) -> int | None:
        """Acting in `role` in `project_id`: None when the person holds it themselves, else the colleague they
        stand in for (the first whose delegation covers it)."""
        own = self.by_role if self.own is None else self.own
        if role in own and (own[role] is None or project_id in own[role]):
            return None
        return next((d for r, p, d in self.behalf if r == role and (p is None or project_id in p)), None)

    @property
    def delegators(self) -> frozenset[int]:
        """The colleagues this person stands in for now."""
        return frozenset(d for _, _, d in self.behalf)

    @property
    def roles(self) -> frozenset[str]:
        """Every role the person holds somewhere."""
        return frozenset(self.by_role)

    def roles_in(self, project_id: int) -> frozenset[str]:
        """The roles the person holds in this project."""
        return frozenset(r for r, p in self.by_role.items() if p is None or project_id in p)

    def projects_for(self, roles: Iterable[str]) -> frozenset[int] | None:
        """The projects where the person holds at least one of `roles`: None when one of them is held
        group-wide (every project), else a set (maybe empty)."""
        out: set[int] = set()
        for r in roles:
            if r not in self.by_role:
                continue
            p = self.by_role[r]
            if p is None:
                return None
            out |= p
        return frozenset(out)

    def pools(self, roles: Iterable[str] | None = None) -> list[tuple[str, frozenset[int] | None]]:
        """(role, projects) for each role held (or each of `roles` held): the task pools the person draws from."""
        wanted = self.by_role if roles is None else {r: self.by_role[r] for r in roles if r in self.by_role}
        return sorted(wanted.items(), key=lambda kv: ROLES.index(kv[0]) if kv[0] in ROLES else len(ROLES))


def acting_role(access: Access, primary: str, allowed: Iterable[str], project_id: int | None = None) -> str | None:
    """The role a person acts in for a route that admits `allowed` roles (in a project when given): their
    primary role when it qualifies, else the first of `allowed` they hold; None when none qualifies."""
    held = access.roles if project_id is None else access.roles_in(project_id)
    allowed = tuple(allowed)
    if primary in held and primary in allowed:
        return primary
    return next((r for r in allowed if r in held), None)


# Where a four-eyes step goes when nobody at its level may take it (project → city company → group): the
# city GM's approval to HQ risk control. Only steps with a four-eyes rule are checked (db/escalation.py).
ONE_LEVEL_UP = {"citygm": "hqrisk"}
FOUR_EYES_KINDS = ("gm_approval",)


def one_level_up(role: str) -> str | None:
    return ONE_LEVEL_UP.get(role)
