"""Demo data of the sales office's daily workspace (issue 15): pricing. Called by scripts/seed.py for the main project.

A discount request awaiting the site manager: a consultant's subscription of an available unit with two
discount rows (开盘优惠 1 %, 老带新 2,000 CNY) within the manager's limit; the unit is held (保留) for it. The
seed runs before the workflow engine is up: its approval workflow is started when the manager first decides
(api/routes/discounts.py resumes a pending request whose workflow never started)."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

from sqlalchemy.orm import Session

from db.customers import new_customer
from db.demo_ids import mobile, resident_id
from db.discounts import SubscriptionForm, check_form, create_request
from db.models import Project, Unit, UnitState, User
from db.pii import PiiCipher
from domain.pricing import DiscountRow
from domain.refund import DepositKind


def seed(s: Session, cipher: PiiCipher, *, project: Project, users: dict[str, User], people: dict[str, User],
         units: list[Unit], today: date) -> None:
    """users: the demo account per role (scripts/seed.py DEMO_USERS); people: the other demo people by login."""
    s.flush()
    unit = next((u for u in reversed(units) if u.state == UnitState.AVAILABLE), None)
    if unit is None:
        return
    seller = users["sales"]
    buyer = new_customer(s, cipher, name="沈一帆", id_type="resident_id", id_number=resident_id(960),
                         mobile=mobile(30_000_960), consultant_id=seller.id, today=today, project_id=project.id)
    form = SubscriptionForm(
        unit_id=unit.id, customer_id=buyer.id, deposit_kind=DepositKind.DINGJIN, deposit_amount=Decimal("50000"),
        discounts=[DiscountRow("开盘优惠", "percent", Decimal("1")), DiscountRow("老带新", "amount", Decimal("2000"))],
    )
    checked = check_form(s, form, seller, today=today)
    create_request(s, form, checked, seller, now=datetime.now(timezone.utc))
