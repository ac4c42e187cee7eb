"""Identity documents and mobile numbers (DOMAIN §8): normalisation, validation, masking.

Pure: no I/O, stdlib only, and time is an argument (`today`), never read from the clock.
Error messages never repeat a full ID number or mobile in clear (PIPL: they may end up in logs);
where the value helps, it is masked.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum


class InvalidIdentity(ValueError):
    """An ID number or mobile that is malformed or fails its checks; the message says what is wrong."""


class IdType(StrEnum):
    RESIDENT_ID = "resident_id"  # 居民身份证 (GB 11643-1999)
    HMT_RESIDENCE_PERMIT = "hmt_residence_permit"  # 港澳台居民居住证
    PASSPORT = "passport"  # 护照
    HOME_RETURN_PERMIT = "home_return_permit"  # 港澳居民来往内地通行证 / 台湾居民来往大陆通行证


# --- GB 11643-1999 ---------------------------------------------------------------------------

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_EIGHTEEN = re.compile(r"^\d{17}[\dX]$")

# First two digits of a resident ID: mainland provinces, plus 71 (Taiwan), 81 (Hong Kong), 82 (Macao).
RESIDENT_PROVINCE_CODES = frozenset(
    [*range(11, 16), *range(21, 24), *range(31, 38), *range(41, 47), *range(50, 55), *range(61, 66), 71, 81, 82]
)
# 83 appears only on the Taiwan residence permit (prefix 830000).
HMT_PERMIT_PREFIXES = frozenset({"810000", "820000", "830000"})
_EARLIEST_BIRTH = date(1900, 1, 1)


def gb11643_check_digit(first17: str) -> str:
    """The 18th character of an 18-character ID for its first 17 digits."""
    if not re.fullmatch(r"\d{17}", first17):
        raise InvalidIdentity("the check digit is computed over exactly 17 digits")
    return _CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, _WEIGHTS)) % 11]


def _check_birth_date(digits: str, *, today: date) -> date:
    y, m, d = int(digits[0:4]), int(digits[4:6]), int(digits[6:8])
    shown = f"{digits[0:4]}-{digits[4:6]}-{digits[6:8]}"
    try:
        born = date(y, m, d)
    except ValueError:
        raise InvalidIdentity(f"birth date {shown} is not a real date") from None
    if born < _EARLIEST_BIRTH:
        raise InvalidIdentity(f"birth date {shown} is before 1900")
    if born > today:
        raise InvalidIdentity(f"birth date {shown} is in the future")
    return born


def _check_eighteen(value: str, *, today: date, what: str) -> None:
    """Format, birth date and check digit shared by resident IDs and HMT residence permits."""
    if not _EIGHTEEN.fullmatch(value):
        raise InvalidIdentity(f"{what} must be 17 digits followed by a digit or X (got {len(value)} characters)")
    _check_birth_date(value[6:14], today=today)
    if gb11643_check_digit(value[:17]) != value[17]:
        raise InvalidIdentity(f"{what} check digit does not match")


def _normalize_resident_id(value: str, *, today: date) -> str:
    if _EIGHTEEN.fullmatch(value):
        province = int(value[:2])
        if province not in RESIDENT_PROVINCE_CODES:
            raise InvalidIdentity(f"unknown province code {value[:2]}")
    _check_eighteen(value, today=today, what="resident ID")
    return value


def _normalize_hmt_permit(value: str, *, today: date) -> str:
    if _EIGHTEEN.fullmatch(value) and value[:6] not in HMT_PERMIT_PREFIXES:
        raise InvalidIdentity(
            f"HK/Macao/Taiwan residence permit must start with 810000, 820000 or 830000, not {value[:6]}"
        )
    _check_eighteen(value, today=today, what="HK/Macao/Taiwan residence permit")
    return value


# --- other documents ---------------------------------------------------------------------------

_PASSPORT = re.compile(r"^[A-Z0-9]{5,17}$")
# Chinese passports (E + 8 digits, G + 8 digits, E + letter other than I/O + 7 digits) are a subset of the above.
CHINESE_PASSPORT = re.compile(r"^[EG]\d{8}$|^E[A-HJ-NP-Z]\d{7}$")
_HK_MACAO_PERMIT = re.compile(r"^[HM]\d{8}(\d{2})?$")  # 港澳居民来往内地通行证
_TAIWAN_PERMIT = re.compile(r"^\d{8}$")  # 台湾居民来往大陆通行证


def _normalize_passport(value: str) -> str:
    if not _PASSPORT.fullmatch(value):
        raise InvalidIdentity("passport number must be 5 to 17 letters or digits")
    return value


def _normalize_home_return_permit(value: str) -> str:
    if not (_HK_MACAO_PERMIT.fullmatch(value) or _TAIWAN_PERMIT.fullmatch(value)):
        raise InvalidIdentity(
            "home-return permit must be H or M followed by 8 or 10 digits (Hong Kong / Macao), "
            "or 8 digits (Taiwan)"
        )
    return value


# --- public API --------------------------------------------------------------------------------

_WHITESPACE = re.compile(r"\s+")  # includes the full-width space U+3000


def _coerce_id_type(id_type: IdType | str) -> IdType:
    try:
        return IdType(id_type)
    except ValueError:
        raise InvalidIdentity(f"unknown ID type {id_type!r}") from None


def normalize_id_number(id_type: IdType | str, raw: str, *, today: date) -> str:
    """Canonical form of an ID number (spaces removed, letters uppercase), or InvalidIdentity.

    `today` bounds the birth date of resident IDs and residence permits; it is required so that
    the function stays pure (callers pass the workflow's or the request's date).
    """
    kind = _coerce_id_type(id_type)
    if not isinstance(raw, str):
        raise InvalidIdentity(f"ID number must be text, not {type(raw).__name__}")
    if not isinstance(today, date):
        raise TypeError("today must be a date")
    value = _WHITESPACE.sub("", raw).upper()
    if not value:
        raise InvalidIdentity("ID number is empty")
    if kind is IdType.RESIDENT_ID:
        return _normalize_resident_id(value, today=today)
    if kind is IdType.HMT_RESIDENCE_PERMIT:
        return _normalize_hmt_permit(value, today=today)
    if kind is IdType.PASSPORT:
        return _normalize_passport(value)
    return _normalize_home_return_permit(value)


_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_MOBILE_SEPARATORS = re.compile(r"[\s\-]+")


def normalize_mobile(raw: str) -> str:
    """Mainland mobile as 11 digits: separators and the +86 / 0086 / 86 country prefix removed."""
    if not isinstance(raw, str):
        raise InvalidIdentity(f"mobile must be text, not {type(raw).__name__}")
    value = _MOBILE_SEPARATORS.sub("", raw)
    if value.startswith("+86"):
        value = value[3:]
    elif value.startswith("0086"):
        value = value[4:]
    elif value.startswith("86") and len(value) == 13:
        value = value[2:]
    if not _MOBILE.fullmatch(value):
        raise InvalidIdentity(f"mobile {_mask_generic_mobile(value)} is not a mainland mobile number")
    return value


# --- masking -----------------------------------------------------------------------------------


def mask_id_number(s: str) -> str:
    """`110105********002X`: an 18-character ID keeps its first 6 and last 4 characters.

    Shorter documents (passports, permits: fewer than 15 characters) keep the first 2 and last 2;
    4 characters or fewer are masked entirely.
    """
    if not s:
        return ""
    n = len(s)
    if n >= 15:
        return s[:6] + "*" * (n - 10) + s[-4:]
    if n > 4:
        return s[:2] + "*" * (n - 4) + s[-2:]
    return "*" * n


def _mask_generic_mobile(s: str) -> str:
    n = len(s)
    if n >= 8:
        return s[:3] + "*" * (n - 7) + s[-4:]
    return "*" * n


def mask_mobile(s: str) -> str:
    """`138****1234`. A raw value with a country prefix or separators is normalised first."""
    if not s:
        return ""
    try:
        s = normalize_mobile(s)
    except InvalidIdentity:
        pass
    return _mask_generic_mobile(s)


def mask_name(s: str) -> str:
    """Keep the first character: 王小明 → 王**, Wang → W***. Empty stays empty."""
    s = (s or "").strip()
    if not s:
        return ""
    return s[0] + "*" * (len(s) - 1)
