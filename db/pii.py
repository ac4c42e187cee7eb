"""Encryption at rest and blind indexes for personal data (DOMAIN §8, PIPL).

ID numbers and mobiles are stored as Fernet tokens (AES-128-CBC + HMAC-SHA256, randomised), and
next to each a blind index — an HMAC of the normalised value under a separate key — so an exact
look-up ("who has this mobile?") works without decrypting anything.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_HKDF_INFO = b"estateflow/pii/fernet-key/v1"


class InvalidCiphertext(ValueError):
    """The token is malformed, was tampered with, or was encrypted under another key."""


def _fernet_key(data_key: str) -> bytes:
    """The key itself if it is a valid Fernet key, else one derived from it with HKDF-SHA256."""
    try:
        Fernet(data_key)
        return data_key.encode("ascii")
    except (ValueError, TypeError, binascii.Error, UnicodeEncodeError):
        pass
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(
        data_key.encode("utf-8")
    )
    return base64.urlsafe_b64encode(derived)


class PiiCipher:
    def __init__(self, data_key: str, blind_index_key: str) -> None:
        if not isinstance(data_key, str) or not data_key:
            raise ValueError("data_key must be a non-empty string")
        if not isinstance(blind_index_key, str) or not blind_index_key:
            raise ValueError("blind_index_key must be a non-empty string")
        self._fernet = Fernet(_fernet_key(data_key))
        self._index_key = blind_index_key.encode("utf-8")

    def __repr__(self) -> str:  # never show keys
        return "PiiCipher(<keys hidden>)"

    def encrypt(self, plain: str) -> str:
        if not isinstance(plain, str):
            raise TypeError(f"plain must be str, not {type(plain).__name__}")
        return self._fernet.encrypt(plain.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        if not isinstance(token, str):
            raise TypeError(f"token must be str, not {type(token).__name__}")
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeEncodeError):
            raise InvalidCiphertext("cannot decrypt: wrong key or damaged token") from None

    def blind_index(self, kind: str, normalized_value: str) -> str:
        """Hex HMAC-SHA256 of f"{kind}:{value}": deterministic, and separate per kind.

        Pass the *normalised* value (normalize_mobile / normalize_id_number) so that every spelling
        of the same number lands on the same index. `kind` may not contain ':' — that keeps the
        message unambiguous ("a:b" + "c" never collides with "a" + "b:c").
        """
        if not isinstance(kind, str) or not kind or ":" in kind:
            raise ValueError("kind must be a non-empty string without ':'")
        if not isinstance(normalized_value, str):
            raise TypeError(f"normalized_value must be str, not {type(normalized_value).__name__}")
        message = f"{kind}:{normalized_value}".encode("utf-8")
        return hmac.new(self._index_key, message, hashlib.sha256).hexdigest()
