"""Identity documents and mobiles (DOMAIN §8)."""

from datetime import date

import pytest

from domain.identity import (
    IdType,
    InvalidIdentity,
    mask_id_number,
    mask_mobile,
    mask_name,
    normalize_id_number,
    normalize_mobile,
)

TODAY = date(2026, 3, 20)
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def with_check_digit(first17: str) -> str:
    """Independent GB 11643 computation, so test numbers are valid by construction."""
    assert len(first17) == 17 and first17.isdigit()
    return first17 + "10X98765432"[sum(int(d) * w for d, w in zip(first17, WEIGHTS)) % 11]


def wrong_check_digit(first17: str) -> str:
    right = with_check_digit(first17)[-1]
    return first17 + ("0" if right != "0" else "1")


# --- resident ID ----------------------------------------------------------------------------


def test_helper_agrees_with_the_domain_example():
    assert with_check_digit("11010519491231002") == "11010519491231002X"


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("11010519491231002X", "11010519491231002X"),  # DOMAIN valid example
        ("11010519491231002x", "11010519491231002X"),  # lowercase x normalised
        (" 110105 19491231 002x ", "11010519491231002X"),  # spaces stripped
        ("110105\u300019491231002X", "11010519491231002X"),  # full-width space stripped
        (with_check_digit("44030620000229123"), with_check_digit("44030620000229123")),  # leap day
        (with_check_digit("81000019900101001"), with_check_digit("81000019900101001")),  # 81 prefix ok
        (with_check_digit("71000019900101001"), with_check_digit("71000019900101001")),  # 71 prefix ok
        (with_check_digit("65010020260320001"), with_check_digit("65010020260320001")),  # born today
        (with_check_digit("11010519000101001"), with_check_digit("11010519000101001")),  # 1900-01-01
    ],
)
def test_resident_id_valid_numbers_are_normalised(raw, expected):
    assert normalize_id_number(IdType.RESIDENT_ID, raw, today=TODAY) == expected


@pytest.mark.parametrize(
    "raw, message",
    [
        ("110105194912310021", "check digit does not match"),  # DOMAIN invalid checksum
        ("110105194902300020", "birth date 1949-02-30 is not a real date"),  # DOMAIN impossible date
        (with_check_digit("11010519491331002"), "birth date 1949-13-31 is not a real date"),
        (with_check_digit("44030620010229123"), "birth date 2001-02-29 is not a real date"),
        (with_check_digit("11010520260321001"), "birth date 2026-03-21 is in the future"),
        (with_check_digit("11010518991231001"), "birth date 1899-12-31 is before 1900"),
        (with_check_digit("99010519491231002"), "unknown province code 99"),
        (with_check_digit("10010519491231002"), "unknown province code 10"),
        (with_check_digit("83000019900101001"), "unknown province code 83"),  # 83 only on HMT permits
        (wrong_check_digit("44030620000229123"), "check digit does not match"),
        ("11010519491231002", "17 digits followed by a digit or X"),  # too short
        ("11010519491231002XX", "17 digits followed by a digit or X"),  # too long
        ("1101051949123100AX", "17 digits followed by a digit or X"),  # letter in body
        ("", "empty"),
        ("   ", "empty"),
    ],
)
def test_resident_id_invalid_numbers_are_refused_with_reason(raw, message):
    with pytest.raises(InvalidIdentity, match=message):
        normalize_id_number(IdType.RESIDENT_ID, raw, today=TODAY)


def test_future_birth_date_depends_on_the_today_argument():
    number = with_check_digit("11010520260321001")
    with pytest.raises(InvalidIdentity, match="future"):
        normalize_id_number(IdType.RESIDENT_ID, number, today=date(2026, 3, 20))
    assert normalize_id_number(IdType.RESIDENT_ID, number, today=date(2026, 3, 21)) == number


def test_today_is_a_required_keyword_argument():
    with pytest.raises(TypeError):
        normalize_id_number(IdType.RESIDENT_ID, "11010519491231002X")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        normalize_id_number(IdType.RESIDENT_ID, "11010519491231002X", TODAY)  # type: ignore[misc]


def test_id_type_may_be_given_as_its_string_value():
    assert normalize_id_number("resident_id", "11010519491231002x", today=TODAY) == "11010519491231002X"


def test_unknown_id_type_is_refused():
    with pytest.raises(InvalidIdentity, match="unknown ID type"):
        normalize_id_number("driving_licence", "11010519491231002X", today=TODAY)


def test_error_messages_do_not_repeat_the_id_number():
    with pytest.raises(InvalidIdentity) as excinfo:
        normalize_id_number(IdType.RESIDENT_ID, "110105194912310021", today=TODAY)
    assert "110105194912310021" not in str(excinfo.value)


# --- HK / Macao / Taiwan residence permit ---------------------------------------------------


@pytest.mark.parametrize(
    "first17",
    ["81000019900101001", "82000019851231002", "83000020000229003"],
)
def test_hmt_residence_permit_with_valid_prefix_and_check_digit_is_accepted(first17):
    number = with_check_digit(first17)
    assert normalize_id_number(IdType.HMT_RESIDENCE_PERMIT, number.lower(), today=TODAY) == number


@pytest.mark.parametrize(
    "raw, message",
    [
        (with_check_digit("11010519491231002"), "must start with 810000, 820000 or 830000"),
        (with_check_digit("81010019900101001"), "must start with 810000, 820000 or 830000"),
        (with_check_digit("84000019900101001"), "must start with 810000, 820000 or 830000"),
        (wrong_check_digit("81000019900101001"), "check digit does not match"),
        (with_check_digit("82000019900230001"), "birth date 1990-02-30 is not a real date"),
        (with_check_digit("83000020270101001"), "birth date 2027-01-01 is in the future"),
        ("8100001990010100", "17 digits followed by a digit or X"),
    ],
)
def test_hmt_residence_permit_invalid_is_refused(raw, message):
    with pytest.raises(InvalidIdentity, match=message):
        normalize_id_number(IdType.HMT_RESIDENCE_PERMIT, raw, today=TODAY)


# --- passports and home-return permits ------------------------------------------------------


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("E12345678", "E12345678"),  # Chinese ordinary passport, old series
        ("G12345678", "G12345678"),
        ("EA1234567", "EA1234567"),  # new series: E + letter (not I/O) + 7 digits
        ("ea 123 4567", "EA1234567"),  # lowercase and spaces normalised
        ("AB12345", "AB12345"),  # foreign passport
        ("K1234", "K1234"),  # 5 characters: shortest accepted
        ("A1234567890123456", "A1234567890123456"),  # 17 characters: longest accepted
    ],
)
def test_passport_valid_is_normalised(raw, expected):
    assert normalize_id_number(IdType.PASSPORT, raw, today=TODAY) == expected


@pytest.mark.parametrize(
    "raw",
    ["A123", "A12345678901234567", "E1234-5678", "护照12345", "", "E12345678!"],
)
def test_passport_malformed_is_refused(raw):
    with pytest.raises(InvalidIdentity):
        normalize_id_number(IdType.PASSPORT, raw, today=TODAY)


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("H12345678", "H12345678"),  # Hong Kong, 9 characters
        ("M1234567890", "M1234567890"),  # Macao, 11 characters
        ("h 1234 5678", "H12345678"),  # lowercase and spaces normalised
        ("12345678", "12345678"),  # Taiwan: 8 digits
    ],
)
def test_home_return_permit_valid_is_normalised(raw, expected):
    assert normalize_id_number(IdType.HOME_RETURN_PERMIT, raw, today=TODAY) == expected


@pytest.mark.parametrize(
    "raw",
    ["X12345678", "H1234567", "H123456789", "H123456789012", "1234567", "123456789", "HM12345678"],
)
def test_home_return_permit_malformed_is_refused(raw):
    with pytest.raises(InvalidIdentity, match="home-return permit"):
        normalize_id_number(IdType.HOME_RETURN_PERMIT, raw, today=TODAY)


# --- mobile ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "13812341234",
        "+8613812341234",
        "+86 138 1234 1234",
        "008613812341234",
        "0086-138-1234-1234",
        "8613812341234",  # bare 86 when 13 digits
        " 138 1234 1234 ",
        "138-1234-1234",
    ],
)
def test_mobile_variants_normalise_to_eleven_digits(raw):
    assert normalize_mobile(raw) == "13812341234"


@pytest.mark.parametrize(
    "raw",
    [
        "12345678901",  # second digit 2
        "10012345678",
        "1381234123",  # 10 digits
        "138123412345",  # 12 digits
        "+85212345678",  # Hong Kong number
        "010-12345678",  # landline
        "1381234123a",
        "",
    ],
)
def test_mobile_not_mainland_is_refused(raw):
    with pytest.raises(InvalidIdentity, match="is not a mainland mobile number"):
        normalize_mobile(raw)


def test_mobile_error_message_masks_the_number():
    with pytest.raises(InvalidIdentity) as excinfo:
        normalize_mobile("12345678901")
    assert "12345678901" not in str(excinfo.value)
    assert "123****8901" in str(excinfo.value)


# --- masks ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, masked",
    [
        ("11010519491231002X", "110105********002X"),
        ("E12345678", "E1*****78"),  # short document: first 2 and last 2
        ("M1234567890", "M1*******90"),
        ("12345678", "12****78"),
        ("ABCD", "****"),
        ("", ""),
    ],
)
def test_mask_id_number(value, masked):
    assert mask_id_number(value) == masked


@pytest.mark.parametrize(
    "value, masked",
    [
        ("13812341234", "138****1234"),
        ("+86 138-1234-1234", "138****1234"),
        ("", ""),
    ],
)
def test_mask_mobile(value, masked):
    assert mask_mobile(value) == masked


@pytest.mark.parametrize(
    "value, masked",
    [
        ("王小明", "王**"),
        ("王明", "王*"),
        ("王", "王"),
        ("Wang", "W***"),
        ("欧阳娜娜", "欧***"),
        ("", ""),
    ],
)
def test_mask_name_keeps_first_character(value, masked):
    assert mask_name(value) == masked
