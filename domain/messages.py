"""The catalogue of what the API tells a person when it refuses (pure: no I/O).

Every entry has a stable dotted code (`unit.transition_not_allowed`), an English and a Chinese template
with named placeholders (`{from}`, `{action}` …) and the kind of each parameter. A refusal carries the code
and its parameters (JSON-safe: text, whole numbers, lists of them); its words are made from them in the
reader's language by `render`. The English templates are the words the API has always answered, so a
client reading `message` sees no change.

Kinds of parameters:

- `text`, `int`, `id` (a whole number or a UUID), `amount` (a decimal as text), `date` (YYYY-MM-DD);
- a word of a vocabulary (`role`, `state`, `unit_action`, `dept`, `record`, `instruction_status`): the
  code itself in English (`frontdesk`), its label in Chinese (前台);
- a list of either, `role[]`: joined with ", " in English and "、" in Chinese.

The category codes of the error body (`conflict`, `not_found`, `validation_error` …) are entries too
(`generic`): no parameters, the words shown when nothing more precise is known.

`recognise` reads a code and its parameters back out of an English message that was written without one
(a raise site not yet given its code, a workflow's refusal): the whole text must be what an entry's English
template makes, every vocabulary word a known one. It is the bridge for those sites, not a way to add
entries. The web app gets this catalogue as `web/src/locales/errors.ts` (`python -m scripts.gen_error_catalogue`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID


class MessageError(ValueError):
    """An unknown code, or parameters that are not the ones its templates name."""


# ---------------------------------------------------------------- vocabularies (Chinese labels) ----------

VOCABULARY: dict[str, dict[str, str]] = {
    "role": {
        "frontdesk": "前台", "sales": "置业顾问", "manager": "案场经理", "finance": "财务", "legal": "法务",
        "marketing": "营销", "citygm": "城市公司总经理", "hqrisk": "总部风控", "ops": "运营", "admin": "系统管理员",
        "system": "系统",
    },
    "state": {
        "not_released": "未推", "available": "可售", "locked": "锁定", "subscribed": "已认购", "signed": "已签约",
        "filed": "已备案", "delivered": "已交付", "held": "保留", "refunding": "退房中", "not_for_sale": "不可售",
    },
    "unit_action": {
        "release": "推盘", "lock": "锁定", "unlock": "解锁", "subscribe": "认购", "sign": "签约", "file": "备案",
        "deliver": "交付", "hold": "保留", "unhold": "取消保留", "withdraw": "撤为不可售", "restore": "恢复可售",
        "open_refund": "发起退房",
    },
    "dept": {"finance": "财务", "legal": "法务", "marketing": "营销"},
    "instruction_status": {"issued": "待支付", "pending_approval": "待批准差额", "paid": "已支付"},
    "partner_kind": {"agency": "中介", "distributor": "分销"},
    # The records a "… does not exist" names.
    "record": {
        "unit": "房源", "task": "任务", "refund case": "退房案件", "project": "项目", "user": "用户",
        "subscription": "认购", "contract": "合同", "price list": "价目表", "evidence": "证据文件", "robot": "机器人",
        "warning": "预警", "delivery": "通知投递", "notification": "通知", "membership": "项目成员资格",
        "delegation": "代理", "refund instruction": "退款指令", "customer": "客户", "city company": "城市公司",
        "refund policy version": "退房政策版本", "walk-in": "来访登记", "registration": "报备",
    },
}

SCALAR_KINDS = {"text", "int", "id", "amount", "date"}
KINDS = SCALAR_KINDS | set(VOCABULARY)

# Recognition: what each kind of parameter looks like in an English message.
_SCALAR_PATTERN = {
    "text": r".+?",
    "int": r"-?\d+",
    "id": r"[0-9A-Za-z][0-9A-Za-z-]*",
    "amount": r"-?\d+(?:\.\d+)?",
    "date": r"\d{4}-\d{2}-\d{2}",
}

# How pydantic's error types read in Chinese (a field's fault in a validation_error).
FIELD_FAULTS_ZH: dict[str, str] = {
    "missing": "必填", "json_invalid": "不是有效的 JSON", "value_error": "取值无效", "extra_forbidden": "不允许的字段",
    "int_parsing": "须为整数", "int_type": "须为整数", "int_from_float": "须为整数", "bool_parsing": "须为是或否",
    "bool_type": "须为是或否", "float_parsing": "须为数字", "float_type": "须为数字", "decimal_parsing": "须为数字",
    "decimal_type": "须为数字", "decimal_max_digits": "位数过多", "decimal_max_places": "小数位过多",
    "string_type": "须为文本", "string_too_short": "过短", "string_too_long": "过长", "too_short": "过少",
    "too_long": "过多", "list_type": "须为列表", "dict_type": "须为对象", "model_attributes_type": "须为对象",
    "greater_than": "过小", "greater_than_equal": "过小", "less_than": "过大", "less_than_equal": "过大",
    "date_parsing": "须为日期（YYYY-MM-DD）", "date_from_datetime_parsing": "须为日期（YYYY-MM-DD）",
    "date_type": "须为日期（YYYY-MM-DD）", "datetime_parsing": "须为日期时间", "datetime_from_date_parsing": "须为日期时间",
    "datetime_type": "须为日期时间", "uuid_parsing": "须为 UUID", "uuid_type": "须为 UUID", "enum": "不是可选的值之一",
    "literal_error": "不是可选的值之一", "string_pattern_mismatch": "格式不正确", "url_parsing": "须为网址",
    "url_scheme": "网址协议不允许",
}


# ---------------------------------------------------------------- the catalogue ----------


@dataclass(frozen=True)
class Message:
    en: str
    zh: str
    params: Mapping[str, str] = field(default_factory=dict)  # name → kind
    en_one: str | None = None  # the English when the `plural` parameter is 1
    plural: str | None = None
    generic: bool = False  # a category of the error body: no parameters, words for when nothing better is known


def _m(en: str, zh: str, /, en_one: str | None = None, plural: str | None = None, **params: str) -> Message:
    return Message(en, zh, dict(params), en_one, plural)


def _g(en: str, zh: str) -> Message:
    return Message(en, zh, {}, generic=True)


CATALOGUE: dict[str, Message] = {
    # ---- the error body's categories (`code`; `key` when nothing more precise is known)
    "bad_request": _g("the request could not be read", "请求无法读取"),
    "unauthorized": _g("not signed in, or the session has expired", "未登录或登录已过期"),
    "forbidden": _g("you may not do this", "无权执行此操作"),
    "not_found": _g("the record does not exist, or is not visible to you", "记录不存在，或您无权查看"),
    "method_not_allowed": _g("this method is not allowed here", "不支持该请求方法"),
    "not_acceptable": _g("the requested format is not available", "无法提供所请求的格式"),
    "conflict": _g("the record's current state does not allow this", "记录的当前状态不允许此操作"),
    "too_large": _g("the upload is above its size limit", "上传的文件超过大小上限"),
    "unsupported_media_type": _g("this type of content is not accepted", "不支持该内容类型"),
    "invalid": _g("a value breaks a rule", "填写的内容不符合规则"),
    "validation_error": _g("the request is malformed", "请求格式有误"),
    "too_many_requests": _g("too many requests; try again later", "请求过于频繁，请稍后再试"),
    "internal_error": _g("something went wrong on our side", "系统内部错误"),
    "unavailable": _g("the service is unavailable right now; try again", "服务暂时不可用，请稍后再试"),
    "error": _g("the request failed", "请求失败"),

    # ---- signing in and roles
    "auth.not_authenticated": _m("Not authenticated", "未登录，请先登录"),  # FastAPI's OAuth2 scheme: no token at all
    "auth.not_signed_in": _m("not signed in or the session has expired; sign in again", "未登录或登录已过期，请重新登录"),
    "auth.wrong_credentials": _m("wrong username or password", "用户名或密码错误"),
    "auth.throttled": _m("too many failed sign-ins; try again in {minutes} minutes",
                         "登录失败次数过多，请 {minutes} 分钟后再试",
                         en_one="too many failed sign-ins; try again in {minutes} minute", plural="minutes",
                         minutes="int"),
    "auth.must_change_password": _m("change your password first", "请先修改密码"),
    "auth.wrong_current_password": _m("the current password is not right", "当前密码不正确"),
    "auth.role_forbidden": _m("role {role} may not do this; allowed: {allowed}",
                              "当前角色无权执行此操作（您的角色：{role}；可执行的角色：{allowed}）",
                              role="role", allowed="role[]"),
    "auth.project_role_required": _m("this needs one of the roles {allowed} in the case's project",
                                     "您在本案件所属项目中没有相应角色（须为：{allowed}）", allowed="role[]"),

    # ---- records and the service
    "record.not_found": _m("{record} {id} does not exist", "{record} {id} 不存在，或您无权查看", record="record", id="id"),
    "record.busy": _m("another request is changing the same record right now; try again in a moment",
                      "有其他操作正在修改同一记录，请稍后再试"),
    "request.value_out_of_range": _m("a value in the request is out of range or malformed",
                                     "请求中的某个值超出范围或格式不正确"),
    "upload.too_large": _m("the file is larger than the {limit} limit", "文件超过 {limit} 的大小上限", limit="text"),
    "service.db_pool_busy": _m("the server is busy: no database connection came free within {seconds} s; try again",
                               "服务器繁忙：{seconds} 秒内没有空闲的数据库连接，请重试", seconds="text"),
    "service.db_pool_busy_now": _m("the server is busy: no database connection came free; try again",
                                   "服务器繁忙：没有空闲的数据库连接，请重试"),
    "service.db_slow": _m("the database took too long to answer (statement timeout); try again",
                          "数据库响应超时，请重试"),
    "service.db_unreachable": _m("the database is not reachable right now; try again", "暂时无法连接数据库，请稍后再试"),
    "service.engine_timeout": _m("the workflow engine did not answer in time; try again in a few seconds.",
                                 "流程引擎未能及时响应，请几秒后再试。"),
    "service.engine_timeout_maybe_done": _m(
        "the workflow engine did not answer in time; try again in a few seconds. It may still have been "
        "recorded: reload before you repeat it.",
        "流程引擎未能及时响应，请几秒后再试。操作可能已经记录：请先刷新页面再重试。"),
    "service.internal_error": _m(
        "something went wrong on our side (reference {ref}); it has been logged — try again, or quote the reference",
        "系统内部错误（编号 {ref}），已记录日志：请重试，或向管理员提供该编号", ref="text"),

    # ---- units (销控)
    "unit.transition_not_allowed": _m(
        "unit {unit}: a unit that is {from} does not allow {action} (allowed from: {allowed})",
        "房源 {unit} 当前为「{from}」，不能{action}（仅「{allowed}」状态可以）",
        unit="text", **{"from": "state"}, action="unit_action", allowed="state[]"),
    "unit.state_refuses": _m(
        "a unit that is {from} does not allow {action} (allowed from: {allowed})",
        "房源当前为「{from}」，不能{action}（仅「{allowed}」状态可以）",
        **{"from": "state"}, action="unit_action", allowed="state[]"),
    "unit.role_may_not": _m("role {role} may not {action} a unit", "{role}不能对房源执行「{action}」",
                            role="role", action="unit_action"),
    "unit.unknown_action": _m("unknown unit action '{action}'", "未知的房源操作「{action}」", action="text"),
    "unit.reason_required": _m("{action} needs a reason (it is audited)", "「{action}」须填写原因（将记入审计）",
                               action="unit_action"),
    "unit.not_inventory_action": _m(
        "'{action}' is not an inventory action (allowed: {allowed}); selling and signing go through subscriptions "
        "and contracts",
        "「{action}」不是销控操作（可用：{allowed}）；认购和签约须通过认购书和合同办理",
        action="text", allowed="unit_action[]"),
    "unit.locked_by_other": _m("unit {unit} is locked by {holder}; only they or the site manager may unlock it",
                               "房源 {unit} 由 {holder} 锁定，只有其本人或案场经理可以解锁", unit="text", holder="text"),
    "unit.deposit_not_positive": _m("the deposit must be above zero", "认购金额须大于 0"),
    "unit.deposit_above_price": _m("the deposit cannot exceed the price", "认购金额不能超过房价"),
    "unit.dingjin_above_cap": _m(
        "a 定金 of {deposit} exceeds 20% of the price ({cap}); the excess would not be earnest money "
        "(Civil Code art. 586)",
        "定金 {deposit} 超过房价的 20%（{cap}），超出部分不产生定金效力（《民法典》第 586 条）",
        deposit="amount", cap="amount"),
    "unit.signing_deadline_past": _m("the signing deadline must be after today", "签约期限须晚于今天"),
    "unit.signing_deadline_too_far": _m("the signing deadline may be at most {days} days away",
                                        "签约期限最多为 {days} 天后", days="int"),
    "unit.no_active_subscription": _m("unit {unit} has no active subscription: there is nothing to refund",
                                      "房源 {unit} 没有有效认购，无需退房", unit="text"),
    "unit.refund_in_progress": _m("unit {unit} already has a refund case in progress",
                                  "房源 {unit} 已有进行中的退房案件", unit="text"),
    "unit.registration_busy": _m(
        "another request is registering a refund for this unit right now; try again in a moment",
        "有人正在为该房源登记退房，请稍后再试"),
    "price_list.immutable": _m("price list v{version} is already {status}; published versions are immutable",
                               "价目表 v{version} 已是「{status}」状态；已发布的版本不能修改", version="int", status="text"),
    "import.unreadable_xlsx": _m("not a readable XLSX file: {reason}", "无法读取该 XLSX 文件：{reason}", reason="text"),
    "import.csv_not_utf8": _m("the CSV file must be UTF-8", "CSV 文件须为 UTF-8 编码"),
    "import.wrong_type": _m("upload a .csv or .xlsx file", "请上传 .csv 或 .xlsx 文件"),
    "import.empty": _m("the file is empty", "文件是空的"),
    "import.rows_rejected": _m("{count} error(s) in the file; nothing was imported",
                               "文件中有 {count} 处错误，未导入任何数据", count="int"),

    # ---- tasks (待办)
    "task.not_open": _m("task {task_id} is no longer open", "任务 {task_id} 已不在待办中", task_id="int"),
    "task.not_open_now": _m("task {task_id} is not open", "任务 {task_id} 当前不可办理", task_id="int"),
    "task.cancelled": _m("task {task_id} was cancelled", "任务 {task_id} 已取消", task_id="int"),
    "task.already_completed": _m("task {task_id} was already completed by {by} at {at} (China time)",
                                 "任务 {task_id} 已由 {by} 于 {at}（北京时间）完成", task_id="int", by="text", at="text"),
    "task.already_completed_by_system": _m("task {task_id} was already completed by the system at {at} (China time)",
                                           "任务 {task_id} 已由系统于 {at}（北京时间）完成", task_id="int", at="text"),
    "task.not_in_pool": _m("this task is for the {role} pool; you are not in it",
                           "这项任务属于「{role}」任务池，您不在其中", role="role"),
    "task.not_yours": _m("this task is for {role} in its project; it is not yours",
                         "这项任务属于本项目的「{role}」，不属于您", role="role"),
    "task.already_claimed": _m("task {task_id} is already claimed by {holder}", "任务 {task_id} 已被 {holder} 认领",
                               task_id="int", holder="text"),
    "task.release_not_allowed": _m(
        "task {task_id} is claimed by {holder}; only they or the project's manager may release it",
        "任务 {task_id} 已由 {holder} 认领，只有其本人或本项目的案场经理可以放回任务池", task_id="int", holder="text"),
    "task.claimed_by_other": _m(
        "task {task_id} is claimed by {holder}; ask them or the project's manager to release it",
        "任务 {task_id} 已由 {holder} 认领：请对方或本项目的案场经理放回任务池", task_id="int", holder="text"),
    "task.reassign_not_manager": _m("only a manager of the task's project may reassign it", "只有本项目的案场经理可以转派任务"),
    "task.reassign_reason_required": _m("give a reason for the reassignment", "请填写转派原因"),
    "task.reassign_not_eligible": _m("{name} is not in the {role} pool of this project",
                                     "{name} 不在本项目的「{role}」任务池中", name="text", role="role"),
    "task.kind_not_here": _m("tasks of kind {kind} cannot be completed here", "「{kind}」类任务不能在此办理", kind="text"),
    "task.approve_required": _m("approve must be true or false", "请选择批准或不批准"),
    "task.escalation_response_required": _m("say what was done about the missed deadline", "请填写处理情况"),
    "task.attendees_required": _m("list who attended the review meeting", "请选择参会人员"),
    "task.minutes_required": _m("write the meeting's minutes", "请填写会议纪要"),
    "task.dispute_note_required": _m("say how the dispute was handled", "请填写处理结果"),

    # ---- the refund case's steps
    "intake.id_required": _m("scan or type the buyer's ID number to verify identity", "请扫描或输入客户证件号以核验身份"),
    "intake.mobile_required": _m("give the buyer's mobile number for phone verification", "请填写客户手机号以核验电话"),
    "intake.id_mismatch": _m("the ID number does not match the buyer on record", "证件号与认购客户记录不符"),
    "intake.mobile_mismatch": _m("the mobile number does not match the buyer on record", "手机号与认购客户记录不符"),
    "intake.reason_required": _m("choose at least one main reason", "请至少选择一个主要原因"),
    "intake.willing_required": _m("record whether the buyer would consider alternatives", "请记录客户是否愿意考虑其他方案"),
    "assessment.commission_required": _m("finance must give the commission accrued", "财务须填写已计提的佣金"),
    "solution.options_required": _m("give the options offered to the buyer (at least two)", "请填写提供给客户的方案（至少两个）"),
    "choice.option_required": _m("record which option the buyer chose (A, B or C)", "请记录客户选择的方案（A、B 或 C）"),
    "choice.option_and_refusal": _m(
        "give either the option the buyer chose or that they refused every option, not both",
        "请填写客户选择的方案，或客户拒绝了全部方案，二者只能选其一"),
    "choice.replacement_unknown": _m("customer {customer_id} does not exist; register the replacement buyer first",
                                     "客户 {customer_id} 不存在：请先登记受让客户", customer_id="int"),
    "archive.summary_required": _m("the archive needs a summary for the knowledge base", "归档须填写知识库摘要"),
    "case.four_eyes_gm": _m("four eyes: whoever registered or assessed this case may not approve it",
                            "四眼原则：登记或评估本案件的人不得审批"),
    "case.four_eyes_void": _m("four eyes: whoever asked for the void may not approve it", "四眼原则：申请作废的人不得审批"),
    "case.withdraw_after_outcome": _m("the case already has an outcome; a withdrawal is no longer possible",
                                      "案件已有结果，不能再撤回"),
    "case.void_after_outcome": _m("the case already has an outcome; it can no longer be voided", "案件已有结果，不能再作废"),
    "case.void_pending": _m("a void is already waiting for approval", "已有作废申请等待审批"),
    "case.no_void_pending": _m("no void is waiting for approval", "没有等待审批的作废申请"),
    "case.return_nothing": _m("{dept} has not given its assessment; there is nothing to return",
                              "{dept}尚未提交评估，无可退回", dept="dept"),
    "case.correct_nothing": _m("{dept} has not given an assessment to correct", "{dept}尚未提交评估，无可更正", dept="dept"),
    "case.return_after_offer": _m("the solution has been offered; assessments can no longer be returned",
                                  "方案已提供，评估不能再退回"),
    "case.correct_after_offer": _m("the solution has been offered; assessments can no longer be corrected",
                                   "方案已提供，评估不能再更正"),
    "case.correct_not_assessor": _m("only the assessor who gave this assessment may correct it", "只有提交该评估的本人可以更正"),
    "case.no_offer_waiting": _m("no offer is waiting for the buyer's answer", "没有等待客户答复的方案"),
    "case.withdraw_reason_required": _m("give the reason the buyer gave for withdrawing", "请填写客户撤回的原因"),
    "case.void_reason_required": _m("give the reason the registration was a mistake", "请填写登记有误的原因"),
    "case.return_reason_required": _m("give the reason the assessment is returned", "请填写退回原因"),
    "case.withdraw_role": _m("the front desk or the manager records a withdrawal", "撤回须由前台或案场经理登记"),
    "case.void_request_role": _m("the site manager asks for a registration to be voided", "作废须由案场经理申请"),
    "case.void_approve_role": _m("a manager or the city GM approves a void", "作废须由案场经理或城市公司总经理审批"),
    "case.return_role": _m("the site manager returns an assessment", "退回评估须由案场经理操作"),
    "case.evidence_not_of_case": _m("evidence {ids} is not a file of this case", "证据 {ids} 不属于本案件", ids="text"),
    "case.already_open": _m("this subscription already has an open refund case", "该认购已有进行中的退房案件"),

    # ---- contracts and their money
    "contract.receipt_followed_up": _m(
        "contract {contract} is followed up by payment plan {plan}: record an instalment paid on the plan (it writes "
        "the receipt too), so the follow-up knows the instalment is paid",
        "合同 {contract} 的回款由付款跟进 {plan} 跟踪：请在该跟进中登记分期到账（同时生成收款记录），以免跟进仍按逾期催收",
        contract="text", plan="text"),

    # ---- the retention pool (挽留资金池)
    "policy.none_in_force": _m(
        "no refund policy is in force; legal must publish one first",
        "尚无生效的退房政策，请法务先发布退房政策", ),
    "retention.pool_short": _m(
        "the retention pool of {project} has {remaining} CNY left; a compensation of {amount} CNY cannot be drawn",
        "{project} 的挽留资金池仅余 {remaining} 元，无法支出 {amount} 元补偿；请财务或城市公司总经理先为资金池追加预算",
        project="text", remaining="amount", amount="amount"),
    "retention.below_drawn": _m(
        "the retention pool of {project} has already paid out {drawn} CNY in compensation; it cannot be given "
        "{allotment} CNY, less than that",
        "{project} 的挽留资金池已支出补偿 {drawn} 元，分配额 {allotment} 元不能低于已支出金额",
        project="text", allotment="amount", drawn="amount"),

    # ---- the refund payment (退款支付)
    "refund.no_instruction": _m("this case has no refund instruction", "本案件没有退款指令"),
    "payment.amount_required": _m("give the amount paid", "请填写支付金额"),
    "payment.date_required": _m("give the date the bank paid", "请填写支付日期"),
    "payment.reference_required": _m("give the bank's reference (流水号)", "请填写银行流水号"),
    "payment.reference_missing": _m("give the bank's reference (流水号) of the transfer", "请填写转账的银行流水号"),
    "payment.amount_not_positive": _m("the amount paid must be above zero", "支付金额须大于 0"),
    "payment.date_in_future": _m("the payment date {date} is in the future", "支付日期 {date} 晚于今天", date="date"),
    "payment.date_before_instruction": _m("the payment date {date} is before the instruction was issued ({issued})",
                                          "支付日期 {date} 早于退款指令开具日（{issued}）", date="date", issued="date"),
    "payment.difference_needs_reason": _m(
        "the instruction is for {instructed}; a payment of {amount} needs a reason, and a second person approves it",
        "退款指令金额为 {instructed}，支付 {amount} 与之不一致：须填写原因，并由另一人批准",
        instructed="amount", amount="amount"),
    "payment.not_issued": _m("refund instruction {id} is already {status}", "退款指令 {id} 已是「{status}」状态",
                             id="int", status="instruction_status"),
    "payment.not_pending": _m("refund instruction {id} is {status}, not waiting for an approval",
                              "退款指令 {id} 为「{status}」，没有等待批准的差额", id="int", status="instruction_status"),
    "payment.four_eyes": _m("four eyes: whoever recorded the payment may not approve its difference",
                            "四眼原则：登记付款的人不得批准其金额差异"),

    # ---- why a case goes to the city GM (domain/refund.py ESCALATION_REASONS: the same codes and words)
    "escalation.loss_over_threshold": _m("loss {loss} CNY exceeds {threshold} CNY", "经济损失 {loss} 元，超过 {threshold} 元",
                                         loss="amount", threshold="amount"),
    "escalation.media_involved": _m("media involvement", "涉及媒体"),
    "escalation.share_above_tier": _m("refund share above the published tier", "退款比例高于公示阶梯上限"),

    # ---- reception: the duty rotation and walk-ins (接待轮序)
    "reception.roster_empty": _m("name at least one consultant on duty", "请至少安排一名值班置业顾问"),
    "reception.roster_twice": _m("a consultant is named twice in the duty order", "值班顺序中同一位置业顾问出现了两次"),
    "reception.not_consultant": _m("user {user} is not an active sales consultant of this project",
                                   "用户 {user} 不是本项目在职的置业顾问", user="id"),
    "reception.not_on_roster": _m("user {user} is not on today's duty roster", "用户 {user} 不在今天的值班表上", user="id"),
    "reception.already_back": _m("{name} is already back on duty", "{name} 已经在岗", name="text"),
    "reception.already_absent": _m("{name} is already marked absent", "{name} 已经标记为离岗", name="text"),
    "reception.taken": _m("walk-in {walk_in} was already taken by {name} at {at}",
                          "来访 {walk_in} 已由 {name} 于 {at} 接待", walk_in="int", name="text", at="text"),
    "reception.reserved": _m("this is a returning customer of {name}, who is on duty: the walk-in goes to them "
                             "(撞单 protection)", "这是 {name} 的老客户，且其在岗：应由其接待（防撞单）", name="text"),
    "reception.off_duty": _m("{name} is not on duty in today's rotation", "{name} 不在今天的接待轮序中", name="text"),
    "reception.take_needs_reason": _m("it is {name}'s walk-in: taking it needs a reason",
                                      "这组来访应由 {name} 接待：跨序接待须填写原因", name="text"),
    "reception.skip_needs_reason": _m("a skip needs a reason", "跳过须填写原因"),
    "reception.skip_reserved": _m("a returning customer's walk-in is not in the rotation: there is nobody to skip",
                                  "老客户来访不参与轮序：没有可跳过的人"),
    "reception.offered_to_other": _m("the walk-in is offered to {offered}, not to {name}",
                                     "这组来访当前轮到 {offered}，不是 {name}", offered="text", name="text"),

    # ---- channel partners and their registrations (渠道报备)
    "partner.name_empty": _m("the partner's name is empty", "渠道名称不能为空"),
    "partner.name_taken": _m("a partner named {name} already exists in this project", "本项目已有名为 {name} 的渠道",
                             name="text"),
    "partner.prospect_name_empty": _m("the prospect's name is empty", "客户姓名不能为空"),
    "partner.not_of_project": _m("partner {partner} is not a channel partner of this project",
                                 "渠道 {partner} 不是本项目的渠道", partner="id"),
    "partner.inactive": _m("partner {name} is no longer active", "渠道 {name} 已停用", name="text"),
    "partner.mobile_registered": _m("this mobile is already registered by {name} ({kind}), protected until {until} "
                                    "China time", "该手机号已由 {name}（{kind}）报备，保护期至北京时间 {until}",
                                    name="text", kind="partner_kind", until="text"),
    "partner.prospect_visited_since": _m("this prospect is already a visitor of the sales office since {since}: a "
                                         "registration cannot claim them",
                                         "该客户自 {since} 起已到访案场：不能再被报备", since="date"),
    "partner.prospect_known": _m("this prospect is already a visitor of the sales office: a registration cannot "
                                 "claim them", "该客户已是案场客户：不能再被报备"),
    "partner.registration_withdrawn": _m("registration {registration} is already withdrawn", "报备 {registration} 已撤回",
                                         registration="int"),
}


# ---------------------------------------------------------------- rendering ----------

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_CODE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")


def placeholders(template: str) -> set[str]:
    return set(_PLACEHOLDER.findall(template))


def _base(kind: str) -> tuple[str, bool]:
    return (kind[:-2], True) if kind.endswith("[]") else (kind, False)


def json_safe(value: Any) -> Any:
    """A parameter as JSON can carry it: text, whole numbers, booleans, lists; a Decimal, date, time or UUID
    becomes its text. Anything else is a programming error (TypeError)."""
    if isinstance(value, Enum):
        return json_safe(value.value)
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, (Decimal, date, datetime, UUID)):
        return str(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value) if isinstance(value, (set, frozenset)) else value
        return [json_safe(v) for v in items]
    raise TypeError(f"a message parameter must be JSON-safe, not {type(value).__name__}")


def check_params(key: str, params: Mapping[str, Any] | None) -> Message:
    """The entry of `key`, when `params` are exactly the ones it names; MessageError otherwise."""
    entry = CATALOGUE.get(key)
    if entry is None:
        raise MessageError(f"unknown message code {key!r}")
    given = set(params or {})
    if given != set(entry.params):
        missing, extra = sorted(set(entry.params) - given), sorted(given - set(entry.params))
        raise MessageError(f"{key}: parameters {sorted(entry.params)} expected; missing {missing}, unexpected {extra}")
    return entry


def _word(value: Any, kind: str, lang: str) -> str:
    base, many = _base(kind)
    if many:
        items = value if isinstance(value, (list, tuple)) else [value]
        return ("、" if lang == "zh" else ", ").join(_word(v, base, lang) for v in items)
    if isinstance(value, (list, tuple)):
        return ("、" if lang == "zh" else ", ").join(_word(v, kind, lang) for v in value)
    text = "" if value is None else str(value)
    if lang == "zh" and base in VOCABULARY:
        return VOCABULARY[base].get(text, text)
    return text


def _lang(lang: str) -> str:
    return "zh" if lang.lower().startswith("zh") else "en"


def template(key: str, params: Mapping[str, Any] | None = None, lang: str = "en") -> str:
    entry = CATALOGUE[key]
    if _lang(lang) == "zh":
        return entry.zh
    if entry.en_one is not None and entry.plural and str((params or {}).get(entry.plural)) == "1":
        return entry.en_one
    return entry.en


def render(key: str, params: Mapping[str, Any] | None = None, lang: str = "en") -> str:
    """The message of `key` with `params` in `lang` ("en", "zh" or "zh-CN"); MessageError for an unknown
    code or parameters that are not exactly the ones it names."""
    entry = check_params(key, params)
    params = params or {}
    lang = _lang(lang)
    return _PLACEHOLDER.sub(lambda m: _word(params[m.group(1)], entry.params[m.group(1)], lang),
                           template(key, params, lang))


def generic_zh(code: str, english: str) -> str:
    """The Chinese of a message that has no code of its own: its category's words, the English beside."""
    entry = CATALOGUE.get(code) or CATALOGUE["error"]
    return f"{entry.zh}（{english}）" if english else entry.zh


def validation_zh(errors: list[dict[str, Any]]) -> str:
    """A validation_error in Chinese: each field at fault, with pydantic's type of fault in words."""
    parts = []
    for e in errors:
        where = str(e.get("field") or "")
        for prefix in ("body.", "query.", "path.", "header."):
            if where.startswith(prefix):
                where = where[len(prefix):]
        if where in ("body", "query", "path"):
            where = "请求体" if where == "body" else ""
        fault = FIELD_FAULTS_ZH.get(str(e.get("code") or ""), "有误")
        parts.append(f"{where}：{fault}" if where else fault)
    head = CATALOGUE["validation_error"].zh
    return f"{head}（{'；'.join(parts)}）" if parts else head


# ---------------------------------------------------------------- recognising an English message ----------


def _pattern(kind: str) -> str:
    base, many = _base(kind)
    if base in VOCABULARY:
        one = "(?:" + "|".join(re.escape(w) for w in sorted(VOCABULARY[base], key=len, reverse=True)) + ")"
    else:
        one = _SCALAR_PATTERN[base]
    return f"{one}(?:, {one})*" if many else one


def _convert(text: str, kind: str) -> Any:
    base, many = _base(kind)
    if many:
        return [_convert(t, base) for t in text.split(", ")]
    if base == "int" or (base == "id" and text.isdigit()):
        return int(text)
    return text


def _compile(tpl: str, kinds: Mapping[str, str]) -> tuple[re.Pattern[str], list[str]]:
    names: list[str] = []
    out, at = [], 0
    for m in _PLACEHOLDER.finditer(tpl):
        out.append(re.escape(tpl[at:m.start()]))
        out.append(f"({_pattern(kinds[m.group(1)])})")
        names.append(m.group(1))
        at = m.end()
    out.append(re.escape(tpl[at:]))
    return re.compile("".join(out), re.DOTALL), names


def _literal_length(tpl: str) -> int:
    return len(_PLACEHOLDER.sub("", tpl))


def _recognisers() -> list[tuple[str, re.Pattern[str], list[str]]]:
    out = []
    for key, entry in CATALOGUE.items():
        if entry.generic:
            continue
        for tpl in filter(None, (entry.en, entry.en_one)):
            out.append((_literal_length(tpl), key, *_compile(tpl, entry.params)))
    out.sort(key=lambda r: -r[0])  # the most specific template first
    return [(key, pattern, names) for _, key, pattern, names in out]


_RECOGNISERS: list[tuple[str, re.Pattern[str], list[str]]] = []  # compiled on first use, not at import


def recognise(text: str | None) -> tuple[str, dict[str, Any]] | None:
    """(code, params) of an English message an entry's template makes, or None."""
    if not text:
        return None
    if not _RECOGNISERS:
        _RECOGNISERS.extend(_recognisers())
    for key, pattern, names in _RECOGNISERS:
        m = pattern.fullmatch(text)
        if m is None:
            continue
        params: dict[str, Any] = {}
        for name, value in zip(names, m.groups()):
            converted = _convert(value, CATALOGUE[key].params[name])
            if params.setdefault(name, converted) != converted:
                break  # a placeholder used twice, with two values
        else:
            return key, params
    return None


# ---------------------------------------------------------------- checks and export ----------


def check_catalogue() -> list[str]:
    """What is wrong with the catalogue (empty when nothing is): codes, kinds, placeholders in both
    languages, plural forms, and templates that recognise only themselves."""
    problems = []
    for key, entry in CATALOGUE.items():
        if not _CODE.match(key):
            problems.append(f"{key}: a code is lower-case words joined by dots")
        if not entry.en.strip() or not entry.zh.strip():
            problems.append(f"{key}: needs both English and Chinese")
        for name, kind in entry.params.items():
            if _base(kind)[0] not in KINDS:
                problems.append(f"{key}: parameter {name} of unknown kind {kind!r}")
        declared = set(entry.params)
        for lang, tpl in (("en", entry.en), ("zh", entry.zh), ("en_one", entry.en_one)):
            if tpl is not None and placeholders(tpl) != declared:
                problems.append(f"{key} ({lang}): placeholders {sorted(placeholders(tpl))} ≠ parameters {sorted(declared)}")
            if tpl is not None and _literal_length(tpl) == 0:
                problems.append(f"{key} ({lang}): a template needs words besides its placeholders")
        if (entry.en_one is None) != (entry.plural is None) or (entry.plural and entry.plural not in declared):
            problems.append(f"{key}: en_one and plural go together, plural naming a parameter")
        if entry.generic and declared:
            problems.append(f"{key}: a generic entry has no parameters")
        if re.search(r"[\u4e00-\u9fff]", entry.zh) is None:
            problems.append(f"{key}: the Chinese template has no Chinese")
    return problems


def catalogue_json() -> dict[str, Any]:
    """The catalogue as the web app's generated file carries it."""
    entries = {}
    for key, e in CATALOGUE.items():
        item: dict[str, Any] = {"en": e.en, "zh": e.zh, "params": dict(e.params)}
        if e.en_one is not None:
            item["en_one"], item["plural"] = e.en_one, e.plural
        if e.generic:
            item["generic"] = True
        entries[key] = item
    return {"catalogue": entries, "vocabulary": VOCABULARY, "field_faults_zh": FIELD_FAULTS_ZH}


def dumps() -> str:
    return json.dumps(catalogue_json(), ensure_ascii=False, indent=2)
