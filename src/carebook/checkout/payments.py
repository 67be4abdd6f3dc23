"""The payment-provider interface, and the test provider Carebook ships with.

A real processor (Stripe, Adyen, ...) plugs in by implementing :class:`PaymentProvider` and
being installed with :func:`install` when the application starts (see docs/api.md). Carebook
never sees card numbers: the client tokenizes the card with the processor's own JS SDK and sends
``token``; ``stripe_idempotency_key`` (or the checkout's own key) is passed through so a retried
request is charged once.

Paying is two steps. The card is authorized before an anonymous checkout looks its email up, so a
declined card answers the same whoever has the email (issue 22); the authorization is captured
only when the checkout goes through, and released when it does not.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol


class PaymentDeclined(Exception):
    """The processor refused the charge; the message is safe to show the payer."""


@dataclass(frozen=True)
class Authorization:
    """An amount the processor holds on a card until it is captured or released."""

    provider: str
    reference: str
    amount_cents: int
    currency: str


@dataclass(frozen=True)
class Charge:
    """A captured payment: the processor's reference for it."""

    provider: str
    reference: str


class PaymentProvider(Protocol):
    """Authorizes, captures and releases payments on tokenized cards."""

    name: str

    async def authorize(
        self, *, amount_cents: int, currency: str, token: str, idempotency_key: str
    ) -> Authorization:
        """Hold ``amount_cents`` on the card; raise :class:`PaymentDeclined` when refused.

        The same ``idempotency_key`` must give the same authorization (a retried request).
        """
        ...

    async def capture(self, authorization: Authorization) -> Charge:
        """Take the held amount; raise :class:`PaymentDeclined` when refused."""
        ...

    async def release(self, authorization: Authorization) -> None:
        """Give the held amount back: the checkout did not go through."""
        ...


class TestPaymentProvider:
    """Accepts any token except those starting with ``tok_decline``. No network."""

    name = "test"

    def __init__(self) -> None:
        self.authorizations: dict[str, Authorization] = {}
        self.charges: dict[str, Charge] = {}
        self.released: set[str] = set()

    async def authorize(
        self, *, amount_cents: int, currency: str, token: str, idempotency_key: str
    ) -> Authorization:
        if token.startswith("tok_decline"):
            raise PaymentDeclined("Your card was declined")
        if idempotency_key not in self.authorizations:
            reference = f"test_auth_{uuid.uuid4().hex[:16]}"
            held = Authorization(self.name, reference, amount_cents, currency)
            self.authorizations[idempotency_key] = held
        return self.authorizations[idempotency_key]

    async def capture(self, authorization: Authorization) -> Charge:
        if authorization.reference not in self.charges:
            charge = Charge(self.name, f"test_ch_{uuid.uuid4().hex[:16]}")
            self.charges[authorization.reference] = charge
        return self.charges[authorization.reference]

    async def release(self, authorization: Authorization) -> None:
        self.released.add(authorization.reference)


_provider: PaymentProvider = TestPaymentProvider()


def install(provider: PaymentProvider) -> None:
    """Use ``provider`` for every checkout of this process."""
    global _provider
    _provider = provider


def current() -> PaymentProvider:
    """The installed payment provider."""
    return _provider
