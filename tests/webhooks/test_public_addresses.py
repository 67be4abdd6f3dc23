"""The SSRF guard's address rule: only public unicast addresses, in every spelling.

An IPv6 address can carry an IPv4 one that the network delivers to (NAT64 gateways, 6to4,
Teredo, the mapped, translated and compatible forms): a webhook URL resolving to
``64:ff9b::a9fe:a9fe`` reaches the cloud metadata service at 169.254.169.254 on a NAT64 network.
"""

from __future__ import annotations

import pytest

from carebook.webhooks.urls import is_public

REFUSED = [
    "127.0.0.1",
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",  # shared address space (carrier-grade NAT)
    "192.0.0.8",  # IETF protocol assignments: some Pythons call it global
    "198.18.0.1",
    "0.0.0.0",  # noqa: S104  (an address refused, not bound)
    "224.0.0.1",
    "::",
    "::1",
    "fe80::1",
    "fc00::1",
    "ff02::1",
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:0:7f00:1",  # IPv4-translated
    "::7f00:1",  # IPv4-compatible
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "64:ff9b:1::a00:1",  # local-use NAT64 of 10.0.0.1
    "2002:a9fe:a9fe::",  # 6to4 of 169.254.169.254
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo of a documentation address
    "2001:db8::1",
]
ALLOWED = ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "64:ff9b::808:808"]


@pytest.mark.parametrize("address", REFUSED)
def test_private_and_carried_private_addresses_are_refused(address: str) -> None:
    assert not is_public(address)


@pytest.mark.parametrize("address", ALLOWED)
def test_public_addresses_pass(address: str) -> None:
    assert is_public(address)
