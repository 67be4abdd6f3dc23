"""Which webhook URLs Carebook sends to: the SSRF guard.

A webhook URL is chosen by a customer and fetched by the server, so it could aim the server at
its own network (a metadata endpoint, an admin port on loopback). By default a URL must be
https, carry no user info, and its host must resolve only to public addresses; the check runs
when a webhook is saved and again before every send (DNS can change in between), and the
address checked is the one connected to (no second lookup by the HTTP client). Redirects are
never followed. ``CAREBOOK_WEBHOOK_ALLOW_PRIVATE_URLS`` lifts the address and scheme rules, for
tests and closed networks.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2048
# How long a lookup may take when the caller gives no limit (the connect timeout's default).
LOOKUP_SECONDS = 5.0
# Lookups run on threads of their own: a slow or hanging DNS server then ties up these few
# threads, not the default executor that the rest of the process (and the database driver)
# uses. A lookup that times out keeps its thread until the resolver gives up; the timeout
# only frees the caller.
_LOOKUPS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="carebook-dns")


class UnsafeUrl(ValueError):
    """The URL may not be sent to; the message is safe to show to the webhook's owner."""


def shape_problem(url: str, *, allow_private: bool) -> str | None:
    """What is wrong with the URL's form (no DNS), or None."""
    if not url or len(url) > MAX_URL_LENGTH:
        return f"must be a URL of at most {MAX_URL_LENGTH} characters"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "is not a valid URL"
    schemes = {"https", "http"} if allow_private else {"https"}
    if parts.scheme not in schemes:
        return "must be an https URL"
    if not parts.hostname or parts.username is not None or parts.password is not None:
        return "must name a host, without a user name or password"
    if port == 0 or any(c in url for c in " \t\r\n"):
        return "is not a valid URL"
    return None


# IPv6 prefixes whose low 32 bits are an IPv4 address the packet ends up at: NAT64 (RFC 6052,
# RFC 8215), IPv4-translated (RFC 2765) and the deprecated IPv4-compatible form. 6to4, Teredo
# and IPv4-mapped addresses embed theirs elsewhere (ipaddress unwraps them).
_EMBEDDING = [
    ipaddress.ip_network("64:ff9b::/96"),
    ipaddress.ip_network("64:ff9b:1::/48"),
    ipaddress.ip_network("::ffff:0:0:0/96"),
    ipaddress.ip_network("::/96"),
]
# Refused whatever this Python's ``is_global`` says of them (its tables changed between
# releases): shared address space, IETF protocol assignments, benchmarking, documentation.
_BLOCKED = [
    ipaddress.ip_network(n)
    for n in ("100.64.0.0/10", "192.0.0.0/24", "198.18.0.0/15", "192.0.2.0/24", "2001:db8::/32")
]


def _inner(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries to, if it carries one."""
    for carried in (ip.ipv4_mapped, ip.sixtofour, ip.teredo[1] if ip.teredo else None):
        if carried is not None:
            return carried
    if any(ip in network for network in _EMBEDDING):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public(address: str) -> bool:
    """Whether an IP address is a public unicast one: no loopback, private, link-local,
    multicast, reserved, shared or unspecified address, nor an IPv6 address that carries one
    (IPv4-mapped, IPv4-compatible, NAT64, 6to4, Teredo)."""
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(address)
    checked = [ip]
    if isinstance(ip, ipaddress.IPv6Address) and (inner := _inner(ip)) is not None:
        checked.append(inner)
    return all(
        one.is_global
        and not one.is_multicast
        and not any(one.version == n.version and one in n for n in _BLOCKED)
        for one in checked
    )


async def _lookup(host: str, port: int, seconds: float) -> list[str]:
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(seconds):
            infos = await loop.run_in_executor(
                _LOOKUPS, lambda: socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            )
    except TimeoutError as error:
        raise UnsafeUrl("host could not be resolved in time") from error
    except (OSError, UnicodeError) as error:
        raise UnsafeUrl("host could not be resolved") from error
    return sorted({str(info[4][0]) for info in infos})


async def resolve(url: str, *, allow_private: bool, seconds: float = LOOKUP_SECONDS) -> list[str]:
    """The addresses the URL's host resolves to, all of them allowed; or :class:`UnsafeUrl`
    (also when the lookup takes longer than ``seconds``)."""
    problem = shape_problem(url, allow_private=allow_private)
    if problem is not None:
        raise UnsafeUrl(problem)
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = await _lookup(host, port, seconds)
    if not addresses:
        raise UnsafeUrl("host could not be resolved")
    if not allow_private and not all(is_public(address) for address in addresses):
        raise UnsafeUrl("must resolve to public addresses only")
    return addresses
