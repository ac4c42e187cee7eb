"""Small factory helpers: fresh data per test, nothing shared between tests."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal

from sqlalchemy.orm import Session, sessionmaker

from api.security import hash_password
from config.settings import get_settings
from db.customers import new_customer
from db.demo_ids import mobile, resident_id
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
from db.org import city_company_id, grant
from db.pii import PiiCipher
from domain.refund import RefundPolicy, policy_to_body

_seq = itertools.count(1)
ROLES = ("frontdesk", "sales", "manager", "finance", "legal", "marketing", "citygm", "hqrisk", "ops")
TEST_PASSWORD = "test-password"


def cipher() -> PiiCipher:
    s = get_settings()
    return PiiCipher(s.data_key, s.blind_index_key)


@dataclass
class Scenario:
    """One project, one unit with an active subscription, and one user per role."""

    project_id: int
    unit_id: int
    customer_id: int
    subscription_id: int
    users: dict[str, User]
    id_number: str
    mobile: str


class Factory:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self.sf = session_factory

    def users(self, *, extra: tuple[str, ...] = ()) -> dict[str, User]:
        tag = uuid.uuid4().hex[:6]
        out: dict[str, User] = {}
        pw = hash_password(TEST_PASSWORD)
        with self.sf.begin() as s:
            for role in (*ROLES, *extra):
                base = role.split("#")[0]
                u = User(username=f"{role.replace('#', '')}-{tag}", display_name=role, role=base, password_hash=pw)
                s.add(u)
                out[role] = u
            s.flush()
            for role, u in out.items():  # group-wide, as one office's single account per role was, but the
                if u.role == "citygm":  # city GM is a city company's: the two the factory's projects are in
                    for company in ("测试城市公司", "上海公司"):
                        grant(s, u.id, "citygm", city_company_id=city_company_id(s, company))
                else:
                    grant(s, u.id, u.role)
        return out

    def project(self, s: Session, *, name: str | None = None, city: str = "杭州", city_company: str = "测试城市公司",
                marketing_budget: Decimal = Decimal("1000000")) -> Project:
        """A fresh project in `city_company` (created when missing), flushed in the caller's session."""
        p = Project(name=name or f"测试项目-{uuid.uuid4().hex[:8]}", city=city,
                    city_company_id=city_company_id(s, city_company), marketing_budget=marketing_budget)
        s.add(p)
        s.flush()
        return p

    def policy(self, policy: RefundPolicy | None = None) -> RefundPolicy:
        policy = policy or RefundPolicy(version=f"test-{uuid.uuid4().hex[:8]}")
        with self.sf.begin() as s:
            s.add(RefundPolicyVersion(version=policy.version, body=policy_to_body(policy), approved_by="group-legal"))
        return policy

    def project_id(self) -> int:
        """A fresh, empty project's id."""
        with self.sf.begin() as s:
            return self.project(s).id

    def customer(self, *, consultant_id: int | None = None, project_id: int | None = None) -> tuple[int, str, str]:
        """A customer of `project_id` (default: a project of its own)."""
        n = next(_seq) + uuid.uuid4().int % 900
        id_number, phone = resident_id(n), mobile(n * 7919)
        with self.sf.begin() as s:
            if project_id is None:
                project_id = self.project(s, name=f"客户项目-{uuid.uuid4().hex[:8]}").id
            c = new_customer(
                s, cipher(), name="测试客户", id_type="resident_id", id_number=id_number, mobile=phone,
                consultant_id=consultant_id, today=date(2026, 11, 23), project_id=project_id,
            )
            return c.id, id_number, phone

    def scenario(
        self,
        *,
        stage: str = "deposit_paid",
        deposit_kind: str = "定金",
        deposit: Decimal = Decimal("50000"),
        paid: Decimal | None = None,
        price: Decimal = Decimal("2000000"),
        retention_budget: Decimal = Decimal("100000"),
        users: dict[str, User] | None = None,
        city_company: str = "上海公司",
    ) -> Scenario:
        users = users or self.users()
        unit_state = {"deposit_paid": UnitState.SUBSCRIBED, "online_signed": UnitState.SIGNED, "loan_disbursed": UnitState.SIGNED}[stage]
        with self.sf.begin() as s:
            p = self.project(s, city="上海", city_company=city_company, marketing_budget=retention_budget * 20)
        customer_id, id_number, phone = self.customer(consultant_id=users["sales"].id, project_id=p.id)
        with self.sf.begin() as s:
            s.add(RetentionLedgerEntry(project_id=p.id, amount=retention_budget, memo="年度挽留预算"))
            b = Building(project_id=p.id, name="1号楼")
            s.add(b)
            s.flush()
            u = Unit(
                project_id=p.id, building_id=b.id, code="1203", floor=12, layout="三室两厅", gross_area=Decimal("100.00"),
                unit_price=price / 100, total_price=price, state=unit_state,
            )
            s.add(u)
            s.flush()
            sub = Subscription(
                unit_id=u.id, customer_id=customer_id, consultant_id=users["sales"].id, price=price,
                deposit_amount=deposit, deposit_kind=deposit_kind, paid_amount=paid if paid is not None else deposit,
                stage=stage, status="active", subscribed_at=datetime(2026, 11, 1, tzinfo=timezone.utc),
            )
            s.add(sub)
            s.flush()
            return Scenario(p.id, u.id, customer_id, sub.id, users, id_number, phone)

    def available_units(self, n: int, *, price: Decimal = Decimal("1500000")) -> list[int]:
        """n units in 可售 in a fresh project."""
        with self.sf.begin() as s:
            p = self.project(s, name=f"销控项目-{uuid.uuid4().hex[:8]}")
            b = Building(project_id=p.id, name="1号楼")
            s.add(b)
            s.flush()
            units = [
                Unit(project_id=p.id, building_id=b.id, code=f"{i + 1:04d}", floor=i // 4 + 1, layout="三室两厅",
                     gross_area=Decimal("100.00"), unit_price=price / 100, total_price=price, state=UnitState.AVAILABLE)
                for i in range(n)
            ]
            s.add_all(units)
            s.flush()
            return [u.id for u in units]
