"""Unit pricing (DOMAIN §2). Pure functions, `Decimal` only.

unit price = base price ± floor premium ± orientation/view premium (yuan per m², to the fen);
total = priced area × unit price, rounded half-up to the yuan."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

FEN = Decimal("0.01")
YUAN = Decimal("1")


class PricingError(ValueError):
    """A price that cannot be right; the message is meant for a person."""


def _dec(value: Decimal | int, what: str) -> Decimal:
    if isinstance(value, float):
        raise TypeError(f"{what}: money is never a float")
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        raise TypeError(f"{what}: expected Decimal, got {type(value).__name__}")
    d = Decimal(value)
    if not d.is_finite():
        raise PricingError(f"{what} must be a finite number")
    return d


def floor_premium(floor: int, *, reference_floor: int, per_floor: Decimal) -> Decimal:
    """Premium per m² for a floor: `per_floor` for each floor above the reference, negative below it."""
    if isinstance(floor, bool) or not isinstance(floor, int):
        raise TypeError("floor is an integer")
    return ((floor - reference_floor) * _dec(per_floor, "per-floor premium")).quantize(FEN, ROUND_HALF_UP)


def unit_price(base: Decimal, *, floor_premium: Decimal = Decimal("0"), orientation_premium: Decimal = Decimal("0"),
               view_premium: Decimal = Decimal("0")) -> Decimal:
    """Unit price per m² to the fen; premiums may be negative (a discount), the result may not."""
    price = (_dec(base, "base price") + _dec(floor_premium, "floor premium")
             + _dec(orientation_premium, "orientation premium") + _dec(view_premium, "view premium"))
    if _dec(base, "base price") <= 0:
        raise PricingError("the base price must be above zero")
    if price <= 0:
        raise PricingError(f"premiums bring the unit price to {price}; it must stay above zero")
    return price.quantize(FEN, ROUND_HALF_UP)


def total_price(area: Decimal, price_per_m2: Decimal) -> Decimal:
    """Priced area × unit price, rounded half-up to the yuan."""
    a, p = _dec(area, "area"), _dec(price_per_m2, "unit price")
    if a <= 0:
        raise PricingError("the priced area must be above zero")
    if p <= 0:
        raise PricingError("the unit price must be above zero")
    return (a * p).quantize(YUAN, ROUND_HALF_UP)


def check_floor_price(*, total: Decimal, floor_price: Decimal | None) -> None:
    """The floor price (底价) is the lowest acceptable total: it may not be above the list total."""
    if floor_price is None:
        return
    f = _dec(floor_price, "floor price")
    if f <= 0:
        raise PricingError("the floor price must be above zero")
    if f > _dec(total, "total"):
        raise PricingError(f"the floor price {f} is above the list total {total}")


def parse_decimal(text: object, what: str) -> Decimal:
    """A number from a spreadsheet cell or CSV field (ints and strings; floats via their shortest repr)."""
    if isinstance(text, bool):
        raise PricingError(f"{what}: not a number")
    if isinstance(text, float):  # openpyxl gives floats for numeric cells; str() is the shortest exact repr
        text = repr(text)
    try:
        d = Decimal(str(text).strip().replace(",", ""))
    except InvalidOperation:
        raise PricingError(f"{what}: {text!r} is not a number") from None
    if not d.is_finite():
        raise PricingError(f"{what}: {text!r} is not a number")
    return d


# ---------------------------------------------------------------- discounts and their approval (issue 15)
#
# A subscription's price is the list total (the published price list's total for the unit) less ordered
# discount rows: a percent row takes its share of the running price, an amount row its amount in CNY, each
# deduction to the fen (half-up). The approval the result needs: none without a discount; the manager up to
# the policy's share of the list total; the city GM above it; HQ risk control for a price below the floor
# price (底价), whatever the share. The price may never exceed the filed price (备案价).

DISCOUNT_KINDS = ("amount", "percent")
# The approvers, lowest first; a step whose clock runs out escalates one level up this ladder.
APPROVAL_LEVELS = ("manager", "citygm", "hqrisk")
MAX_DISCOUNT_ROWS = 10
HUNDRED = Decimal("100")


class DiscountRowError(PricingError):
    """A discount row that cannot be applied: `index` (0-based), `field` ("reason", "kind", "value") and a code."""

    def __init__(self, index: int, field: str, code: str, message: str) -> None:
        super().__init__(f"discount row {index + 1}: {message}")
        self.index, self.field, self.code = index, field, code


class AboveFiledPrice(PricingError):
    """The price after the discounts is above the filed price (备案价): never allowed."""

    def __init__(self, price: Decimal, filed: Decimal) -> None:
        super().__init__(f"the price {price} is above the filed price (备案价) {filed}; it may never exceed it")
        self.price, self.filed = price, filed


@dataclass(frozen=True)
class DiscountRow:
    reason: str
    kind: str  # "amount" (CNY) or "percent" (of the running price)
    value: Decimal


@dataclass(frozen=True)
class AppliedRow:
    seq: int  # 1-based, the order the rows were applied in
    reason: str
    kind: str
    value: Decimal
    deduction: Decimal  # to the fen
    price_after: Decimal


@dataclass(frozen=True)
class Quote:
    list_price: Decimal
    rows: tuple[AppliedRow, ...]
    final_price: Decimal
    discount: Decimal  # list − final
    share: Decimal  # discount / list, 6 places (reported; the level compares exactly)
    floor_price: Decimal | None
    filed_price: Decimal | None
    level: str | None  # None: no approval needed; else the first approver (APPROVAL_LEVELS)
    below_floor: bool


def apply_discounts(list_price: Decimal, rows: Sequence[DiscountRow]) -> tuple[Decimal, tuple[AppliedRow, ...]]:
    """Apply the rows in order to the list price; (final price, the applied rows). Each row must leave a
    price above zero."""
    running = _dec(list_price, "list price")
    if running <= 0:
        raise PricingError("the list price must be above zero")
    if len(rows) > MAX_DISCOUNT_ROWS:
        raise DiscountRowError(MAX_DISCOUNT_ROWS, "kind", "too_many", f"at most {MAX_DISCOUNT_ROWS} discount rows")
    applied: list[AppliedRow] = []
    for i, row in enumerate(rows):
        if not (row.reason or "").strip():
            raise DiscountRowError(i, "reason", "required", "a discount needs its reason")
        if row.kind not in DISCOUNT_KINDS:
            raise DiscountRowError(i, "kind", "invalid", f"kind is one of {', '.join(DISCOUNT_KINDS)}")
        try:
            v = _dec(row.value, "discount")
        except (TypeError, PricingError) as e:
            raise DiscountRowError(i, "value", "invalid", str(e)) from None
        if v <= 0:
            raise DiscountRowError(i, "value", "not_positive", "a discount is above zero")
        if v != v.quantize(FEN):
            what = "a percentage has at most two decimals" if row.kind == "percent" else "an amount is to the fen"
            raise DiscountRowError(i, "value", "too_precise", what)
        if row.kind == "percent":
            if v >= HUNDRED:
                raise DiscountRowError(i, "value", "too_large", "a percentage is below 100")
            deduction = (running * v / HUNDRED).quantize(FEN, ROUND_HALF_UP)
        else:
            deduction = v
        after = running - deduction
        if after <= 0:
            raise DiscountRowError(i, "value", "too_large",
                                   f"the discount of {deduction} would leave nothing of the price {running}")
        applied.append(AppliedRow(i + 1, row.reason.strip(), row.kind, v, deduction, after))
        running = after
    return running.quantize(FEN), tuple(applied)


def approval_level(*, list_price: Decimal, final_price: Decimal, floor_price: Decimal | None,
                   manager_limit: Decimal) -> str | None:
    """Who must approve a price: None (no discount), "manager" (a discount up to `manager_limit` of the list
    price), "citygm" (above it), "hqrisk" (a price below the floor price, whatever the share)."""
    lp, fp, limit = _dec(list_price, "list price"), _dec(final_price, "price"), _dec(manager_limit, "manager limit")
    if fp >= lp:
        return None
    if floor_price is not None and fp < _dec(floor_price, "floor price"):
        return "hqrisk"
    return "manager" if lp - fp <= lp * limit else "citygm"


def check_filed_price(price: Decimal, filed_price: Decimal | None) -> None:
    """备案价: a unit may not be sold above its filed price."""
    if filed_price is not None and _dec(price, "price") > _dec(filed_price, "filed price"):
        raise AboveFiledPrice(price, filed_price)


def quote(*, list_price: Decimal, rows: Sequence[DiscountRow], floor_price: Decimal | None,
          filed_price: Decimal | None, manager_limit: Decimal) -> Quote:
    """The price a subscription would have, and who must approve it; AboveFiledPrice / DiscountRowError
    when it cannot be."""
    final, applied = apply_discounts(list_price, rows)
    check_filed_price(final, filed_price)
    lp = _dec(list_price, "list price")
    discount = lp - final
    level = approval_level(list_price=lp, final_price=final, floor_price=floor_price, manager_limit=manager_limit)
    return Quote(
        list_price=lp, rows=applied, final_price=final, discount=discount,
        share=(discount / lp).quantize(Decimal("0.000001"), ROUND_HALF_UP), floor_price=floor_price,
        filed_price=filed_price, level=level, below_floor=floor_price is not None and final < floor_price,
    )


def escalated(level: str) -> str | None:
    """The level above `level`, or None at the top."""
    i = APPROVAL_LEVELS.index(level)
    return APPROVAL_LEVELS[i + 1] if i + 1 < len(APPROVAL_LEVELS) else None


def may_decide(role: str, current_level: str) -> bool:
    """A step at `current_level` is decided by that level or a higher one."""
    return role in APPROVAL_LEVELS and APPROVAL_LEVELS.index(role) >= APPROVAL_LEVELS.index(current_level)
