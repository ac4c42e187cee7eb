"""Unit pricing (DOMAIN §2). Pure functions, `Decimal` only.

unit price = base price ± floor premium ± orientation/view premium (yuan per m², to the fen);
total = priced area × unit price, rounded half-up to the yuan."""

from __future__ import annotations

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
