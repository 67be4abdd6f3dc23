"""The email rule's quick path answers exactly as email_validator does (users/validation.py).

Addresses of the plain shape skip the library's per-address work; these generated addresses,
plain and not (upper case, reserved and numeric domains, IDNA labels, hyphens in odd places,
mailbox names the library lower-cases, over-long ones), must get the same normalized address or
the same refusal either way.
"""

from __future__ import annotations

import random

from email_validator import EmailNotValidError, validate_email

from carebook.errors import Invalid
from carebook.users import validation as v

LOCAL = "abcXYZ019._-+!#$%&'*/=?^`{|}~"
DOMAINS = [
    "example.com", "Example.COM", "gmail.com", "mail.example.co.uk", "a.b", "x-y.org",
    "-bad.com", "bad-.com", "a..b.com", ".lead.com", "trail.com.", "localhost", "host.local",
    "site.test", "x.invalid", "10.0.0.1", "123.456", "xn--bcher-kva.de", "xn--zz.com",
    "ab--cd.com", "a" * 63 + ".com", "a" * 64 + ".com", "example.onion", "ex_ample.com",
    "example.arpa", "e.x.a.m.p.l.e.net", "EXAMPLE.org",
]  # fmt: skip
MAILBOXES = ["postmaster", "Abuse", "WEBMASTER", "info", "Info", "support"]


def _library(text: str) -> str | None:
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def _rule(text: str) -> str | None:
    try:
        return v.clean_email(text)
    except Invalid:
        return None


def _addresses(count: int) -> list[str]:
    rng = random.Random(23)
    found: list[str] = []
    for _ in range(count):
        local = "".join(rng.choice(LOCAL) for _ in range(rng.randint(0, 12)))
        if rng.random() < 0.1:
            local = rng.choice(MAILBOXES)
        if rng.random() < 0.02:
            local = "x" * rng.randint(60, 250)
        found.append(f"{local}@{rng.choice(DOMAINS)}")
    return found


def test_the_quick_path_agrees_with_email_validator() -> None:
    addresses = _addresses(20_000)
    assert sum(_library(a) is not None for a in addresses) > 5_000  # both kinds are tried
    assert sum(_library(a) is None for a in addresses) > 5_000
    for address in addresses:
        assert _rule(address) == _library(address.strip()), address


def test_addresses_outside_the_plain_shape_still_go_through_the_library() -> None:
    for address in ("José@example.com", '"quoted"@example.com', "Bob <bob@example.com>",
                    "bob@exämple.com", "bob@[127.0.0.1]", "two@@example.com"):  # fmt: skip
        assert _rule(address) == _library(address), address
