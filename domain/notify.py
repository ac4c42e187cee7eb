"""Notification rules (pure): the notice kinds, retry timing, reminder points, quiet hours and what a notice
says, in Chinese or English.

A notice is stored with its kind and its facts (`params`: case number, unit, stage, due time, masked
customer name...). Its words are made from them when it is shown or sent (`render`), in the reader's
language and with the time left at that moment; the stored title is the Chinese rendering at the time it
was written, for readers that predate the facts. No customer's name leaves unmasked, and no ID number or
mobile is ever among the facts."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from datetime import datetime, time, timedelta
from typing import Any

from domain.calendar import CHINA

# What a notice may be about; what a project's robot may be set to receive (empty: all of them).
NOTICE_KINDS = (
    "task_opened", "task_claimed", "task_reassigned", "reminder", "sla_breach", "escalation", "warning_raised",
    "warning_escalated", "followup_action", "regional_brief", "refund_instruction", "channel_dead", "test",
)
MAX_ATTEMPTS = 8  # then the delivery is dead-lettered and ops hears of it
BASE_DELAY_S = 2.0
MAX_DELAY_S = 300.0
LANGUAGES = ("zh-CN", "en")
PERSON_CHANNELS = ("inapp", "email")  # a person's own channels; robots are the project's
DEFAULT_REMINDER_POINTS = (50, 80)  # per cent of a clock's span; the breach (100) is always told
APPOINTMENT_LEADS = (timedelta(hours=24), timedelta(hours=1))
INSTALMENT_LEAD = timedelta(days=3)


def retry_delay(attempts: int, rng: random.Random | None = None) -> timedelta:
    """Exponential backoff with jitter after `attempts` failed tries: 2 s, 4 s, 8 s … capped at 5 minutes, each
    scaled by a random factor in [0.5, 1.5) so that a robot's many pending deliveries do not retry in step."""
    r = (rng or random).random()
    base = min(MAX_DELAY_S, BASE_DELAY_S * 2 ** max(0, attempts - 1))
    return timedelta(seconds=base * (0.5 + r))


def gives_up(attempts: int, retryable: bool) -> bool:
    return not retryable or attempts >= MAX_ATTEMPTS


def mask_webhook(url: str) -> str:
    """A webhook URL as a screen shows it: scheme and host, the key hidden (…key=ab****yz)."""
    head, _, query = url.partition("?")
    if not query:
        return head[:80]
    name, _, value = query.partition("=")
    shown = value[:2] + "****" + value[-2:] if len(value) > 6 else "****"
    return f"{head[:60]}?{name[:12]}={shown}"


def is_urgent(kind: str, params: Mapping[str, Any]) -> bool:
    """Urgent notices reach people in their quiet hours too: SLA breaches (a reminder at 100 % is one) and red
    warnings."""
    if kind == "sla_breach" or (kind == "reminder" and params.get("point") == 100):
        return True
    return kind in ("warning_raised", "warning_escalated") and params.get("level") == "red"


# ---------------------------------------------------------------- reminders

def reminder_points(policy: Mapping[str, Any] | None) -> tuple[int, ...]:
    """The policy's reminder points (`{"reminders": {"points": [50, 80]}}`, per cent of a clock), or the
    default; always ending with the breach, 100."""
    raw = ((policy or {}).get("reminders") or {}).get("points")
    points = DEFAULT_REMINDER_POINTS if raw is None else tuple(raw)
    for p in points:
        if not isinstance(p, int) or isinstance(p, bool) or not 0 < p < 100:
            raise ValueError(f"a reminder point is a whole per cent between 1 and 99, not {p!r}")
    return tuple(sorted(set(points))) + (100,)


def clock_reminders(start: datetime, due: datetime, points: Sequence[int], now: datetime) -> list[tuple[int, datetime]]:
    """(point, when) for each point of the span start → due that is not already past at `now` (the breach
    point, 100, fires at `due`). A clock already over, or with no span, gets only its breach."""
    span = due - start
    out = []
    for p in points:
        at = due if p == 100 or span <= timedelta(0) else start + span * p / 100
        if p == 100 or at > now:
            out.append((p, at))
    return out


def lead_reminders(due: datetime, leads: Sequence[timedelta], now: datetime) -> list[tuple[int, datetime]]:
    """(minutes before, when) for each lead time before `due` still ahead of `now`."""
    return [(int(lead.total_seconds() // 60), due - lead) for lead in leads if due - lead > now]


def end_of_day(day, tz=CHINA) -> datetime:
    """A day's deadline: the end of that day in China (the next day's 00:00)."""
    return datetime.combine(day, time(0), tzinfo=tz) + timedelta(days=1)


def morning_of(day, tz=CHINA) -> datetime:
    """09:00 in China on `day`: when a reminder about that day is sent."""
    return datetime.combine(day, time(9), tzinfo=tz)


# ---------------------------------------------------------------- quiet hours

def quiet_until(now: datetime, start: time | None, end: time | None, tz=CHINA) -> datetime | None:
    """When a person's quiet hours (start → end, China time, may cross midnight) are on at `now`: the moment
    they end; else None."""
    if start is None or end is None or start == end:
        return None
    local = now.astimezone(tz)
    t = local.timetz().replace(tzinfo=None)
    if start < end:
        inside = start <= t < end
        end_day = local.date()
    else:  # 22:00 → 08:00
        inside = t >= start or t < end
        end_day = local.date() + timedelta(days=1) if t >= start else local.date()
    return datetime.combine(end_day, end, tzinfo=tz) if inside else None


# ---------------------------------------------------------------- content

STAGES = {  # a task's kind, or an SLA's name, as people call it
    "intake": ("情绪隔离与信息采集", "Intake"),
    "assessment": ("联席评估", "Joint assessment"),
    "assessment:finance": ("财务评估", "Finance assessment"),
    "assessment:legal": ("法务评估", "Legal assessment"),
    "assessment:marketing": ("营销评估", "Marketing assessment"),
    "gm_approval": ("城市公司总经理审批", "City GM approval"),
    "solution": ("提出解决方案", "Solution"),
    "choice": ("记录客户选择", "Buyer's choice"),
    "contract_cancellation": ("注销网签合同", "Contract cancellation"),
    "archive": ("归档与复盘", "Archive and review"),
    "escalation": ("超时升级处理", "Escalation"),
    "review_meeting": ("复盘会", "Review meeting"),
    "refund_payment": ("退款支付", "Refund payment"),
    "signing": ("签约截止", "Signing deadline"),
    "filing": ("合同备案截止", "Contract filing deadline"),
    "instalment": ("分期付款到期", "Instalment due"),
    "appointment": ("客户预约", "Customer appointment"),
    "collect_documents": ("收集按揭资料", "Collect the mortgage documents"),
    "overdue": ("付款逾期", "Payment overdue"),
    "offer_refund": ("建议启动退房", "Offer the refund path"),
    "disbursement": ("放款入账", "Record the loan disbursement"),
    "warning": ("预警处理", "Answer the warning"),
}
LEVELS = {"yellow": ("黄色", "Yellow"), "orange": ("橙色", "Orange"), "red": ("红色", "Red")}


def stage_label(stage: str | None, lang: str) -> str:
    if not stage:
        return ""
    if stage.startswith("escalation:"):  # the escalation of a missed clock names the clock
        inner = stage_label(stage.split(":", 1)[1], lang)
        return stage_label("escalation", lang) + (f" ({inner})" if lang == "en" else f"（{inner}）")
    pair = STAGES.get(stage) or STAGES.get(stage.split(":", 1)[0])
    return (pair[1] if lang == "en" else pair[0]) if pair else ""


def time_left(due: datetime, now: datetime, lang: str) -> str:
    """剩余 25 分钟 / 已超时 2 小时 5 分钟; 25 min left / 2 h 5 min overdue."""
    seconds = int((due - now).total_seconds())
    late = seconds < 0
    minutes = max(1, abs(seconds) // 60) if seconds else 0
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if lang == "en":
        parts = [f"{days} d" if days else "", f"{hours} h" if hours else "", f"{mins} min" if mins or not (days or hours) else ""]
        text = " ".join(p for p in parts if p)
        return f"{text} overdue" if late else f"{text} left"
    parts = [f"{days} 天" if days else "", f"{hours} 小时" if hours else "", f"{mins} 分钟" if mins or not (days or hours) else ""]
    text = " ".join(p for p in parts if p)
    return f"已超时 {text}" if late else f"剩余 {text}"


def _record(p: Mapping[str, Any], lang: str) -> str:
    """What the notice is about, for its title: 案件 RF20261203-01 (or a contract, an instalment)."""
    if p.get("case_no"):
        return ("Case " if lang == "en" else "案件 ") + str(p["case_no"])
    return str(p.get("ref") or "")


def _subject(p: Mapping[str, Any]) -> str:
    """房号 · 客户: 3-1-1201 · 李*"""
    return " · ".join(str(p[k]) for k in ("unit", "customer") if p.get(k))


def _due_line(p: Mapping[str, Any], now: datetime, lang: str) -> str:
    if not p.get("due_at"):
        return ""
    due = datetime.fromisoformat(p["due_at"])
    at = due.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")
    return (f"Due {at} ({time_left(due, now, lang)})" if lang == "en" else f"截止 {at}（{time_left(due, now, lang)}）")


_TITLES = {  # kind → (zh, en); {stage} {level} {who} {point} filled from the facts
    "task_opened": ("新任务：{stage}", "New task: {stage}"),
    "task_claimed": ("{who} 已认领：{stage}", "{who} took: {stage}"),
    "task_reassigned": ("任务转交给你：{stage}", "Task handed to you: {stage}"),
    "reminder": ("提醒：{stage} 已过 {point}% 时限", "Reminder: {stage} at {point}% of its time"),
    "reminder_due": ("即将到期：{stage}", "Coming up: {stage}"),
    "reminder_breach": ("已超时：{stage}", "Overdue: {stage}"),
    "sla_breach": ("超时升级：{stage}", "SLA missed: {stage}"),
    "escalation": ("升级待办：{stage}", "Escalated: {stage}"),
    "warning_raised": ("{level}预警，请按时响应", "{level} warning: answer it in time"),
    "warning_escalated": ("{level}预警未响应，已升级", "{level} warning not answered: escalated"),
    "followup_action": ("待办：{stage}", "To do: {stage}"),
    "regional_brief": ("案件已归档，简报已提交区域运营中心", "Case archived; brief sent to the regional ops centre"),
    "refund_instruction": ("退款指令待支付", "Refund instruction to pay"),
    "channel_dead": ("通知渠道投递失败", "A notification channel failed"),
    "test": ("EstateFlow 测试消息", "EstateFlow test message"),
}


def render(kind: str, params: Mapping[str, Any], lang: str, now: datetime) -> tuple[str, str]:
    """(title, body) of a notice in `lang` ("zh-CN" or "en"), the time left counted at `now`."""
    en = lang == "en"
    i = 1 if en else 0
    key = kind
    if kind == "reminder":
        key = "reminder_breach" if params.get("point") == 100 else "reminder_due" if params.get("lead") else "reminder"
    zh_en = _TITLES.get(key, ("{stage}", "{stage}"))
    level = LEVELS.get(str(params.get("level")), ("", ""))[i]
    stage = stage_label(params.get("stage"), lang) or str(params.get("text") or params.get("stage") or "")
    title = zh_en[i].format(stage=stage, level=level, who=params.get("who") or "", point=params.get("point") or "")
    record = _record(params, lang)
    if record:
        title = f"{title} — {record}"
    lines = [_subject(params), _due_line(params, now, lang)]
    if params.get("amount"):
        lines.append(("Amount " if en else "金额 ") + f"{params['amount']} " + ("CNY" if en else "元"))
    if params.get("reason"):
        lines.append(("Reason: " if en else "原因：") + str(params["reason"]))
    if params.get("note"):
        lines.append(str(params["note"]))
    return title[:256], "\n".join(x for x in lines if x)
