"""A completeCheckout that is re-run after a lost race charges the card once."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError
from tests.support.api import Api
from tests.support.db import count
from tests.support.scheduling import checkout, create_offering
from tests.support.world import World

from carebook.checkout import service as checkout_service
from carebook.checkout.payments import TestPaymentProvider
from carebook.db.engine import Database
from carebook.scheduling.models import BillingItem


async def test_the_re_run_after_the_charge_reuses_the_payment_key(
    api: Api,
    world: World,
    database: Database,
    payment_provider: TestPaymentProvider,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    provider = payment_provider
    notify = checkout_service.notify_providers
    calls: list[int] = []

    async def lose_the_first_race(*args: Any, **kwargs: Any) -> None:
        # Runs after the card was charged: the first try fails as a unique-index race would.
        calls.append(1)
        if len(calls) == 1:
            raise IntegrityError("INSERT ...", {}, Exception("UNIQUE constraint failed: t.c"))
        await notify(*args, **kwargs)

    monkeypatch.setattr(checkout_service, "notify_providers", lose_the_first_race)
    offering_id = await create_offering(api.with_key(world.a.provider.api_key), price="120")
    paid = await checkout(
        api,
        offering_id=offering_id,
        provider_id=str(world.a.provider.user_id),
        email="once@example.com",
        first_name="Charged",
        last_name="Once",
        token="tok_visa",
    )
    assert paid["messages"] is None
    assert len(calls) == 2  # the write ran twice
    assert len(provider.charges) == 1  # the processor saw one idempotency key: one charge
    assert await count(database, BillingItem) == 1
