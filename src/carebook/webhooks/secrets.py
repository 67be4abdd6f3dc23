"""Webhook signing secrets: made, sealed for storage, opened to sign.

The database never holds a secret readable: it is sealed with AES-GCM under a key derived from
``CAREBOOK_SECRET_KEY``, with the webhook's id as associated data (a sealed secret copied to
another webhook's row does not open). The secret is shown once, by the mutation that makes it
(createWebhook, expireWebhookSignature).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_NONCE_BYTES = 12


def new_secret() -> str:
    """A fresh signing secret: 32 random bytes, URL-safe base64 (what receivers paste)."""
    return secrets.token_urlsafe(32)


def _key(secret_key: str) -> bytes:
    return hmac.new(secret_key.encode(), b"carebook webhook secrets", hashlib.sha256).digest()


def seal(secret: str, *, secret_key: str, webhook_id: int) -> str:
    """The secret encrypted for the ``secret_sealed`` column (base64 text)."""
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(_key(secret_key)).encrypt(nonce, secret.encode(), str(webhook_id).encode())
    return base64.b64encode(nonce + sealed).decode()


def open_sealed(sealed: str, *, secret_key: str, webhook_id: int) -> str | None:
    """The secret, or None when it cannot be opened (CAREBOOK_SECRET_KEY changed)."""
    try:
        raw = base64.b64decode(sealed)
        nonce, body = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:]
        opened = AESGCM(_key(secret_key)).decrypt(nonce, body, str(webhook_id).encode())
    except (InvalidTag, ValueError):
        return None
    return opened.decode()
