"""The payment-provider interface, the test provider Carebook ships with, and the choice of one.

A real processor (Stripe, Adyen, ...) plugs in by implementing :class:`PaymentProvider` and being
named by ``CAREBOOK_PAYMENT_PROVIDER`` (``package.module:factory``, see docs/api.md); the app
builds it once with :func:`from_settings` and hands it to each request. With none configured, a
checkout with something to pay is refused (:data:`NOT_CONFIGURED`): the test provider, which
accepts any card, is used only where it is asked for by name (the tests, a demo). Carebook
never sees card numbers: the client tokenizes the card with the processor's own JS SDK and sends
``token``; ``stripe_idempotency_key`` (or the checkout's own key) is passed through so a retried
request is charged once.

Paying is two steps. The card is authorized before an anonymous checkout looks its email up, so a
declined card answers the same whoever has the email (issue 22); the authorization is captured
only when the checkout goes through, and released when it does not.
"""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, cast

from carebook.config import TEST_PAYMENT_PROVIDER, Settings

NOT_CONFIGURED = (
    "This practice can't take payments: no payment provider is configured on this server"
)


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

    __test__ = False  # a name pytest would otherwise try to collect as a test class
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


def from_settings(settings: Settings) -> PaymentProvider | None:
    """The provider ``CAREBOOK_PAYMENT_PROVIDER`` names; None when it names none.

    ``test`` is :class:`TestPaymentProvider`; ``package.module:factory`` is whatever
    ``factory(settings)`` returns (imported here, once, when the app is built, so a typo stops
    the server at start-up rather than at the first paid checkout).
    """
    name = settings.payment_provider
    if name is None:
        return None
    if name == TEST_PAYMENT_PROVIDER:
        return TestPaymentProvider()
    module, _, attribute = name.partition(":")
    factory = cast(
        Callable[[Settings], PaymentProvider], getattr(importlib.import_module(module), attribute)
    )
    return factory(settings)
