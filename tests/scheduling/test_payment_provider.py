"""The payment provider comes from the settings, and none is configured unless one is named.

The test provider accepts any card: a server that has not named a processor must refuse a paid
checkout with a clear message, never charge through it.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError
from tests.support.api import Api
from tests.support.db import count
from tests.support.scheduling import checkout, create_offering
from tests.support.world import World

from carebook.app import create_app
from carebook.checkout.payments import NOT_CONFIGURED, TestPaymentProvider, from_settings
from carebook.config import Settings
from carebook.db.engine import Database
from carebook.scheduling.models import BillingItem
from carebook.startup import UnsafeSettings
from carebook.users.models import User

ENV = "CAREBOOK_PAYMENT_PROVIDER"
built_with: list[Settings] = []


def named_factory(settings: Settings) -> TestPaymentProvider:
    """A processor factory as CAREBOOK_PAYMENT_PROVIDER names one (package.module:factory)."""
    built_with.append(settings)
    return TestPaymentProvider()


@pytest.fixture
async def unconfigured(settings: Settings, database: Database) -> AsyncIterator[Api]:
    """An app whose settings name no payment provider, as a server's do by default."""
    app = create_app(settings.model_copy(update={"payment_provider": None}), database)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://carebook.test") as http:
        yield Api(http)


def _buyer(world: World, offering_id: str, email: str) -> dict[str, str]:
    return {
        "offering_id": offering_id,
        "provider_id": str(world.a.provider.user_id),
        "email": email,
        "first_name": "Bea",
        "last_name": "Buyer",
        "token": "tok_visa",
    }


async def test_without_a_provider_a_paid_checkout_is_refused_and_a_free_one_goes_through(
    unconfigured: Api, world: World, database: Database
) -> None:
    staff = unconfigured.with_key(world.a.provider.api_key)
    paid_id = await create_offering(staff, price="300")
    free_id = await create_offering(staff, price="0")
    users_before = await count(database, User)
    refused = await checkout(unconfigured, **_buyer(world, paid_id, "paid@example.com"))
    assert refused["messages"] == [{"field": None, "message": NOT_CONFIGURED}]
    assert await count(database, BillingItem) == 0
    assert await count(database, User) == users_before
    free = await checkout(unconfigured, **_buyer(world, free_id, "free@example.com"))
    assert free["messages"] is None
    assert free["billingItem"]["amount_paid"] == "0.00"


def test_no_provider_is_configured_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    assert Settings().payment_provider is None
    assert from_settings(Settings()) is None
    monkeypatch.setenv(ENV, "  ")
    assert from_settings(Settings()) is None


def test_the_test_provider_only_when_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, "test")
    assert isinstance(from_settings(Settings()), TestPaymentProvider)


def test_a_named_factory_is_called_with_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, f"{__name__}:named_factory")
    settings = Settings()
    assert isinstance(from_settings(settings), TestPaymentProvider)
    assert built_with[-1] is settings


@pytest.mark.parametrize("name", ["stripe", "a b:c", "module:", ":factory"])
def test_a_malformed_provider_name_is_refused(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, name)
    with pytest.raises(ValidationError, match=r"package\.module:factory"):
        Settings()


def test_production_refuses_the_test_provider(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'pay.db'}"
    real = {"database_url": url, "production": True, "secret_key": secrets.token_urlsafe(32)}
    with pytest.raises(UnsafeSettings, match="accepts any card"):
        create_app(Settings(**real, payment_provider="test"))
    create_app(Settings(**real))  # no provider: starts, and refuses paid checkouts
