"""What the delivery worker keeps between sends: checked addresses and open connections.

A new TCP (and TLS) connection and a DNS lookup per POST were most of a send's cost. The worker
keeps, for the life of its loop:

- the checked addresses of each host for ``ADDRESS_TTL`` seconds, then looks the host up (and
  checks it) again: a DNS change reaches the sends within that time, and the connection still
  goes to an address that was checked (the pinning of :mod:`carebook.webhooks.sender`);
- one HTTP client, with keep-alive, per webhook and URL scheme, host name and port. A client's
  pool is keyed by the pinned address, so one client per host name means a connection opened
  (and, for https, certificate-checked) for one host name never carries a request for another
  name that shares its address. One per webhook as well, because several webhooks often share a
  host (an integration platform receives all of an organization's): httpcore looks at every
  connection of a pool at each request (whether it expired, through anyio's costly socket
  attributes), so one pool of 16 for the host cost more than four pools of 4. With 4 kept for
  the whole host, a burst of 16 sends to it closed 12 connections and reopened them next time.
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import ssl
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx


ADDRESS_TTL = 30.0
# Past this many clients (webhooks and hosts), the least recently used one not in use is closed.
MOST_CLIENTS = 128
# Idle connections kept per client: a client serves one webhook (see Connections.client), which
# has at most delivery.PER_WEBHOOK sends in flight, so this many are all it reuses.
KEEP_ALIVE = 4
# An idle connection is dropped after this long: under common receivers' own idle timeouts
# (Node's 5 s), so a POST rarely meets a connection the receiver is closing.
KEEP_ALIVE_SECONDS = 4.0


class _NoCookies(http.cookiejar.CookieJar):
    """A cookie jar that keeps nothing: a receiver's ``Set-Cookie`` is never sent back with
    later deliveries (a webhook POST carries its signature, not a session), and the client does
    not file every answer's cookies (urllib's machinery, some 5 % of the delivery loop)."""

    def extract_cookies(self, response: Any, request: Any) -> None:
        """Keep no cookie."""


ClientKey = tuple[str, str, int | None, ssl.SSLContext | None, int | None]


class Connections:
    """Checked addresses and keep-alive clients; one per worker loop, closed when it stops."""

    def __init__(self) -> None:
        self._addresses: dict[tuple[str, bool], tuple[float, list[str]]] = {}
        self._clients: OrderedDict[ClientKey, httpx.AsyncClient] = OrderedDict()
        self._in_use: dict[ClientKey, int] = {}  # sends holding each client now
        self._public_tls: ssl.SSLContext | None = None

    def addresses(self, url: str, *, allow_private: bool) -> list[str] | None:
        """The addresses checked for ``url`` less than ``ADDRESS_TTL`` ago, or None."""
        found = self._addresses.get((url, allow_private))
        if found is None or time.monotonic() - found[0] > ADDRESS_TTL:
            return None
        return found[1]

    def remember(self, url: str, addresses: list[str], *, allow_private: bool) -> None:
        """Keep the checked addresses of ``url`` (keyed by the whole URL: host and port)."""
        if len(self._addresses) > MOST_CLIENTS * 8:  # bounded: drop all, they are re-checked
            self._addresses.clear()
        self._addresses[(url, allow_private)] = (time.monotonic(), addresses)

    @contextlib.asynccontextmanager
    async def client(
        self, url: httpx.URL, tls: ssl.SSLContext | None, lane: int | None = None
    ) -> AsyncIterator[httpx.AsyncClient]:
        """The keep-alive client of ``url``'s scheme, host name and port for ``lane`` (the
        webhook sent to), held for the block: a client in use is never closed to make room."""
        key: ClientKey = (url.scheme, url.host, url.port, tls, lane)
        client = self._clients.get(key)
        if client is None:
            client = self._clients[key] = self._new_client(tls)
        self._clients.move_to_end(key)
        self._in_use[key] = self._in_use.get(key, 0) + 1
        try:
            yield client
        finally:
            if self._in_use[key] == 1:
                del self._in_use[key]
            else:
                self._in_use[key] -= 1
            await self._make_room()

    def _new_client(self, tls: ssl.SSLContext | None) -> httpx.AsyncClient:
        # Imported here, not at start-up: only webhook deliveries need httpx
        # (docs/performance.md, "Start-up").
        import httpx

        if tls is None:  # the public CAs, loaded once (httpx loads certifi's per client)
            if self._public_tls is None:
                self._public_tls = httpx.create_ssl_context(trust_env=False)
            tls = self._public_tls
        return httpx.AsyncClient(
            follow_redirects=False,
            trust_env=False,
            verify=tls,
            cookies=_NoCookies(),
            limits=httpx.Limits(
                max_keepalive_connections=KEEP_ALIVE, keepalive_expiry=KEEP_ALIVE_SECONDS
            ),
        )

    async def _make_room(self) -> None:
        """Close the least recently used clients not in use while there are too many."""
        while len(self._clients) > MOST_CLIENTS:
            idle = next((key for key in self._clients if key not in self._in_use), None)
            if idle is None:
                return  # all in use (at most the worker's sends in flight): later
            await self._clients.pop(idle).aclose()

    async def aclose(self) -> None:
        """Close every client (their connections)."""
        clients = list(self._clients.values())
        self._clients.clear()
        for client in clients:
            await client.aclose()
