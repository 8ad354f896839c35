"""AES-256-GCM field encryption with key ids, and keyed HMAC blind indexes.

A stored value looks like ``<key id>$<base64(nonce || ciphertext+tag)>``. The key id travels with
the value, so a new key can be introduced first in SCRM_FIELD_KEYS (it then encrypts) while old
values still decrypt with the older keys listed after it; `rotate_field_keys` re-encrypts them.
"""

import base64
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

SEPARATOR = "$"


@lru_cache(maxsize=8)
def _parse_keys(raw: str) -> tuple[str, dict[str, AESGCM]]:
    keys: dict[str, AESGCM] = {}
    active = ""
    for item in raw.split(","):
        kid, _, material = item.strip().partition(":")
        key = base64.b64decode(material)
        if not kid or len(key) != 32:
            raise ImproperlyConfigured("SCRM_FIELD_KEYS entries must be 'kid:<base64 32 bytes>'")
        keys[kid] = AESGCM(key)
        active = active or kid
    if not keys:
        raise ImproperlyConfigured("SCRM_FIELD_KEYS is empty")
    return active, keys


def active_key_id() -> str:
    return _parse_keys(settings.SCRM_FIELD_KEYS)[0]


def encrypt(plaintext: str) -> str:
    kid, keys = _parse_keys(settings.SCRM_FIELD_KEYS)
    nonce = os.urandom(12)
    sealed = keys[kid].encrypt(nonce, plaintext.encode(), kid.encode())
    return f"{kid}{SEPARATOR}{base64.b64encode(nonce + sealed).decode()}"


def decrypt(stored: str) -> str:
    kid, _, payload = stored.partition(SEPARATOR)
    keys = _parse_keys(settings.SCRM_FIELD_KEYS)[1]
    if kid not in keys:
        raise ImproperlyConfigured(f"field key {kid!r} is not in SCRM_FIELD_KEYS")
    blob = base64.b64decode(payload)
    return keys[kid].decrypt(blob[:12], blob[12:], kid.encode()).decode()


def key_id_of(stored: str) -> str:
    return stored.partition(SEPARATOR)[0]


def blind_index(purpose: str, normalized_value: str) -> str:
    """Keyed HMAC-SHA256 of a normalized value: equal inputs match, the table reveals nothing."""
    if not normalized_value:
        return ""
    key = base64.b64decode(settings.SCRM_BLIND_INDEX_KEY)
    message = f"{purpose}:{normalized_value}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()
