"""What the delivery worker keeps between sends: checked addresses and open connections.

A new TCP (and TLS) connection and a DNS lookup per POST were most of a send's cost. The worker
keeps, for the life of its loop:

- the checked addresses of each host for ``ADDRESS_TTL`` seconds, then looks the host up (and
  checks it) again: a DNS change reaches the sends within that time, and the connection still
  goes to an address that was checked (the pinning of :mod:`carebook.webhooks.sender`);
- one HTTP client (an aiohttp session), with keep-alive, per webhook and URL scheme, host name
  and port. A client's pool is keyed by the pinned address (and, for https, the TLS server
  name; a plain http connection has none), so one client per host name means a connection
  opened for one host name never carries a request for another name that shares its address.
  One per webhook as well, because several webhooks often share a host (an integration
  platform receives all of an organization's): each keeps the connections of its own few sends
  in flight, where one pool for the host kept too few for a burst to it (and, under httpx, cost
  more to search at each request than several small ones).
"""

from __future__ import annotations

import contextlib
import ssl
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import aiohttp
    import yarl


ADDRESS_TTL = 30.0
# Past this many clients (webhooks and hosts), the least recently used one not in use is closed.
MOST_CLIENTS = 128
# Idle connections kept per client: a client serves one webhook (see Connections.client), which
# has at most delivery.PER_WEBHOOK sends in flight, so this many are all it reuses.
KEEP_ALIVE = 4
# An idle connection is dropped after this long: under common receivers' own idle timeouts
# (Node's 5 s), so a POST rarely meets a connection the receiver is closing.
KEEP_ALIVE_SECONDS = 4.0


ClientKey = tuple[str, str, int | None, ssl.SSLContext | None, int | None]


class Connections:
    """Checked addresses and keep-alive clients; one per worker loop, closed when it stops."""

    def __init__(self) -> None:
        self._addresses: dict[tuple[str, bool], tuple[float, list[str]]] = {}
        self._clients: OrderedDict[ClientKey, aiohttp.ClientSession] = OrderedDict()
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
        self, url: yarl.URL, tls: ssl.SSLContext | None, lane: int | None = None
    ) -> AsyncIterator[aiohttp.ClientSession]:
        """The keep-alive client of ``url``'s scheme, host name and port for ``lane`` (the
        webhook sent to), held for the block: a client in use is never closed to make room."""
        key: ClientKey = (url.scheme, url.raw_host or "", url.port, tls, lane)
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

    def _new_client(self, tls: ssl.SSLContext | None) -> aiohttp.ClientSession:
        # Imported here, not at start-up: only webhook deliveries need aiohttp
        # (docs/performance.md, "Start-up").
        import aiohttp

        if tls is None:  # the public CAs, loaded once, not per client
            if self._public_tls is None:
                # certifi's bundle, as before under httpx: the same CAs on every host,
                # whatever the system's store holds (a slim container may hold none).
                import certifi

                self._public_tls = ssl.create_default_context(cafile=certifi.where())
            tls = self._public_tls
        connector = aiohttp.TCPConnector(
            ssl=tls,
            # At most this many connections, all kept alive between sends (a client serves
            # one webhook, whose sends in flight are bounded below this).
            limit=KEEP_ALIVE,
            keepalive_timeout=KEEP_ALIVE_SECONDS,
            use_dns_cache=False,  # requests go to checked IPs: the client looks nothing up
        )
        return aiohttp.ClientSession(
            connector=connector,
            # A receiver's Set-Cookie is never sent back with later deliveries (a webhook
            # POST carries its signature, not a session).
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False,  # answers are read only to be dropped
            # Only the headers the sender sets (and Host, Content-Length): no Accept or
            # Accept-Encoding of aiohttp's own, no default User-Agent.
            skip_auto_headers=("Accept", "Accept-Encoding", "User-Agent"),
            trust_env=False,  # no proxy from the environment: the POST goes to the checked IP
        )

    async def _make_room(self) -> None:
        """Close the least recently used clients not in use while there are too many."""
        while len(self._clients) > MOST_CLIENTS:
            idle = next((key for key in self._clients if key not in self._in_use), None)
            if idle is None:
                return  # all in use (at most the worker's sends in flight): later
            await self._clients.pop(idle).close()

    async def aclose(self) -> None:
        """Close every client (their connections)."""
        clients = list(self._clients.values())
        self._clients.clear()
        for client in clients:
            await client.close()
