"""Refund rules of the emergency SOP (DOMAIN §4) and SLA escalation: pure, table-driven."""

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_EVEN, Decimal

import pytest

from domain.refund import (
    CENT,
    ContractStage,
    DepositKind,
    Fault,
    OptionKind,
    PolicyError,
    RefundPolicy,
    RefundRoute,
    RefundTier,
    archive_deadline,
    case_deadlines,
    check_offer,
    escalation_reasons,
    money,
    policy_from_body,
    policy_to_body,
    quote_refund,
    refund_route,
    retention_allotment,
    retention_draw_allowed,
    retention_top_up,
)
from domain.sla import escalation_roles

POLICY = RefundPolicy(version="test-1")
PAID = Decimal("300000.00")
DEPOSIT = Decimal("50000.00")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)

DEP = ContractStage.DEPOSIT_PAID
SIGNED = ContractStage.ONLINE_SIGNED
LOAN = ContractStage.LOAN_DISBURSED
DINGJIN = DepositKind.DINGJIN  # 定金
PREPAY = DepositKind.DINGJIN_PREPAY  # 订金
A, B, C = OptionKind.A, OptionKind.B, OptionKind.C


def _quote(stage, kind=DINGJIN, fault=Fault.BUYER, *, paid=PAID, deposit=DEPOSIT, share=None):
    return quote_refund(
        POLICY,
        stage=stage,
        deposit_kind=kind,
        fault=fault,
        paid_amount=paid,
        deposit_amount=deposit,
        proposed_share=share,
    )


# --- quote_refund: every stage × deposit kind × fault -------------------------------------------

# (stage, kind, fault, route, share, amount, base)
MATRIX = [
    # buyer fault: the tiers, except 订金 (law: refunded in full) and a disbursed loan (legal)
    (DEP, DINGJIN, Fault.BUYER, RefundRoute.TIER, Decimal("0.60"), Decimal("30000.00"), DEPOSIT),
    (DEP, PREPAY, Fault.BUYER, RefundRoute.FULL, Decimal("1"), DEPOSIT, DEPOSIT),
    (SIGNED, DINGJIN, Fault.BUYER, RefundRoute.TIER, Decimal("0.30"), Decimal("90000.00"), PAID),
    (SIGNED, PREPAY, Fault.BUYER, RefundRoute.TIER, Decimal("0.30"), Decimal("90000.00"), PAID),
    (LOAN, DINGJIN, Fault.BUYER, RefundRoute.LEGAL, None, None, PAID),
    (LOAN, PREPAY, Fault.BUYER, RefundRoute.LEGAL, None, None, PAID),
    # neither side at fault: the law refunds in full, whatever the stage or kind
    (DEP, DINGJIN, Fault.NEITHER, RefundRoute.FULL, Decimal("1"), DEPOSIT, DEPOSIT),
    (DEP, PREPAY, Fault.NEITHER, RefundRoute.FULL, Decimal("1"), DEPOSIT, DEPOSIT),
    (SIGNED, DINGJIN, Fault.NEITHER, RefundRoute.FULL, Decimal("1"), PAID, PAID),
    (SIGNED, PREPAY, Fault.NEITHER, RefundRoute.FULL, Decimal("1"), PAID, PAID),
    (LOAN, DINGJIN, Fault.NEITHER, RefundRoute.FULL, Decimal("1"), PAID, PAID),
    (LOAN, PREPAY, Fault.NEITHER, RefundRoute.FULL, Decimal("1"), PAID, PAID),
    # developer fault: always legal, no amount computed
    (DEP, DINGJIN, Fault.DEVELOPER, RefundRoute.LEGAL, None, None, DEPOSIT),
    (DEP, PREPAY, Fault.DEVELOPER, RefundRoute.LEGAL, None, None, DEPOSIT),
    (SIGNED, DINGJIN, Fault.DEVELOPER, RefundRoute.LEGAL, None, None, PAID),
    (SIGNED, PREPAY, Fault.DEVELOPER, RefundRoute.LEGAL, None, None, PAID),
    (LOAN, DINGJIN, Fault.DEVELOPER, RefundRoute.LEGAL, None, None, PAID),
    (LOAN, PREPAY, Fault.DEVELOPER, RefundRoute.LEGAL, None, None, PAID),
]


@pytest.mark.parametrize(
    "stage, kind, fault, route, share, amount, base",
    MATRIX,
    ids=[f"{s.value}-{k.name}-{f.value}" for s, k, f, *_ in MATRIX],
)
def test_quote_follows_law_before_tiers_for_every_stage_kind_and_fault(stage, kind, fault, route, share, amount, base):
    q = _quote(stage, kind, fault)
    assert refund_route(stage=stage, deposit_kind=kind, fault=fault) == route
    assert q.route == route
    assert q.share == share
    assert q.amount == amount
    assert q.base == base
    assert q.needs_gm is False
    assert q.reason


def test_deposit_stage_dingjin_buyer_fault_defaults_to_the_tier_minimum_of_the_deposit_not_paid_amount():
    q = _quote(DEP, DINGJIN, Fault.BUYER, paid=Decimal("999999.99"), deposit=Decimal("20000"))
    assert q.share == Decimal("0.60")
    assert q.base == Decimal("20000.00")
    assert q.amount == Decimal("12000.00")


@pytest.mark.parametrize(
    "stage, fault, words",
    [
        (DEP, Fault.DEVELOPER, "developer fault"),
        (SIGNED, Fault.DEVELOPER, "developer fault"),
        (LOAN, Fault.DEVELOPER, "developer fault"),
        (LOAN, Fault.BUYER, "loan already disbursed"),
    ],
)
def test_legal_route_quote_has_no_amount_and_says_why(stage, fault, words):
    q = _quote(stage, DINGJIN, fault)
    assert q.route == RefundRoute.LEGAL
    assert q.amount is None and q.share is None
    assert words in q.reason
    assert "legal route" in q.reason


@pytest.mark.parametrize(
    "stage, share, expected",
    [
        (DEP, Decimal("0.60"), Decimal("30000.00")),  # the minimum itself
        (DEP, Decimal("0.65"), Decimal("32500.00")),
        (DEP, Decimal("0.80"), Decimal("40000.00")),  # the maximum itself: no GM
        (SIGNED, Decimal("0.30"), Decimal("90000.00")),
        (SIGNED, Decimal("0.42"), Decimal("126000.00")),
        (SIGNED, Decimal("0.50"), Decimal("150000.00")),
    ],
)
def test_proposed_share_within_the_tier_is_used_without_gm(stage, share, expected):
    q = _quote(stage, share=share)
    assert q.route == RefundRoute.TIER
    assert q.share == share
    assert q.amount == expected
    assert q.needs_gm is False
    assert "city GM" not in q.reason


@pytest.mark.parametrize(
    "stage, share, shown_share, shown_min",
    [
        (DEP, Decimal("0.59"), "59%", "60%"),
        (DEP, Decimal("0"), "0%", "60%"),
        (SIGNED, Decimal("0.29"), "29%", "30%"),
        (SIGNED, Decimal("0.10"), "10%", "30%"),
    ],
)
def test_share_below_the_published_minimum_is_refused_with_a_readable_message(stage, share, shown_share, shown_min):
    with pytest.raises(PolicyError) as exc:
        _quote(stage, share=share)
    msg = str(exc.value)
    assert "below the published minimum" in msg
    assert shown_share in msg and shown_min in msg
    assert stage.value in msg


@pytest.mark.parametrize(
    "stage, share, expected",
    [
        (DEP, Decimal("0.81"), Decimal("40500.00")),
        (DEP, Decimal("1"), Decimal("50000.00")),
        (SIGNED, Decimal("0.51"), Decimal("153000.00")),
        (SIGNED, Decimal("0.75"), Decimal("225000.00")),
    ],
)
def test_share_above_the_tier_is_allowed_but_needs_the_city_gm(stage, share, expected):
    q = _quote(stage, share=share)
    assert q.amount == expected
    assert q.needs_gm is True
    assert "city GM" in q.reason


@pytest.mark.parametrize("share", [Decimal("-0.01"), Decimal("1.01"), Decimal("2")])
def test_share_outside_zero_to_one_is_refused(share):
    with pytest.raises(PolicyError, match="between 0 and 1"):
        _quote(DEP, share=share)


def test_tier_stage_missing_from_policy_is_a_policy_error():
    no_signed = replace(POLICY, tiers=(POLICY.tiers[0],))
    with pytest.raises(PolicyError, match="no refund tier"):
        quote_refund(
            no_signed,
            stage=SIGNED,
            deposit_kind=DINGJIN,
            fault=Fault.BUYER,
            paid_amount=PAID,
            deposit_amount=DEPOSIT,
        )


# --- rounding: Decimal, two places, ROUND_HALF_UP -------------------------------------------------

# Each product lands exactly on half a fen with an even digit before it, so half-up and half-even differ.
ROUNDING = [
    (DEP, Decimal("100.15"), Decimal("0.70"), Decimal("70.11")),  # 70.105
    (SIGNED, Decimal("100.15"), Decimal("0.30"), Decimal("30.05")),  # 30.045
    (SIGNED, Decimal("100.01"), Decimal("0.50"), Decimal("50.01")),  # 50.005
]


@pytest.mark.parametrize("stage, base, share, expected", ROUNDING)
def test_tier_amount_rounds_half_up_to_the_fen_not_half_even(stage, base, share, expected):
    exact = base * share
    assert exact.quantize(CENT, rounding=ROUND_HALF_EVEN) != expected  # the case really discriminates
    q = _quote(stage, share=share, paid=base, deposit=base)
    assert q.amount == expected
    assert isinstance(q.amount, Decimal)
    assert q.amount.as_tuple().exponent == -2


@pytest.mark.parametrize(
    "stage, kind, fault",
    [(DEP, DINGJIN, Fault.BUYER), (DEP, PREPAY, Fault.BUYER), (SIGNED, DINGJIN, Fault.NEITHER)],
)
def test_quote_base_and_amount_are_decimals_with_two_places(stage, kind, fault):
    q = _quote(stage, kind, fault, paid=300000, deposit="50000")
    for value in (q.base, q.amount):
        assert isinstance(value, Decimal)
        assert value.as_tuple().exponent == -2


@pytest.mark.parametrize(
    "value, expected",
    [
        (Decimal("0.125"), "0.13"),  # half-even would give 0.12
        (Decimal("2.665"), "2.67"),  # half-even would give 2.66
        ("1.005", "1.01"),
        ("-0.125", "-0.13"),  # half-up is away from zero
        (300000, "300000.00"),
        (Decimal("50000"), "50000.00"),
        ("0.004", "0.00"),
    ],
)
def test_money_is_decimal_with_two_places_rounded_half_up(value, expected):
    result = money(value)
    assert isinstance(result, Decimal)
    assert str(result) == expected


@pytest.mark.parametrize("value", [0.1, 100.0, 50000.5, float("nan")])
def test_money_refuses_floats(value):
    with pytest.raises(TypeError, match="float"):
        money(value)


@pytest.mark.parametrize("field", ["paid", "deposit"])
def test_quote_refuses_float_money(field):
    kwargs = {field: 1000.0}
    with pytest.raises(TypeError):
        _quote(DEP if field == "deposit" else SIGNED, **kwargs)


# --- escalation_reasons ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "loss, media, above, expected",
    [
        (Decimal("50000.00"), False, False, ()),  # exactly the threshold: not "over"
        (Decimal("49999.99"), False, False, ()),
        (None, False, False, ()),  # loss not yet assessed
        (Decimal("0"), False, False, ()),
        (Decimal("50000.01"), False, False, ("loss",)),
        (Decimal("1000000"), False, False, ("loss",)),
        (None, True, False, ("media",)),  # media alone
        (Decimal("10"), True, False, ("media",)),
        (None, False, True, ("share",)),  # share above the tier alone
        (Decimal("50000.01"), True, True, ("loss", "media", "share")),
        (Decimal("50000.00"), True, False, ("media",)),
    ],
)
def test_escalation_to_city_gm_by_loss_strictly_over_50000_media_or_share(loss, media, above, expected):
    words = {"loss": "exceeds", "media": "media involvement", "share": "above the published tier"}
    reasons = escalation_reasons(POLICY, loss_total=loss, media_involved=media, share_above_tier=above)
    assert isinstance(reasons, tuple)
    assert len(reasons) == len(expected)
    for reason, key in zip(reasons, expected):
        assert words[key] in reason


def test_loss_reason_names_the_amount_and_the_threshold():
    (reason,) = escalation_reasons(POLICY, loss_total=Decimal("50000.01"), media_involved=False)
    assert "50000.01" in reason and "50000" in reason


# --- case_deadlines / archive_deadline ----------------------------------------------------------


@pytest.mark.parametrize(
    "speedup, intake, assessment, solution, archive",
    [
        (1, timedelta(minutes=30), timedelta(hours=2), timedelta(hours=4), timedelta(hours=24)),
        (60, timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=4), timedelta(minutes=24)),
        (2, timedelta(minutes=15), timedelta(hours=1), timedelta(hours=2), timedelta(hours=12)),
        (1440, timedelta(seconds=1.25), timedelta(seconds=5), timedelta(seconds=10), timedelta(minutes=1)),
    ],
)
def test_deadlines_run_from_registration_and_outcome_divided_by_speedup(speedup, intake, assessment, solution, archive):
    d = case_deadlines(POLICY, T0, speedup=speedup)
    assert d.intake - T0 == intake
    assert d.assessment - T0 == assessment
    assert d.solution - T0 == solution
    outcome = T0 + timedelta(days=3, hours=5)
    assert archive_deadline(POLICY, outcome, speedup=speedup) - outcome == archive


def test_deadlines_default_to_real_time_and_keep_the_timezone():
    d = case_deadlines(POLICY, T0)
    assert d.intake == datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)
    assert d.assessment == datetime(2026, 3, 2, 11, 0, tzinfo=timezone.utc)
    assert d.solution == datetime(2026, 3, 2, 13, 0, tzinfo=timezone.utc)
    assert archive_deadline(POLICY, T0) == datetime(2026, 3, 3, 9, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("speedup", [0, -1, -60])
def test_speedup_below_one_is_refused(speedup):
    with pytest.raises(ValueError, match="speedup"):
        case_deadlines(POLICY, T0, speedup=speedup)
    with pytest.raises(ValueError, match="speedup"):
        archive_deadline(POLICY, T0, speedup=speedup)


# --- check_offer ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kinds, route",
    [
        ([A, B], RefundRoute.TIER),
        ([A, C], RefundRoute.TIER),
        ([B, C], RefundRoute.FULL),
        ([A, B, C], RefundRoute.TIER),
        ([A, C], RefundRoute.LEGAL),  # no B: fine on the legal route
        ([C, A], RefundRoute.LEGAL),
    ],
)
def test_offer_of_two_or_more_distinct_options_is_accepted(kinds, route):
    assert check_offer(kinds, min_options=2, refund_route_=route) is None


@pytest.mark.parametrize(
    "kinds, route, words",
    [
        ([], RefundRoute.TIER, "at least 2 options"),
        ([A], RefundRoute.TIER, "at least 2 options"),
        ([B], RefundRoute.FULL, "at least 2 options"),
        ([A, A], RefundRoute.TIER, "once"),  # duplicates are not two options
        ([A, B, B], RefundRoute.TIER, "once"),
        ([A, B], RefundRoute.LEGAL, "legal route"),
        ([A, B, C], RefundRoute.LEGAL, "legal route"),
    ],
)
def test_offer_is_refused_when_too_small_duplicated_or_b_on_the_legal_route(kinds, route, words):
    with pytest.raises(PolicyError, match=words):
        check_offer(kinds, min_options=2, refund_route_=route)


def test_offer_minimum_comes_from_the_policy_argument():
    with pytest.raises(PolicyError, match="at least 3 options"):
        check_offer([A, B], min_options=3, refund_route_=RefundRoute.TIER)
    check_offer([A, B, C], min_options=3, refund_route_=RefundRoute.TIER)


# --- retention_draw_allowed ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "remaining, amount, allowed",
    [
        (Decimal("1000.00"), Decimal("1000.00"), True),  # exactly the remaining budget
        (Decimal("1000.00"), Decimal("999.99"), True),
        (Decimal("1000.00"), Decimal("0.01"), True),
        (Decimal("1000.00"), Decimal("1000.01"), False),  # one fen over
        (Decimal("1000.00"), Decimal("0"), False),  # zero draw is not a draw
        (Decimal("1000.00"), Decimal("-0.01"), False),  # negative would refill the pool
        (Decimal("0"), Decimal("0.01"), False),
        (Decimal("-5.00"), Decimal("1.00"), False),
    ],
)
def test_retention_draw_never_takes_the_pool_below_zero(remaining, amount, allowed):
    assert retention_draw_allowed(remaining=remaining, amount=amount) is allowed


@pytest.mark.parametrize("budget, share, allotment", [
    (Decimal("4000000"), Decimal("0.05"), Decimal("200000.00")),  # the seed's: 5 % of 4 million
    (Decimal("1000.10"), Decimal("0.05"), Decimal("50.01")),  # 50.005 → half up to the fen
    (Decimal("0"), Decimal("0.05"), Decimal("0.00")),
    (Decimal("333.33"), Decimal("1"), Decimal("333.33")),
    (Decimal("333.33"), Decimal("0"), Decimal("0.00")),
])
def test_the_pool_is_given_the_budget_times_the_share_to_the_fen(budget, share, allotment):
    assert retention_allotment(budget, share) == allotment


@pytest.mark.parametrize("budget, share", [(Decimal("-1"), Decimal("0.05")), (Decimal("1"), Decimal("1.01")),
                                           (Decimal("1"), Decimal("-0.01"))])
def test_a_negative_budget_or_a_share_outside_0_1_is_refused(budget, share):
    with pytest.raises(ValueError):
        retention_allotment(budget, share)


@pytest.mark.parametrize("allotment, credited, drawn, top_up", [
    (Decimal("100000.00"), Decimal("0"), Decimal("0"), Decimal("100000.00")),  # a new project's first funding
    (Decimal("100000.00"), Decimal("100000.00"), Decimal("6000.00"), Decimal("0.00")),  # nothing to add
    (Decimal("80000.00"), Decimal("100000.00"), Decimal("6000.00"), Decimal("-20000.00")),  # a reduction
    (Decimal("6000.00"), Decimal("100000.00"), Decimal("6000.00"), Decimal("-94000.00")),  # down to what was paid
    (Decimal("5999.99"), Decimal("100000.00"), Decimal("6000.00"), None),  # one fen below what was paid: refused
])
def test_a_funding_tops_the_pool_up_to_its_allotment_but_never_below_what_it_paid(allotment, credited, drawn, top_up):
    assert retention_top_up(allotment=allotment, credited=credited, drawn=drawn) == top_up


# --- policy_to_body / policy_from_body -------------------------------------------------------------


def _walk(node):
    yield node
    if isinstance(node, dict):
        for k, v in node.items():
            yield k
            yield from _walk(v)
    elif isinstance(node, (list, tuple)):
        for v in node:
            yield from _walk(v)


CUSTOM = RefundPolicy(
    version="2026-03",
    intake_minutes=20,
    assessment_minutes=90,
    solution_minutes=180,
    archive_minutes=12 * 60,
    escalation_loss_threshold=Decimal("80000.50"),
    min_options=3,
    tiers=(
        RefundTier(DEP, Decimal("0.65"), Decimal("0.85"), "扣除营销服务费"),
        RefundTier(SIGNED, Decimal("0.25"), Decimal("0.45")),
    ),
    record_retention_days=1000,
)


@pytest.mark.parametrize("policy", [POLICY, CUSTOM], ids=["default", "custom"])
def test_policy_body_round_trip_gives_back_the_same_policy(policy):
    body = policy_to_body(policy)
    assert policy_from_body(policy.version, body) == policy


@pytest.mark.parametrize("policy", [POLICY, CUSTOM], ids=["default", "custom"])
def test_policy_body_contains_no_float_anywhere(policy):
    body = policy_to_body(policy)
    floats = [n for n in _walk(body) if isinstance(n, float)]
    assert floats == []
    assert isinstance(body["escalation_loss_threshold"], str)
    for tier in body["tiers"]:
        assert isinstance(tier["min_share"], str) and isinstance(tier["max_share"], str)


@pytest.mark.parametrize(
    "min_share, max_share",
    [
        ("0.80", "0.60"),  # min above max
        ("-0.10", "0.50"),
        ("0.50", "1.10"),
    ],
)
def test_policy_body_with_inconsistent_shares_is_refused(min_share, max_share):
    body = policy_to_body(POLICY)
    body["tiers"][0]["min_share"] = min_share
    body["tiers"][0]["max_share"] = max_share
    with pytest.raises(PolicyError, match="min <= max"):
        policy_from_body("bad", body)


def test_policy_body_optional_fields_take_the_defaults():
    body = policy_to_body(POLICY)
    del body["min_options"], body["record_retention_days"]
    for tier in body["tiers"]:
        del tier["note"]
    policy = policy_from_body("v", body)
    assert policy.min_options == 2
    assert policy.record_retention_days == 731
    assert all(t.note == "" for t in policy.tiers)


# --- escalation_roles (domain/sla.py) ----------------------------------------------------------------


@pytest.mark.parametrize(
    "level, roles",
    [(1, ("manager",)), (2, ("manager", "citygm")), (3, ("manager", "citygm")), (10, ("manager", "citygm"))],
)
def test_every_sla_miss_goes_to_the_manager_and_from_the_second_on_to_the_city_gm_too(level, roles):
    assert escalation_roles(level) == roles


@pytest.mark.parametrize("level", [0, -1])
def test_escalation_level_below_one_is_refused(level):
    with pytest.raises(ValueError, match="starts at 1"):
        escalation_roles(level)


def test_a_float_refund_share_is_refused_not_misread():
    with pytest.raises(TypeError, match="never a float"):
        quote_refund(
            RefundPolicy(version="t"), stage=ContractStage.DEPOSIT_PAID, deposit_kind=DepositKind.DINGJIN,
            fault=Fault.BUYER, paid_amount=Decimal("50000"), deposit_amount=Decimal("50000"), proposed_share=0.6,
        )


def test_a_policy_body_with_float_amounts_is_refused():
    body = policy_to_body(RefundPolicy(version="t"))
    body["escalation_loss_threshold"] = 50000.1
    with pytest.raises(PolicyError, match="never floats"):
        policy_from_body("t", body)
