"""Signing a webhook POST, in one of two schemes (``CAREBOOK_WEBHOOK_SIGNATURE``).

Both key an HMAC-SHA256 with the webhook's secret over the method, path, query and the three
content headers, the body being bound through its SHA-256 digest:

- ``rfc9421`` (the default, as the contract names it): HTTP Message Signatures (RFC 9421) with
  ``Content-Digest`` (RFC 9530); any RFC 9421 library verifies it (the tests use one).
- ``healthie``: what Healthie's webhooks guide has receivers check (its JavaScript sample, and
  the integrations written from it): ``Content-Digest: sha-256=<base64>``, and
  ``Signature: sig1=<hex>``, the HMAC of ``"<method lower-case> <path> <query> <digest>
  application/json <length>"`` (the query without its "?"; the digest as in the header, after
  ``sha-256=``). Healthie's ``Signature-Input`` is not documented; the same component list is
  sent.

Written here in a few lines (the formats are fixed and small).
"""

from __future__ import annotations

import base64
import hashlib
import hmac

LABEL = "sig1"
ALGORITHM = "hmac-sha256"
COMPONENTS = ("@method", "@path", "@query", "content-digest", "content-type", "content-length")
CONTENT_TYPE = "application/json"
RFC9421 = "rfc9421"
HEALTHIE = "healthie"


def _sha256_base64(body: bytes) -> str:
    return base64.b64encode(hashlib.sha256(body).digest()).decode()


def content_digest(body: bytes) -> str:
    """The RFC 9530 ``Content-Digest`` value of ``body``: ``sha-256=:<base64>:``."""
    return f"sha-256=:{_sha256_base64(body)}:"


def _signature_params(*, created: int, key_id: str) -> str:
    covered = " ".join(f'"{name}"' for name in COMPONENTS)
    return f'({covered});created={created};keyid="{key_id}";alg="{ALGORITHM}"'


def _signature_base(values: dict[str, str], params: str) -> bytes:
    """RFC 9421 section 2.5: one ``"name": value`` line per component, then the parameters."""
    lines = [f'"{name}": {values[name]}' for name in COMPONENTS]
    lines.append(f'"@signature-params": {params}')
    return "\n".join(lines).encode()


def _rfc9421(
    method: str, path: str, query: str, body: bytes, secret: str, params: str
) -> dict[str, str]:
    headers = {
        "Content-Type": CONTENT_TYPE,
        "Content-Digest": content_digest(body),
        "Content-Length": str(len(body)),
    }
    values = {
        "@method": method.upper(),
        "@path": path,
        # RFC 9421 2.2.7: the query with its leading "?", a lone "?" when there is none.
        "@query": f"?{query}",
        "content-digest": headers["Content-Digest"],
        "content-type": CONTENT_TYPE,
        "content-length": headers["Content-Length"],
    }
    mac = hmac.new(secret.encode(), _signature_base(values, params), hashlib.sha256).digest()
    headers["Signature"] = f"{LABEL}=:{base64.b64encode(mac).decode()}:"
    return headers


def _healthie(method: str, path: str, query: str, body: bytes, secret: str) -> dict[str, str]:
    digest = _sha256_base64(body)
    data = f"{method.lower()} {path} {query} {digest} {CONTENT_TYPE} {len(body)}"
    mac = hmac.new(secret.encode(), data.encode(), hashlib.sha256).hexdigest()
    return {
        "Content-Type": CONTENT_TYPE,
        "Content-Digest": f"sha-256={digest}",
        "Content-Length": str(len(body)),
        "Signature": f"{LABEL}={mac}",
    }


def signed_headers(
    *,
    method: str,
    url: str,
    body: bytes,
    secret: str,
    key_id: str,
    created: int,
    scheme: str = RFC9421,
) -> dict[str, str]:
    """The content and signature headers of one request (``created``: Unix seconds)."""
    # The path and query as the HTTP client writes them on the request line (percent-encoded),
    # which is what the receiver sees and checks.
    # yarl: the URL parser of aiohttp, which sends the POST (webhooks/sender.py), so the path
    # and query signed are encoded exactly as the request line carries them. Imported here,
    # not at start-up: only webhook deliveries need it (docs/performance.md, "Start-up").
    import yarl

    target = yarl.URL(url)
    path = target.raw_path or "/"
    query = target.raw_query_string
    params = _signature_params(created=created, key_id=key_id)
    if scheme == HEALTHIE:
        headers = _healthie(method, path, query, body, secret)
    else:
        headers = _rfc9421(method, path, query, body, secret, params)
    headers["Signature-Input"] = f"{LABEL}={params}"
    return headers
