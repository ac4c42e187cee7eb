"""The sales office's policy per project (issue 15): the group's defaults overridden field by field; set by the
city GM / HQ risk, never by a manager; a bad value is a 422 naming its field."""

from __future__ import annotations

from domain.sales_policy import SalesPolicy, policy_errors, policy_from
from tests.api.conftest import Api


def test_bodies_overlay_the_defaults_and_bad_values_are_named():
    p = policy_from({"partner_protection_days": 45}, {"manager_discount_limit": "0.03"})
    assert p.partner_protection_days == 45 and str(p.manager_discount_limit) == "0.03"
    assert p.co_resident_ack_required is SalesPolicy().co_resident_ack_required
    assert [f for f, _ in policy_errors({"manager_discount_limit": 0.03, "partner_protection_days": 0, "x": 1})] == [
        "x", "partner_protection_days", "manager_discount_limit"]


async def test_the_city_gm_sets_a_projects_value_over_the_groups(factory, http):
    sc = factory.scenario()
    api = Api(http, sc.users)
    url = f"/api/projects/{sc.project_id}/sales-policy"
    body = (await api.get("sales", url)).json()
    assert body["partner_protection_days"] == 30 and body["manager_discount_limit"] == "0.02"
    assert (await api.http.put(url, json={"manager_discount_limit": "0.05"}, headers=await api.as_("manager"))).status_code == 403
    r = await api.http.put(url, json={"manager_discount_limit": "1.5", "partner_protection_days": "x"},
                           headers=await api.as_("citygm"))
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"body.manager_discount_limit", "body.partner_protection_days"}
    r = await api.http.put(url, json={"manager_discount_limit": "0.05"}, headers=await api.as_("citygm"))
    assert r.status_code == 200 and r.json()["manager_discount_limit"] == "0.05"
    assert (await api.get("manager", url)).json()["manager_discount_limit"] == "0.05"
