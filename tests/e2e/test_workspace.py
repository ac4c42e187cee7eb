"""The sales office's daily workspace in the browser (issue 15): reception on the front desk's phone with the
audited rotation, a partner registration refused because another partner holds the mobile, and a discount from
the 销控 board that only the city GM may approve. Each test makes what it needs through the API first (with
the demo people's own tokens) and then works the screens as those people would."""

from __future__ import annotations

import re
import time
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Page, expect

from db.demo_ids import mobile, resident_id
from scripts.seed import DEMO_PASSWORD, DEMO_USERS, MAIN_PROJECT
from tests.e2e.conftest import DESKTOP, PHONE
from tests.e2e.test_web_app import check_screen, sign_in

SHANGHAI = ZoneInfo("Asia/Shanghai")
WORKFLOW_MS = 30_000  # an answer that waits on the workflow engine (a start, an update)


def _unique() -> int:
    """A number no earlier test of this system used (for mobiles, ID numbers and names)."""
    return time.time_ns() // 1000 % 10_000_000


class Api:
    """The API as one demo person, with their own token."""

    def __init__(self, url: str, login: str) -> None:
        r = httpx.post(f"{url}/api/auth/token", data={"username": login, "password": DEMO_PASSWORD}, timeout=30)
        assert r.status_code == 200, r.text
        self.client = httpx.Client(base_url=url, timeout=60,
                                   headers={"Authorization": f"Bearer {r.json()['access_token']}"})

    def get(self, path: str, **params):
        r = self.client.get(path, params=params)
        assert r.status_code == 200, f"GET {path}: {r.status_code} {r.text}"
        return r.json()

    def send(self, method: str, path: str, body: dict | None = None, expect_status: int | tuple = (200, 201)):
        r = self.client.request(method, path, json=body)
        wanted = expect_status if isinstance(expect_status, tuple) else (expect_status,)
        assert r.status_code in wanted, f"{method} {path}: {r.status_code} {r.text}"
        return r.json()


@pytest.fixture(scope="module")
def api(app_url):
    made: dict[str, Api] = {}

    def as_(login: str) -> Api:
        if login not in made:
            made[login] = Api(app_url, login)
        return made[login]

    yield as_
    for a in made.values():
        a.client.close()


@pytest.fixture(scope="module")
def project_id(api) -> int:
    return next(p["id"] for p in api("manager").get("/api/projects") if p["name"] == MAIN_PROJECT)


def _page(browser, app_url: str, login: str, viewport=DESKTOP) -> Page:
    ctx = browser.new_context(viewport=viewport, locale="zh-CN")
    page = ctx.new_page()
    sign_in(page, app_url, login)
    return page


@pytest.fixture
def pages(browser, app_url):
    """Signed-in pages of this test, closed after it."""
    opened: list[Page] = []

    def open_(login: str, viewport=DESKTOP) -> Page:
        opened.append(_page(browser, app_url, login, viewport))
        return opened[-1]

    yield open_
    for p in opened:
        p.context.close()


def _two_on_duty(api, project_id: int) -> list[dict]:
    """Today's rotation has the project's two consultants, both on duty (whatever the day or the seed)."""
    manager = api("manager")
    consultants = manager.get(f"/api/projects/{project_id}/consultants")
    assert len(consultants) >= 2, consultants
    rotation = manager.send("PUT", f"/api/projects/{project_id}/rotation/roster",
                            {"consultant_ids": [c["id"] for c in consultants]})
    for r in rotation["roster"]:
        if not r["present"]:
            manager.send("POST", f"/api/projects/{project_id}/rotation/back", {"consultant_id": r["consultant"]["id"]})
    return consultants


OFFERED = re.compile(r"请 (.+) 接待")


def _offered(row) -> str:
    """The consultant a waiting walk-in is offered to, as the row says it."""
    expect(row.locator("strong", has_text=OFFERED)).to_be_visible()
    return OFFERED.search(row.locator("strong", has_text=OFFERED).inner_text()).group(1)


def test_front_desk_registers_an_anonymous_walk_in_on_a_phone_and_the_rotation_shows_the_take(
        pages, app_url, api, project_id, shots):
    _two_on_duty(api, project_id)

    desk = pages("frontdesk", PHONE)
    desk.locator("header nav").get_by_role("link", name="接待登记").click()
    expect(desk.locator("main h1")).to_have_text("接待登记")
    expect(desk.get_by_test_id("next-in-turn")).to_contain_text("当前轮到")
    # Anonymous: the group size, first visit and channel as they are; no name, no mobile.
    desk.locator("form#walk-in-form button[type=submit]").click()
    registered = desk.locator(".banner.ok", has_text="已登记来访")
    expect(registered).to_be_visible()
    walk_in = int(re.search(r"#(\d+)", registered.inner_text()).group(1))
    row = desk.locator(f"li[data-walk-in='{walk_in}']")
    expect(row).to_contain_text("匿名来访")
    expect(row).to_contain_text("首次来访")
    consultant = _offered(row)
    assert consultant in {DEMO_USERS["sales"], "置业顾问 陈晨"}, consultant
    check_screen(desk, "reception, a walk-in waiting", shots / "375px-frontdesk-reception-waiting.png")
    row.locator("button.give").click()  # "交给 <the consultant offered>"
    expect(row).to_contain_text(f"{consultant} 已接待")
    expect(desk.locator(".banner.ok", has_text=f"已交给 {consultant}")).to_be_visible()
    expect(row.locator("button.give")).to_have_count(0)

    # The manager's rotation screen: the walk-in taken, and the take in the day's audit.
    manager = pages("manager")
    manager.goto(f"{app_url}/app/#/rotation?project={project_id}")
    expect(manager.locator("main h1")).to_have_text("轮序管理")
    expect(manager.locator(f"tr[data-walk-in='{walk_in}']")).to_contain_text(f"{consultant} 已接待")
    audit = manager.get_by_test_id("audit")
    expect(audit.locator("tr[data-event='taken']", has_text=f"#{walk_in}")).to_contain_text(
        f"{consultant} 按轮序接待来访 #{walk_in}")
    expect(audit.locator("tr[data-event='taken']", has_text=f"#{walk_in}")).to_contain_text(DEMO_USERS["frontdesk"])
    check_screen(manager, "rotation after a take", shots / "1366px-manager-rotation-taken.png")


def test_a_skip_with_a_reason_offers_the_walk_in_to_the_next_consultant(pages, app_url, api, project_id, shots):
    consultants = _two_on_duty(api, project_id)
    walk_in = api("frontdesk").send("POST", f"/api/projects/{project_id}/walk-ins",
                                    {"group_size": 2, "first_visit": True, "channel": "walk_in"})["id"]

    desk = pages("frontdesk", PHONE)
    desk.goto(f"{app_url}/app/#/reception")
    row = desk.locator(f"li[data-walk-in='{walk_in}']")
    expect(row).to_contain_text("2 人")
    skipped = _offered(row)
    row.locator("button.pass-over").click()
    dialog = desk.locator("form#reason-form")
    expect(desk.get_by_role("dialog")).to_contain_text(f"跳过 {skipped}")
    dialog.locator("button[type=submit]").click()  # a skip needs its reason
    expect(dialog.locator("#err-reason")).to_have_text("请填写原因")
    dialog.locator("#f-reason").fill("正在接待电话客户")
    dialog.locator("button[type=submit]").click()
    expect(dialog).to_be_hidden()
    nxt = next(c["name"] for c in consultants if c["name"] != skipped)
    expect(desk.locator(".banner.ok", has_text="已跳过")).to_have_text(f"已跳过，现轮到 {nxt}")
    expect(row.locator("strong", has_text=OFFERED)).to_have_text(f"请 {nxt} 接待")
    check_screen(desk, "reception after a skip", shots / "375px-frontdesk-reception-skipped.png")

    manager = pages("manager")
    manager.goto(f"{app_url}/app/#/rotation?project={project_id}")
    audit = manager.get_by_test_id("audit")
    line = audit.locator("tr[data-event='skipped']", has_text=f"#{walk_in}")
    expect(line).to_contain_text(f"跳过 {skipped}（来访 #{walk_in}）")
    expect(line).to_contain_text("正在接待电话客户")
    expect(manager.locator(f"tr[data-walk-in='{walk_in}']")).to_contain_text(f"请 {nxt} 接待")
    # Tidy: the next consultant takes the visitor.
    api("frontdesk").send("POST", f"/api/walk-ins/{walk_in}/take",
                          {"consultant_id": next(c["id"] for c in consultants if c["name"] == nxt)})


def test_registering_a_mobile_another_partner_holds_says_who_holds_it_until_when(pages, app_url, api, project_id,
                                                                               shots):
    n = _unique()
    marketing = api("marketing")
    holder = marketing.send("POST", f"/api/projects/{project_id}/partners", {"name": f"安居中介{n}", "kind": "agency"})
    other = marketing.send("POST", f"/api/projects/{project_id}/partners", {"name": f"远景分销{n}", "kind": "distributor"})
    phone = mobile(50_000_000 + n)
    held = marketing.send("POST", f"/api/projects/{project_id}/partner-registrations",
                          {"partner_id": holder["id"], "prospect_name": "孙女士", "mobile": phone})
    until = datetime.fromisoformat(held["protected_until"]).astimezone(SHANGHAI)

    desk = pages("frontdesk")
    desk.locator("header nav").get_by_role("link", name="渠道报备").click()
    expect(desk.locator("main h1")).to_have_text("渠道报备")
    form = desk.locator("form#registration-form")
    form.locator(".el-select:has(#f-partner_id)").click()
    desk.get_by_role("option", name=f"{other['name']}（分销）").click()
    form.locator("#f-prospect_name").fill("孙女士")
    form.locator("#f-mobile").fill(phone)
    form.locator("button[type=submit]").click()
    refusal = desk.get_by_test_id("held")
    expect(refusal).to_contain_text("该手机号已被报备")
    expect(refusal).to_contain_text(f"由「{holder['name']}」（中介）报备，保护至 {until.year}/{until.month}/{until.day}")
    check_screen(desk, "partners, a held mobile", shots / "1366px-frontdesk-partners-held.png")
    # Nothing was registered for the other partner.
    regs = marketing.get(f"/api/projects/{project_id}/partner-registrations")
    assert [r["partner_id"] for r in regs if r["mobile_masked"][-4:] == phone[-4:] and r["status"] == "active"] == [holder["id"]]


def _available_unit(api, project_id: int) -> dict:
    """An available unit of the main project's board (not the one the screen walk opens), with its building."""
    board = api("sales").get(f"/api/projects/{project_id}/board")
    free = [{**u, "building": b["name"]} for b in board["buildings"] for f in b["floors"] for u in f["units"]
            if u["state"] == "available" and u["id"] != 198]
    assert free, "no unit for sale on the board"
    return free[len(free) // 2]


def test_a_discount_over_the_managers_limit_goes_from_the_board_to_the_city_gm(pages, app_url, api, project_id,
                                                                            shots):
    n = _unique()
    name = f"认购客户{n}"
    sales = api("sales")
    sales.send("POST", "/api/customers", {"name": name, "id_number": resident_id(n, birth="19910203"),
                                          "mobile": mobile(60_000_000 + n), "source_channel": "walk_in"})
    unit = _available_unit(api, project_id)
    # 3 % off the list price: above the manager's 2 %, so the city GM approves it.
    off = (Decimal(unit["total_price"]) * Decimal("0.03")).quantize(Decimal("1"))

    page = pages("sales")
    page.goto(f"{app_url}/app/#/board")
    page.locator(f".unit[data-unit='{unit['id']}']").click()
    page.locator("#hist-subscribe").click()
    expect(page).to_have_url(re.compile(rf"#/subscribe\?unit={unit['id']}$"))
    expect(page.locator("main h1")).to_have_text(f"认购 {unit['code']}")
    page.locator("#buyer-search").fill(name)
    page.locator("#buyer-search").press("Enter")
    buyer = page.get_by_role("radiogroup", name="买受人").locator("label.el-radio")
    expect(buyer).to_have_count(1)
    buyer.click()
    page.locator("#deposit-amount").fill("50000")
    page.locator("#add-row").click()
    page.get_by_label("第 1 行优惠原因").fill("开盘优惠")
    page.get_by_label("第 1 行数值").fill(str(off))
    expect(page.locator("#approval-needed")).to_have_text("城市公司总经理审批")
    check_screen(page, "subscribe with a discount", shots / "1366px-sales-subscribe-discount.png")
    page.locator("#subscribe-submit").click()
    done = page.locator("#subscribe-done")
    # The request starts its approval workflow before it is written: give the engine time on a busy machine.
    expect(done).to_contain_text("等待城市公司总经理审批；房源已保留", timeout=WORKFLOW_MS)
    request_id = int(re.search(r"#(\d+)", done.inner_text()).group(1))
    assert sales.get(f"/api/discount-requests/{request_id}")["status"] == "pending"

    # Not the site manager's to decide: the request is not on their list, and forcing it is refused.
    manager = api("manager")
    assert request_id not in [r["id"] for r in manager.get("/api/discount-requests")["items"]]
    manager.send("POST", f"/api/discount-requests/{request_id}/approve", {"note": ""}, expect_status=403)

    gm = pages("citygm")
    gm.locator("header nav").get_by_role("link", name="折扣审批").click()
    expect(gm.locator("main h1")).to_have_text("折扣审批")
    card = gm.locator(f"article[data-request='{request_id}']")
    expect(card).to_contain_text(unit["code"])
    expect(card).to_contain_text("城市公司总经理")
    check_screen(gm, "approvals", shots / "1366px-citygm-approvals.png")
    card.get_by_role("button", name="批准").click()
    expect(gm.get_by_role("status")).to_have_text(f"#{request_id} 已记录：已批准", timeout=WORKFLOW_MS)
    expect(card).to_have_count(0)  # decided: off the list
    decided = sales.get(f"/api/discount-requests/{request_id}")
    assert decided["status"] == "approved" and decided["subscription_id"], decided
    page.goto(f"{app_url}/app/#/board")
    expect(page.locator(f".unit[data-unit='{unit['id']}']")).to_have_attribute("data-state", "subscribed")
