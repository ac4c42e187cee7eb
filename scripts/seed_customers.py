"""Demo data of the sales office's daily workspace (issue 15): customers. Called by scripts/seed.py for the main project.

Needs and preferences for a few of the consultant's customers, an appointment due today and one overdue (on the
consultant's list 我的客户, with their reminders), and marketing's campaigns the refund loss estimate allocates
(the contracts seeded through db.contracts.sign_contract accrue their commission there)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.commissions import record_campaign
from db.customers import add_follow_up, set_needs
from db.models import Customer, Project, Unit, User
from db.pii import PiiCipher
from domain.calendar import CHINA
from domain.customers import Needs

D = Decimal
NEEDS = (
    Needs(D("3000000"), D("3800000"), ("三室两厅",), D("89"), D("110"), "upgrade", ("school_district", "delivery"), "孩子明年上小学"),
    Needs(D("2000000"), D("2600000"), ("两室两厅", "三室"), D("70"), D("95"), "self_use", ("price", "transport"), ""),
    Needs(D("4500000"), None, ("四室两厅",), D("130"), None, "investment", ("location", "developer"), "看重地铁口"),
    Needs(None, D("3200000"), (), None, None, "retirement", ("environment", "property_service"), "父母同住"),
)


def seed(s: Session, cipher: PiiCipher, *, project: Project, users: dict[str, User], people: dict[str, User],
         units: list[Unit], today: date) -> None:
    """users: the demo account per role (scripts/seed.py DEMO_USERS); people: the other demo people by login."""
    sales = users["sales"]
    mine = list(s.scalars(select(Customer).where(Customer.project_id == project.id, Customer.consultant_id == sales.id)
                          .order_by(Customer.id).limit(6)))
    for c, n in zip(mine, NEEDS):
        set_needs(s, c, n, actor=sales)
    now = datetime.now(timezone.utc)
    if len(mine) >= 6:
        # Due today: this evening (China), or within the hour when the evening has passed.
        evening = datetime.combine(today, time(18, 0), tzinfo=CHINA)
        due = evening if evening > now + timedelta(minutes=30) else now + timedelta(minutes=30)
        add_follow_up(s, mine[4], at=now - timedelta(days=2), channel="phone", note="约今天来看样板间", topics=[],
                      next_appointment_at=due, actor=sales)
        # Overdue: booked for yesterday afternoon, nobody came and nobody called since.
        yesterday = datetime.combine(today - timedelta(days=1), time(15, 0), tzinfo=CHINA)
        add_follow_up(s, mine[5], at=yesterday - timedelta(days=3), channel="wechat", note="约昨天下午复访",
                      topics=[], next_appointment_at=yesterday, actor=sales)
    marketing = users["marketing"]
    record_campaign(s, project_id=project.id, name="春季地铁广告", channel="地铁", spend=D("300000"),
                    started_on=today - timedelta(days=90), ended_on=today - timedelta(days=30), scope="project",
                    building_id=None, unit_ids=None, note="全项目投放", actor=marketing)
    first_building = units[0].building_id
    record_campaign(s, project_id=project.id, name="1号楼抖音直播", channel="抖音", spend=D("60000"),
                    started_on=today - timedelta(days=40), ended_on=None, scope="building", building_id=first_building,
                    unit_ids=None, note="", actor=marketing)
    s.flush()
