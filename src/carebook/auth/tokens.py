"""Random secrets (API keys, session tokens, invite codes) and their stored digests."""

from __future__ import annotations

import hashlib
import secrets

# Invite codes are typed by people: no 0/O or 1/l/I to confuse.
_INVITE_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"


def new_secret() -> str:
    """A 256-bit URL-safe random secret."""
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """The SHA-256 hex digest stored in place of a secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_invite_code(length: int = 8) -> str:
    """A short code that is hard to guess (31^8, about 8.5e11 possibilities)."""
    return "".join(secrets.choice(_INVITE_ALPHABET) for _ in range(length))
