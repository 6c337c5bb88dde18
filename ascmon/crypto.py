"""Encryption at rest for device client secrets (Fernet: AES-128-CBC + HMAC-SHA256)."""

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


class SecretUnreadable(Exception):
    """The stored secret cannot be decrypted with the configured ASCMON_ENCRYPTION_KEY."""


def _fernet():
    return Fernet(settings.ASCMON_ENCRYPTION_KEY.encode())


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadable("the device secret was encrypted with another ASCMON_ENCRYPTION_KEY") from exc
