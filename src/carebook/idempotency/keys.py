"""The pieces of an Idempotency-Key: validation, scope, digests, and the sealed stored answer.

The stored answer can hold patient data and session tokens (signUp, signIn), which the database
otherwise keeps only as digests. So the table holds neither the key nor a readable answer: the
key is looked up by HMAC(secret_key, scope + key), and the answer is sealed with AES-GCM under
a key derived from the client's key, which only a caller who sends it again can present.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from carebook.auth.actor import Actor

HEADER = "idempotency-key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
# Printable ASCII without spaces: UUIDs, ULIDs and Stripe-style keys all fit.
_KEY_PATTERN = re.compile(rf"[\x21-\x7e]{{1,{MAX_KEY_LENGTH}}}")
_NONCE_BYTES = 12


class InvalidKey(ValueError):
    """The header's value is not a usable key; the message is safe to show."""


def validated(raw: str) -> str:
    """The key as sent, or :class:`InvalidKey`."""
    if not _KEY_PATTERN.fullmatch(raw):
        raise InvalidKey(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable ASCII characters "
            "without spaces (a UUID is a good choice)"
        )
    return raw


def scope_of(actor: Actor | None) -> str:
    """Whose keys these are: one user (any of their credentials), or every anonymous caller.

    Per user, not per credential: a client whose token expired between two tries signs in again
    and must still get the first answer rather than a second write.
    """
    return f"user:{actor.user_id}" if actor is not None else "anonymous"


def request_digest(query: str | None, variables: Mapping[str, Any] | None, name: str | None) -> str:
    """SHA-256 of the canonical request, fed piece by piece so a huge body is never copied."""
    digest = hashlib.sha256()
    encoder = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    for chunk in encoder.iterencode([query, variables or {}, name]):
        digest.update(chunk.encode())
    return digest.hexdigest()


def _derived(secret: str, purpose: str, scope: str, key: str) -> bytes:
    message = f"{purpose}\n{scope}\n{key}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


@dataclass
class Claim:
    """A mutation request's key, and what became of it while the request ran."""

    scope: str
    key: str = field(repr=False)
    request_digest: str
    secret: str = field(repr=False)
    # Set once a write transaction holding the key record has committed.
    held: bool = False
    # The refusal's code when the key turned out to be taken inside a write transaction.
    refused: str | None = None

    @property
    def key_digest(self) -> str:
        """What the table stores in place of the key."""
        return _derived(self.secret, "lookup", self.scope, self.key).hex()

    def seal(self, body: bytes) -> bytes:
        """The answer encrypted for storage (nonce + ciphertext + tag)."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = AESGCM(self._body_key()).encrypt(nonce, body, self.key_digest.encode())
        return nonce + sealed

    def open(self, stored: bytes) -> bytes | None:
        """The stored answer, or None if it cannot be decrypted (secret key changed)."""
        nonce, sealed = stored[:_NONCE_BYTES], stored[_NONCE_BYTES:]
        try:
            return AESGCM(self._body_key()).decrypt(nonce, sealed, self.key_digest.encode())
        except InvalidTag:
            return None

    def _body_key(self) -> bytes:
        return _derived(self.secret, "body", self.scope, self.key)
