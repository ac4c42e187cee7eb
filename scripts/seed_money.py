"""Demo data of the sales office's daily workspace (issue 15): money. Called by scripts/seed.py for the main project.

Two contracts on the finance desk: one on a commercial loan (down payment received, the loan part waiting for
the bank — open its mortgage follow-up from the finance desk with the documents request date), and one signed
last month whose 备案 is due soon. Mortgage follow-ups and payment follow-ups are workflows: seeding runs
before the workflow engine is up, so they are started from the screen (or the API), not here."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from db.contracts import record_receipt, set_payment_plan, sign_contract
from db.customers import new_customer
from db.demo_ids import mobile, resident_id
from db.ledger import set_unit_state
from db.models import Project, Subscription, Unit, UnitState, User
from db.pii import PiiCipher
from domain.calendar import CHINA
from domain.payments import PaymentMethod, PlannedInstalment
from domain.refund import money


def seed(s: Session, cipher: PiiCipher, *, project: Project, users: dict[str, User], people: dict[str, User],
         units: list[Unit], today: date) -> None:
    """users: the demo account per role (scripts/seed.py DEMO_USERS); people: the other demo people by login."""
    sales, finance = users["sales"], users["finance"]
    # Units whose index is 3 mod 7: neither the refund stages (multiples of 7) nor the demo activity (1 mod 7) use them.
    free = [u for k, u in enumerate(units) if k % 7 == 3 and u.state == UnitState.AVAILABLE][:2]
    deposit = Decimal("50000")
    for j, (unit, days_ago, loan) in enumerate(zip(free, (40, 25), (True, False))):
        c = new_customer(s, cipher, name=("钱多多", "孙安居")[j], id_type="resident_id", id_number=resident_id(660 + j),
                         mobile=mobile(50_000_000 + j * 7919), consultant_id=sales.id, today=today,
                         project_id=project.id)
        subscribed = today - timedelta(days=days_ago + 5)
        sub = Subscription(unit_id=unit.id, customer_id=c.id, consultant_id=sales.id, price=unit.total_price,
                           deposit_amount=deposit, deposit_kind="定金", paid_amount=deposit, stage="deposit_paid",
                           status="active", subscribed_at=datetime.combine(subscribed, time(15), CHINA),
                           signing_deadline=subscribed + timedelta(days=7))
        s.add(sub)
        s.flush()
        set_unit_state(s, unit, UnitState.SUBSCRIBED, actor=sales.username, reason=f"认购 #{sub.id}", at=sub.subscribed_at)
        s.flush()
        signed_on = today - timedelta(days=days_ago)
        contract = sign_contract(s, subscription_id=sub.id, contract_no=f"HT-MONEY-{j + 1:03d}", signed_on=signed_on,
                                 signer=sales, today=today)
        rest = money(unit.total_price - deposit)
        if loan:
            down = money(unit.total_price * Decimal("0.30") - deposit)
            set_payment_plan(s, contract_id=contract.id, method=PaymentMethod.COMMERCIAL_LOAN, actor=sales, instalments=[
                PlannedInstalment(due_on=signed_on + timedelta(days=10), amount_due=down, label="首付"),
                PlannedInstalment(due_on=signed_on + timedelta(days=70), amount_due=rest - down, label="按揭放款"),
            ])
            record_receipt(s, contract_id=contract.id, amount=down, received_on=signed_on + timedelta(days=8),
                           reference="POS-MONEY-001", actor=finance, today=today)
        else:
            set_payment_plan(s, contract_id=contract.id, method=PaymentMethod.INSTALMENT, actor=sales, instalments=[
                PlannedInstalment(due_on=signed_on + timedelta(days=20), amount_due=money(rest / 2), label="第一期"),
                PlannedInstalment(due_on=signed_on + timedelta(days=80), amount_due=rest - money(rest / 2), label="第二期"),
            ])
    s.flush()
