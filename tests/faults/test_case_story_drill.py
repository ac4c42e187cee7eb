"""A refund case's story in drill mode, on the whole system as `make run` starts it (tests/system.py, as
tests/faults/test_notice_drill.py starts it): one online-signed case driven through HTTP by the demo office's
own people — returned, corrected, refused, re-offered, then paid — and its timeline read back step by step.

The people (scripts/seed.py): 前台 小陈 registers and takes the intake; 财务 周敏, 法务 孙涛 and 营销 李娜
assess; 案场经理 刘芳 returns finance's assessment, offers, records the buyer's refusal, re-offers, records
choice B, archives and holds the review meeting; 周敏 resubmits; 孙涛 corrects his own opinion and cancels the
online contract; 财务 郑洁 (the second person in finance) uploads the bank's voucher and pays the refund on
the 退款支付 task with the instruction's amount.

Then `GET /api/refund-cases/{id}/timeline`: its case entries are exactly these steps in this order, each with
the person's display name (not the login), a time inside the HTTP call that caused it, non-decreasing along
the list; the return carries its reason, the correction what changed, the second offer comes after the
refusal, the payment shows the amount; the case detail shows the refund as paid. The timeline is printed as a
table (`pytest -s`) and written to artifacts/case-story-drill.txt.

Drill speed-up 60: the 30-minute intake clock runs in 30 s, the assessment's 2 hours in 2 minutes, the
solution's 4 hours in 4 minutes — the whole story takes a few seconds, so no clock breaches on the way."""

from __future__ import annotations

import struct
import unicodedata
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import httpx
import pytest

from db.demo_ids import mobile, resident_id
from domain.calendar import CHINA, china_date
from scripts.seed import DEMO_PASSWORD, DEMO_PEOPLE, DEMO_USERS, MAIN_PROJECT
from tests.faults.drill import ARTIFACTS
from tests.system import running_system

SPEEDUP = 60
# The demo's first online-signed subscription (scripts/seed.py STAGES[2]: unit index 84 = 1号楼 floor 22,
# first unit) and its buyer, the 13th seeded (k = 12).
UNIT = "1号楼-2201"
BUYER_ID, BUYER_MOBILE = resident_id(100 + 12), mobile(10_000_000 + 7919 * 12)
STORY_FILE = ARTIFACTS / "case-story-drill.txt"  # beside the drills' figures (tests/faults/drill.py FIGURES_FILE)
SKEW = timedelta(seconds=1)  # the API, the worker and the test share one machine's clock

RETURN_REASON = "佣金计提口径有误：应按认购价的 1% 计提，请按合同价重算"
LEGAL_NOTE_FIRST = "买方自身原因（资金不足），开发商无过错，按网签阶段阶梯处理"
LEGAL_NOTE_CORRECTED = "买方自身原因；经核对网签合同第十二条，买方解约须承担违约责任，按阶梯下限处理"
REFUSAL_NOTE = "客户对补偿金额和退款比例都不接受，要求重新出方案"
NAMES = {**DEMO_USERS, **{login: name for login, name, _, _ in DEMO_PEOPLE}}


@pytest.fixture(scope="module")
def system():
    env = {"ESTATEFLOW_DRILL_SPEEDUP": str(SPEEDUP), "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
    with running_system("case-story-drill", env=env) as running:
        yield running


class Person:
    """One signed-in demo person (their own token)."""

    def __init__(self, url: str, username: str) -> None:
        self.username = username
        self.http = httpx.Client(base_url=url, timeout=30, trust_env=False)
        r = self.http.post("/api/auth/token", data={"username": username, "password": DEMO_PASSWORD})
        assert r.status_code == 200, r.text
        self.http.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
        me = self.call("GET", "/api/me")
        self.id, self.name = me["id"], me["display_name"]

    def call(self, method: str, path: str, **kw) -> dict | list:
        r = self.http.request(method, path, **kw)
        assert r.status_code in (200, 201), f"{self.username}: {method} {path}: {r.status_code} {r.text}"
        return r.json()

    def task(self, case_id: str, kind: str) -> dict:
        items = self.call("GET", "/api/tasks", params={"case_id": case_id, "kind": kind})["items"]
        assert len(items) == 1, f"{self.username}: open {kind} tasks of the case: {items}"
        return items[0]

    def complete(self, case_id: str, kind: str, body: dict) -> dict:
        return self.call("POST", f"/api/tasks/{self.task(case_id, kind)['id']}/complete", json=body)


@dataclass
class Step:
    """What the test did: the timeline entry it expects, who, and the wall-clock window of the HTTP call."""

    kind: str
    who: Person
    label: str
    before: datetime
    after: datetime


class Story:
    def __init__(self) -> None:
        self.steps: list[Step] = []

    def act(self, kind: str, who: Person, label: str, call):
        before = datetime.now(timezone.utc)
        out = call()
        self.steps.append(Step(kind, who, label, before, datetime.now(timezone.utc)))
        return out


def png() -> bytes:
    """A small valid PNG: the bank's transfer voucher (回单) as a scan."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\xff\xff\xff" * 4 for _ in range(4))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


# ---------------------------------------------------------------- the table

def _width(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


def _pad(s: str, n: int) -> str:
    return s + " " * max(0, n - _width(s))


def note_of(e: dict) -> str:
    """What the entry itself says (its detail), in a few words: the table is the timeline's, not the test's."""
    d, k = e["detail"] or {}, e["kind"]
    if k == "registered":
        return f"案件 {d.get('case_no')}"
    if k == "intake":
        return f"原因 {','.join(d.get('reasons', []))}; 考虑替代方案 {d.get('willing_to_consider')}"
    if k == "assessment":
        if "loss" in d:
            return f"财务: 损失 {d['loss']['total']}"
        if "fault" in d:
            return f"法务: 过错 {d['fault']}; {d.get('note')}"
        if "opinion_risk" in d:
            return f"营销: 舆情风险 {d['opinion_risk']}"
        return str(d)
    if k == "assessment_returned":
        return f"退回 {d.get('department')} (第{d.get('round')}次): {d.get('reason')}"
    if k == "assessment_corrected":
        before, after = d.get("from") or {}, d.get("to") or {}
        changed = sorted(f for f in set(before) | set(after) if before.get(f) != after.get(f))
        return f"更正 {d.get('department')}: " + "; ".join(f"{f}: {before.get(f)!r} → {after.get(f)!r}" for f in changed)
    if k == "solution":
        return f"方案 {'/'.join(d.get('options', []))}" + (f" (第{d['round']}轮)" if "round" in d else " (第1轮)")
    if k == "refusal":
        return f"客户拒绝第{d.get('round')}轮全部方案: {d.get('note')}"
    if k == "choice":
        return f"客户选择 {d.get('path')}" + (f", 退款 {d['refund_amount']}" if d.get("refund_amount") else "")
    if k == "contract_cancellation":
        return f"网签注销: {d.get('note')}"
    if k == "evidence_uploaded":
        return f"文件 #{d.get('evidence_id')} {d.get('filename')} ({d.get('content_type')}, {d.get('size_bytes')} B)"
    if k == "refund_paid":
        return f"已付 {d.get('amount')} (指令 {d.get('instructed')}), {d.get('paid_on')}, 流水 {d.get('bank_reference')}"
    if k == "archive":
        return f"归档: {d.get('summary')}"
    if k == "review_meeting":
        return f"复盘会 ({', '.join(d.get('attendees', []))}): {d.get('minutes')}"
    return str(d)


def table(entries: list[dict], registered_at: datetime) -> str:
    rows = [("时间 (北京)", "+秒", "步骤", "人", "说明")]
    for e in entries:
        at = datetime.fromisoformat(e["at"])
        who = e["actor_name"] or f"<{e['actor']}: no name>"
        if e.get("on_behalf_of_name"):
            who += f"（代 {e['on_behalf_of_name']}）"
        rows.append((at.astimezone(CHINA).strftime("%H:%M:%S.%f")[:-3], f"{(at - registered_at).total_seconds():.2f}",
                     e["kind"], who, note_of(e)))
    widths = [max(_width(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(_pad(c, widths[i]) for i, c in enumerate(r[:4])) + "  " + r[4] for r in rows]
    lines.insert(1, "-" * (sum(widths) + 8 + 40))
    return "\n".join(lines)


# ---------------------------------------------------------------- the story

def test_a_returned_corrected_reoffered_and_paid_case_tells_its_story_step_by_step(system):
    started = datetime.now(timezone.utc)
    frontdesk, manager = Person(system.url, "frontdesk"), Person(system.url, "manager")
    finance, legal, marketing = (Person(system.url, u) for u in ("finance", "legal", "marketing"))
    payer = Person(system.url, "finance2")  # the second person in finance pays
    people = [frontdesk, manager, finance, legal, marketing, payer]
    assert len({p.name for p in people}) == len(people), "distinct people"

    [project] = [p for p in manager.call("GET", "/api/projects") if p["name"] == MAIN_PROJECT]
    [unit] = frontdesk.call("GET", "/api/units/lookup", params={"project_id": project["id"], "q": UNIT})[:1]
    assert unit["label"] == UNIT and unit["subscription"]["stage"] == "online_signed", unit
    story = Story()

    # 1. register, intake
    case = story.act("registered", frontdesk, "登记", lambda: frontdesk.call(
        "POST", "/api/refund-cases", json={"unit_id": unit["unit_id"]}))
    cid = case["id"]
    story.act("intake", frontdesk, "接待登记", lambda: frontdesk.complete(cid, "intake", {
        "reasons": ["funds_shortfall"], "willing_to_consider": "negotiate", "id_number": BUYER_ID, "mobile": BUYER_MOBILE}))
    # 2. the joint assessment
    story.act("assessment", finance, "财务评估", lambda: finance.complete(cid, "assessment", {
        "commission_accrued": "42000.00", "contract_confirmed": True, "note": "佣金按成交价计提"}))
    story.act("assessment", legal, "法务评估", lambda: legal.complete(cid, "assessment", {
        "fault": "buyer", "note": LEGAL_NOTE_FIRST}))
    story.act("assessment", marketing, "营销评估", lambda: marketing.complete(cid, "assessment", {"opinion_risk": "low"}))
    # 3. the manager returns finance's assessment; finance resubmits
    out = story.act("assessment_returned", manager, "退回财务评估", lambda: manager.call(
        "POST", f"/api/refund-cases/{cid}/assessments/finance/return", json={"reason": RETURN_REASON}))
    assert out["stage"] == "assessment" and [t["kind"] for t in out["open_tasks"]] == ["assessment"], out
    story.act("assessment", finance, "财务重新评估", lambda: finance.complete(cid, "assessment", {
        "commission_accrued": "31000.00", "contract_confirmed": True, "note": "按合同价 1% 重算"}))
    # 4. legal corrects its own opinion before the offer
    out = story.act("assessment_corrected", legal, "法务更正", lambda: legal.call(
        "POST", f"/api/refund-cases/{cid}/assessments/legal/correct", json={"fault": "buyer", "note": LEGAL_NOTE_CORRECTED}))
    assert out["stage"] == "solution", out
    # 5. two options; the buyer refuses both; a new offer; the buyer chooses B
    story.act("solution", manager, "第1轮方案", lambda: manager.complete(cid, "solution", {
        "options": [{"kind": "A", "compensation": "5000.00"}, {"kind": "B"}]}))
    out = story.act("refusal", manager, "客户全部拒绝", lambda: manager.complete(cid, "choice", {
        "refused": True, "note": REFUSAL_NOTE}))
    assert out["stage"] == "solution", out
    story.act("solution", manager, "第2轮方案", lambda: manager.complete(cid, "solution", {
        "options": [{"kind": "A", "compensation": "12000.00"}, {"kind": "B"}]}))
    out = story.act("choice", manager, "客户选B", lambda: manager.complete(cid, "choice", {
        "option": "B", "note": "客户选择解约退款"}))
    # 6. the online contract is cancelled by legal (the subscription is online-signed)
    assert out["stage"] == "contract_cancellation", out
    story.act("contract_cancellation", legal, "注销网签", lambda: legal.complete(cid, "contract_cancellation", {
        "note": "已在房管局网签系统注销"}))
    # 7. finance pays the instruction's amount on the 退款支付 task, with the bank's voucher
    [instruction] = payer.call("GET", "/api/refund-instructions", params={"case_id": cid})
    assert instruction["status"] == "issued", instruction
    voucher = story.act("evidence_uploaded", payer, "上传回单", lambda: payer.call(
        "POST", f"/api/refund-cases/{cid}/evidence", files={"file": ("refund-voucher.png", png(), "image/png")},
        data={"note": "退款银行回单"}))
    reference = f"ICBC-{china_date(datetime.now(timezone.utc)):%Y%m%d}-STORY"
    out = story.act("refund_paid", payer, "退款支付", lambda: payer.complete(cid, "refund_payment", {
        "amount": instruction["amount"], "paid_on": china_date(datetime.now(timezone.utc)).isoformat(),
        "bank_reference": reference, "voucher_evidence_id": voucher["id"]}))
    assert out["message"] == "refund paid", out
    # 8. archive and the review meeting
    out = story.act("archive", manager, "归档", lambda: manager.complete(cid, "archive", {
        "summary": "客户资金不足，两轮方案后选择解约退款，已注销网签并退款", "lessons": "认购前核实首付款来源"}))
    assert [t["kind"] for t in out["open_tasks"]] == ["review_meeting"], out
    attendees = [manager, finance, legal, marketing]
    story.act("review_meeting", manager, "复盘会", lambda: manager.complete(cid, "review_meeting", {
        "attendees": [p.id for p in attendees], "minutes": "评估退回一次、法务更正一次、方案两轮；首付款来源核实前置"}))

    # ---- the timeline, as it is, printed and kept before any judgement
    timeline = manager.call("GET", f"/api/refund-cases/{cid}/timeline")
    entries = timeline["entries"]
    mine = [e for e in entries if e["source"] == "case"]
    engine = [e for e in entries if e["source"] != "case"]
    registered_at = datetime.fromisoformat(mine[0]["at"])
    elapsed = (datetime.now(timezone.utc) - started).total_seconds()
    text = "\n".join([
        f"EstateFlow case story in drill mode (ESTATEFLOW_DRILL_SPEEDUP={SPEEDUP}) — 案件 {case['case_no']}, "
        f"{UNIT} (online_signed), run {started.astimezone(CHINA):%Y-%m-%d %H:%M:%S} China time, {elapsed:.1f} s",
        f"GET /api/refund-cases/{{id}}/timeline: {len(mine)} case entries (below), {len(engine)} workflow-engine "
        f"entries interleaved (actor 'temporal', no person; not shown)",
        "",
        table(mine, registered_at),
        "",
    ])
    print("\n" + text)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    STORY_FILE.write_text(text, encoding="utf-8")

    # ---- step by step: the kinds in order, the person's name, the time
    assert [e["kind"] for e in mine] == [s.kind for s in story.steps], "the case's steps, in the order they were taken"
    for e, s in zip(mine, story.steps):
        what = f"{s.label} ({e['kind']})"
        assert e["actor"] == s.who.username, f"{what}: done by {s.who.username}, the timeline says {e['actor']}"
        assert e["actor_name"], f"{what}: no person's name on the timeline entry {e}"
        assert e["actor_name"] == s.who.name == NAMES[s.who.username] != s.who.username, f"{what}: {e}"
        at = datetime.fromisoformat(e["at"])
        assert at.tzinfo is not None, f"{what}: a time without a zone: {e['at']}"
        assert s.before - SKEW <= at <= s.after + SKEW, f"{what}: at {at}, outside its HTTP call {s.before}..{s.after}"
    times = [datetime.fromisoformat(e["at"]) for e in entries]
    assert times == sorted(times), "the timeline's times never go back"
    assert all(e["actor"] == "temporal" and e["actor_name"] is None for e in engine)

    # ---- what each step carries
    by_kind: dict[str, list[dict]] = {}
    for e in mine:
        by_kind.setdefault(e["kind"], []).append(e)
    [returned] = by_kind["assessment_returned"]
    assert returned["detail"]["department"] == "finance" and returned["detail"]["reason"] == RETURN_REASON
    assessments = by_kind["assessment"]
    assert [a["actor"] for a in assessments] == ["finance", "legal", "marketing", "finance"]
    assert (assessments[0]["detail"]["loss"]["total"], assessments[3]["detail"]["loss"]["total"]) == ("42000.00", "31000.00")
    [corrected] = by_kind["assessment_corrected"]
    d = corrected["detail"]
    assert d["department"] == "legal" and d["from"]["note"] == LEGAL_NOTE_FIRST and d["to"]["note"] == LEGAL_NOTE_CORRECTED
    assert d["from"]["fault"] == d["to"]["fault"] == "buyer"
    first_offer, second_offer = by_kind["solution"]
    [refusal] = by_kind["refusal"]
    i_first, i_refusal, i_second = (mine.index(e) for e in (first_offer, refusal, second_offer))
    assert i_first < i_refusal < i_second, "the second offer comes after the refusal of the first"
    assert "round" not in first_offer["detail"] and second_offer["detail"]["round"] == 2
    assert refusal["detail"] == {"refused": True, "round": 1, "note": REFUSAL_NOTE}
    assert first_offer["detail"]["options"] == second_offer["detail"]["options"] == ["A", "B"]
    [choice] = by_kind["choice"]
    assert choice["detail"]["path"] == "B" and Decimal(choice["detail"]["refund_amount"]) == Decimal(instruction["amount"])
    [paid] = by_kind["refund_paid"]
    assert Decimal(paid["detail"]["amount"]) == Decimal(instruction["amount"]) == Decimal(paid["detail"]["instructed"])
    assert paid["detail"]["bank_reference"] == reference
    assert paid["detail"]["voucher_evidence_id"] == voucher["id"]  # the payment names its voucher
    [meeting] = by_kind["review_meeting"]
    assert meeting["detail"]["attendees"] == [p.name for p in attendees]

    # ---- the case and the instruction say the refund is paid
    detail = manager.call("GET", f"/api/refund-cases/{cid}")
    assert detail["stage"] == "closed" and detail["chosen_option"] == "B", detail
    assert detail["outcome"]["refund_paid"] == {
        "amount": paid["detail"]["amount"], "paid_on": china_date(datetime.now(timezone.utc)).isoformat(),
        "bank_reference": reference}, detail["outcome"]
    assert Decimal(detail["refund_amount"]) == Decimal(instruction["amount"])
    assert not detail["open_tasks"], detail["open_tasks"]
    [listed] = manager.call("GET", "/api/refund-instructions", params={"case_id": cid})
    assert (listed["status"], Decimal(listed["paid_amount"])) == ("paid", Decimal(instruction["amount"])), listed
    assert listed["voucher_evidence_id"] == voucher["id"], listed
    assert {a: detail["assessments"][a]["by_name"] for a in ("finance", "legal", "marketing")} == {
        "finance": finance.name, "legal": legal.name, "marketing": marketing.name}
