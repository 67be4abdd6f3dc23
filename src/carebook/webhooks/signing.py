"""Signing a webhook POST as Healthie does: HTTP Message Signatures (RFC 9421), HMAC-SHA256.

The signature covers the method, path, query and the three content headers; the body is bound
through ``Content-Digest`` (RFC 9530), so a receiver that checks the digest and the signature
knows the bytes came from the holder of the webhook's secret. Written here in a few lines (the
format is fixed and small); the tests verify it with an independent RFC 9421 implementation.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import urlsplit

LABEL = "sig1"
ALGORITHM = "hmac-sha256"
COMPONENTS = ("@method", "@path", "@query", "content-digest", "content-type", "content-length")
CONTENT_TYPE = "application/json"


def content_digest(body: bytes) -> str:
    """The ``Content-Digest`` value of ``body``: ``sha-256=:<base64>:`` (RFC 9530)."""
    return f"sha-256=:{base64.b64encode(hashlib.sha256(body).digest()).decode()}:"


def _signature_params(*, created: int, key_id: str) -> str:
    covered = " ".join(f'"{name}"' for name in COMPONENTS)
    return f'({covered});created={created};keyid="{key_id}";alg="{ALGORITHM}"'


def _signature_base(values: dict[str, str], params: str) -> bytes:
    """RFC 9421 section 2.5: one ``"name": value`` line per component, then the parameters."""
    lines = [f'"{name}": {values[name]}' for name in COMPONENTS]
    lines.append(f'"@signature-params": {params}')
    return "\n".join(lines).encode()


def signed_headers(
    *, method: str, url: str, body: bytes, secret: str, key_id: str, created: int
) -> dict[str, str]:
    """The content and signature headers of one request (``created``: Unix seconds)."""
    parts = urlsplit(url)
    headers = {
        "Content-Type": CONTENT_TYPE,
        "Content-Digest": content_digest(body),
        "Content-Length": str(len(body)),
    }
    values = {
        "@method": method.upper(),
        "@path": parts.path or "/",
        # RFC 9421 2.2.7: the query with its leading "?", a lone "?" when there is none.
        "@query": f"?{parts.query}",
        "content-digest": headers["Content-Digest"],
        "content-type": headers["Content-Type"],
        "content-length": headers["Content-Length"],
    }
    params = _signature_params(created=created, key_id=key_id)
    mac = hmac.new(secret.encode(), _signature_base(values, params), hashlib.sha256).digest()
    headers["Signature-Input"] = f"{LABEL}={params}"
    headers["Signature"] = f"{LABEL}=:{base64.b64encode(mac).decode()}:"
    return headers
