"""The catalogue of refusal codes (domain/messages.py): both languages for every code, placeholders that are
the code's parameters, rendering, recognition of the English back into code and parameters, the service
errors and workflow refusals that carry codes, and the web app's generated copy."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from temporalio.exceptions import ApplicationError

from db.errors import Conflict, Forbidden, Invalid, ServiceError
from domain.messages import (
    CATALOGUE,
    VOCABULARY,
    MessageError,
    check_catalogue,
    check_params,
    placeholders,
    recognise,
    render,
    validation_zh,
)

SPECIFIC = sorted(k for k, e in CATALOGUE.items() if not e.generic)
SAMPLE = {"text": "X-1", "int": 7, "id": 7, "amount": "1200.50", "date": "2026-01-02"}


def sample_params(key: str) -> dict:
    params = {}
    for name, kind in CATALOGUE[key].params.items():
        base = kind.removesuffix("[]")
        value = next(iter(VOCABULARY[base])) if base in VOCABULARY else SAMPLE[base]
        params[name] = [value, value] if kind.endswith("[]") else value
    return params


def test_the_catalogue_has_nothing_wrong_with_it():
    assert check_catalogue() == []
    assert len(SPECIFIC) > 60


@pytest.mark.parametrize("key", sorted(CATALOGUE))
def test_every_code_has_english_and_chinese_with_the_same_placeholders(key):
    entry = CATALOGUE[key]
    assert entry.en.strip() and entry.zh.strip()
    assert placeholders(entry.en) == placeholders(entry.zh) == set(entry.params)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in entry.zh), "the Chinese is Chinese"


@pytest.mark.parametrize("key", SPECIFIC)
def test_every_code_renders_in_both_languages_and_its_english_reads_back(key):
    params = sample_params(key)
    en, zh = render(key, params, "en"), render(key, params, "zh-CN")
    assert "{" not in en and "{" not in zh
    assert recognise(en) == (key, params)


def test_render_fills_the_parameters_with_each_language_s_words():
    params = {"unit": "1-101", "from": "locked", "action": "lock", "allowed": ["available", "held"]}
    assert render("unit.transition_not_allowed", params) == \
        "unit 1-101: a unit that is locked does not allow lock (allowed from: available, held)"
    assert render("unit.transition_not_allowed", params, "zh") == "房源 1-101 当前为「锁定」，不能锁定（仅「可售、保留」状态可以）"
    assert render("auth.throttled", {"minutes": 1}) == "too many failed sign-ins; try again in 1 minute"
    assert render("auth.throttled", {"minutes": 15}) == "too many failed sign-ins; try again in 15 minutes"
    assert render("record.not_found", {"record": "refund case", "id": "c0ffee"}, "zh") == "退房案件 c0ffee 不存在，或您无权查看"
    assert render("task.not_yours", {"role": "legal"}, "zh") == "这项任务属于本项目的「法务」，不属于您"


@pytest.mark.parametrize("params", [{}, {"from": "locked", "action": "lock"},
                                    {"unit": "1", "from": "locked", "action": "lock", "allowed": [], "extra": 1}])
def test_parameters_that_are_not_the_code_s_are_refused(params):
    with pytest.raises(MessageError):
        render("unit.transition_not_allowed", params)
    with pytest.raises(MessageError):
        check_params("unit.transition_not_allowed", params)


def test_an_unknown_code_is_refused():
    with pytest.raises(MessageError, match="unknown message code"):
        render("unit.teleported", {})


# The English of every message the web app used to translate by substring (web/src/locales/server.ts, now
# gone), as its raise sites word it: each is a code of the catalogue, recognised even where the raise site
# does not give the code yet (the workflows, db/refund_payments.py, api/deps.py, api/routes/refund_cases.py).
FORMER_SUBSTRING_TABLE = {
    "task 12 was already completed by 王芳 at 2026-01-02 10:00:00 (China time)": "task.already_completed",
    "the ID number does not match the buyer on record": "intake.id_mismatch",
    "the mobile number does not match the buyer on record": "intake.mobile_mismatch",
    "not signed in or the session has expired; sign in again": "auth.not_signed_in",
    "wrong username or password": "auth.wrong_credentials",
    "role frontdesk may not do this; allowed: finance, manager, citygm, hqrisk, ops": "auth.role_forbidden",
    "this task is for frontdesk in its project; it is not yours": "task.not_yours",
    "this task is for the legal pool; you are not in it": "task.not_in_pool",
    "change your password first": "auth.must_change_password",
    "too many failed sign-ins; try again in 3 minutes": "auth.throttled",
    "task 12 is already claimed by 王芳": "task.already_claimed",
    "task 12 is claimed by 王芳; ask them or the project's manager to release it": "task.claimed_by_other",
    "only a manager of the task's project may reassign it": "task.reassign_not_manager",
    "four eyes: whoever asked for the void may not approve it": "case.four_eyes_void",
    "four eyes: whoever recorded the payment may not approve its difference": "payment.four_eyes",
    "four eyes: whoever registered or assessed this case may not approve it": "case.four_eyes_gm",
    "the case already has an outcome; a withdrawal is no longer possible": "case.withdraw_after_outcome",
    "the case already has an outcome; it can no longer be voided": "case.void_after_outcome",
    "a void is already waiting for approval": "case.void_pending",
    "no void is waiting for approval": "case.no_void_pending",
    "finance has not given its assessment; there is nothing to return": "case.return_nothing",
    "legal has not given an assessment to correct": "case.correct_nothing",
    "the solution has been offered; assessments can no longer be returned": "case.return_after_offer",
    "the solution has been offered; assessments can no longer be corrected": "case.correct_after_offer",
    "only the assessor who gave this assessment may correct it": "case.correct_not_assessor",
    "no offer is waiting for the buyer's answer": "case.no_offer_waiting",
    "this needs one of the roles manager, citygm in the case's project": "auth.project_role_required",
    "give the reason the buyer gave for withdrawing": "case.withdraw_reason_required",
    "give the reason the registration was a mistake": "case.void_reason_required",
    "give the reason the assessment is returned": "case.return_reason_required",
    "evidence 3, 4 is not a file of this case": "case.evidence_not_of_case",
    "evidence 3 is not a file of this case": "case.evidence_not_of_case",
    "the front desk or the manager records a withdrawal": "case.withdraw_role",
    "the site manager asks for a registration to be voided": "case.void_request_role",
    "a manager or the city GM approves a void": "case.void_approve_role",
    "the site manager returns an assessment": "case.return_role",
    "unit 1-101 has no active subscription: there is nothing to refund": "unit.no_active_subscription",
    "this subscription already has an open refund case": "case.already_open",
    "media involvement": "escalation.media_involved",
    "refund share above the published tier": "escalation.share_above_tier",
    "the instruction is for 12000.00; a payment of 11000.00 needs a reason, and a second person approves it":
        "payment.difference_needs_reason",
    "give the amount paid": "payment.amount_required",
    "the amount paid must be above zero": "payment.amount_not_positive",
    "give the date the bank paid": "payment.date_required",
    "the payment date 2027-01-01 is in the future": "payment.date_in_future",
    "the payment date 2025-01-01 is before the instruction was issued (2025-02-01)": "payment.date_before_instruction",
    "give the bank's reference (流水号)": "payment.reference_required",
    "give the bank's reference (流水号) of the transfer": "payment.reference_missing",
    "this case has no refund instruction": "refund.no_instruction",
    "refund instruction 4 is already paid": "payment.not_issued",
    "refund instruction 4 is already pending_approval": "payment.not_issued",
    "refund instruction 4 is paid, not waiting for an approval": "payment.not_pending",
    "say what was done about the missed deadline": "task.escalation_response_required",
    "say how the dispute was handled": "task.dispute_note_required",
    "list who attended the review meeting": "task.attendees_required",
    "write the meeting's minutes": "task.minutes_required",
    "another request is changing the same record right now; try again in a moment": "record.busy",
    "refund case 5f0c7a2e-1111-4c4c-9d9d-0123456789ab does not exist": "record.not_found",
}


@pytest.mark.parametrize("english, key", sorted(FORMER_SUBSTRING_TABLE.items()))
def test_every_message_once_translated_by_substring_has_a_code(english, key):
    found = recognise(english)
    assert found is not None and found[0] == key
    assert render(*found) == english  # its parameters make the same words again
    assert render(*found, lang="zh") != english


def test_recognition_wants_the_whole_text_and_known_words():
    assert recognise("wrong username or password!") is None
    assert recognise("role janitor may not do this; allowed: manager") is None  # not a role
    assert recognise("") is None and recognise(None) is None
    assert recognise("task 5 was already completed by the system at 2026-01-02 10:00:00 (China time)") == \
        ("task.already_completed_by_system", {"task_id": 5, "at": "2026-01-02 10:00:00"})


def test_the_escalation_reasons_are_the_refund_rules_own_codes_and_words():
    from decimal import Decimal

    from domain.refund import ESCALATION_REASONS, RefundPolicy, escalation_codes, escalation_reasons, reason_text

    assert all(code in CATALOGUE for code in ESCALATION_REASONS)
    policy = RefundPolicy(version="t")
    codes = escalation_codes(policy, loss_total=Decimal("75000.00"), media_involved=True, share_above_tier=True)
    assert [c["code"] for c in codes] == list(ESCALATION_REASONS)
    # The English words the workflow has always written, and the Chinese the web app shows.
    assert escalation_reasons(policy, loss_total=Decimal("75000.00"), media_involved=True, share_above_tier=True) == (
        "loss 75000.00 CNY exceeds 50000 CNY", "media involvement", "refund share above the published tier")
    assert reason_text(codes[0], "zh") == "经济损失 75000.00 元，超过 50000 元"


def test_a_validation_error_names_each_field_s_fault_in_chinese():
    items = [{"field": "body.password", "code": "missing", "message": "Field required"},
             {"field": "query.limit", "code": "int_parsing", "message": "…"},
             {"field": "body", "code": "json_invalid", "message": "…"}]
    assert validation_zh(items) == "请求格式有误（password：必填；limit：须为整数；请求体：不是有效的 JSON）"


# ---------------------------------------------------------------- service errors and domain errors ----------


def test_a_service_error_with_a_key_renders_its_english_and_keeps_its_params():
    e = Conflict(key="task.already_claimed", params={"task_id": 3, "holder": "王芳"}, retry_after=1)
    assert e.message == str(e) == "task 3 is already claimed by 王芳"
    assert (e.key, e.params, e.retry_after) == ("task.already_claimed", {"task_id": 3, "holder": "王芳"}, 1)
    assert e.message_in("zh") == "任务 3 已被 王芳 认领"
    plain = Invalid("q: type the unit")
    assert (plain.message, plain.key, plain.params, plain.message_in("zh")) == ("q: type the unit", None, {}, None)


def test_a_service_error_s_params_are_made_json_safe_and_checked():
    e = Invalid(key="payment.date_before_instruction", params={"date": date(2025, 1, 1), "issued": date(2025, 2, 1)})
    assert e.params == {"date": "2025-01-01", "issued": "2025-02-01"}
    assert Invalid(key="unit.dingjin_above_cap", params={"deposit": Decimal("300000"), "cap": Decimal("200000.00")}) \
        .params == {"deposit": "300000", "cap": "200000.00"}
    with pytest.raises(MessageError):
        Conflict(key="task.already_claimed", params={"task_id": 3})
    with pytest.raises(TypeError):
        Conflict("words", key="task.already_claimed", params={"task_id": 3, "holder": "x"})
    with pytest.raises(TypeError):
        ServiceError()
    with pytest.raises(TypeError):
        Invalid(key="record.not_found", params={"record": "unit", "id": object()})


def test_a_unit_transition_refusal_carries_its_code_and_names_the_unit_at_the_service():
    from domain.units import RoleNotAllowed, WrongState, check_transition

    with pytest.raises(WrongState) as refused:
        check_transition("lock", current="locked", role="sales")
    e = refused.value
    assert (e.key, e.params) == ("unit.state_refuses", {"from": "locked", "action": "lock", "allowed": ["available"]})
    assert str(e) == "a unit that is locked does not allow lock (allowed from: available)"
    assert e.about_unit("1-101") == ("unit.transition_not_allowed",
                                     {"unit": "1-101", "from": "locked", "action": "lock", "allowed": ["available"]})
    with pytest.raises(RoleNotAllowed) as refused:
        check_transition("release", current="not_released", role="sales")
    assert refused.value.about_unit("1-101") == ("unit.role_may_not", {"role": "sales", "action": "release"})
    assert str(refused.value) == "role sales may not release a unit"


# ---------------------------------------------------------------- workflow refusals ----------


def test_a_workflow_refusal_passes_its_code_through_when_details_carry_one():
    from api.temporal_calls import refusal

    keyed = ApplicationError("no void is waiting for approval", {"key": "case.no_void_pending", "params": {}},
                             type="Conflict")
    e = refusal(keyed)
    assert isinstance(e, Conflict) and (e.key, e.message) == ("case.no_void_pending", "no void is waiting for approval")
    withdrawn = ApplicationError("…", {"key": "case.return_nothing", "params": {"dept": "legal"}}, type="Forbidden")
    e = refusal(withdrawn)
    assert isinstance(e, Forbidden) and e.params == {"dept": "legal"}
    assert e.message == "legal has not given its assessment; there is nothing to return"


@pytest.mark.parametrize("details", [(), ("just words",), ({"key": "case.not_in_this_catalogue", "params": {}},),
                                     ({"key": "case.return_nothing", "params": {}},)])
def test_a_workflow_refusal_without_a_known_code_keeps_its_words(details):
    from api.temporal_calls import refusal

    e = refusal(ApplicationError("give the reason the assessment is returned", *details, type="Invalid"))
    assert isinstance(e, Invalid) and e.key is None and e.message == "give the reason the assessment is returned"


# ---------------------------------------------------------------- the web app's copy ----------


def test_the_web_app_s_catalogue_is_generated_from_this_one():
    from scripts.gen_error_catalogue import TARGET, render as generated

    assert TARGET.read_text(encoding="utf-8") == generated(), \
        "web/src/locales/errors.ts is stale: run python -m scripts.gen_error_catalogue"
