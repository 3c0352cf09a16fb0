"""Field-level encryption at rest (Fernet) and keyed hashes for equality look-ups.

Keys come from settings at call time: FIELD_ENCRYPTION_KEYS (Fernet keys; the first
encrypts, all decrypt, so a new key goes first and old ones stay until re-encrypted)
and FIELD_HASH_KEY (HMAC-SHA256 key for keyed_hash).
"""

import hashlib
import hmac
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.db import models

__all__ = [
    "EncryptedCharField",
    "InvalidToken",
    "decrypt",
    "encrypt",
    "keyed_hash",
    "normalize_for_hash",
]


def encrypt(plaintext: str) -> str:
    """Encrypt with the first key of FIELD_ENCRYPTION_KEYS; the result is ASCII."""
    return _multi_fernet(_encryption_keys()).encrypt(plaintext.encode()).decode("ascii")


def decrypt(token: str) -> str:
    """Decrypt with any key of FIELD_ENCRYPTION_KEYS; raise InvalidToken if none fits."""
    return _multi_fernet(_encryption_keys()).decrypt(token.encode("ascii")).decode()


def normalize_for_hash(value: str) -> str:
    """Apply NFKC, strip surrounding whitespace and upper-case, so 'x' and 'X' hash alike."""
    return unicodedata.normalize("NFKC", value).strip().upper()


def keyed_hash(value: str) -> str:
    """Return the hex HMAC-SHA256 of the normalized value under FIELD_HASH_KEY."""
    key = getattr(settings, "FIELD_HASH_KEY", None)
    if not key:
        raise ImproperlyConfigured("FIELD_HASH_KEY is not set")
    key_bytes = key.encode() if isinstance(key, str) else bytes(key)
    message = normalize_for_hash(value).encode()
    return hmac.new(key_bytes, message, hashlib.sha256).hexdigest()


def _encryption_keys() -> tuple[str, ...]:
    keys: str | Sequence[str | bytes] = getattr(settings, "FIELD_ENCRYPTION_KEYS", ())
    if isinstance(keys, str | bytes):
        keys = [keys]
    normalized = tuple(k.decode() if isinstance(k, bytes) else k for k in keys if k)
    if not normalized:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty")
    return normalized


@lru_cache(maxsize=8)
def _multi_fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


class EncryptedCharField(models.TextField):
    """Text stored as a Fernet token and read back as plaintext; None and '' pass through.

    Tokens are randomized, so the column cannot be searched: store keyed_hash() in a
    separate indexed column for equality look-ups. Only `isnull` is allowed as a lookup,
    so that a filter on the ciphertext fails loudly instead of matching nothing.
    """

    description = "Encrypted text"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if not value:
            return value
        return decrypt(value)

    def get_prep_value(self, value: Any) -> str | None:
        value = super().get_prep_value(value)
        if not value:
            return value
        return encrypt(value)

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name != "isnull":
            raise FieldError(
                f"{self.name}: encrypted fields cannot be filtered with '{lookup_name}'; "
                "filter on a keyed_hash() column instead"
            )
        return super().get_lookup(lookup_name)
