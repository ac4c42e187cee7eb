"""Memberships resolved to projects (domain.access), the inbox cursor (domain.paging) and the permitted
actions (domain.permissions), on their own."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from domain.access import Access, Grant, acting_role, scope_error
from domain.paging import BadCursor, decode_cursor, encode_cursor
from domain.permissions import ACTIONS, actions_of

CITY_PROJECTS = {10: [1, 2], 20: [3]}


def access(*grants: Grant) -> Access:
    return Access.resolve(grants, CITY_PROJECTS)


def test_a_project_membership_covers_that_project_only():
    a = access(Grant("manager", "project", project_id=1), Grant("manager", "project", project_id=2))
    assert a.roles_in(1) == {"manager"} and a.roles_in(3) == frozenset()
    assert a.projects_for(["manager"]) == {1, 2} and a.projects_for(["finance"]) == frozenset()


def test_a_city_membership_covers_the_city_companys_projects_and_a_group_one_every_project():
    a = access(Grant("citygm", "city", city_company_id=10), Grant("ops", "group"))
    assert a.projects_for(["citygm"]) == {1, 2}
    assert a.projects_for(["ops"]) is None and a.projects_for(["citygm", "ops"]) is None
    assert a.roles_in(3) == {"ops"} and a.roles_in(2) == {"citygm", "ops"}


def test_one_person_may_hold_several_roles_in_several_places():
    a = access(Grant("manager", "project", project_id=1), Grant("sales", "project", project_id=3),
               Grant("manager", "city", city_company_id=20))
    assert a.roles == {"manager", "sales"}
    assert a.projects_for(["manager"]) == {1, 3} and a.roles_in(3) == {"manager", "sales"}
    assert [r for r, _ in a.pools()] == ["sales", "manager"]  # in the order of ROLES


def test_the_acting_role_prefers_the_primary_role_then_the_routes_order():
    a = access(Grant("manager", "project", project_id=1), Grant("sales", "project", project_id=3))
    assert acting_role(a, "sales", ("sales", "manager")) == "sales"
    assert acting_role(a, "sales", ("sales", "manager"), project_id=1) == "manager"  # not a consultant there
    assert acting_role(a, "sales", ("finance",)) is None
    assert acting_role(a, "manager", ("sales", "manager"), project_id=2) is None  # no role in project 2


@pytest.mark.parametrize("role,scope,project,city,fragment", [
    ("boss", "group", None, None, "allowed roles: frontdesk"),
    ("citygm", "project", 1, None, "held in scope city"),
    ("hqrisk", "city", None, 10, "held in scope group"),
    ("manager", "project", None, None, "names a project"),
    ("manager", "city", 1, None, "names a city company"),
    ("manager", "group", 1, None, "names neither"),
])
def test_a_membership_that_cannot_be_held_says_why(role, scope, project, city, fragment):
    assert fragment in scope_error(role, scope, project, city)


def test_memberships_that_can_be_held():
    assert scope_error("manager", "project", 1, None) is None
    assert scope_error("citygm", "city", None, 10) is None
    assert scope_error("ops", "group", None, None) is None


def test_the_cursor_round_trips_and_refuses_what_it_did_not_give_out():
    at = datetime(2026, 12, 3, 8, 30, tzinfo=timezone.utc)
    assert decode_cursor(encode_cursor(at, 42)) == (at, 42)
    assert decode_cursor(encode_cursor(None, 7)) == (None, 7)
    for bad in ("", "not-a-cursor", encode_cursor(at, 1)[:-3], "WyIyMDI2LTEyLTAzVDA4OjMwOjAwIiwgMV0"):
        with pytest.raises(BadCursor):
            decode_cursor(bad)


def test_actions_follow_the_roles():
    assert actions_of(["frontdesk"]) == ["intake", "cases", "board", "qr", "evidence", "reception", "rotation", "partners",
                                         "my_customers", "scripts", "knowledge"]
    assert "revise_loss" in actions_of(["finance"]) and "revise_loss" not in actions_of(["legal"])
    assert actions_of([]) == []
    assert set(actions_of(["ops"])) == {a for a, roles in ACTIONS.items() if "ops" in roles}


def test_the_actions_name_the_same_roles_as_the_routes():
    from api.deps import REGISTRARS, STAFF
    from api.routes.evidence import UPLOADERS
    from api.routes.stats import STATS_ROLES

    assert set(ACTIONS["intake"]) == set(REGISTRARS)
    assert set(ACTIONS["cases"]) == set(STAFF)
    assert set(ACTIONS["evidence"]) == set(UPLOADERS)
    assert set(ACTIONS["stats"]) == set(STATS_ROLES)


def test_a_substitute_acts_with_the_colleagues_roles_in_their_scope_and_on_their_behalf():
    own = [Grant("sales", "project", project_id=1)]
    lent = [(7, Grant("manager", "project", project_id=2)), (7, Grant("sales", "project", project_id=3))]
    a = Access.resolve(own, CITY_PROJECTS, lent)
    assert a.roles_in(2) == {"manager"} and a.roles_in(3) == {"sales"} and a.roles_in(1) == {"sales"}
    assert a.projects_for(["sales"]) == {1, 3}
    assert a.on_behalf_of("manager", 2) == 7 and a.on_behalf_of("sales", 3) == 7
    assert a.on_behalf_of("sales", 1) is None  # their own role there
    assert a.on_behalf_of("manager", 1) is None and a.delegators == {7}
    assert Access.resolve(own, CITY_PROJECTS).delegators == frozenset()


def test_retries_back_off_exponentially_with_jitter_and_give_up():
    import random as _random

    from domain.notify import MAX_ATTEMPTS, gives_up, mask_webhook, retry_delay

    rng = _random.Random(3)
    delays = [retry_delay(n, rng).total_seconds() for n in range(1, 12)]
    assert 1 <= delays[0] < 3 and 2 <= delays[1] < 6 and 4 <= delays[2] < 12
    assert max(delays) < 450  # capped at 5 minutes × 1.5
    assert len({round(retry_delay(4, _random.Random(i)).total_seconds(), 3) for i in range(5)}) == 5  # jitter
    assert not gives_up(1, True) and gives_up(MAX_ATTEMPTS, True) and gives_up(1, False)
    assert mask_webhook("https://qyapi.example/cgi-bin/webhook/send?key=693a91f6-7x") == "https://qyapi.example/cgi-bin/webhook/send?key=69****7x"
    assert "access_token=ab****gh" in mask_webhook("https://oapi.example/robot/send?access_token=abcdefgh")
    assert mask_webhook("https://oapi.example/robot/send?access_token=abc").endswith("access_token=****")


def test_the_web_app_knows_every_action_the_server_names():
    """web/src/lib/access.ts treats an action it does not know as open to all staff: its list must be the
    server's, or a new screen's menu entry shows to everyone (the robots screen's did, at first)."""
    import re
    from pathlib import Path

    source = (Path(__file__).resolve().parents[2] / "web/src/lib/access.ts").read_text()
    block = re.search(r"const KNOWN_ACTIONS = new Set\(\[(.*?)\]\)", source, re.S)
    assert block, "KNOWN_ACTIONS is not where this test looks for it"
    assert set(re.findall(r'"([a-z_]+)"', block.group(1))) == set(ACTIONS)
