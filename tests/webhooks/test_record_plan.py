"""Recording a batch of successes finds its deliveries by primary key, whatever the table holds.

Deliveries are kept for months, so ``webhook_deliveries`` grows to millions of rows; the UPDATE
that marks a batch delivered runs with SQLite's write lock held. SQLite plans ``(id, attempts)
IN (VALUES ...)`` on its own as a scan of the whole table, so the statement also names the ids.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event

from carebook.config import Settings
from carebook.db.engine import Database
from carebook.webhooks.attempts import Attempt, record_attempts
from carebook.webhooks.delivery import claim_many, lease_for, load_many
from carebook.webhooks.fanout import fan_out
from carebook.webhooks.requests import Prepared
from carebook.webhooks.sender import Outcome
from tests.support.world import World
from tests.webhooks.helpers import add_event, add_webhook, deliveries


@pytest.fixture
def hook_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"webhook_allow_private_urls": True})


async def _recorded_update(database: Database, settings: Settings, org: int) -> tuple[str, Any]:
    """Record two successful attempts; the UPDATE of webhook_deliveries they sent, with its
    parameters as the driver got them."""
    await add_webhook(database, settings, organization_id=org, url="http://127.0.0.1:9/hook")
    for resource in (1, 2):
        await add_event(database, organization_id=org, resource_id=resource)
    await fan_out(database)
    ids = [delivery.id for delivery in await deliveries(database)]
    claimed = await claim_many(database, ids, lease_for(settings))
    loaded = await load_many(database, settings, claimed)
    batch = []
    for delivery_id, request in loaded.items():
        assert isinstance(request, Prepared)
        batch.append(Attempt(delivery_id, claimed[delivery_id], request, Outcome(200)))
    sent: list[tuple[str, Any]] = []

    def seen(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE WEBHOOK_DELIVERIES"):
            sent.append((statement, parameters))

    event.listen(database.engine.sync_engine, "before_cursor_execute", seen)
    try:
        await record_attempts(database, settings, batch)
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", seen)
    (update,) = sent
    return update


@pytest.mark.only_on("sqlite", reason="SQLite's planner is the one that scanned")
async def test_a_batch_of_successes_finds_its_deliveries_by_primary_key(
    database: Database, hook_settings: Settings, world: World
) -> None:
    statement, parameters = await _recorded_update(
        database, hook_settings, world.a.provider.organization_id
    )
    async with database.read_sessions() as session:
        connection = await session.connection()
        rows = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        plan = "\n".join(str(tuple(row)) for row in rows)
    assert "USING INTEGER PRIMARY KEY" in plan, plan
    assert "SCAN webhook_deliveries" not in plan, plan
