"""Audit rows cannot be changed or removed: not through the ORM, not with raw SQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.exc import DBAPIError

from carebook.audit.models import AppendOnlyError, AuditEvent
from carebook.audit.service import insert_events
from carebook.db.engine import Database
from tests.audit.events import stored

ROW = {
    "occurred_at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    "organization_id": 1,
    "actor_user_id": 2,
    "actor_role": "provider",
    "credential": "api_key",
    "operation": "user",
    "action": "read",
    "record_type": "User",
    "record_id": 3,
    "allowed": True,
    "client_address": "10.0.0.1",
    "request_id": "r1",
}


async def _one(database: Database) -> AuditEvent:
    async with database.write_sessions() as session, session.begin():
        await insert_events(session, [ROW])
    [event] = await stored(database)
    return event


async def test_orm_refuses_update_and_delete_of_a_loaded_row(database: Database) -> None:
    event_id = (await _one(database)).id
    async with database.write_sessions() as session:
        loaded = await session.get(AuditEvent, event_id)
        assert loaded is not None
        loaded.allowed = False
        with pytest.raises(AppendOnlyError):
            await session.flush()
        await session.rollback()
        loaded = await session.get(AuditEvent, event_id)
        assert loaded is not None
        await session.delete(loaded)
        with pytest.raises(AppendOnlyError):
            await session.flush()
    assert [(e.allowed, e.record_id) for e in await stored(database)] == [(True, 3)]


@pytest.mark.parametrize(
    "statement",
    [update(AuditEvent).values(allowed=False), delete(AuditEvent)],
    ids=["update", "delete"],
)
async def test_orm_refuses_bulk_statements(database: Database, statement: object) -> None:
    await _one(database)
    async with database.write_sessions() as session, session.begin():
        with pytest.raises(AppendOnlyError):
            await session.execute(statement)  # type: ignore[call-overload]
    assert len(await stored(database)) == 1


@pytest.mark.parametrize(
    "sql",
    ["UPDATE audit_events SET allowed = false", "DELETE FROM audit_events"],
    ids=["update", "delete"],
)
async def test_database_triggers_refuse_raw_sql(database: Database, sql: str) -> None:
    await _one(database)
    async with database.engine.connect() as connection:
        with pytest.raises(DBAPIError, match="append-only"):
            await connection.execute(text(sql))
        await connection.rollback()
    assert [(e.allowed, e.record_id) for e in await stored(database)] == [(True, 3)]
