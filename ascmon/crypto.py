"""Encryption at rest for device client secrets (Fernet: AES-128-CBC + HMAC-SHA256).

settings.ASCMON_ENCRYPTION_KEYS lists the keys newest first: the newest encrypts, any of them decrypts
(MultiFernet), and `rotate` re-encrypts a token with the newest (manage.py reencrypt_secrets).
"""

import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class SecretUnreadable(Exception):
    """The stored secret cannot be decrypted with any of the configured ASCMON_ENCRYPTION_KEYS."""


UNREADABLE = "the device secret was encrypted with a key that is not in ASCMON_ENCRYPTION_KEYS"


@functools.lru_cache(maxsize=4)
def _fernet(keys):
    return MultiFernet([Fernet(key.encode()) for key in keys])


def _current():
    return _fernet(tuple(settings.ASCMON_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return _current().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _current().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadable(UNREADABLE) from exc


def rotate(token: str) -> str:
    """The same secret, encrypted with the newest key."""
    try:
        return _current().rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadable(UNREADABLE) from exc
