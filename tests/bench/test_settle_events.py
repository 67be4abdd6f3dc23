"""bench.generate.settle_events: the events a run left waiting for the webhook fan-out are
marked as the fan-out marks them while no webhook is enabled, and left alone when one is (a
probe after four bulkUpdateClients probes measured its server working through 143,670 of them).
"""

from __future__ import annotations

from bench.generate import settle_events
from sqlalchemy import func, select, update
from tests.support.world import World
from tests.webhooks.helpers import add_event, add_webhook

from carebook.config import Settings
from carebook.db.engine import Database
from carebook.events.models import Event, Webhook


async def _last_event_id(database: Database) -> int:
    async with database.read_sessions() as session:
        return int(await session.scalar(select(func.max(Event.id))) or 0)


async def _waiting(database: Database, ids: list[int]) -> int:
    async with database.read_sessions() as session:
        query = select(func.count()).where(Event.id.in_(ids), Event.dispatched.is_(False))
        return int(await session.scalar(query) or 0)


async def test_waiting_events_settle_only_while_no_webhook_is_enabled(
    database: Database, settings: Settings, world: World, database_url: str
) -> None:
    organization = world.a.provider.organization_id
    before = await _last_event_id(database)
    webhook_id, _ = await add_webhook(
        database, settings, organization_id=organization, url="http://127.0.0.1:9/hook"
    )
    ids = [await add_event(database, organization_id=organization) for _ in range(3)]
    logged: list[str] = []

    # A webhook is enabled: its fan-out must see them.
    assert await settle_events(database_url, before, log=logged.append) == 3
    assert await _waiting(database, ids) == 3 and "3 events wait" in logged[0]

    async with database.write_sessions() as session, session.begin():
        await session.execute(
            update(Webhook).where(Webhook.id == webhook_id).values(is_enabled=False)
        )
    assert await settle_events(database_url, before, log=logged.append) == 0
    assert await _waiting(database, ids) == 0
    # Only those newer than ``after``: the event at the boundary itself stays as it was.
    boundary = await add_event(database, organization_id=organization)
    assert await settle_events(database_url, boundary, log=logged.append) == 0
    assert await _waiting(database, [boundary]) == 1
