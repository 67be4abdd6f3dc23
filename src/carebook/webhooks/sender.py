"""One webhook POST: the SSRF check, then the request to the very address that was checked.

The URL's host is resolved and checked (:func:`carebook.webhooks.urls.resolve`) right before
the send, and the connection goes to that address: the request is made to the IP, with the
``Host`` header and, for https, the TLS server name (SNI and certificate check) set to the
URL's host. The HTTP client does no lookup of its own, so a DNS answer that changes between the
check and the connection (DNS rebinding) cannot aim the POST at a private address.

Redirects are not followed (a 3xx is a failure: following one would leave the checked address)
and the response body is never kept (the worker reads up to ``DRAIN_LIMIT`` bytes of it and
drops them, so the connection can be reused). The worker passes its :class:`Connections` (checked
addresses for a few seconds, a keep-alive client per host name); other callers (the test send)
get a client of their own for the one POST.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from carebook.config import Settings
from carebook.webhooks.connections import Connections
from carebook.webhooks.urls import UnsafeUrl, resolve

if TYPE_CHECKING:
    import aiohttp
    import yarl

# Bytes of an answer's body read (and dropped) so that its connection can be used again.
DRAIN_LIMIT = 64 * 1024


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


def _pinned(url: str, address: str) -> tuple[yarl.URL, str, str | None]:
    """The URL aimed at ``address``, the Host header and (https) the TLS server name of the
    original."""
    # Imported here, not at start-up: only webhook deliveries need aiohttp and yarl
    # (docs/performance.md, "Start-up").
    import yarl

    original = yarl.URL(url)
    host = original.raw_host or ""  # IDNA-encoded: what DNS, SNI and Host use
    # The Host header keeps a non-default port, as the client would have written it.
    port = None if original.is_default_port() else original.port
    bracketed = f"[{host}]" if ":" in host else host  # an IPv6 literal is bracketed
    authority = bracketed if port is None else f"{bracketed}:{port}"
    server_name = host if original.scheme == "https" else None
    return original.with_host(address), authority, server_name


async def post(
    url: str,
    *,
    body: bytes,
    headers: Mapping[str, str],
    settings: Settings,
    tls: ssl.SSLContext | None = None,
    connections: Connections | None = None,
    lane: int | None = None,
) -> Outcome:
    """POST ``body`` to ``url``; never raises for network or receiver trouble.

    ``tls``: the certificates to trust; by default the public CAs. Tests pass one that
    trusts their own receiver's certificate. ``connections``: the worker's kept addresses and
    clients, a client per ``lane`` (the webhook's id); without it the URL is looked up and a
    client made for this POST alone.
    """
    try:
        addresses = await _checked(url, settings, connections)
    except UnsafeUrl:
        return Outcome(None, "unsafe_url")
    outcome = Outcome(None, "no_address")
    for address in addresses:  # every one was checked; the next is tried if one is unreachable
        outcome = await _post_to(
            url,
            address,
            body=body,
            headers=headers,
            settings=settings,
            tls=tls,
            connections=connections,
            lane=lane,
        )
        if outcome.error != "ConnectError":
            break
    return outcome


async def _checked(url: str, settings: Settings, connections: Connections | None) -> list[str]:
    allow_private = settings.webhook_allow_private_urls
    if connections is not None:
        kept = connections.addresses(url, allow_private=allow_private)
        if kept is not None:
            return kept
    addresses = await resolve(
        url, allow_private=allow_private, seconds=settings.webhook_connect_timeout_seconds
    )
    if connections is not None:
        connections.remember(url, addresses, allow_private=allow_private)
    return addresses


@contextlib.asynccontextmanager
async def _client(
    target: yarl.URL,
    tls: ssl.SSLContext | None,
    connections: Connections | None,
    lane: int | None,
) -> AsyncIterator[aiohttp.ClientSession]:
    if connections is None:
        connections = Connections()  # a client for this POST alone, closed after it
        try:
            async with connections.client(target, tls, lane) as client:
                yield client
        finally:
            await connections.aclose()
        return
    async with connections.client(target, tls, lane) as client:
        yield client


async def _post_to(
    url: str,
    address: str,
    *,
    body: bytes,
    headers: Mapping[str, str],
    settings: Settings,
    tls: ssl.SSLContext | None,
    connections: Connections | None,
    lane: int | None = None,
) -> Outcome:
    # Imported here, not at start-up: only webhook deliveries need aiohttp (docs/performance.md,
    # "Start-up").
    import aiohttp
    import yarl

    try:
        target, host_header, server_name = _pinned(url, address)
    except ValueError:  # a URL yarl cannot take (the shape check let it through)
        return Outcome(None, "invalid_url")
    timeout = aiohttp.ClientTimeout(
        total=settings.webhook_timeout_seconds,
        sock_connect=settings.webhook_connect_timeout_seconds,
    )
    try:
        # The client's timeouts are per step as well; this bounds the whole exchange.
        async with (
            asyncio.timeout(settings.webhook_timeout_seconds),
            _client(yarl.URL(url), tls, connections, lane) as client,
            client.post(
                target,
                data=body,
                headers={**headers, "Host": host_header},
                server_hostname=server_name,
                timeout=timeout,
                allow_redirects=False,
            ) as response,
        ):
            await _drain(response)
            return Outcome(response.status)
    except TimeoutError:
        return Outcome(None, "timeout")
    except aiohttp.ClientError as error:
        return Outcome(None, _error_name(error))


def _error_name(error: Exception) -> str:
    """A stable, loggable name for a client error (``last_error``): the connection could not be
    made (refused, unreachable, TLS refused: the next checked address is tried), or the
    receiver broke the exchange off."""
    import aiohttp

    if isinstance(error, aiohttp.ClientConnectorError | aiohttp.ClientSSLError):
        return "ConnectError"
    if isinstance(error, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError):
        return "RemoteProtocolError"
    return type(error).__name__


async def _drain(response: aiohttp.ClientResponse) -> None:
    """Read and drop a small answer's body: only a connection whose response was read to the
    end is kept alive. A larger one is not read on: its connection is closed instead."""
    received = 0
    async for chunk in response.content.iter_any():
        received += len(chunk)
        if received > DRAIN_LIMIT:
            response.close()
            return
