"""The payment-provider interface, and the test provider Carebook ships with.

A real processor (Stripe, Adyen, ...) plugs in by implementing :class:`PaymentProvider` and
being installed with :func:`install` when the application starts (see docs/api.md). Carebook
never sees card numbers: the client tokenizes the card with the processor's own JS SDK and sends
``token``; ``stripe_idempotency_key`` (or the checkout's own key) is passed through so a retried
request is charged once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol


class PaymentDeclined(Exception):
    """The processor refused the charge; the message is safe to show the payer."""


@dataclass(frozen=True)
class Charge:
    """A successful charge: the processor's reference for it."""

    provider: str
    reference: str


class PaymentProvider(Protocol):
    """Charges a tokenized card."""

    name: str

    async def charge(
        self, *, amount_cents: int, currency: str, token: str, idempotency_key: str
    ) -> Charge:
        """Charge ``amount_cents``; raise :class:`PaymentDeclined` when refused."""
        ...


class TestPaymentProvider:
    """Accepts any token except those starting with ``tok_decline``. No network."""

    name = "test"

    def __init__(self) -> None:
        self.charges: dict[str, Charge] = {}

    async def charge(
        self, *, amount_cents: int, currency: str, token: str, idempotency_key: str
    ) -> Charge:
        if token.startswith("tok_decline"):
            raise PaymentDeclined("Your card was declined")
        if idempotency_key not in self.charges:
            self.charges[idempotency_key] = Charge(self.name, f"test_ch_{uuid.uuid4().hex[:16]}")
        return self.charges[idempotency_key]


_provider: PaymentProvider = TestPaymentProvider()


def install(provider: PaymentProvider) -> None:
    """Use ``provider`` for every checkout of this process."""
    global _provider
    _provider = provider


def current() -> PaymentProvider:
    """The installed payment provider."""
    return _provider
