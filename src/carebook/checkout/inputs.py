"""Typed input of completeCheckout (scheme: carebook.graphql.inputs).

``None`` is a field the caller did not give. Only the fields Carebook applies are here; the
other fields of Healthie's input are accepted by the GraphQL layer and dropped.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckoutRequest:
    """What to book and/or buy, from whom, and (unauthenticated) for which new patient.

    ``stripe_idempotency_key`` names the card authorization: the caller sets one per checkout,
    so a transaction re-run after a lost race does not charge the card twice.
    """

    provider_id: str | int | None = None
    appointment_type_id: str | int | None = None
    offering_id: str | int | None = None
    date: str | None = None
    timezone: str | None = None
    contact_type: str | None = None
    reason: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    legal_name: str | None = None
    phone_number: str | None = None
    token: str | None = None
    stripe_idempotency_key: str | None = None
