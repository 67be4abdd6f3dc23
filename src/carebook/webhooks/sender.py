"""One webhook POST: the SSRF check, then the request to the very address that was checked.

The URL's host is resolved and checked (:func:`carebook.webhooks.urls.resolve`) right before
the send, and the connection goes to that address: the request is made to the IP, with the
``Host`` header and, for https, the TLS server name (SNI and certificate check) set to the
URL's host. The HTTP client does no lookup of its own, so a DNS answer that changes between the
check and the connection (DNS rebinding) cannot aim the POST at a private address.

Redirects are not followed (a 3xx is a failure: following one would leave the checked address),
the response body is never read, and each send has its own client (a pooled connection opened
for one host name must not carry another's request to the same address).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from carebook.config import Settings
from carebook.webhooks.urls import UnsafeUrl, resolve


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one POST got: the HTTP status, or why there was none (loggable, no body)."""

    status: int | None
    error: str | None = None

    @property
    def delivered(self) -> bool:
        """A 2xx answer; anything else (3xx included) is a failure."""
        return self.status is not None and 200 <= self.status < 300

    @property
    def description(self) -> str:
        """The status or the error, for ``last_error`` and the logs."""
        return str(self.status) if self.status is not None else (self.error or "no response")


def _pinned(url: str, address: str) -> tuple[httpx.URL, dict[str, str], dict[str, str]]:
    """The URL aimed at ``address``, the Host header and the TLS server name of the original."""
    original = httpx.URL(url)
    host = original.raw_host.decode("ascii")  # IDNA-encoded: what DNS, SNI and Host use
    # The Host header keeps a non-default port, as the client would have written it.
    authority = host if original.port is None else f"{host}:{original.port}"
    if ":" in host:  # an IPv6 literal is bracketed in a Host header
        authority = f"[{host}]" if original.port is None else f"[{host}]:{original.port}"
    extensions = {"sni_hostname": host} if original.scheme == "https" else {}
    return original.copy_with(host=address), {"Host": authority}, extensions


async def post(
    url: str,
    *,
    body: bytes,
    headers: Mapping[str, str],
    settings: Settings,
    tls: ssl.SSLContext | None = None,
) -> Outcome:
    """POST ``body`` to ``url``; never raises for network or receiver trouble.

    ``tls``: the certificates to trust; by default httpx's (the public CAs). Tests pass one that
    trusts their own receiver's certificate.
    """
    try:
        addresses = await resolve(url, allow_private=settings.webhook_allow_private_urls)
    except UnsafeUrl:
        return Outcome(None, "unsafe_url")
    outcome = Outcome(None, "no_address")
    for address in addresses:  # every one was checked; the next is tried if one is unreachable
        outcome = await _post_to(
            url, address, body=body, headers=headers, settings=settings, tls=tls
        )
        if outcome.error != "ConnectError":
            break
    return outcome


async def _post_to(
    url: str,
    address: str,
    *,
    body: bytes,
    headers: Mapping[str, str],
    settings: Settings,
    tls: ssl.SSLContext | None,
) -> Outcome:
    target, host_header, extensions = _pinned(url, address)
    timeout = httpx.Timeout(
        settings.webhook_timeout_seconds, connect=settings.webhook_connect_timeout_seconds
    )
    try:
        # The client's own timeouts are per step; this bounds the whole exchange.
        async with (
            asyncio.timeout(settings.webhook_timeout_seconds),
            httpx.AsyncClient(
                timeout=timeout, follow_redirects=False, trust_env=False, verify=tls or True
            ) as client,
            client.stream(
                "POST",
                target,
                content=body,
                headers={**headers, **host_header},
                extensions=extensions,
            ) as response,
        ):
            return Outcome(response.status_code)
    except TimeoutError:
        return Outcome(None, "timeout")
    except httpx.HTTPError as error:
        return Outcome(None, type(error).__name__)
