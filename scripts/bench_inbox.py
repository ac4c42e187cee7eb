"""Inbox and case list at scale (issue 12): p50/p99 of `GET /api/tasks` and `GET /api/refund-cases` through the
real API, for people of four reaches, with 100,000 refund cases across 20 projects and 500 people. Goal: every
p99 <= 50 ms. A benchmark that prints, not a test: it exits 0 whether or not the target is met.

Starts a throwaway embedded PostgreSQL (or uses BENCH_DATABASE_URL, an admin URL), creates a scratch database,
migrates it and seeds with COPY, deterministically: BENCH_PROJECTS (default 20) projects over 4 city companies;
per project 5 buildings, a unit, customer and subscription per case, BENCH_CASES_PER_PROJECT (default 5,000)
refund cases, 10% open (in every stage, with their open tasks, some claimed, some escalated) and the rest closed
(their steps' tasks done); 500 people (24 per project, a city GM and a regional legal per city company, HQ), each with the
memberships of their reach. Then VACUUM ANALYZE.

The app is api.main.create_app with a placeholder Temporal client (the list routes never call it), driven
in-process with httpx.AsyncClient(ASGITransport) inside its lifespan: every request goes through sign-in
token checks, the role and scope dependencies, the route's queries and the response model. As (a) a project
manager, (b) a project's finance, (c) a city GM (5 projects) and (d) HQ risk (every project): the inbox (page
1, page 2 by its cursor, overdue only) and the case list (50 newest, open only), BENCH_RUNS (default 300)
times each after a warm-up. Per line: p50/p99 of the request and p50 of its SQL. When a p99 misses the target,
the statements of that request are run under EXPLAIN (ANALYZE, BUFFERS) and the slowest one's plan is printed.
BENCH_EXTRA_SQL (optional) runs after seeding, before VACUUM ANALYZE: to try an index before writing its migration.

    .venv/bin/python -m scripts.bench_inbox
"""

from __future__ import annotations

import asyncio
import gc
import io
import json
import os
import random
import statistics
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import httpx
import sqlalchemy as sa
from sqlalchemy import event, insert

from api.main import create_app
from api.security import hash_password
from config.settings import Settings, get_settings
from db.demo_ids import resident_id
from db.models import Building, Project, RefundPolicyVersion, User
from db.org_models import CityCompany, Membership
from db.pii import PiiCipher
from db.scratch import scratch_database
from db.session import make_engine, make_session_factory
from domain.identity import mask_id_number, mask_mobile
from domain.refund import RefundPolicy, policy_to_body
from scripts.seed import DEMO_PASSWORD, POLICY_VERSION

TARGET_P99_MS = 50.0

CITIES = (("杭州公司", "杭州"), ("上海公司", "上海"), ("南京公司", "南京"), ("苏州公司", "苏州"))
PROJECT_SUFFIXES = ("壹号院", "云庐", "江畔", "悦府", "湖畔")
# Per project (24 people): role → how many.
PROJECT_STAFF = (("frontdesk", 3), ("sales", 12), ("manager", 2), ("finance", 3), ("legal", 2), ("marketing", 2))
# Group-wide people (12); plus per city company a city GM and a regional legal (8): 500 in all with 20 projects.
GROUP_STAFF = (("hqrisk", 4), ("ops", 4), ("admin", 2), ("finance", 2))
BUILDINGS_PER_PROJECT = 5
UNITS_PER_FLOOR = 25

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国志红文斌宇浩凯鹏飞俊峰晨欣怡佳琪子涵梓轩"
LAYOUTS = (("三室两厅", Decimal("98.00")), ("三室两厅", Decimal("112.00")), ("四室两厅", Decimal("128.00")),
           ("两室两厅", Decimal("86.00")))
# The stages an open case is in, with their share of open cases.
OPEN_STAGES = (("intake", 15), ("assessment", 35), ("gm_approval", 5), ("solution", 15), ("choice", 15),
               ("contract_cancellation", 5), ("archive", 10))
# How a closed case ended: (outcome, share): A stays (+compensation), B refund, C transfer, W withdrawn at assessment.
CLOSED_OUTCOMES = (("A", 35), ("B", 45), ("C", 10), ("W", 10))
DEPARTMENTS = ("finance", "legal", "marketing")
INTAKE, ASSESS, SOLUTION, ARCHIVE = timedelta(minutes=30), timedelta(hours=2), timedelta(hours=4), timedelta(hours=24)


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def _n(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _weighted(rng: random.Random, table) -> str:
    return rng.choices([k for k, _ in table], weights=[w for _, w in table])[0]


def _c(v) -> str:
    """One COPY text-format field."""
    if v is None:
        return r"\N"
    if isinstance(v, bool):
        return "t" if v else "f"
    if isinstance(v, datetime):
        return v.isoformat()
    if isinstance(v, (dict, list)):
        v = json.dumps(v, ensure_ascii=False, separators=(",", ":"))
    return str(v).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


class Copier:
    """Rows per table, COPYed in FK order by flush()."""

    def __init__(self, columns: dict[str, tuple[str, ...]]) -> None:
        self.columns = columns
        self.bufs = {t: io.StringIO() for t in columns}
        self.counts = {t: 0 for t in columns}

    def row(self, table: str, *values) -> None:
        self.bufs[table].write("\t".join(_c(v) for v in values) + "\n")
        self.counts[table] += 1

    def flush(self, cur) -> None:
        for table, cols in self.columns.items():
            buf = self.bufs[table]
            buf.seek(0)
            cur.copy_expert(f"COPY {table} ({', '.join(cols)}) FROM STDIN", buf)
            self.bufs[table] = io.StringIO()


COLUMNS = {
    "units": ("id", "project_id", "building_id", "code", "floor", "layout", "gross_area", "unit_price", "total_price",
              "state", "state_before_refund", "use"),
    "customers": ("id", "name", "id_type", "id_number_enc", "id_number_bidx", "id_number_masked", "mobile_enc",
                  "mobile_bidx", "mobile_masked", "consultant_id", "rating", "tags", "project_id"),
    "subscriptions": ("id", "unit_id", "customer_id", "consultant_id", "price", "deposit_amount", "deposit_kind",
                      "paid_amount", "stage", "status", "subscribed_at", "fee_waived", "co_resident_ack"),
    "refund_cases": ("id", "case_no", "project_id", "unit_id", "subscription_id", "customer_id", "registered_by",
                     "registered_at", "workflow_id", "run_id", "policy_version", "stage", "escalation_level", "needs_gm",
                     "escalation_reasons", "deadlines", "assessments", "options", "chosen_option", "outcome",
                     "loss_total", "refund_amount", "closed_at", "retain_until", "updated_at"),
    "tasks": ("id", "case_id", "project_id", "task_key", "kind", "role", "title", "due_at", "status", "created_at",
              "completed_at", "completed_by", "claimed_by", "claimed_at"),
}


@dataclass
class Org:
    projects: list[int] = field(default_factory=list)  # project ids, in order
    city_of: dict[int, int] = field(default_factory=dict)  # project id → city company id
    buildings: dict[int, list[int]] = field(default_factory=dict)  # project id → building ids
    people: dict[tuple[int, str], list[int]] = field(default_factory=dict)  # (project id, role) → user ids
    citygm: dict[int, int] = field(default_factory=dict)  # city company id → its GM's user id
    usernames: dict[int, str] = field(default_factory=dict)  # user id → login
    hqrisk: int = 0


def seed_org(sf, password_hash: str, n_projects: int) -> Org:
    org = Org()
    with sf.begin() as s:
        cities = [CityCompany(name=name) for name, _ in CITIES]
        s.add_all(cities)
        s.flush()
        policy = RefundPolicy(version=POLICY_VERSION)
        s.add(RefundPolicyVersion(version=policy.version, body=policy_to_body(policy), approved_by="集团法务部"))
        projects = []
        for k in range(n_projects):
            city = cities[k % len(cities)]
            cname = CITIES[k % len(CITIES)][1]
            projects.append(Project(name=f"{cname}{PROJECT_SUFFIXES[(k // len(cities)) % len(PROJECT_SUFFIXES)]}"
                                         f"{'' if k < len(cities) * len(PROJECT_SUFFIXES) else k}",
                                    city=cname, city_company_id=city.id, marketing_budget=Decimal("5000000")))
        s.add_all(projects)
        s.flush()
        for p in projects:
            org.projects.append(p.id)
            org.city_of[p.id] = p.city_company_id
            blds = [Building(project_id=p.id, name=f"{b + 1}号楼") for b in range(BUILDINGS_PER_PROJECT)]
            s.add_all(blds)
            s.flush()
            org.buildings[p.id] = [b.id for b in blds]
        rng = random.Random(5)
        users: list[tuple[User, str, dict]] = []  # (user, role, where)
        n = 0

        def person(role: str, where: dict) -> None:
            nonlocal n
            n += 1
            name = rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")
            users.append((User(username=f"u{n:04d}.{role}", display_name=name, role=role, password_hash=password_hash,
                               employee_no=f"E{n:05d}"), role, where))

        for pid in org.projects:
            for role, count in PROJECT_STAFF:
                for _ in range(count):
                    person(role, {"project_id": pid})
        for c in cities:
            person("citygm", {"city_company_id": c.id})
            person("legal", {"city_company_id": c.id})
        for role, count in GROUP_STAFF:
            for _ in range(count):
                person(role, {})
        s.add_all([u for u, _, _ in users])
        s.flush()
        rows = []
        for u, role, where in users:
            org.usernames[u.id] = u.username
            scope = "project" if "project_id" in where else "city" if "city_company_id" in where else "group"
            rows.append(dict(user_id=u.id, role=role, scope=scope, project_id=where.get("project_id"),
                             city_company_id=where.get("city_company_id")))
            if scope == "project":
                org.people.setdefault((where["project_id"], role), []).append(u.id)
            elif role == "citygm":
                org.citygm[where["city_company_id"]] = u.id
            elif role == "hqrisk" and not org.hqrisk:
                org.hqrisk = u.id
        s.execute(insert(Membership), rows)
    return org


class Seeder:
    def __init__(self, org: Org, cipher: PiiCipher, now: datetime, per_project: int) -> None:
        self.org, self.now, self.per_project = org, now, per_project
        self.rng = random.Random(12)
        self.ids = {"units": 0, "customers": 0, "subscriptions": 0, "tasks": 0}
        pool = 500
        self.id_tokens = [cipher.encrypt(resident_id(k, birth="19850101")) for k in range(pool)]
        self.mobile_tokens = [cipher.encrypt(f"138{k:08d}") for k in range(pool)]
        self.cipher = cipher
        self.case_seq = 0
        self.counts = {"open cases": 0, "open tasks": 0, "done tasks": 0}

    def _next(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    def _who(self, pid: int, role: str) -> int:
        if role == "citygm":
            return self.org.citygm[self.org.city_of[pid]]
        return self.rng.choice(self.org.people[(pid, role)])

    def project(self, cp: Copier, pid: int) -> None:
        rng, now = self.rng, self.now
        n_open = self.per_project // 10
        for j in range(self.per_project):
            is_open = j < n_open
            if is_open:  # open cases are mostly recent; a few have been stuck for weeks
                age = timedelta(days=min(rng.expovariate(1 / 2.5), 60), seconds=rng.randrange(86400))
            else:
                age = timedelta(days=rng.uniform(3, 730))
            reg = now - age
            self.case_seq += 1
            case_id = uuid.UUID(int=rng.getrandbits(128), version=4)
            case_no = f"RF{reg:%Y%m%d}-{self.case_seq:06X}"

            # The unit, its buyer and the subscription the case is about.
            b, within = divmod(j, -(-self.per_project // BUILDINGS_PER_PROJECT))
            floor, k = divmod(within, UNITS_PER_FLOOR)
            layout, area = LAYOUTS[j % len(LAYOUTS)]
            unit_price = Decimal(18000 + 500 * (j % 17))
            total = (area * unit_price).quantize(Decimal("1"))
            sales = self._who(pid, "sales")
            stage = _weighted(rng, OPEN_STAGES) if is_open else "closed"
            outcome = None if is_open else _weighted(rng, CLOSED_OUTCOMES)
            contract_stage = rng.choice(("deposit_paid", "deposit_paid", "online_signed", "loan_disbursed"))
            before = "subscribed" if contract_stage == "deposit_paid" else "signed"
            unit_state = ("refunding" if is_open else "available" if outcome == "B" else before)
            sub_status = "cancelled" if outcome == "B" else "transferred" if outcome == "C" else "active"
            unit_id, cust_id, sub_id = self._next("units"), self._next("customers"), self._next("subscriptions")
            cp.row("units", unit_id, pid, self.org.buildings[pid][b],
                   f"{floor + 1}{k + 1:02d}", floor + 1, layout, area, unit_price, total, unit_state,
                   before if is_open else None, "住宅")
            name = rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
            id_no = resident_id(cust_id % 1000, birth=f"19{60 + cust_id % 40:02d}0{1 + cust_id % 9}1{cust_id % 10}")
            mob = f"139{cust_id:08d}"
            cp.row("customers", cust_id, name, "resident_id", self.id_tokens[cust_id % len(self.id_tokens)],
                   self.cipher.blind_index("id.resident_id", id_no), mask_id_number(id_no),
                   self.mobile_tokens[cust_id % len(self.mobile_tokens)], self.cipher.blind_index("mobile", mob),
                   mask_mobile(mob), sales, "ABCD"[cust_id % 4], [], pid)
            deposit = Decimal(50000)
            paid = deposit if contract_stage == "deposit_paid" else (total * Decimal("0.3")).quantize(Decimal("1"))
            cp.row("subscriptions", sub_id, unit_id, cust_id, sales, total, deposit,
                   rng.choice(("定金", "定金", "订金")), paid, contract_stage, sub_status,
                   reg - timedelta(days=rng.uniform(10, 300)), outcome == "C", False)

            # The case row.
            deadlines = {"intake": reg + INTAKE, "assessment": reg + ASSESS, "solution": reg + SOLUTION}
            done_steps, open_steps = self._steps(stage, outcome)
            escalations = [sla for sla, due in deadlines.items() if is_open and due < now and rng.random() < 0.5
                           and sla in self._escalatable(stage)]
            assessed = stage not in ("intake", "assessment")
            assessments = ({d: {"by": self.org.usernames[self._who(pid, d)], "note": "已核实合同与付款记录",
                                **({"proposed_share": "0.8", "loss": {"commission_accrued": "12000.00"}}
                                   if d == "finance" else {"fault": "buyer"} if d == "legal" else {})}
                            for d in DEPARTMENTS} if assessed else {})
            options = ([{"kind": "A", "description": "继续履约, 留存补偿", "compensation": "5000.00", "fee_waiver": False},
                        {"kind": "B", "description": "解除合同, 按政策退款", "compensation": "0", "fee_waiver": False}]
                       if not is_open and outcome != "W" or stage in ("choice", "contract_cancellation", "archive")
                       else [])
            closed_at = None if is_open else reg + timedelta(days=rng.uniform(1, 3))
            chosen = outcome if outcome in ("A", "B", "C") else ("B" if stage in ("contract_cancellation", "archive")
                                                                 else None)
            refund = (paid * Decimal("0.8")).quantize(Decimal("0.01")) if chosen == "B" else None
            cp.row("refund_cases", case_id, case_no, pid, unit_id, sub_id, cust_id, self._who(pid, "frontdesk"), reg,
                   f"refund-case-{case_id}", uuid.UUID(int=rng.getrandbits(128), version=4), POLICY_VERSION, stage,
                   len(escalations), stage == "gm_approval", [f"{s} 超时" for s in escalations],
                   {k: v.isoformat() for k, v in deadlines.items()}, assessments, options, chosen,
                   {"kind": chosen, "closed_by": "archive"} if not is_open and chosen else {},
                   Decimal("15000.00") if assessed else None, refund, closed_at,
                   closed_at + timedelta(days=730) if closed_at else None, closed_at or reg)

            # Its tasks: the steps done, and the open ones (some claimed), escalations of missed SLAs.
            t = reg
            for key, kind, role in done_steps:
                t = t + timedelta(minutes=rng.uniform(5, 90))
                self._task(cp, case_id, pid, key, kind, role, case_no, self._due(kind, deadlines, t), "done", reg,
                           completed=(t, self._who(pid, role)))
            for key, kind, role in open_steps + [(f"escalation:{s}", "escalation", "manager") for s in escalations]:
                claimed = self._who(pid, role) if rng.random() < 0.25 else None
                due = None if kind == "escalation" else self._due(kind, deadlines, t)
                self._task(cp, case_id, pid, key, kind, role, case_no, due, "open", t,
                           claimed=(claimed, t + timedelta(minutes=10)) if claimed else None)
            self.counts["open cases"] += is_open

    def _escalatable(self, stage: str) -> tuple[str, ...]:
        return {"intake": ("intake", "assessment", "solution"), "assessment": ("assessment", "solution"),
                "gm_approval": ("solution",), "solution": ("solution",)}.get(stage, ())

    def _due(self, kind: str, deadlines: dict, t: datetime) -> datetime | None:
        return {"intake": deadlines["intake"], "assessment": deadlines["assessment"],
                "gm_approval": deadlines["solution"], "solution": deadlines["solution"],
                "archive": t + ARCHIVE}.get(kind)

    def _steps(self, stage: str, outcome: str | None):
        """(done, open) steps of a case: (task key, kind, role)."""
        intake = [("intake", "intake", "frontdesk")]
        assess = [(f"assessment:{d}", "assessment", d) for d in DEPARTMENTS]
        solution = [("solution", "solution", "manager")]
        choice = [("choice", "choice", "manager")]
        cancel = [("contract_cancellation", "contract_cancellation", "legal")]
        archive = [("archive", "archive", "manager")]
        if stage == "closed":
            return {"A": intake + assess + solution + choice + archive,
                    "B": intake + assess + solution + choice + cancel + archive,
                    "C": intake + assess + solution + choice + cancel + archive,
                    "W": intake + assess}[outcome], []
        if stage == "intake":
            return [], intake
        if stage == "assessment":
            still = [a for a in assess if self.rng.random() < 0.7] or assess[:1]
            return intake + [a for a in assess if a not in still], still
        if stage == "gm_approval":
            return intake + assess, [("gm_approval:1", "gm_approval", "citygm")]
        if stage == "solution":
            return intake + assess, solution
        if stage == "choice":
            return intake + assess + solution, choice
        if stage == "contract_cancellation":
            return intake + assess + solution + choice, cancel
        return intake + assess + solution + choice + (cancel if self.rng.random() < 0.5 else []), archive

    def _task(self, cp: Copier, case_id, pid, key, kind, role, case_no, due, status, created, *, completed=None,
              claimed=None) -> None:
        titles = {"intake": "退房原因初步登记 (30分钟内)", "assessment": f"联席评估 ({role})", "gm_approval": "城市公司总经理审批",
                  "solution": "挽留方案", "choice": "记录客户选择", "contract_cancellation": "合同解除确认",
                  "archive": "归档与复盘", "escalation": f"SLA missed: {key.partition(':')[2]} — follow up now"}
        cp.row("tasks", self._next("tasks"), case_id, pid, key, kind, role, f"{titles[kind]} — 案件 {case_no}", due,
               status, created, completed[0] if completed else None, completed[1] if completed else None,
               claimed[0] if claimed else None, claimed[1] if claimed else None)
        self.counts["open tasks" if status == "open" else "done tasks"] += 1


def seed(engine, org: Org, cipher: PiiCipher, now: datetime, per_project: int, extra_sql: str) -> dict[str, int]:
    seeder = Seeder(org, cipher, now, per_project)
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cur:
            for pid in org.projects:
                cp = Copier(COLUMNS)
                seeder.project(cp, pid)
                cp.flush(cur)
            for table in ("units", "customers", "subscriptions", "tasks"):
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
            if extra_sql:  # e.g. an index to try (BENCH_EXTRA_SQL)
                cur.execute(extra_sql)
        raw.commit()
    finally:
        raw.close()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(sa.text("VACUUM ANALYZE"))
    return {"cases": seeder.case_seq, **seeder.counts}


class SqlClock:
    """The SQL statements the app's engine runs, and their time, while on."""

    def __init__(self, engine) -> None:
        self.on, self.ms, self.statements = False, 0.0, []
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        conn.info["bench_t0"] = time.perf_counter()
        if self.on:
            self.statements.append((statement, parameters))

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        self.ms += (time.perf_counter() - conn.info.pop("bench_t0", time.perf_counter())) * 1000


@dataclass
class Line:
    label: str
    xs: list[float]
    sql: list[float]
    statements: list
    note: str


async def measure(app, personas: list[tuple[str, str]], runs: int, clock: SqlClock) -> list[Line]:
    lines: list[Line] = []
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        for who, username in personas:
            r = await client.post("/api/auth/token", data={"username": username, "password": DEMO_PASSWORD})
            r.raise_for_status()
            headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
            first = await client.get("/api/tasks", headers=headers)
            first.raise_for_status()
            cursor = first.json()["next_cursor"]
            queries = [
                ("inbox", "/api/tasks", {}),
                ("inbox page 2", "/api/tasks", {"cursor": cursor} if cursor else {}),
                ("inbox overdue", "/api/tasks", {"overdue": "true"}),
                ("cases", "/api/refund-cases", {"limit": "50"}),
                ("cases open", "/api/refund-cases", {"limit": "50", "open_only": "true"}),
            ]
            for label, path, params in queries:
                async def one() -> httpx.Response:
                    resp = await client.get(path, params=params, headers=headers)
                    if resp.status_code != 200:
                        raise RuntimeError(f"{who} {label}: {resp.status_code} {resp.text[:300]}")
                    return resp

                clock.statements, clock.on = [], True
                resp = await one()
                clock.on = False
                statements = [st for st in clock.statements if st[0].lstrip().upper().startswith("SELECT")]
                body = resp.json()
                note = (f"{len(body['items'])} of {body['total']:,}" if isinstance(body, dict) else f"{len(body)} rows")
                if label == "inbox page 2" and not cursor:
                    note += " (no page 2)"
                for _ in range(max(5, runs // 20)):  # warm-up
                    await one()
                xs, sql = [], []
                for _ in range(runs):
                    clock.ms = 0.0
                    t0 = time.perf_counter()
                    await one()
                    xs.append((time.perf_counter() - t0) * 1000)
                    sql.append(clock.ms)
                lines.append(Line(f"{who}: {label}", xs, sql, statements, note))
                print(f"{who + ': ' + label:36s} p50 {statistics.median(xs):6.2f} ms   p99 {_pct(xs, 99):6.2f} ms   "
                      f"(SQL p50 {statistics.median(sql):5.2f} ms; {note}; {runs} runs)", flush=True)
    return lines


def explain(engine, statements) -> tuple[float, str, list[str]]:
    """(execution ms, statement, plan) of the slowest of `statements` under EXPLAIN (ANALYZE, BUFFERS)."""
    worst = (-1.0, "", [])
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cur:
            for statement, params in statements:
                cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)
                plan = [r[0] for r in cur.fetchall()]
                ms = next((float(p.split(":")[1].split()[0]) for p in plan if p.startswith("Execution Time")), 0.0)
                if ms > worst[0]:
                    worst = (ms, statement, plan)
        raw.rollback()
    finally:
        raw.close()
    return worst


def main() -> None:
    n_projects = int(os.environ.get("BENCH_PROJECTS", "20"))
    per_project = int(os.environ.get("BENCH_CASES_PER_PROJECT", "5000"))
    runs = int(os.environ.get("BENCH_RUNS", "300"))
    with scratch_database("bench-inbox", admin_url=os.environ.get("BENCH_DATABASE_URL")) as url:
        engine = make_engine(url, pool_size=2)
        sf = make_session_factory(engine)
        s = get_settings()
        cipher = PiiCipher(s.data_key, s.blind_index_key)
        t0 = time.perf_counter()
        org = seed_org(sf, hash_password(DEMO_PASSWORD), n_projects)  # one argon2 hash, shared by everyone
        now = datetime.now(timezone.utc)
        extra_sql = os.environ.get("BENCH_EXTRA_SQL", "")
        counts = seed(engine, org, cipher, now, per_project, extra_sql)
        print(f"seeded {counts['cases']:,} cases ({counts['open cases']:,} open) in {len(org.projects)} projects, "
              f"{counts['open tasks'] + counts['done tasks']:,} tasks ({counts['open tasks']:,} open), {len(org.usernames)} people "
              f"in {time.perf_counter() - t0:.1f} s (COPY, VACUUM ANALYZE)", flush=True)
        if extra_sql:
            print(f"with BENCH_EXTRA_SQL: {extra_sql}")

        p1, login = org.projects[0], org.usernames
        personas = [
            ("manager (1 project)", login[org.people[(p1, "manager")][0]]),
            ("finance (1 project)", login[org.people[(p1, "finance")][0]]),
            (f"city GM ({_n(sum(c == org.city_of[p1] for c in org.city_of.values()), 'project')})",
             login[org.citygm[org.city_of[p1]]]),
            ("HQ risk (all)", login[org.hqrisk]),
        ]
        engine.dispose()

        settings = Settings(database_url=url, temporal_task_queue="bench", access_token_minutes=120)
        # The list routes never call Temporal; the lifespan uses a given client as it is.
        app = create_app(settings, temporal_client=object())  # type: ignore[arg-type]

        async def run() -> list[Line]:
            async with app.router.lifespan_context(app):
                clock = SqlClock(app.state.engine)
                return await measure(app, personas, runs, clock)

        gc.collect()  # the seeding's garbage is no server's
        load_before = os.getloadavg()[0]
        lines = asyncio.run(run())
        print(f"load average (1 min) {load_before:.2f} before, {os.getloadavg()[0]:.2f} after, on {os.cpu_count()} CPUs")
        missed = [ln for ln in lines if _pct(ln.xs, 99) > TARGET_P99_MS]
        worst = max(lines, key=lambda ln: _pct(ln.xs, 99))
        check = make_engine(url, pool_size=1)
        print()
        slowest = None  # (EXPLAIN ms, line, statement, plan) of the slowest query of the lines that missed
        for ln in missed or [worst]:
            ms, statement, plan = explain(check, ln.statements)
            key = [p.strip() for p in plan if "Sort Method" in p][:1] or [plan[1].strip() if len(plan) > 1 else ""]
            print(f"{ln.label}: request p99 {_pct(ln.xs, 99):.2f} ms, its SQL p99 {_pct(ln.sql, 99):.2f} ms; slowest of "
                  f"its {len(ln.statements)} queries: EXPLAIN ANALYZE {ms:.2f} ms  [{plan[0].strip()} | {key[0]}]")
            if missed and (slowest is None or ms > slowest[0]):
                slowest = (ms, ln, statement, plan)
        if slowest is not None and slowest[0] < TARGET_P99_MS / 5:
            print("every plan above is fast: the tail is outside PostgreSQL's work here (other load on the machine, "
                  "a GC pause, a thread hop)")
        elif slowest is not None:
            ms, ln, statement, plan = slowest
            print(f"\nthe slowest query ({ln.label}, {ms:.2f} ms):\n{' '.join(statement.split())}")
            print("\n".join("  " + p for p in plan))
        check.dispose()
        print(f"\ntargets: {'met' if not missed else 'NOT met'}  p99 <= {TARGET_P99_MS:.0f} ms  "
              f"worst {worst.label} p99 {_pct(worst.xs, 99):.2f} ms"
              + (f"  ({len(missed)} of {len(lines)} lines missed)" if missed else ""))


if __name__ == "__main__":
    main()
