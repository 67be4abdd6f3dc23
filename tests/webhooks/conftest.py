"""The webhook tests' world: its own events (the patients it creates) already dispatched, to no
webhook, so each test's webhooks get only the events the test makes."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from carebook.db.engine import Database
from carebook.events.models import Event
from carebook.webhooks.fanout import UNDISPATCHED, fan_out
from tests.support.world import World


async def _undispatched(database: Database) -> bool:
    async with database.read_sessions() as session:
        query = select(Event.id).where(UNDISPATCHED).limit(1)
        return (await session.execute(query)).first() is not None


@pytest.fixture
async def world(world: World, database: Database) -> World:
    await fan_out(database)  # the world makes a handful: one batch
    assert not await _undispatched(database)
    return world
