"""Fan-out reads only the events still waiting, whatever the table holds (issue 28).

Events are kept for the retention period, so ``events`` holds months of dispatched rows and a
handful of waiting ones. With a (dispatched, id) index PostgreSQL's plan depended on its
statistics, and on some it walked the events from the oldest (154 ms a claim at 320,000
events); a partial index of the waiting events (migration 0041) is read alone, provided the
claim states its predicate (``dispatched = false``: neither database proves it from ``IS
false``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, update

from carebook.db.engine import Database
from carebook.db.many_rows import insert_mappings
from carebook.events.models import Event
from carebook.webhooks.fanout import claim_query, fan_out, waiting_query
from tests.support.db import statements_sent
from tests.support.plans import plan_nodes
from tests.support.world import World

EVENTS, STILL_WAITING = 2_000, 5
INDEX = "ix_events_undispatched"


async def _events_mostly_dispatched(database: Database, organization_id: int) -> list[int]:
    """EVENTS events, all but the newest STILL_WAITING dispatched, the planner's statistics
    taken; the ids of those still waiting."""
    now = datetime.now(UTC)
    rows = [
        {
            "organization_id": organization_id,
            "event_type": "patient.updated",
            "resource_type": "User",
            "resource_id": n,
            "changed_fields": "[]",
            "extra": "{}",
            "created_at": now,
            "dispatched": False,
        }
        for n in range(EVENTS)
    ]
    async with database.write_sessions() as session, session.begin():
        await session.run_sync(
            lambda sync: insert_mappings(sync.connection(), Event.__table__, rows)
        )
    async with database.write_sessions() as session, session.begin():
        ids = sorted((await session.execute(Event.__table__.select())).scalars())
        await session.execute(
            update(Event).where(Event.id < ids[-STILL_WAITING]).values(dispatched=True)
        )
    await _analyze(database)
    return ids[-STILL_WAITING:]


async def _analyze(database: Database) -> None:
    async with database.write_sessions() as session, session.begin():
        await (await session.connection()).exec_driver_sql("ANALYZE events")


def _sql(database: Database, query: Select[Any]) -> str:
    return str(
        query.compile(dialect=database.engine.dialect, compile_kwargs={"literal_binds": True})
    )


async def _plan(database: Database, query: Select[Any]) -> tuple[str, list[dict[str, Any]]]:
    """The plan's text (which indexes), and on PostgreSQL its executed nodes."""
    sql = _sql(database, query)
    async with database.write_sessions() as session, session.begin():
        connection = await session.connection()
        if database.engine.dialect.name != "postgresql":
            rows = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")
            return "\n".join(str(tuple(row)) for row in rows), []
        answer = await connection.exec_driver_sql(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
        nodes = plan_nodes(answer.scalar_one())
        return json.dumps(nodes), nodes


async def test_the_claim_and_the_look_read_only_the_waiting_events(
    database: Database, world: World
) -> None:
    await _events_mostly_dispatched(database, world.a.provider.organization_id)
    postgresql = database.engine.dialect.name == "postgresql"
    for query in (claim_query(500, postgresql=postgresql), waiting_query()):
        text, nodes = await _plan(database, query)
        assert INDEX in text, text
        # PostgreSQL ran it: no dispatched event was read and thrown away.
        assert all(node.get("Rows Removed by Filter", 0) == 0 for node in nodes), text


async def test_fan_out_claims_the_waiting_events_oldest_first(
    database: Database, world: World
) -> None:
    waiting = await _events_mostly_dispatched(database, world.a.provider.organization_id)
    with statements_sent(database) as sent:
        done = await fan_out(database, limit=STILL_WAITING - 2)
    assert done.events == STILL_WAITING - 2
    # The claim marked in one statement; on PostgreSQL its ids are one array (db/among.py: an
    # IN list of 500 was rendered parameter by parameter at every claim).
    (marked,) = [s for s in sent if s.startswith("UPDATE events")]
    if database.engine.dialect.name == "postgresql":
        assert "= ANY (" in marked and " IN (" not in marked
    async with database.read_sessions() as session:
        left = (await session.execute(waiting_query())).scalars().all()
    assert left == [waiting[-2]]
    assert (await fan_out(database)).events == 2
    async with database.read_sessions() as session:
        assert (await session.execute(waiting_query())).first() is None
