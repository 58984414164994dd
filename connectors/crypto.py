"""Encryption at rest: one MultiFernet token per secret blob. The first configured key encrypts; all decrypt."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from core.errors import DecryptionError


@lru_cache(maxsize=8)
def _fernet_for(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("PATCHBAY_ENCRYPTION_KEYS is empty: set at least one Fernet key.")
    try:
        return MultiFernet([Fernet(key.strip().encode()) for key in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            "PATCHBAY_ENCRYPTION_KEYS must be comma-separated Fernet keys "
            "(generate one with: python -c "
            "'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
        ) from exc


def fernet() -> MultiFernet:
    return _fernet_for(tuple(settings.PATCHBAY_ENCRYPTION_KEYS))


def encrypt_json(data: dict[str, Any]) -> str:
    return fernet().encrypt(json.dumps(data, separators=(",", ":")).encode()).decode()


def decrypt_json(token: str, *, owner: str) -> dict[str, Any]:
    if not token:
        raise DecryptionError(f"{owner} has no stored secrets.")
    try:
        data = json.loads(fernet().decrypt(token.encode()))
    except InvalidToken:
        raise DecryptionError(
            f"{owner}: stored credentials cannot be decrypted with any key in PATCHBAY_ENCRYPTION_KEYS. "
            "Add the key they were encrypted with (keys are comma-separated; the first encrypts, all decrypt)."
        ) from None
    if not isinstance(data, dict):
        raise DecryptionError(f"{owner}: stored credentials are not a JSON object.")
    return data


def encrypt_text(value: str) -> str:
    return fernet().encrypt(value.encode()).decode()


def decrypt_text(token: str, *, owner: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise DecryptionError(
            f"{owner}: stored secret cannot be decrypted with any key in PATCHBAY_ENCRYPTION_KEYS."
        ) from None


def rotate_token(token: str) -> str:
    """Re-encrypt with the primary key (MultiFernet.rotate); raises InvalidToken when no key decrypts it."""
    return fernet().rotate(token.encode()).decode()


def is_current(token: str) -> bool:
    """True when the primary key already decrypts the token (rotation can skip it: safe to re-run)."""
    try:
        Fernet(settings.PATCHBAY_ENCRYPTION_KEYS[0].strip().encode()).decrypt(token.encode())
    except InvalidToken:
        return False
    return True
