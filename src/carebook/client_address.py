"""The caller's network address, and which reverse proxies may rewrite it.

The address is the peer of the TCP connection, as the ASGI server reports it in
``request.client``. Forwarding headers (``X-Forwarded-For``, ``X-Real-IP``, ``Forwarded``) are
set by whoever sends the request, so they are believed only when the connection comes from a
proxy the operator listed in ``CAREBOOK_TRUSTED_PROXIES``: ``carebook serve`` hands that list
to uvicorn's proxy-headers middleware, which rewrites ``request.client`` before the app runs.
Nothing else in Carebook reads those headers (``tests/security/test_trusted_proxies.py``).
"""

from __future__ import annotations

import ipaddress
from typing import Any


def trusted_proxy_list(value: str) -> list[str]:
    """The comma-separated IPs and CIDR networks of ``value`` (``CAREBOOK_TRUSTED_PROXIES``);
    ValueError names a bad entry.

    ``*`` (uvicorn's "trust everyone") is refused: any client could then forge its address; so
    are the networks of every address, ``0.0.0.0/0`` and ``::/0`` (any prefix of length 0).
    """
    entries = [entry.strip() for entry in value.split(",") if entry.strip()]
    for entry in entries:
        try:
            network = ipaddress.ip_network(entry, strict=False)
        except ValueError as error:
            raise ValueError(f"not an IP address or network: {entry!r}") from error
        if network.prefixlen == 0:
            raise ValueError(f"trusts every address, as '*' would: {entry!r}")
    return entries


def uvicorn_proxy_options(trusted_proxies: str) -> dict[str, Any]:
    """uvicorn's options that trust exactly these proxies: none at all when the list is empty.

    uvicorn's own default trusts X-Forwarded-For from 127.0.0.1 (or ``FORWARDED_ALLOW_IPS``),
    so both options are always given explicitly.
    """
    proxies = trusted_proxy_list(trusted_proxies)
    if not proxies:
        return {"proxy_headers": False, "forwarded_allow_ips": ""}
    return {"proxy_headers": True, "forwarded_allow_ips": ",".join(proxies)}


def client_address(request: Any) -> str | None:
    """The address the audit trail records for this request (in full), if known."""
    client = getattr(request, "client", None)
    return str(client.host) if client is not None and client.host else None


# One IPv6 subscriber usually holds a whole /64 (SLAAC, privacy addresses): keying a limit on
# the full address would give such a client 2**64 fresh counts.
IPV6_LIMIT_PREFIX = 64


def rate_limit_subject(address: str) -> str:
    """What per-address limits count ``address`` as: an IPv4 address, or an IPv6 /64 network.

    An IPv4-mapped IPv6 address (``::ffff:192.0.2.1``) counts as its IPv4 address; a value that
    is not an IP address (``"unknown"``, a test client's name) is counted as it is.
    """
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, IPV6_LIMIT_PREFIX), strict=False))
    return str(ip)
