"""Refund-policy authoring in the browser (issue 14): HQ risk drafts a version for the main project and edits its
tiers as per cents (a maximum below the minimum is refused beside the field); legal — another person — approves it
and publishes it at once; the public page (no sign-in) shows that version, its tiers and its rules in both
languages. The screens pass the same checks as every other (Chinese only, axe, no wider than the window)."""

from __future__ import annotations

import re
import time

from playwright.sync_api import Page, expect

from tests.e2e.conftest import DESKTOP, PHONE
from tests.e2e.test_web_app import check_screen, sign_in


def _signed_in(browser, app_url: str, role: str) -> Page:
    ctx = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = ctx.new_page()
    sign_in(page, app_url, role)
    return page


def _open(page: Page, app_url: str, version: str) -> None:
    page.goto(f"{app_url}/app/#/policies")
    row = page.get_by_test_id("policy-versions").locator(f"tbody tr[data-version='{version}']")
    expect(row).to_have_count(1)
    row.get_by_role("button").first.click()
    expect(page.locator(".el-drawer")).to_be_visible()


def test_hqrisk_drafts_legal_approves_and_publishes_and_the_public_page_shows_it(browser, app_url, shots):
    version = f"e2e.{time.time_ns() % 1_000_000}"

    # HQ risk: a new draft for the main project, from the group's version in force.
    hq = _signed_in(browser, app_url, "hqrisk")
    hq.locator("header nav").get_by_role("link", name="退房政策管理").click()
    expect(hq.locator("main h1")).to_have_text("退房政策版本")
    check_screen(hq, "policies", shots / "1366px-hqrisk-policies.png")
    hq.get_by_test_id("new-draft").click()
    dialog = hq.locator("form#draft-form")
    dialog.locator("button[type=submit]").click()
    expect(dialog.locator("#err-new_version")).to_have_text("此项必填")
    dialog.locator("#f-new_version").fill(version)
    dialog.locator("label.el-radio", has_text="项目").click()
    dialog.locator(".el-select:has(#f-new_project)").click()
    hq.get_by_role("listbox", name="项目").get_by_role("option", name=re.compile("滨江府")).click()
    dialog.locator("#f-new_summary").fill("定金阶梯上调至 65%–85%")
    dialog.locator("button[type=submit]").click()
    drawer = hq.locator(".el-drawer")
    expect(drawer).to_be_visible()
    expect(drawer.get_by_test_id("drawer-state")).to_have_text("草稿")
    expect(drawer.locator("#f-tier_deposit_paid_min_share")).to_have_value("60")  # 0.60 shown as a per cent
    # A maximum below the minimum is refused beside the field, before anything is sent.
    drawer.locator("#f-tier_deposit_paid_min_share").fill("65")
    drawer.locator("#f-tier_deposit_paid_max_share").fill("50")
    drawer.get_by_test_id("save").click()
    expect(drawer.locator("#err-tier_deposit_paid_max_share")).to_have_text("最高比例不能低于最低比例")
    drawer.locator("#f-tier_deposit_paid_max_share").fill("85")
    drawer.locator("#f-choice_working_days").fill("3")
    drawer.get_by_test_id("save").click()
    expect(drawer.get_by_role("status")).to_contain_text(f"版本 {version} 已保存")
    expect(drawer.get_by_test_id("approve")).to_have_count(0)  # HQ risk does not approve
    check_screen(hq, "policy draft", shots / "1366px-hqrisk-policy-draft.png")
    hq.set_viewport_size(PHONE)
    check_screen(hq, "policy draft, phone", shots / "375px-hqrisk-policy-draft.png")
    hq.context.close()

    # Legal (another person): approves it, then publishes it at once.
    legal = _signed_in(browser, app_url, "legal")
    _open(legal, app_url, version)
    drawer = legal.locator(".el-drawer")
    expect(drawer.get_by_test_id("save")).to_have_count(0)  # only its author edits it
    expect(drawer.locator("#f-tier_deposit_paid_max_share")).to_have_value("85")
    drawer.get_by_test_id("approve").click()
    expect(drawer.get_by_test_id("drawer-state")).to_have_text("已审批待发布")
    drawer.get_by_test_id("publish").click()
    legal.get_by_test_id("publish-yes").click()
    expect(drawer.get_by_test_id("drawer-state")).to_have_text("现行有效")
    row = legal.get_by_test_id("policy-versions").locator(f"tbody tr[data-version='{version}']")
    expect(row.locator("[data-state]")).to_have_text("现行有效")
    # Compared with the version before it: the changed tier is highlighted.
    drawer.get_by_role("button", name="与上一版本对比").click()
    rows = legal.get_by_test_id("compare-rows")
    changed = rows.locator("tr[data-field='tiers.deposit_paid.max_share']")
    expect(changed).to_have_attribute("data-changed", "true")
    expect(changed).to_contain_text("85%")
    expect(rows.locator("tr[data-field='intake_minutes']")).to_have_attribute("data-changed", "false")
    check_screen(legal, "policies compared", shots / "1366px-legal-policies-compare.png")
    legal.context.close()

    # The public page, signed out: the project's version in force, its tiers, its rules in both languages.
    page = browser.new_page(viewport=DESKTOP)
    page.goto(f"{app_url}/app/#/policy?project_id=1")
    expect(page.get_by_test_id("policy-version")).to_have_text(version)
    expect(page.get_by_test_id("tiers")).to_contain_text("65% – 85%")
    expect(page.get_by_test_id("clocks")).to_contain_text("3 个工作日")
    check_screen(page, "public policy of a project", shots / "1366px-public-policy-project.png")
    rules = page.get_by_test_id("rules")
    expect(rules).not_to_contain_text("refunded")
    page.get_by_test_id("bilingual").click()
    expect(rules).to_contain_text("65%–85% of the deposit refunded")
    expect(rules).to_contain_text("退还定金的 65%–85%")
    page.emulate_media(media="print")
    expect(page.get_by_test_id("print")).to_be_hidden()
    expect(page.get_by_test_id("bilingual")).to_be_hidden()
    page.close()
