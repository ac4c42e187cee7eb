"""Demo data of the sales office's daily workspace (issue 15): reception. Called by scripts/seed.py for the main project.

Today's rotation (the two consultants of the main project), two channel partners with registrations (one of
whose prospects has visited, credited to the partner), and a few walk-ins: anonymous ones, one taken in turn,
one skipped then taken, a returning customer reserved for their own consultant, and one still waiting. The
seed runs once: on a later day the front desk sets that day's rotation on the 轮序管理 screen."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy.orm import Session

from db import reception as db
from db.demo_ids import mobile
from db.models import Project, Unit, User
from db.pii import PiiCipher
from db.reception_models import DutyRoster, RotationEvent
from domain.calendar import CHINA, china_date


MORNING = timedelta(hours=2)  # the demo's reception: the rotation set, then 70 minutes of walk-ins in two hours


def demo_clock(now: datetime) -> tuple[date, datetime, Callable[[int], datetime]]:
    """Today's China date, when its rotation was set, and the time of the demo's minute m (0..120): the last two
    hours before now, squeezed into what has passed of the China day when it began less than two hours ago (the
    rotation and its walk-ins belong to today, never to yesterday or the future)."""
    day = china_date(now)
    start = max(now - MORNING, datetime.combine(day, time(0), tzinfo=CHINA))
    return day, start, lambda minutes: start + (now - start) * (minutes / (MORNING / timedelta(minutes=1)))


def seed(s: Session, cipher: PiiCipher, *, project: Project, users: dict[str, User], people: dict[str, User],
         units: list[Unit], today: date) -> None:
    """users: the demo account per role (scripts/seed.py DEMO_USERS); people: the other demo people by login."""
    day, start, at = demo_clock(datetime.now(timezone.utc))
    front, manager, marketing = users["frontdesk"], users["manager"], users["marketing"]
    sales, sales2 = users["sales"], people["sales2"]

    for pos, who in enumerate((sales, sales2), start=1):
        s.add(DutyRoster(project_id=project.id, day=day, consultant_id=who.id, position=pos, present=True))
    s.add(RotationEvent(project_id=project.id, day=day, kind="roster_set", detail={"order": [sales.id, sales2.id]},
                        actor_id=front.id, at=start))
    s.flush()

    lianjia = db.add_partner(s, cipher, project_id=project.id, name="链家地产", kind="agency", contact_name="李经理",
                             contact_mobile=mobile(30_000_000), actor=marketing)
    db.add_partner(s, cipher, project_id=project.id, name="房多多", kind="distributor", contact_name="周主管",
                   contact_mobile=mobile(30_000_001), actor=marketing)
    db.register_prospect(s, cipher, project_id=project.id, partner_id=lianjia.id, prospect_name="赵女士",
                         mobile=mobile(30_000_100), note="意向三室", actor=marketing, at=start - timedelta(days=3))
    db.register_prospect(s, cipher, project_id=project.id, partner_id=lianjia.id, prospect_name="钱先生",
                         mobile=mobile(30_000_101), note="", actor=marketing, at=start - timedelta(days=1))

    w1 = db.register_walk_in(s, cipher, project_id=project.id, group_size=3, first_visit=True, channel="walk_in",
                             name=None, mobile=None, note="", actor=front, at=at(5))
    db.take_walk_in(s, walk_in_id=w1.id, consultant_id=sales.id, reason=None, actor=front, at=at(6))
    w2 = db.register_walk_in(s, cipher, project_id=project.id, group_size=2, first_visit=True, channel="partner",
                             name="赵女士", mobile=mobile(30_000_100), note="链家带看", actor=front, at=at(20))
    db.skip_walk_in(s, walk_in_id=w2.id, consultant_id=sales2.id, reason="正在接待电话客户", actor=front, at=at(21))
    db.take_walk_in(s, walk_in_id=w2.id, consultant_id=sales.id, reason=None, actor=front, at=at(22))
    # a returning customer (the first demo buyer: the main consultant's) is theirs, whoever is next
    w3 = db.register_walk_in(s, cipher, project_id=project.id, group_size=2, first_visit=False, channel="walk_in",
                             name="张伟", mobile=mobile(10_000_000), note="来签补充协议", actor=front, at=at(40))
    db.take_walk_in(s, walk_in_id=w3.id, consultant_id=sales.id, reason=None, actor=front, at=at(41))
    db.register_walk_in(s, cipher, project_id=project.id, group_size=1, first_visit=False, channel="referral",
                        name=None, mobile=None, note="", actor=front, at=at(70))
    s.flush()
    del manager, units, today  # not needed: the rotation and the partners are the front desk's and marketing's
