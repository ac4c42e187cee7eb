"""Strict input: what a request may carry, checked once for every route.

- Request bodies derive from `RequestModel`: numbers are numbers (`true` is not 1), booleans are
  `true`/`false` (not 1, "yes" or "on"), integers fit PostgreSQL's `integer`, dates and times lie between
  1900-01-01 and 2199-12-31 (in UTC too), and no string anywhere in the body holds a NUL, another control
  character (tab, newline and carriage return excepted) or a bidi override that would make a name display
  backwards.
- `guard_params` (an app-wide dependency) does the same for path and query parameters and form fields,
  and keeps integer, date and time parameters within their range, so PostgreSQL never sees a value it
  refuses with a 500.

Why a date range: Python's dates end at year 9999 and begin at year 1, PostgreSQL's do not, so
`9999-12-31T23:59:59-14:00` was stored as year 10000 and every later read of that customer failed (500),
`0001-01-01T00:00:00` (China time) likewise as 1 BC, and `as_of=9999-12-31` plus a few days overflowed.
No date a sales office records is outside 1900–2199.
"""

from __future__ import annotations

import re
import types
import typing
from typing import Annotated
from datetime import date, datetime, timezone
from decimal import Decimal

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
)

INT_MIN, INT_MAX = -(2**31), 2**31 - 1  # PostgreSQL `integer`: every id and count column
DATE_MIN, DATE_MAX = date(1900, 1, 1), date(2199, 12, 31)  # every date and time the API takes (UTC too)
DATE_RANGE = f"must be between {DATE_MIN} and {DATE_MAX}"
# C0 controls but tab/newline/CR, DEL, C1 controls, bidi marks, embeddings, overrides and isolates.
TEXT_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
PARAM_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")  # no newlines either


def control_char(value: str, pattern: re.Pattern = TEXT_CONTROL) -> str | None:
    """'U+0000' for the first forbidden character, or None."""
    m = pattern.search(value)
    return f"U+{ord(m.group()):04X}" if m else None


def _refuse_controls(value: object) -> None:
    if isinstance(value, str):
        if bad := control_char(value):
            raise ValueError(f"must not contain control or direction-override characters ({bad})")
    elif isinstance(value, (list, tuple)):
        for v in value:
            _refuse_controls(v)
    elif isinstance(value, dict):
        for k, v in value.items():
            _refuse_controls(k)
            _refuse_controls(v)


def out_of_range(value: object) -> bool:
    """A date or datetime outside DATE_MIN..DATE_MAX, as given or (aware) in UTC."""
    if isinstance(value, datetime):
        if not DATE_MIN <= value.date() <= DATE_MAX:
            return True
        return value.tzinfo is not None and not DATE_MIN <= value.astimezone(timezone.utc).date() <= DATE_MAX
    if isinstance(value, date):
        return not DATE_MIN <= value <= DATE_MAX
    return False


def _refuse_out_of_range(value: object) -> None:
    if isinstance(value, (list, tuple)):
        for v in value:
            _refuse_out_of_range(v)
    elif out_of_range(value):
        raise ValueError(DATE_RANGE)


def _members(annotation: object) -> tuple:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return typing.get_args(annotation)
    return (annotation,)


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("give the reason; it may not be blank")
    return value.strip()


# A reason a person gives (a legal hold's, a funding's): stripped, and never only spaces (422 on the field).
Reason = Annotated[str, AfterValidator(_not_blank)]


class RequestModel(BaseModel):
    """Base of every request body: unknown fields refused, scalars strictly typed, text clean."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _strict_scalars(cls, value: object, info: ValidationInfo) -> object:
        _refuse_controls(value)
        kinds = _members(cls.model_fields[info.field_name].annotation)
        numeric = any(k in (int, float, Decimal) for k in kinds)
        if isinstance(value, bool) and numeric and bool not in kinds:
            raise ValueError("must be a number, not true or false")
        if bool in kinds and not numeric and value is not None and not isinstance(value, bool):
            raise ValueError("must be true or false")
        if int in kinds and isinstance(value, int) and not isinstance(value, bool) and not INT_MIN <= value <= INT_MAX:
            raise ValueError(f"must be between {INT_MIN} and {INT_MAX}")
        return value

    @field_validator("*", mode="after")
    @classmethod
    def _dates_in_range(cls, value: object) -> object:
        _refuse_out_of_range(value)
        return value


def _int_param(annotation: object) -> bool:
    return int in _members(annotation) and str not in _members(annotation)


_DATE_ADAPTERS = {datetime: TypeAdapter(datetime), date: TypeAdapter(date)}


def _date_kind(annotation: object) -> type | None:
    kinds = _members(annotation)
    return next((k for k in (datetime, date) if k in kinds), None) if str not in kinds else None


def _date_out_of_range(kind: type, value: str) -> bool:
    """Parsed as FastAPI will parse it; a value that does not parse is left to FastAPI's own 422."""
    try:
        return out_of_range(_DATE_ADAPTERS[kind].validate_strings(value))
    except ValidationError:
        return False


async def guard_params(request: Request) -> None:
    """Path, query and form values: no control characters; integers within the column range, dates and
    times within DATE_MIN..DATE_MAX."""
    errors: list[dict] = []
    route = request.scope.get("route")
    ints: set[str] = set()
    dates: dict[str, type] = {}
    params = (*route.dependant.query_params, *route.dependant.path_params) if isinstance(route, APIRoute) else ()
    for p in params:
        if _int_param(p.field_info.annotation):
            ints.add(p.alias)
        elif kind := _date_kind(p.field_info.annotation):
            dates[p.alias] = kind
    for where, items in (("path", request.path_params.items()), ("query", request.query_params.multi_items())):
        for name, value in items:
            value = str(value)
            if bad := control_char(value, PARAM_CONTROL):
                errors.append(_error(where, name, f"must not contain control characters ({bad})"))
            elif name in ints and re.fullmatch(r"[+-]?\d+", value.strip()) and not INT_MIN <= int(value) <= INT_MAX:
                errors.append(_error(where, name, f"must be between {INT_MIN} and {INT_MAX}"))
            elif name in dates and _date_out_of_range(dates[name], value):
                errors.append(_error(where, name, DATE_RANGE))
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        for name, value in (await request.form()).multi_items():
            if isinstance(value, str) and (bad := control_char(value, PARAM_CONTROL)):
                errors.append(_error("body", name, f"must not contain control characters ({bad})"))
    if errors:
        raise RequestValidationError(errors)


def _error(where: str, name: str, msg: str) -> dict:
    return {"loc": (where, name), "msg": msg, "type": "value_error"}
