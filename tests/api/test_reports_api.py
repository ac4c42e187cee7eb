"""Reports through the API on constructed data with known answers (issue 16): SLA per step and department,
handling time per case by month against a baseline, refund reasons, outcomes and money, the live dashboard,
scoping and the XLSX workbooks.

The data are rows written directly with known timestamps, in a project (and a city company) of their own, so
no other test's data can enter the figures. Periods are China months of 2026 in the past; "now" figures
(open now, overdue now, the dashboard) are set relative to the real clock."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import text, update

from api.security import hash_password
from db.followup_models import WarningRecord
from db.models import (
    Building,
    IntakeForm,
    RefundCase,
    RefundInstruction,
    RetentionLedgerEntry,
    SlaBreach,
    Subscription,
    Task,
    Unit,
    User,
)
from db.org import grant
from db.reports import refresh_summaries, summary_drift
from domain import reports as R
from domain.calendar import CHINA
from tests.api.conftest import Api
from tests.factories import TEST_PASSWORD

MARCH = {"date_from": "2026-03-01", "date_to": "2026-04-30"}
FEBRUARY = {"date_from": "2026-02-01", "date_to": "2026-02-28"}
MAY = {"date_from": "2026-05-01", "date_to": "2026-05-31"}
M = timedelta(minutes=1)
H = timedelta(hours=1)
D = timedelta(days=1)


@dataclass
class Office:
    project_id: int
    other_project_id: int
    city_company_id: int
    users: dict[str, User]
    case_ids: dict[int, uuid.UUID] = field(default_factory=dict)


def build(factory, sf) -> Office:
    """Project P (in a city company of its own) with cases 0..13 whose every timestamp is known; project Q elsewhere."""
    tag = uuid.uuid4().hex[:8]
    now = datetime.now(timezone.utc)
    with sf.begin() as s:
        p = factory.project(s, name=f"报表项目-{tag}", city_company=f"报表城市公司-{tag}")
        q = factory.project(s, name=f"报表他项目-{tag}")
        pw = hash_password(TEST_PASSWORD)
        users: dict[str, User] = {}
        for key, role, project in (("manager", "manager", p.id), ("other_manager", "manager", q.id),
                                   ("marketing", "marketing", p.id), ("frontdesk", "frontdesk", p.id),
                                   ("hqrisk", "hqrisk", None), ("sales_a", "sales", p.id), ("sales_b", "sales", p.id)):
            u = User(username=f"rep-{key}-{tag}", display_name=f"顾问{key[-1].upper()}" if key.startswith("sales") else key,
                     role=role, password_hash=pw)
            s.add(u)
            s.flush()
            grant(s, u.id, role, project_id=project)
            users[key] = u
        office = Office(p.id, q.id, p.city_company_id, users)
    customer_id, _, _ = factory.customer(consultant_id=users["sales_a"].id, project_id=office.project_id)

    def case(s, n: int, *, registered: datetime, stage: str = "closed", path: str | None = None,
             outcome_after: timedelta | None = None, closed_after: timedelta | None = None,
             consultant: str = "sales_a", reasons: list[str] | None = None, loss: Decimal | None = None) -> uuid.UUID:
        b = Building(project_id=office.project_id, name=f"{n}号楼")
        s.add(b)
        s.flush()
        u = Unit(project_id=office.project_id, building_id=b.id, code="101", floor=1, layout="三室两厅",
                 gross_area=Decimal("100.00"), unit_price=Decimal("20000"), total_price=Decimal("2000000"), state="subscribed")
        s.add(u)
        s.flush()
        sub = Subscription(unit_id=u.id, customer_id=customer_id, consultant_id=users[consultant].id, price=Decimal("2000000"),
                           deposit_amount=Decimal("50000"), deposit_kind="定金", paid_amount=Decimal("50000"),
                           stage="deposit_paid", status="active", subscribed_at=registered - 30 * D)
        s.add(sub)
        s.flush()
        c = RefundCase(case_no=f"R{tag}-{n:02d}", project_id=office.project_id, unit_id=u.id, subscription_id=sub.id,
                       customer_id=customer_id, registered_by=users["manager"].id, registered_at=registered,
                       workflow_id=f"rep-{tag}-{n}", policy_version="test", stage=stage,
                       outcome={"path": path} if path else {}, loss_total=loss,
                       closed_at=registered + closed_after if closed_after is not None else None)
        s.add(c)
        s.flush()
        if outcome_after is not None:
            task(s, c, "archive", "archive", "manager", opened=registered + outcome_after, due=registered + outcome_after + D,
                 done_after=closed_after - outcome_after if closed_after is not None else None)
        if reasons is not None:
            s.add(IntakeForm(case_id=c.id, reasons=reasons, willing_to_consider="negotiate", id_verified=True,
                             phone_verified=True, submitted_by=users["manager"].id, submitted_at=registered + 5 * M))
        office.case_ids[n] = c.id
        return c.id

    def task(s, c: RefundCase, key: str, kind: str, role: str, *, opened: datetime, due: datetime | None,
             done_after: timedelta | None, status: str | None = None) -> None:
        s.add(Task(case_id=c.id, project_id=c.project_id, task_key=key, kind=kind, role=role, title=key, due_at=due,
                   status=status or ("done" if done_after is not None else "open"), created_at=opened,
                   completed_at=opened + done_after if done_after is not None else None))

    paths = {1: "B", 2: "B", 3: "B", 4: "B", 5: "A", 6: "A", 7: "C", 8: "withdrawn", 9: "legal", 10: "B"}
    reasons = {**{i: ["family_disagreement"] for i in range(1, 6)}, 6: ["funds_shortfall", "family_disagreement"],
               7: ["funds_shortfall", "family_disagreement"], 8: ["competitor_comparison"], 9: ["other"], 10: ["other"]}
    with sf.begin() as s:
        # Case 0, alone in February: to outcome 1.25 days, to archive 1.5; intake done in 10 minutes.
        reg0 = datetime(2026, 2, 10, 9, tzinfo=CHINA)
        cid = case(s, 0, registered=reg0, path="A", outcome_after=30 * H, closed_after=36 * H, reasons=["other"])
        task(s, s.get(RefundCase, cid), "intake", "intake", "frontdesk", opened=reg0, due=reg0 + 30 * M, done_after=10 * M)
        # Cases 1..10 in March: case i reaches its outcome after i days and is archived half a day later; its
        # intake takes 4·i minutes against a 30-minute clock (8, 9, 10 are late: 3 of 10); finance assesses in
        # 10·i minutes, done by 14·i minutes after registration, against 3 hours (none late).
        for i in range(1, 11):
            reg = datetime(2026, 3, 2, 9, tzinfo=CHINA) + i * H
            cid = case(s, i, registered=reg, path=paths[i], outcome_after=i * D, closed_after=i * D + 12 * H,
                       consultant="sales_a" if i <= 6 else "sales_b", reasons=reasons[i],
                       loss=Decimal("20000") if paths[i] == "B" else None)
            c = s.get(RefundCase, cid)
            task(s, c, "intake", "intake", "frontdesk", opened=reg, due=reg + 30 * M, done_after=4 * i * M)
            task(s, c, "assessment:finance", "assessment", "finance", opened=reg + 4 * i * M, due=reg + 3 * H,
                 done_after=10 * i * M)
            task(s, c, "assessment:legal", "assessment", "legal", opened=reg + 4 * i * M, due=reg + 2 * H,
                 done_after=None, status="cancelled")  # cancelled: counts nowhere
        # Case 11: a voided registration (no intake, not in the handling time).
        case(s, 11, registered=datetime(2026, 3, 20, 10, tzinfo=CHINA), path="voided", closed_after=2 * H)
        # Case 12: still open in assessment; legal's assessment overdue since March.
        reg12 = datetime(2026, 3, 25, 10, tzinfo=CHINA)
        cid = case(s, 12, registered=reg12, stage="assessment", consultant="sales_b", reasons=["funds_shortfall"])
        task(s, s.get(RefundCase, cid), "assessment:legal", "assessment", "legal", opened=reg12 + 20 * M,
             due=reg12 + 2 * H, done_after=None)
        # Case 13: registered now, its intake due in 90 minutes; one breach today.
        cid = case(s, 13, registered=now, stage="intake", reasons=None)
        task(s, s.get(RefundCase, cid), "intake", "intake", "frontdesk", opened=now, due=now + 90 * M, done_after=None)
        s.add(SlaBreach(case_id=cid, sla="assessment:finance", due_at=now - M, breached_at=now, escalated_to="manager"))
        # Money: A draws 8,000 and 5,000; B instructs 100,000 each (1–3 paid, 3 for 95,000); C's fee is waived.
        ids = office.case_ids
        s.add_all([RetentionLedgerEntry(project_id=office.project_id, amount=Decimal("100000"), memo="预算"),
                   RetentionLedgerEntry(project_id=office.project_id, case_id=ids[5], amount=Decimal("-8000"), memo="补偿"),
                   RetentionLedgerEntry(project_id=office.project_id, case_id=ids[6], amount=Decimal("-5000"), memo="补偿")])
        for i, paid in ((1, Decimal("100000")), (2, Decimal("100000")), (3, Decimal("95000")), (4, None), (10, None)):
            s.add(RefundInstruction(case_id=ids[i], customer_id=customer_id, amount=Decimal("100000"), share=Decimal("1"),
                                    route="tier", policy_version="test", status="paid" if paid else "issued",
                                    paid_amount=paid, paid_on=datetime(2026, 3, 20).date() if paid else None))
        old = s.get(Subscription, s.get(RefundCase, ids[7]).subscription_id)
        old.status = "transferred"
        s.flush()
        s.add(Subscription(unit_id=old.unit_id, customer_id=customer_id, consultant_id=old.consultant_id, price=old.price,
                           deposit_amount=old.deposit_amount, deposit_kind=old.deposit_kind, paid_amount=old.paid_amount,
                           stage=old.stage, status="active", transferred_from_id=old.id, fee_waived=True))
        # Warnings of the project's customer: a red one overdue, a yellow one not yet, an orange one answered.
        for level, due, answered in (("red", now - H, None), ("yellow", now + H, None), ("orange", now - H, now)):
            s.add(WarningRecord(warning_key=f"rep-{tag}-{level}", customer_id=customer_id, case_ref=f"rep-{tag}",
                                level=level, rules=[], risk_score=50, raised_at=now - 2 * H, response_due=due,
                                respond_role="manager", escalate_to="citygm", responded_at=answered))
    return office


@pytest.fixture
def office(factory, session_factory) -> Office:
    return build(factory, session_factory)


@pytest.fixture
def api(http, office) -> Api:
    return Api(http, office.users)


async def get(api: Api, role: str, url: str, **params) -> dict:
    r = await api.get(role, url, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def step(rep: dict, kind: str, role: str) -> dict:
    found = [s for s in rep["steps"] if s["step"] == kind and s["department"] == role]
    assert len(found) == 1, rep["steps"]
    return found[0]


async def test_sla_per_step_and_department_with_known_answers(api, office):
    rep = await get(api, "manager", "/api/reports/sla", project_id=office.project_id, baseline_days="5.8", **MARCH)
    intake = step(rep, "intake", "frontdesk")
    # 4, 8, ..., 40 minutes: median 22, p90 36 + 0.1·4 = 36.4; 32, 36, 40 are past the 30-minute clock.
    assert intake == {"step": "intake", "department": "frontdesk", "done": 10, "median_minutes": "22.0",
                      "p90_minutes": "36.4", "clocked": 10, "breached": 3, "breached_share": "0.3000",
                      "open_now": 1, "overdue_now": 0}  # open now: case 13's intake, whatever the period
    assert Decimal(intake["median_minutes"]) == R.minutes_1(R.median([4 * i * 60 for i in range(1, 11)]))
    finance = step(rep, "assessment", "finance")
    assert (finance["done"], finance["median_minutes"], finance["p90_minutes"], finance["breached_share"]) == (10, "55.0", "91.0", "0.0000")
    legal = step(rep, "assessment", "legal")  # ten cancelled (nowhere) and case 12's, open and overdue
    assert (legal["done"], legal["median_minutes"], legal["clocked"], legal["breached"], legal["breached_share"],
            legal["open_now"], legal["overdue_now"]) == (0, None, 1, 1, "1.0000", 1, 1)
    archive = step(rep, "archive", "manager")
    assert (archive["done"], archive["median_minutes"], archive["breached"]) == (10, "720.0", 0)
    departments = {d["department"]: d for d in rep["departments"]}
    assert departments["frontdesk"]["done"] == 10 and departments["frontdesk"]["breached"] == 3
    assert departments["legal"]["overdue_now"] == 1

    # Handling time: cases 1..10 reach their outcome after 1..10 days and are archived half a day later.
    h = rep["handling"]
    assert (h["cases"], h["voided"], h["with_outcome"], h["archived"]) == (12, 1, 10, 10)
    assert h["to_outcome"] == {"mean_days": "5.5", "median_days": "5.5", "p90_days": "9.1"}
    assert h["to_archive"] == {"mean_days": "6.0", "median_days": "6.0", "p90_days": "9.6"}
    assert rep["baseline_days"] == "5.8" and h["vs_baseline"] == "0.0517"
    months = {m["month"]: m for m in rep["handling_by_month"]}
    assert list(months) == ["2026-03", "2026-04"]
    assert months["2026-03"]["to_outcome"] == h["to_outcome"] and months["2026-03"]["vs_baseline"] == "0.0517"
    assert months["2026-04"]["cases"] == 0 and months["2026-04"]["to_outcome"]["median_days"] is None


async def test_a_one_case_period_and_an_empty_period(api, office):
    one = await get(api, "manager", "/api/reports/sla", project_id=office.project_id, **FEBRUARY)
    assert one["handling"]["to_outcome"] == {"mean_days": "1.3", "median_days": "1.3", "p90_days": "1.3"}  # 1.25, half up
    assert one["handling"]["to_archive"] == {"mean_days": "1.5", "median_days": "1.5", "p90_days": "1.5"}
    intake = step(one, "intake", "frontdesk")
    assert (intake["done"], intake["median_minutes"], intake["p90_minutes"], intake["breached_share"]) == (1, "10.0", "10.0", "0.0000")
    assert one["handling"]["vs_baseline"] is None  # no baseline given

    empty = await get(api, "manager", "/api/reports/sla", project_id=office.project_id, **MAY)
    assert empty["handling"]["cases"] == 0 and empty["handling"]["to_outcome"]["median_days"] is None
    assert [(s["step"], s["department"], s["done"], s["breached_share"], s["open_now"]) for s in empty["steps"]] == [
        ("intake", "frontdesk", 0, None, 1), ("assessment", "legal", 0, None, 1)]  # only what is open now
    reasons = await get(api, "manager", "/api/reports/reasons", project_id=office.project_id, **MAY)
    assert (reasons["cases"], reasons["with_intake"], reasons["reasons"], reasons["outcomes"]) == (0, 0, [], [])
    assert reasons["money"]["refunds_paid"] == "0.00" and reasons["by_month"] == [{"month": "2026-05", "cases": 0, "reasons": {}}]


async def test_reasons_outcomes_and_money_with_known_answers(api, office):
    rep = await get(api, "marketing", "/api/reports/reasons", project_id=office.project_id, **MARCH)
    assert (rep["cases"], rep["with_intake"]) == (12, 11)  # 1..12 registered; the voided one has no intake
    assert rep["reasons"] == [
        {"reason": "family_disagreement", "cases": 7, "share": "0.6364"},
        {"reason": "funds_shortfall", "cases": 3, "share": "0.2727"},
        {"reason": "other", "cases": 2, "share": "0.1818"},
        {"reason": "competitor_comparison", "cases": 1, "share": "0.0909"},
    ]
    assert rep["by_month"][0] == {"month": "2026-03", "cases": 11, "reasons": {
        "family_disagreement": 7, "funds_shortfall": 3, "other": 2, "competitor_comparison": 1}}
    assert rep["by_month"][1]["cases"] == 0
    assert [(p["project_id"], p["cases"]) for p in rep["by_project"]] == [(office.project_id, 11)]
    by_consultant = {c["consultant_id"]: c for c in rep["by_consultant"]}
    a, b = by_consultant[office.users["sales_a"].id], by_consultant[office.users["sales_b"].id]
    assert (a["consultant"], a["cases"], [(r["reason"], r["cases"]) for r in a["reasons"]]) == (
        "顾问A", 6, [("family_disagreement", 6), ("funds_shortfall", 1)])
    assert (b["cases"], {r["reason"]: r["cases"] for r in b["reasons"]}) == (
        5, {"family_disagreement": 1, "funds_shortfall": 2, "competitor_comparison": 1, "other": 2})

    outcomes = {o["path"]: o for o in rep["outcomes"]}
    assert list(outcomes) == ["A", "B", "C", "withdrawn", "voided", "legal", "open"]
    assert {p: o["cases"] for p, o in outcomes.items()} == {"A": 2, "B": 5, "C": 1, "withdrawn": 1, "voided": 1, "legal": 1, "open": 1}
    assert (outcomes["A"]["compensated"], outcomes["A"]["compensation"]) == (2, "13000.00")
    b_ = outcomes["B"]
    assert (b_["loss"], b_["refunds"], b_["refund_instructed"], b_["refunds_paid_count"], b_["refunds_paid"]) == (
        "100000.00", 5, "500000.00", 3, "295000.00")
    assert outcomes["C"]["fees_waived"] == 1 and outcomes["B"]["share"] == "0.4167"
    assert rep["money"] == {"cases": 12, "loss": "100000.00", "compensated": 2, "compensation": "13000.00", "refunds": 5,
                            "refund_instructed": "500000.00", "refunds_paid_count": 3, "refunds_paid": "295000.00",
                            "fees_waived": 1}
    assert rep["outcomes_by_month"][0]["paths"]["B"] == 5


async def test_the_dashboard_now(api, office):
    dash = await get(api, "manager", "/api/dashboard", project_id=office.project_id)
    assert (dash["open_cases"], dash["overdue_cases"]) == (2, 1)
    stages = {s["stage"]: s for s in dash["by_stage"]}
    assert stages["assessment"]["open"] == 1 and stages["assessment"]["overdue"] == 1
    assert stages["intake"]["open"] == 1 and stages["intake"]["lt_4h"] == 1  # due in 90 minutes
    assert [u["case_no"][-2:] for u in dash["urgent"]] == ["12", "13"]  # the overdue one first
    assert Decimal(dash["urgent"][1]["hours_left"]) in (Decimal("1.5"), Decimal("1.4"))
    assert dash["breaches_today"] == 1 and dash["breaches_today_by_step"] == [{"sla": "assessment:finance", "count": 1}]
    assert dash["warnings"] == [{"level": "red", "open": 1, "overdue": 1}, {"level": "orange", "open": 0, "overdue": 0},
                                {"level": "yellow", "open": 1, "overdue": 0}]
    assert len(dash["week"]) == 7 and dash["week"][-1]["date"] == dash["today"]
    assert (dash["week"][-1]["registered"], dash["week"][-1]["breaches"]) == (1, 1)
    assert sum(d["registered"] for d in dash["week"]) == 1


async def test_scoping_roles_and_filters(api, office):
    # A manager of another project: this project's records are 404; their own scope has none of its figures.
    r = await api.get("other_manager", "/api/reports/sla", params={"project_id": office.project_id, **MARCH})
    assert r.status_code == 404, r.text
    r = await api.get("other_manager", "/api/dashboard", params={"project_id": office.project_id})
    assert r.status_code == 404, r.text
    r = await api.get("other_manager", "/api/reports/reasons.xlsx", params={"project_id": office.project_id, **MARCH})
    assert r.status_code == 404, r.text
    own = await get(api, "other_manager", "/api/reports/sla", **MARCH)
    assert own["steps"] == [] and own["handling"]["cases"] == 0
    by_city = await get(api, "other_manager", "/api/reports/reasons", city_company_id=office.city_company_id, **MARCH)
    assert by_city["cases"] == 0 and by_city["reasons"] == []
    dash = await get(api, "other_manager", "/api/dashboard")
    assert dash["open_cases"] == 0 and dash["breaches_today"] == 0
    # Roles: the front desk reads no report; marketing reads reports but not the dashboard.
    assert (await api.get("frontdesk", "/api/reports/sla")).status_code == 403
    assert (await api.get("marketing", "/api/dashboard")).status_code == 403
    # HQ risk (group-wide) by city company: only this project is in it, so the same figures as the project's.
    by_company = await get(api, "hqrisk", "/api/reports/sla", city_company_id=office.city_company_id, **MARCH)
    by_project = await get(api, "hqrisk", "/api/reports/sla", project_id=office.project_id, **MARCH)
    assert by_company["steps"] == by_project["steps"] and by_company["handling"] == by_project["handling"]
    scope = await get(api, "manager", "/api/reports/scope")
    assert [p["id"] for p in scope["projects"]] == [office.project_id]
    assert [c["id"] for c in scope["city_companies"]] == [office.city_company_id]
    # A period the wrong way round, and a project that does not exist.
    r = await api.get("manager", "/api/reports/sla", params={"date_from": "2026-04-01", "date_to": "2026-03-01"})
    assert r.status_code == 422, r.text
    r = await api.get("hqrisk", "/api/reports/sla", params={"project_id": 2_000_000_000})
    assert r.status_code == 404, r.text


def sheet(data: bytes, name: str) -> list[tuple]:
    wb = load_workbook(io.BytesIO(data))
    return [tuple(row) for row in wb[name].iter_rows(values_only=True)]


async def test_the_workbooks_read_back_as_the_same_figures(api, office):
    r = await api.get("manager", "/api/reports/sla.xlsx", params={"project_id": office.project_id, "baseline_days": "5.8", **MARCH})
    assert r.status_code == 200, r.text
    assert "attachment" in r.headers["content-disposition"]
    steps = sheet(r.content, "按步骤")
    intake = next(row for row in steps if row[0] == "登记")
    assert intake == ("登记", "前台", 10, 22, 36.4, 10, 3, 0.3, 1, 0)
    handling = sheet(r.content, "处理时长")
    march = next(row for row in handling if row[0] == "2026-03")
    assert march[1:7] == (12, 10, 5.5, 5.5, 9.1, 10) and march[7:12] == (6, 6, 9.6, 5.8, 0.0517)

    r = await api.get("marketing", "/api/reports/reasons.xlsx", params={"project_id": office.project_id, **MARCH})
    assert r.status_code == 200, r.text
    reasons = sheet(r.content, "退房原因")
    assert reasons[1] == ("家庭意见不统一", 7, 0.6364)
    money = sheet(r.content, "结果与金额")
    total = money[-1]
    assert total == ("合计", 12, None, 100000, 2, 13000, 5, 500000, 3, 295000, 1)
    b = next(row for row in money if row[0].startswith("B"))
    assert b[1] == 5 and b[9] == 295000

    r = await api.get("manager", "/api/dashboard.xlsx", params={"project_id": office.project_id})
    assert r.status_code == 200, r.text
    assert sheet(r.content, "预警")[1] == ("red", 1, 1)


def test_case_durations_are_the_spans_the_report_is_made_of(office, session_factory):
    """What a bench or drill compares with its own measurements (db.reports.case_durations)."""
    from db.reports import case_durations

    with session_factory() as s:
        wids = [s.get(RefundCase, office.case_ids[i]).workflow_id for i in (3, 12)]
        found = case_durations(s, wids + ["no-such-workflow"])
    assert set(found) == set(wids)
    assert found[wids[0]] == {"project_id": office.project_id, "to_outcome": 3 * D, "to_archive": 3 * D + 12 * H}
    assert found[wids[1]]["to_outcome"] is None and found[wids[1]]["to_archive"] is None


async def test_malformed_filters_are_refused_never_a_server_error(api, office):
    for params in ({"baseline_days": "abc"}, {"baseline_days": "-1"}, {"baseline_days": "1e400"}, {"date_from": "1899-12-31"},
                   {"date_to": "2026-02-30"}, {"project_id": "true"}, {"city_company_id": "99999999999"},
                   {"date_from": "2020-01-01", "date_to": "2026-01-01"}):  # over three years
        for url, declared in (("/api/reports/sla", {"project_id", "city_company_id", "date_from", "date_to", "baseline_days"}),
                              ("/api/reports/reasons.xlsx", {"project_id", "city_company_id", "date_from", "date_to"}),
                              ("/api/dashboard", {"project_id", "city_company_id"})):
            r = await api.get("manager", url, params=params)
            # 422 for a parameter the route takes; one it does not take is ignored (the period check is the route's)
            expected = 422 if set(params) & declared else 200
            assert r.status_code == expected, (url, params, r.status_code, r.text[:300])


async def test_the_report_summary_stays_equal_to_the_records(api, office, session_factory):
    """The report facts and cells (migration 0028, schema `reporting`), refreshed from the cases the writers marked:
    after writes of every kind to every table they are computed from, they equal a recomputation from the records
    (db.reports.summary_drift), and the reports follow."""
    from sqlalchemy import delete, select

    ids = office.case_ids
    with session_factory.begin() as s:
        refresh_summaries(s)
    with session_factory() as s:
        assert set(summary_drift(s).values()) == {0}
    with session_factory.begin() as s:  # tasks: a step done, one removed, a department changed
        s.execute(update(Task).where(Task.case_id == ids[12], Task.task_key == "assessment:legal")
                  .values(status="done", completed_at=Task.created_at + 3 * H))
        s.execute(delete(Task).where(Task.case_id == ids[0], Task.task_key == "intake"))
        s.execute(update(Task).where(Task.case_id == ids[1], Task.task_key == "intake").values(role="manager"))
    with session_factory.begin() as s:  # the case: moved to May, an outcome changed; an archive task reopened
        s.execute(update(RefundCase).where(RefundCase.id == ids[2]).values(registered_at=datetime(2026, 5, 10, 9, tzinfo=CHINA)))
        s.execute(update(RefundCase).where(RefundCase.id == ids[8]).values(outcome={"path": "B"}, loss_total=Decimal("1000")))
        s.execute(update(Task).where(Task.case_id == ids[3], Task.task_key == "archive").values(created_at=Task.created_at + H))
    with session_factory.begin() as s:  # intake forms, the consultant, money, the transfer's fee
        s.execute(update(IntakeForm).where(IntakeForm.case_id == ids[9]).values(reasons=["funds_shortfall", "other", "other"]))
        s.execute(delete(IntakeForm).where(IntakeForm.case_id == ids[10]))
        s.execute(update(Subscription).where(Subscription.id == select(RefundCase.subscription_id).where(RefundCase.id == ids[1])
                                             .scalar_subquery()).values(consultant_id=office.users["sales_b"].id))
        s.execute(update(RefundInstruction).where(RefundInstruction.case_id == ids[4])
                  .values(status="paid", paid_amount=Decimal("90000")))
        s.execute(delete(RefundInstruction).where(RefundInstruction.case_id == ids[10]))
        s.execute(delete(RetentionLedgerEntry).where(RetentionLedgerEntry.case_id == ids[6]))
        s.execute(update(Subscription).where(Subscription.transferred_from_id.is_not(None),
                                             Subscription.transferred_from_id == select(RefundCase.subscription_id)
                                             .where(RefundCase.id == ids[7]).scalar_subquery()).values(fee_waived=False))
    with session_factory.begin() as s:  # a voided registration removed altogether
        s.execute(delete(RefundCase).where(RefundCase.id == ids[11]))
    with session_factory.begin() as s:
        refresh_summaries(s)
    with session_factory() as s:
        assert summary_drift(s) == {k: 0 for k in summary_drift(s)}

    may = await get(api, "manager", "/api/reports/sla", project_id=office.project_id, **MAY)
    assert (may["handling"]["cases"], may["handling_by_month"][0]["cases"]) == (1, 1)  # case 2, moved
    march = await get(api, "manager", "/api/reports/sla", project_id=office.project_id, **MARCH)
    assert march["handling"]["cases"] == 10 and march["handling"]["voided"] == 0  # 1, 3..10, 12: 2 moved, 11 removed
    legal = step(march, "assessment", "legal")
    assert (legal["done"], legal["median_minutes"], legal["open_now"]) == (1, "180.0", 0)  # case 12's, done in 3 hours
    rep = await get(api, "marketing", "/api/reports/reasons", project_id=office.project_id, **MARCH)
    assert (rep["cases"], rep["with_intake"]) == (10, 9)  # 1, 3..9 and 12 have an intake; 10's was removed
    assert {r["reason"]: r["cases"] for r in rep["reasons"]}["other"] == 1  # case 9, once however often it gives it
    assert rep["money"]["compensation"] == "8000.00" and rep["money"]["fees_waived"] == 0


async def test_a_write_marks_its_case_and_the_next_report_counts_it(api, office, session_factory):
    """The step path only marks the case a written row belongs to (reporting.dirty), and only when the row changed
    something the reports read; the next report refreshes the marked cases first (nothing else needed, no sweep)
    and its route keeps that refresh."""
    ids = office.case_ids

    def marks(s, n: int) -> int:
        return s.scalar(text("SELECT count(*) FROM reporting.dirty WHERE case_id = :c"), {"c": ids[n]})

    with session_factory.begin() as s:  # the fixture's own writes marked every case
        assert refresh_summaries(s) >= len(ids)
    with session_factory() as s:  # seen inside the writer's transaction, before any refresh could take it
        with s.begin():
            s.execute(update(Task).where(Task.case_id == ids[3], Task.task_key == "intake").values(title="接待登记"))
            s.execute(update(RefundCase).where(RefundCase.id == ids[3]).values(stage="archive"))
            assert marks(s, 3) == 0  # a title, a stage: nothing a report reads
            s.execute(update(Task).where(Task.case_id == ids[12], Task.task_key == "assessment:legal")
                      .values(status="done", completed_at=Task.created_at + 3 * H))
            assert marks(s, 12) == 1
    rep = await get(api, "manager", "/api/reports/sla", project_id=office.project_id, **MARCH)
    legal = step(rep, "assessment", "legal")
    assert (legal["done"], legal["median_minutes"]) == (1, "180.0")
    with session_factory() as s:
        assert marks(s, 12) == 0 and set(summary_drift(s).values()) == {0}


def test_concurrent_steps_of_one_project_never_wait_on_the_report_summaries(office, session_factory):
    """Two steps of one project, one month and one department written at once (both add an open task: the same
    cell of every summary) do not wait for each other: each only appends a mark. A writer that updated a shared
    counter row would wait here until the first commits — and this one gives up after 2 seconds."""
    def new_task(s, n: int) -> None:
        c = s.get(RefundCase, office.case_ids[n])
        s.add(Task(case_id=c.id, project_id=c.project_id, task_key=f"contract:{n}", kind="contract", role="legal",
                   title="合同", due_at=c.registered_at + 4 * H, status="open", created_at=c.registered_at + H))
        s.flush()

    first = session_factory()
    try:
        first.begin()
        new_task(first, 1)  # not committed: its transaction holds whatever it wrote
        with session_factory.begin() as second:
            second.execute(text("SET LOCAL lock_timeout = '2s'"))
            new_task(second, 2)  # same project, month, kind and department
        first.commit()
    finally:
        first.close()
    with session_factory.begin() as s:
        refresh_summaries(s)
    with session_factory() as s:
        assert set(summary_drift(s).values()) == {0}
        n = s.scalar(text("SELECT sum(tasks) FROM reporting.step_project_cells WHERE project_id = :p"
                          " AND kind = 'contract' AND role = 'legal'"), {"p": office.project_id})
        assert n == 2
