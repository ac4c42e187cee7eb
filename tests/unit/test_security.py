"""Password hashes: argon2id for new ones, the PBKDF2-SHA256 ones made before still verify and are due
for a rehash, a wrong password never verifies."""

from __future__ import annotations

import base64
import hashlib

from argon2 import PasswordHasher, Type

from api.security import (
    ARGON2_MEMORY_KIB,
    ARGON2_PARALLELISM,
    ARGON2_TIME_COST,
    hash_password,
    needs_rehash,
    verify_password,
)


def legacy_pbkdf2(password: str, *, salt: bytes = b"0123456789abcdef", iterations: int = 120_000) -> str:
    """A hash in the format api/security.py made before argon2id."""
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return f"pbkdf2_sha256${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def test_a_new_hash_is_argon2id_at_the_configured_cost_and_round_trips():
    stored = hash_password("正确的密码 correct horse")
    assert stored.startswith(f"$argon2id$v=19$m={ARGON2_MEMORY_KIB},t={ARGON2_TIME_COST},p={ARGON2_PARALLELISM}$")
    assert verify_password("正确的密码 correct horse", stored)
    assert not needs_rehash(stored)


def test_each_hash_has_its_own_salt_unless_one_is_given():
    assert hash_password("same") != hash_password("same")
    salt = b"sixteen-byte-slt"
    assert hash_password("same", salt=salt) == hash_password("same", salt=salt)


def test_a_wrong_password_is_refused():
    stored = hash_password("right-password")
    assert not verify_password("wrong-password", stored)
    assert not verify_password("", stored)
    assert not verify_password("right-password ", stored)


def test_a_legacy_pbkdf2_hash_verifies_and_needs_a_rehash():
    stored = legacy_pbkdf2("old-password")
    assert verify_password("old-password", stored)
    assert not verify_password("not-the-old-password", stored)
    assert needs_rehash(stored)


def test_an_argon2_hash_of_other_costs_verifies_and_needs_a_rehash():
    older = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash("pw-at-old-cost")
    assert verify_password("pw-at-old-cost", older)
    assert needs_rehash(older)
    argon2i = PasswordHasher(time_cost=ARGON2_TIME_COST, memory_cost=ARGON2_MEMORY_KIB, parallelism=ARGON2_PARALLELISM,
                             type=Type.I).hash("pw")
    assert needs_rehash(argon2i)  # not argon2id


def test_anything_that_is_not_a_hash_verifies_nothing():
    for stored in ("", "plain-text-password", "pbkdf2_sha256$x$y$z", "md5$1$2$3", "$argon2id$garbage",
                   "pbkdf2_sha256$1000$!!!$???"):
        assert not verify_password("plain-text-password", stored), stored
        assert needs_rehash(stored)
