"""Fixtures of the duplicate detection tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from carebook.app import create_app
from carebook.config import Settings
from carebook.db.engine import Database
from tests.support.api import Api


@pytest.fixture
async def blocking(settings: Settings, database: Database) -> AsyncIterator[Api]:
    """An app with CAREBOOK_DUPLICATES_BLOCK_STRONG on."""
    app = create_app(settings.model_copy(update={"duplicates_block_strong": True}), database)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://carebook.test") as http:
        yield Api(http)
