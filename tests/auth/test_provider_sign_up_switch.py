"""CAREBOOK_PROVIDER_SIGN_UP: whether signUp may open a new practice (off by default in
production mode, where practices come from the CLI)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from tests.support.api import Api
from tests.support.auth_helpers import count_rows
from tests.support.seed_documents import SIGN_UP
from tests.support.world import World

from carebook.accounts.signup import PROVIDER_SIGN_UP_OFF
from carebook.app import create_app
from carebook.config import Settings
from carebook.db.engine import Database
from carebook.organizations.models import Organization

MakeApi = Callable[..., Awaitable[Api]]


def _provider(**extra: Any) -> dict[str, Any]:
    return {
        "first_name": "Pat",
        "last_name": "Practice",
        "email": "pat.practice@example.com",
        "password": "b@se3ball rocks",
        "role": "provider",
        **extra,
    }


@pytest.fixture
async def api_with(settings: Settings, database: Database) -> AsyncIterator[MakeApi]:
    """``await api_with(production=True)``: an anonymous Api of an app with those settings."""
    clients: list[httpx.AsyncClient] = []

    async def make(**overrides: Any) -> Api:
        # Production mode refuses to start with the default secret or the test card processor.
        overrides.setdefault("secret_key", "a-long-test-secret-that-is-not-the-default-1234")
        overrides.setdefault("payment_provider", None)
        app = create_app(settings.model_copy(update=overrides), database)
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://carebook.test"
        )
        clients.append(client)
        return Api(client)

    yield make
    for client in clients:
        await client.aclose()


async def test_production_refuses_provider_sign_up_by_default(
    api_with: MakeApi, world: World, database: Database
) -> None:
    api = await api_with(production=True)
    before = await count_rows(database, Organization)
    payload = (await api.data(SIGN_UP, _provider()))["signUp"]
    assert payload["user"] is None
    assert payload["messages"] == [{"field": "role", "message": PROVIDER_SIGN_UP_OFF}]
    assert await count_rows(database, Organization) == before
    # Patients still sign up with a practice's provider.
    patient = _provider(role="patient", dietitian_id=str(world.a.provider.user_id))
    assert (await api.data(SIGN_UP, patient))["signUp"]["messages"] is None


async def test_the_setting_overrides_either_way(
    api_with: MakeApi, world: World, database: Database
) -> None:
    off = await api_with(provider_sign_up=False)
    payload = (await off.data(SIGN_UP, _provider()))["signUp"]
    assert payload["messages"] == [{"field": "role", "message": PROVIDER_SIGN_UP_OFF}]
    on_in_production = await api_with(production=True, provider_sign_up=True)
    payload = (await on_in_production.data(SIGN_UP, _provider()))["signUp"]
    assert payload["messages"] is None and payload["user"]["id"]


def test_default_follows_production_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().provider_sign_up_enabled is True
    assert Settings(production=True).provider_sign_up_enabled is False
    monkeypatch.setenv("CAREBOOK_PROVIDER_SIGN_UP", "true")
    assert Settings(production=True).provider_sign_up_enabled is True
