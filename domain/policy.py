"""Authoring refund policies (issue 14): what a valid policy body is, field by field; two versions side by side;
the 公示 rules in Chinese and English written from a version's own figures. Pure: no I/O, no clock.

A body is the JSON `domain.refund.policy_to_body` writes (minutes as whole numbers, money and shares as decimal
strings, shares as fractions 0–1 shown to people as 0–100 %)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from domain.refund import ContractStage

# The stages the published tiers decide (a disbursed loan goes to legal by law: no tier may be written for it).
TIER_STAGES = (ContractStage.DEPOSIT_PAID, ContractStage.ONLINE_SIGNED)
STAGE_NAMES = {
    ContractStage.DEPOSIT_PAID: ("仅付定金未网签", "deposit paid, not signed online"),
    ContractStage.ONLINE_SIGNED: ("已网签未放贷", "signed online, loan not disbursed"),
    ContractStage.LOAN_DISBURSED: ("已放贷未交房", "loan disbursed"),
}

# Minutes of each clock, in the order the SOP runs them: (zh, en) labels for the page and the comparison.
CLOCKS: dict[str, tuple[str, str]] = {
    "intake_minutes": ("信息采集", "intake"),
    "assessment_minutes": ("联合评估", "joint assessment"),
    "solution_minutes": ("出具方案", "solution"),
    "choice_minutes": ("客户选择", "the buyer's choice"),
    "contract_cancellation_minutes": ("网签合同注销", "online-contract cancellation"),
    "refund_payment_minutes": ("退款支付", "refund payment"),
    "archive_minutes": ("归档复盘", "archive and review"),
    "review_meeting_minutes": ("复盘会", "review meeting"),
    "rework_minutes": ("评估退回重做", "assessment rework"),
    "escalation_response_minutes": ("超时升级处理", "escalation response"),
}
# Clocks the policy may count in statutory working days instead (Chinese calendar, 调休 included).
WORKING_DAY_CLOCKS = ("choice", "contract_cancellation", "refund_payment")
MAX_MINUTES = 90 * 24 * 60
MAX_WORKING_DAYS = 60
MIN_RETENTION_DAYS = 2 * 365 + 1  # the SOP: records kept at least two years

FIELD_LABELS: dict[str, tuple[str, str]] = {
    **CLOCKS,
    **{f"{c}_working_days": (f"{CLOCKS[c + '_minutes'][0]}（工作日）", f"{CLOCKS[c + '_minutes'][1]} (working days)")
       for c in WORKING_DAY_CLOCKS},
    "escalation_loss_threshold": ("升级城市总经理的损失金额（元）", "loss escalating to the city GM (CNY)"),
    "min_options": ("方案最少个数", "fewest options in an offer"),
    "max_offer_rounds": ("重新出方案轮数上限", "offer rounds before the legal route"),
    "record_retention_days": ("记录保存天数", "records kept (days)"),
    "retention_pool_share": ("挽留资金池占营销预算比例", "retention pool, share of the marketing budget"),
    "reminders.points": ("提醒节点（时限的百分比）", "reminders (per cent of each clock)"),
}


@dataclass(frozen=True)
class FieldError:
    field: str  # where in the body: `tiers.0.min_share`, `choice_minutes`, …
    code: str
    message: str


def _int(body: Mapping[str, Any], key: str, lo: int, hi: int, errors: list[FieldError], *, optional: bool = False,
         what: str = "") -> None:
    if key not in body or body[key] is None:
        if not optional:
            errors.append(FieldError(key, "missing", f"{key} is required"))
        return
    v = body[key]
    if isinstance(v, bool) or not isinstance(v, int):
        errors.append(FieldError(key, "int_type", f"{key} must be a whole number, not {v!r}"))
    elif not lo <= v <= hi:
        errors.append(FieldError(key, "out_of_range", f"{key} must be between {lo} and {hi}{what}, not {v}"))


def _decimal(v: Any, key: str, errors: list[FieldError]) -> Decimal | None:
    if isinstance(v, float):
        errors.append(FieldError(key, "float", f"{key} must be written as a decimal string (e.g. \"0.60\"), never a float"))
        return None
    if isinstance(v, bool) or not isinstance(v, (str, int)):
        errors.append(FieldError(key, "decimal_type", f"{key} must be a decimal string, not {v!r}"))
        return None
    try:
        d = Decimal(str(v))
    except InvalidOperation:
        errors.append(FieldError(key, "decimal_parsing", f"{key} is not a number: {v!r}"))
        return None
    if not d.is_finite():
        errors.append(FieldError(key, "decimal_parsing", f"{key} is not a number: {v!r}"))
        return None
    return d


def _share(v: Any, key: str, errors: list[FieldError]) -> Decimal | None:
    d = _decimal(v, key, errors)
    if d is None:
        return None
    if not Decimal(0) <= d <= Decimal(1):
        errors.append(FieldError(key, "share_range", f"{key} is a share within 0–100 % (0 to 1), not {v}"))
        return None
    if d.as_tuple().exponent < -4:  # type: ignore[operator]
        errors.append(FieldError(key, "share_precision", f"{key} has more than two decimals of a per cent: {v}"))
        return None
    return d


def validate_body(body: Any) -> list[FieldError]:
    """Every fault of a policy body, each with its field: an empty list means the body may be approved."""
    if not isinstance(body, Mapping):
        return [FieldError("body", "type", "a policy is an object of named fields")]
    errors: list[FieldError] = []
    for key in CLOCKS:
        _int(body, key, 1, MAX_MINUTES, errors, what=" minutes (clocks are positive, at most 90 days)")
    for c in WORKING_DAY_CLOCKS:
        _int(body, f"{c}_working_days", 1, MAX_WORKING_DAYS, errors, optional=True)
    _int(body, "min_options", 2, 3, errors, what=" (the SOP asks for at least two of A, B, C)")
    _int(body, "max_offer_rounds", 1, 5, errors)
    _int(body, "record_retention_days", MIN_RETENTION_DAYS, 30 * 365, errors,
         what=" (the SOP keeps records at least two years)")
    if "escalation_loss_threshold" not in body:
        errors.append(FieldError("escalation_loss_threshold", "missing", "escalation_loss_threshold is required"))
    else:
        t = _decimal(body["escalation_loss_threshold"], "escalation_loss_threshold", errors)
        if t is not None and (t < 0 or t.as_tuple().exponent < -2):  # type: ignore[operator]
            errors.append(FieldError("escalation_loss_threshold", "money",
                                     "escalation_loss_threshold is an amount in CNY, at least 0, with at most 2 decimals"))
    if body.get("retention_pool_share") is not None:
        _share(body["retention_pool_share"], "retention_pool_share", errors)
    reminders = body.get("reminders")
    if reminders is not None:
        points = reminders.get("points") if isinstance(reminders, Mapping) else None
        if not isinstance(points, list) or not points:
            errors.append(FieldError("reminders.points", "type", "reminders.points is a list of per cents, e.g. [50, 80]"))
        else:
            for i, p in enumerate(points):
                if isinstance(p, bool) or not isinstance(p, int) or not 0 < p < 100:
                    errors.append(FieldError(f"reminders.points.{i}", "out_of_range",
                                             f"a reminder point is a whole per cent between 1 and 99, not {p!r}"))
            if len(set(points)) != len(points):
                errors.append(FieldError("reminders.points", "duplicate", "each reminder point once"))
    _validate_tiers(body.get("tiers"), errors)
    return errors


def _validate_tiers(tiers: Any, errors: list[FieldError]) -> None:
    if not isinstance(tiers, list):
        errors.append(FieldError("tiers", "type", "tiers is a list, one tier per contract stage"))
        return
    seen: set[str] = set()
    for i, t in enumerate(tiers):
        where = f"tiers.{i}"
        if not isinstance(t, Mapping):
            errors.append(FieldError(where, "type", f"{where} is an object with stage, min_share, max_share"))
            continue
        stage = t.get("stage")
        if stage == ContractStage.LOAN_DISBURSED:
            errors.append(FieldError(f"{where}.stage", "legal_route",
                                     "a disbursed loan goes to legal by law: it has no refund tier"))
        elif stage not in {s.value for s in TIER_STAGES}:
            errors.append(FieldError(f"{where}.stage", "enum",
                                     f"stage must be one of {', '.join(s.value for s in TIER_STAGES)}, not {stage!r}"))
        elif stage in seen:
            errors.append(FieldError(f"{where}.stage", "duplicate", f"stage {stage} has two tiers"))
        else:
            seen.add(stage)
        lo = _share(t.get("min_share"), f"{where}.min_share", errors) if "min_share" in t else None
        hi = _share(t.get("max_share"), f"{where}.max_share", errors) if "max_share" in t else None
        for k in ("min_share", "max_share"):
            if k not in t:
                errors.append(FieldError(f"{where}.{k}", "missing", f"{where}.{k} is required"))
        if lo is not None and hi is not None and lo > hi:
            errors.append(FieldError(f"{where}.max_share", "order",
                                     f"{where}: the maximum share {hi:.0%} is below the minimum {lo:.0%}"))
        note = t.get("note", "")
        if not isinstance(note, str) or len(note) > 200:
            errors.append(FieldError(f"{where}.note", "string", "a tier's note is text of at most 200 characters"))
    for s in TIER_STAGES:
        if s.value not in seen and not any(e.field.endswith(".stage") for e in errors):
            errors.append(FieldError("tiers", "coverage", f"no tier for stage {s.value}: every stage needs one"))


def _flat(body: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in FIELD_LABELS:
        if key == "reminders.points":
            out[key] = ((body.get("reminders") or {}).get("points"))
        else:
            out[key] = body.get(key)
    for s in TIER_STAGES:
        tier = next((t for t in body.get("tiers") or () if isinstance(t, Mapping) and t.get("stage") == s.value), {})
        for k in ("min_share", "max_share", "note"):
            out[f"tiers.{s.value}.{k}"] = tier.get(k)
    return out


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        try:
            return Decimal(a) == Decimal(b)
        except InvalidOperation:
            return a == b
    return a == b


def compare(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Two bodies side by side: one row per field, `changed` where they differ (0.6 and 0.60 are the same)."""
    fa, fb = _flat(a), _flat(b)
    rows = []
    for key in fa:
        if key.startswith("tiers."):
            _, stage, part = key.split(".")
            zh_s, en_s = STAGE_NAMES[ContractStage(stage)]
            names = {"min_share": ("最低退还比例", "minimum share"), "max_share": ("最高退还比例", "maximum share"),
                     "note": ("说明", "note")}[part]
            label = (f"{zh_s}：{names[0]}", f"{en_s}: {names[1]}")
        else:
            label = FIELD_LABELS[key]
        rows.append({"field": key, "label_zh": label[0], "label_en": label[1], "a": fa[key], "b": fb[key],
                     "changed": not _same(fa[key], fb[key])})
    return rows


def _pct(v: Any) -> str:
    d = Decimal(str(v)) * 100
    return f"{d.normalize():f}%"


def _span(minutes: int, zh: bool) -> str:
    if minutes % (24 * 60) == 0:
        n = minutes // (24 * 60)
        return f"{n} 天" if zh else f"{n} day{'s' if n != 1 else ''}"
    if minutes % 60 == 0:
        n = minutes // 60
        return f"{n} 小时" if zh else f"{n} hour{'s' if n != 1 else ''}"
    return f"{minutes} 分钟" if zh else f"{minutes} minutes"


def public_rules(body: Mapping[str, Any]) -> dict[str, list[str]]:
    """The 公示 text of a version, from its own figures: {"zh": [...], "en": [...]}, same order."""
    zh: list[str] = []
    en: list[str] = []
    for t in body.get("tiers", ()):
        s = ContractStage(t["stage"])
        base_zh, base_en = (("定金", "of the deposit") if s == ContractStage.DEPOSIT_PAID
                            else ("已付款项", "of everything paid"))
        zh.append(f"{STAGE_NAMES[s][0]}：退还{base_zh}的 {_pct(t['min_share'])}–{_pct(t['max_share'])}"
                  + (f"（{t['note']}）" if t.get("note") else "") + "。")
        en.append(f"{STAGE_NAMES[s][1].capitalize()}: {_pct(t['min_share'])}–{_pct(t['max_share'])} {base_en} "
                  "refunded" + (f" ({t['note']})" if t.get("note") else "") + ".")
    zh.append("订金/意向金全额退还；定金按上述阶梯退还（《民法典》第 586 条：定金不超过房价的 20%）。")
    en.append("订金 (a refundable prepayment) is refunded in full; 定金 follows the tiers above (Civil Code art. 586 "
              "caps it at 20 % of the price).")
    zh.append("双方均无过错（如限购政策变化）的，定金全额退还；开发商过错或已放款的，转法务处理。")
    en.append("Where neither side is at fault (e.g. a purchase-restriction change) the deposit is refunded in full; a "
              "developer fault, or a disbursed loan, goes to legal.")
    threshold = Decimal(str(body["escalation_loss_threshold"]))
    zh.append(f"预计损失超过 {threshold:,.0f} 元、涉及媒体，或退款比例高于阶梯上限的，须城市公司总经理审批。")
    en.append(f"A loss over CNY {threshold:,.0f}, media involvement, or a share above the tier needs the city-company "
              "general manager's approval.")
    zh.append(f"受理后 {_span(body['intake_minutes'], True)}内完成信息采集，{_span(body['assessment_minutes'], True)}内完成"
              f"联合评估，{_span(body['solution_minutes'], True)}内提供至少 {body.get('min_options', 2)} 个方案。")
    en.append(f"Intake within {_span(body['intake_minutes'], False)}, joint assessment within "
              f"{_span(body['assessment_minutes'], False)}, at least {body.get('min_options', 2)} options within "
              f"{_span(body['solution_minutes'], False)} of registration.")
    for c in WORKING_DAY_CLOCKS:
        wd = body.get(f"{c}_working_days")
        name_zh, name_en = CLOCKS[f"{c}_minutes"]
        if wd:
            zh.append(f"{name_zh}：{wd} 个工作日内（按国务院公布的节假日安排）。")
            en.append(f"{name_en.capitalize()}: within {wd} working day{'s' if wd != 1 else ''} (statutory calendar).")
        else:
            zh.append(f"{name_zh}：{_span(body[f'{c}_minutes'], True)}内。")
            en.append(f"{name_en.capitalize()}: within {_span(body[f'{c}_minutes'], False)}.")
    rounds = body.get("max_offer_rounds", 2)
    zh.append(f"客户拒绝全部方案的，最多重新出具 {rounds} 轮方案，之后转法务处理。")
    en.append(f"If the buyer refuses every option, up to {rounds} offer round{'s' if rounds != 1 else ''}; then legal "
              "takes the case.")
    days = body.get("record_retention_days", MIN_RETENTION_DAYS)
    zh.append(f"沟通记录保存 {days} 天（至少两年）。")
    en.append(f"Communication records are kept {days} days (at least two years).")
    return {"zh": zh, "en": en}
