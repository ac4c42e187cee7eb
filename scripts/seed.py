"""Demo data, seeded once: the group's two city companies (杭州公司, 苏州公司) and three projects; the main
office's people (one login per role, named after the role) and the people of the two other projects (two
consultants and two in finance per project, so that four eyes never deadlocks); the published policy; the
main project with 2 buildings and 200 units, subscriptions in every stage a refund can meet, and 30 days of
visits, calls and sales for the statistics page; the other two projects with a building each and a few
subscriptions, so that isolation between projects can be seen."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from api.security import hash_password
from db.contracts import record_receipt, set_payment_plan, sign_contract
from db.customer_models import CustomerCall, CustomerFollowUp, CustomerVisit
from db.customers import new_customer
from db.demo_ids import mobile, resident_id
from db.ledger import set_unit_state
from db.org import city_company_id, grant
from db.models import (
    Building,
    Project,
    RefundPolicyVersion,
    RetentionLedgerEntry,
    Subscription,
    Unit,
    UnitState,
    User,
)
from db.pii import PiiCipher
from domain.calendar import CHINA
from domain.payments import PaymentMethod, PlannedInstalment
from domain.refund import RefundPolicy, money, policy_to_body
from scripts import seed_customers, seed_knowledge, seed_money, seed_pricing, seed_reception

DEMO_PASSWORD = "estateflow"
DEMO_USERS = {
    "frontdesk": "前台 小陈",
    "sales": "置业顾问 王磊",
    "manager": "案场经理 刘芳",
    "finance": "财务 周敏",
    "legal": "法务 孙涛",
    "marketing": "营销 李娜",
    "citygm": "城市公司总经理 赵刚",
    "hqrisk": "总部风控 钱进",
    "ops": "运营 吴越",
}
MAIN_PROJECT = "滨江府 (示范项目)"
# Everyone else: (login, display name, role, where). Where: a project name, a city company, or "group".
# The main office's manager 刘芳 also covers 西溪云庐; each project has two consultants and two in finance.
DEMO_PEOPLE = (
    ("sales2", "置业顾问 陈晨", "sales", MAIN_PROJECT),
    ("finance2", "财务 郑洁", "finance", MAIN_PROJECT),
    ("admin", "系统管理员 冯莉", "admin", "group"),
    ("group.legal", "集团法务 白露", "legal", "group"),  # approves group-wide refund-policy versions (four eyes)
    ("xixi.frontdesk", "前台 小叶", "frontdesk", "西溪云庐"),
    ("xixi.sales", "置业顾问 许诺", "sales", "西溪云庐"),
    ("xixi.sales2", "置业顾问 蒋涵", "sales", "西溪云庐"),
    ("xixi.finance", "财务 沈清", "finance", "西溪云庐"),
    ("xixi.finance2", "财务 韩雪", "finance", "西溪云庐"),
    ("xixi.legal", "法务 杜衡", "legal", "西溪云庐"),
    ("xixi.marketing", "营销 袁媛", "marketing", "西溪云庐"),
    ("sz.frontdesk", "前台 小顾", "frontdesk", "金鸡湖畔"),
    ("sz.sales", "置业顾问 陆远", "sales", "金鸡湖畔"),
    ("sz.sales2", "置业顾问 范思", "sales", "金鸡湖畔"),
    ("sz.manager", "案场经理 王强", "manager", "金鸡湖畔"),
    ("sz.finance", "财务 顾琳", "finance", "金鸡湖畔"),
    ("sz.finance2", "财务 潘婷", "finance", "金鸡湖畔"),
    ("sz.legal", "法务 曹阳", "legal", "金鸡湖畔"),
    ("sz.marketing", "营销 彭悦", "marketing", "金鸡湖畔"),
    ("sz.citygm", "城市公司总经理 孙伟", "citygm", "苏州公司"),
)
# (project, city company, city, buildings, floors) — the main project is built below as before.
OTHER_PROJECTS = (("西溪云庐", "杭州公司", "杭州", 1, 12), ("金鸡湖畔", "苏州公司", "苏州", 1, 12))
POLICY_VERSION = "2026.1"
LAYOUTS = ("三室两厅 98㎡", "三室两厅 112㎡", "四室两厅 128㎡", "两室两厅 86㎡")
AREAS = (Decimal("98.00"), Decimal("112.00"), Decimal("128.00"), Decimal("86.00"))
# (stage, deposit kind, deposit, paid share of price, unit state) — each refund tier can be tried at once.
STAGES = (
    ("deposit_paid", "定金", Decimal("50000"), None, UnitState.SUBSCRIBED),
    ("deposit_paid", "订金", Decimal("20000"), None, UnitState.SUBSCRIBED),
    ("online_signed", "定金", Decimal("50000"), Decimal("0.30"), UnitState.SIGNED),
    ("loan_disbursed", "定金", Decimal("50000"), Decimal("1.00"), UnitState.SIGNED),
)
PER_STAGE = 6
STATS_DAYS = 30  # visits, calls and sales over the last 30 days, so the statistics page has charts
PROSPECTS = 60


def seed(session_factory: sessionmaker[Session], cipher: PiiCipher, *, today: date | None = None) -> bool:
    """Seeds an empty database; returns False (and writes nothing) when users already exist."""
    today = today or date.today()
    with session_factory.begin() as s:
        if s.scalar(select(func.count()).select_from(User)):
            return False
        pw = hash_password(DEMO_PASSWORD)
        users = {role: User(username=role, display_name=name, role=role, password_hash=pw) for role, name in DEMO_USERS.items()}
        people = {login: User(username=login, display_name=name, role=role, password_hash=pw)
                  for login, name, role, _ in DEMO_PEOPLE}
        s.add_all([*users.values(), *people.values()])
        policy = RefundPolicy(version=POLICY_VERSION)
        s.add(RefundPolicyVersion(version=policy.version, body=policy_to_body(policy), approved_by="集团法务部"))
        cities = {name: city_company_id(s, name) for name in ("杭州公司", "苏州公司")}
        project = Project(name=MAIN_PROJECT, city="杭州", city_company_id=cities["杭州公司"],
                          marketing_budget=Decimal("4000000"), retention_ratio=Decimal("0.05"), grace_days=7)
        s.add(project)
        s.flush()
        projects = {MAIN_PROJECT: project}
        for name, city_company, city, _, _ in OTHER_PROJECTS:
            projects[name] = Project(name=name, city=city, city_company_id=cities[city_company],
                                     marketing_budget=Decimal("3000000"), retention_ratio=Decimal("0.05"), grace_days=7)
            s.add(projects[name])
        s.flush()
        _memberships(s, users, people, projects, cities)
        s.add(RetentionLedgerEntry(project_id=project.id, amount=money(project.marketing_budget * project.retention_ratio), memo="挽留资金池: 营销预算的 5%"))
        units: list[Unit] = []
        for b in (1, 2):
            building = Building(project_id=project.id, name=f"{b}号楼")
            s.add(building)
            s.flush()
            for floor in range(1, 26):
                for idx in range(4):
                    unit_price = Decimal("30000") + Decimal(floor * 150) + (Decimal("800") if idx in (1, 2) else 0)
                    total = (AREAS[idx] * unit_price).quantize(Decimal("1"))
                    units.append(
                        Unit(project_id=project.id, building_id=building.id, code=f"{floor}{idx + 1:02d}", floor=floor,
                             layout=LAYOUTS[idx], gross_area=AREAS[idx], unit_price=unit_price, total_price=total,
                             state=UnitState.AVAILABLE)
                    )
        s.add_all(units)
        s.flush()
        names = "张伟 王芳 李娜 刘洋 陈静 杨磊 赵敏 黄勇 周杰 吴霞 徐明 孙丽 马超 朱琳 胡军 郭婷 何斌 高雪 林峰 罗佳 郑浩 梁燕 谢东 宋雨 唐亮 韩梅 冯涛 邓洁".split()
        n = 0
        for stage_no, (stage, kind, deposit, paid_share, state) in enumerate(STAGES):
            for i in range(PER_STAGE):
                unit = units[(stage_no * PER_STAGE + i) * 7 % len(units)]
                c = new_customer(s, cipher, name=names[n % len(names)], id_type="resident_id", id_number=resident_id(100 + n),
                                 mobile=mobile(10_000_000 + n * 7919), consultant_id=users["sales"].id, today=today,
                                 project_id=project.id)
                n += 1
                paid = deposit if paid_share is None else money(unit.total_price * paid_share)
                unit.state = state
                s.add(Subscription(unit_id=unit.id, customer_id=c.id, consultant_id=users["sales"].id, price=unit.total_price,
                                   deposit_amount=deposit, deposit_kind=kind, paid_amount=paid, stage=stage, status="active",
                                   subscribed_at=datetime.now(timezone.utc) - timedelta(days=10 + i)))
        for j in range(4):  # replacement buyers for path C
            new_customer(s, cipher, name=f"接盘客户{j + 1}", id_type="resident_id", id_number=resident_id(900 + j),
                         mobile=mobile(20_000_000 + j), consultant_id=users["sales"].id, today=today, project_id=project.id)
        _demo_activity(s, cipher, users, units[1::7][:12], names, today)  # units the stages above do not use
        for module in (seed_reception, seed_pricing, seed_money, seed_customers, seed_knowledge):  # the daily workspace (issue 15)
            module.seed(s, cipher, project=project, users=users, people=people, units=units, today=today)
        for k, (name, *_rest) in enumerate(OTHER_PROJECTS):
            _other_project(s, cipher, projects[name], people, k, today)
    return True


def _memberships(s: Session, users: dict[str, User], people: dict[str, User], projects: dict[str, Project],
                 cities: dict[str, int]) -> None:
    main = projects[MAIN_PROJECT].id
    for role, u in users.items():
        if role == "citygm":
            grant(s, u.id, role, city_company_id=cities["杭州公司"])
        elif role in ("hqrisk", "ops"):
            grant(s, u.id, role)
        else:
            grant(s, u.id, role, project_id=main)
    grant(s, users["manager"].id, "manager", project_id=projects["西溪云庐"].id)
    for login, _, role, where in DEMO_PEOPLE:
        if where == "group":
            grant(s, people[login].id, role)
        elif where in cities:
            grant(s, people[login].id, role, city_company_id=cities[where])
        else:
            grant(s, people[login].id, role, project_id=projects[where].id)


def _other_project(s: Session, cipher: PiiCipher, project: Project, people: dict[str, User], k: int, today: date) -> None:
    """A project of one building, 12 floors × 4 units, with its retention pool and four subscriptions of its
    own customers (its first consultant's), ready for a refund."""
    prefix = ("xixi", "sz")[k]
    consultant = people[f"{prefix}.sales"]
    s.add(RetentionLedgerEntry(project_id=project.id, amount=money(project.marketing_budget * project.retention_ratio),
                               memo="挽留资金池: 营销预算的 5%"))
    building = Building(project_id=project.id, name="1号楼")
    s.add(building)
    s.flush()
    units = []
    for floor in range(1, 13):
        for idx in range(4):
            unit_price = Decimal("26000") + Decimal(floor * 120)
            units.append(Unit(project_id=project.id, building_id=building.id, code=f"{floor}{idx + 1:02d}", floor=floor,
                              layout=LAYOUTS[idx], gross_area=AREAS[idx], unit_price=unit_price,
                              total_price=(AREAS[idx] * unit_price).quantize(Decimal("1")), state=UnitState.AVAILABLE))
    s.add_all(units)
    s.flush()
    for i in range(4):
        unit = units[i * 9 + 2]
        c = new_customer(s, cipher, name=("吕", "施", "孔", "严")[i] + ("思远", "若溪")[k], id_type="resident_id",
                         id_number=resident_id(700 + 10 * k + i), mobile=mobile(40_000_000 + (10 * k + i) * 7919),
                         consultant_id=consultant.id, today=today, project_id=project.id)
        unit.state = UnitState.SUBSCRIBED
        s.add(Subscription(unit_id=unit.id, customer_id=c.id, consultant_id=consultant.id, price=unit.total_price,
                           deposit_amount=Decimal("50000"), deposit_kind="定金", paid_amount=Decimal("50000"),
                           stage="deposit_paid", status="active", subscribed_at=datetime.now(timezone.utc) - timedelta(days=5 + i)))
    s.flush()


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), CHINA)


def _demo_activity(s: Session, cipher: PiiCipher, users: dict[str, User], units: list[Unit], names: list[str],
                   today: date) -> None:
    """Prospects with visits, calls and follow-ups on each of the last 30 days and today (from 09:00 China
    time) and a sale per unit among them, 2 to 24 days ago; sales older than a week are signed with a first
    receipt. Deterministic for a given `today`."""
    sales, frontdesk = users["sales"], users["frontdesk"]
    prospects = [
        new_customer(s, cipher, name=names[(7 * j + 3) % len(names)], id_type="resident_id", id_number=resident_id(500 + j),
                     mobile=mobile(30_000_000 + j * 7919), consultant_id=sales.id, today=today, rating="ABCD"[j % 4],
                     project_id=units[0].project_id)
        for j in range(PROSPECTS)
    ]
    v = 0  # visits so far: about two in three are a new prospect's first visit, the rest repeats
    for k in range(STATS_DAYS, -1, -1):
        day = today - timedelta(days=k)
        for g in range(2 + k * 7 % 5):
            s.add(CustomerVisit(customer_id=prospects[v * 2 // 3 % PROSPECTS].id, visited_at=_at(day, 10 + g, 15 * (k % 4)),
                                group_size=1 + (k + g) % 3, note="", recorded_by=frontdesk.id))
            v += 1
        for g in range(3 + k % 4):
            s.add(CustomerCall(customer_id=prospects[(k * 5 + g) % PROSPECTS].id, called_at=_at(day, 9, 5 * g),
                               direction="inbound" if g % 3 else "outbound", duration_seconds=60 + 30 * g, note="",
                               recorded_by=frontdesk.id))
        if k % 3 == 0:
            at = _at(day, 17)
            s.add(CustomerFollowUp(customer_id=prospects[k % PROSPECTS].id, at=at, channel="phone", note="邀约看样板间",
                                   topics=[], next_appointment_at=at + timedelta(days=3), recorded_by=sales.id))
    deposit = Decimal("50000")
    for m, unit in enumerate(units):
        day = today - timedelta(days=2 + 2 * m)
        sub = Subscription(unit_id=unit.id, customer_id=prospects[2 * m].id, consultant_id=sales.id, price=unit.total_price,
                           deposit_amount=deposit, deposit_kind="定金", paid_amount=deposit, stage="deposit_paid",
                           status="active", subscribed_at=_at(day, 15), signing_deadline=day + timedelta(days=7))
        s.add(sub)
        s.flush()
        set_unit_state(s, unit, UnitState.SUBSCRIBED, actor=sales.username, reason=f"认购 #{sub.id}", at=sub.subscribed_at)
        s.flush()  # sign_contract re-reads the unit
        signed_on = day + timedelta(days=5)
        if signed_on > today - timedelta(days=3):
            continue  # still within its signing week
        c = sign_contract(s, subscription_id=sub.id, contract_no=f"HT-DEMO-{m + 1:03d}", signed_on=signed_on,
                          signer=sales, today=today)
        set_payment_plan(s, contract_id=c.id, method=PaymentMethod.FULL, actor=sales, instalments=[
            PlannedInstalment(due_on=signed_on + timedelta(days=45), amount_due=money(unit.total_price - deposit), label="全款")])
        record_receipt(s, contract_id=c.id, amount=money(unit.total_price * Decimal("0.30") - deposit),
                       received_on=signed_on + timedelta(days=2), reference=f"POS-DEMO-{m + 1:03d}", actor=users["finance"],
                       today=today)


def demo_ids_note() -> str:
    return (
        "Demo buyers' ID numbers and mobiles for the intake form are made by db/demo_ids.py: "
        "customer k (k = 0, 1, ...) has resident_id(100 + k) and mobile(10000000 + 7919 k)."
    )
