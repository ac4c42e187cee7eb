"""PII encryption at rest and blind indexes (DOMAIN §8)."""

import hashlib
import hmac

import pytest
from cryptography.fernet import Fernet

from db.pii import InvalidCiphertext, PiiCipher

FERNET_KEY = Fernet.generate_key().decode()
INDEX_KEY = "blind-index-key-for-tests"


@pytest.fixture(scope="module")
def cipher() -> PiiCipher:
    return PiiCipher(data_key=FERNET_KEY, blind_index_key=INDEX_KEY)


@pytest.mark.parametrize(
    "plain",
    ["11010519491231002X", "13812341234", "王小明", "", "E12345678 with spaces and ünïcode"],
)
def test_encrypt_then_decrypt_round_trips(cipher, plain):
    token = cipher.encrypt(plain)
    assert isinstance(token, str)
    assert cipher.decrypt(token) == plain


@pytest.mark.parametrize("plain", ["11010519491231002X", "13812341234"])
def test_ciphertext_hides_plaintext_and_is_randomised(cipher, plain):
    first, second = cipher.encrypt(plain), cipher.encrypt(plain)
    assert plain not in first
    assert first != second
    assert cipher.decrypt(first) == cipher.decrypt(second) == plain


@pytest.mark.parametrize(
    "data_key",
    ["any secret string at all", "short", "not base64 !!!", "密钥"],
)
def test_non_fernet_secret_is_accepted_by_deriving_a_key(data_key):
    a = PiiCipher(data_key=data_key, blind_index_key=INDEX_KEY)
    b = PiiCipher(data_key=data_key, blind_index_key=INDEX_KEY)
    assert b.decrypt(a.encrypt("13812341234")) == "13812341234"  # derivation is deterministic


def test_a_valid_fernet_key_is_used_as_is(cipher):
    token = cipher.encrypt("13812341234")
    assert Fernet(FERNET_KEY.encode()).decrypt(token.encode()) == b"13812341234"


@pytest.mark.parametrize(
    "other_key",
    [Fernet.generate_key().decode(), "some other secret"],
)
def test_wrong_key_cannot_decrypt(cipher, other_key):
    token = cipher.encrypt("11010519491231002X")
    other = PiiCipher(data_key=other_key, blind_index_key=INDEX_KEY)
    with pytest.raises(InvalidCiphertext):
        other.decrypt(token)


@pytest.mark.parametrize("token", ["", "not a token", "gAAAAA" + "x" * 80])
def test_damaged_token_is_refused(cipher, token):
    with pytest.raises(InvalidCiphertext):
        cipher.decrypt(token)


def test_tampered_token_is_refused(cipher):
    token = cipher.encrypt("13812341234")
    tampered = token[:-5] + ("A" if token[-5] != "A" else "B") + token[-4:]
    with pytest.raises(InvalidCiphertext):
        cipher.decrypt(tampered)


def test_blind_index_is_deterministic_and_independent_of_the_data_key(cipher):
    other_data_key = PiiCipher(data_key="different data key", blind_index_key=INDEX_KEY)
    first = cipher.blind_index("mobile", "13812341234")
    assert first == cipher.blind_index("mobile", "13812341234")
    assert first == other_data_key.blind_index("mobile", "13812341234")


def test_blind_index_is_hex_hmac_sha256_of_kind_and_value(cipher):
    expected = hmac.new(INDEX_KEY.encode(), b"mobile:13812341234", hashlib.sha256).hexdigest()
    assert cipher.blind_index("mobile", "13812341234") == expected
    assert len(expected) == 64
    assert "13812341234" not in expected


@pytest.mark.parametrize(
    "a, b",
    [
        (("mobile", "13812341234"), ("resident_id", "13812341234")),  # same value, different kind
        (("mobile", "13812341234"), ("mobile", "13812341235")),  # different value
        (("passport", "E12345678"), ("home_return_permit", "E12345678")),
    ],
)
def test_blind_index_separates_kinds_and_values(cipher, a, b):
    assert cipher.blind_index(*a) != cipher.blind_index(*b)


def test_blind_index_depends_on_its_key(cipher):
    other = PiiCipher(data_key=FERNET_KEY, blind_index_key="another index key")
    assert cipher.blind_index("mobile", "13812341234") != other.blind_index("mobile", "13812341234")


@pytest.mark.parametrize("kind", ["", "mobile:extra"])
def test_blind_index_refuses_ambiguous_kind(cipher, kind):
    with pytest.raises(ValueError):
        cipher.blind_index(kind, "13812341234")


@pytest.mark.parametrize(
    "data_key, index_key",
    [("", INDEX_KEY), (FERNET_KEY, "")],
)
def test_empty_keys_are_refused(data_key, index_key):
    with pytest.raises(ValueError):
        PiiCipher(data_key=data_key, blind_index_key=index_key)


def test_repr_does_not_leak_keys(cipher):
    assert FERNET_KEY not in repr(cipher)
    assert INDEX_KEY not in repr(cipher)
