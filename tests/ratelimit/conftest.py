"""Apps configured with low rate limits, sharing the test database; a clock the tests move."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from carebook.app import create_app
from carebook.config import Settings
from carebook.db.engine import Database, create_database
from carebook.ratelimit import service

MakeClient = Callable[..., Awaitable[httpx.AsyncClient]]
# Every limit off: each test turns on the ones it is about.
OFF = {
    "sign_in_account_limit": 0,
    "sign_in_address_limit": 0,
    "sign_up_address_limit": 0,
    "checkout_address_limit": 0,
    "enrollment_email_limit": 0,
    "enrollment_target_limit": 0,
    "reset_password_address_limit": 0,
    "reset_password_email_limit": 0,
    "reset_token_check_address_limit": 0,
}


class Clock:
    """Epoch seconds as the rate limiter sees them."""

    def __init__(self) -> None:
        self.now = 1_800_000_000  # the start of a window of every length used here

    def advance(self, seconds: int) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """A fixed clock for the rate limiter, moved only by the test."""
    fixed = Clock()
    monkeypatch.setattr(service, "now_seconds", lambda: fixed.now)
    return fixed


@pytest.fixture
async def client_with(
    settings: Settings, database: Database, clock: Clock
) -> AsyncIterator[MakeClient]:
    """``await client_with(address="10.0.0.2", own_engine=True, **settings)``: an HTTP client.

    ``own_engine`` gives the app its own connection pool, as a second server process has.
    The limiter's clock is the test's ``clock``, still unless the test moves it: on the real
    clock a test's hits could straddle the end of a fixed window and be counted in two (one
    anonymous checkout went through that should have been refused, a loaded CI run).
    """
    async with contextlib.AsyncExitStack() as stack:

        async def make(
            address: str = "127.0.0.1", own_engine: bool = False, **overrides: Any
        ) -> httpx.AsyncClient:
            configured = settings.model_copy(update={**OFF, **overrides})
            db = database
            if own_engine:
                db = create_database(configured)
                stack.push_async_callback(db.dispose)
            app = create_app(configured, db)
            transport = httpx.ASGITransport(app=app, client=(address, 40000))
            client = httpx.AsyncClient(transport=transport, base_url="http://carebook.test")
            return await stack.enter_async_context(client)

        yield make
