"""Apps configured with low limits, sharing the test database."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from tests.support.api import Api

from carebook.app import create_app
from carebook.config import Settings
from carebook.db.engine import Database

MakeApi = Callable[..., Awaitable[Api]]


@pytest.fixture
async def api_with(settings: Settings, database: Database) -> AsyncIterator[MakeApi]:
    """``await api_with(max_query_depth=3)``: an anonymous Api of an app with those settings."""
    async with contextlib.AsyncExitStack() as stack:

        async def make(**overrides: Any) -> Api:
            app = create_app(settings.model_copy(update=overrides), database)
            transport = httpx.ASGITransport(app=app)
            client = httpx.AsyncClient(transport=transport, base_url="http://carebook.test")
            return Api(await stack.enter_async_context(client))

        yield make
