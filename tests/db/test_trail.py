"""Read-event batches as one statement (carebook.db.trail), on each database's own path.

About the fast paths themselves: the module's databases are built with them on, whatever
CAREBOOK_TEST_FAST_PATHS says (the plain path is the rest of the suite's, with it off).
"""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import text
from tests.audit.events import stored
from tests.audit.test_append_only import ROW
from tests.support.db import statements_sent

from carebook.audit.models import AuditEvent
from carebook.audit.writer import AuditUnavailable, AuditWriter
from carebook.config import Settings
from carebook.db import paths, trail
from carebook.db.engine import Database, create_database

# Every nullable column empty, and a time given in another zone (stored as the same instant).
ANONYMOUS = {
    **ROW,
    "actor_user_id": None,
    "actor_role": None,
    "credential": None,
    "client_address": None,
    "record_id": None,
    "allowed": False,
    "occurred_at": datetime(2026, 5, 6, 9, 8, 7, 654321, tzinfo=timezone(timedelta(hours=2))),
}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The test database's settings with the fast paths on (they are what is tested here)."""
    return settings.model_copy(update={"fast_paths": True})


# Every column of the trail but the id, which the database assigns.
COLUMNS = tuple(c.name for c in AuditEvent.__table__.columns if not c.primary_key)


def _as_stored(row: dict[str, object]) -> dict[str, object]:
    return {name: row[name] for name in COLUMNS}


async def test_a_batch_is_stored_exactly_as_submitted(database: Database) -> None:
    writer = AuditWriter(database)
    rows = [ROW, ANONYMOUS, {**ROW, "record_id": 7, "request_id": "r" * 64}]
    with statements_sent(database) as statements:
        waiter = writer.submit(rows, wait=True)
        assert waiter is not None
        await waiter
    # One INSERT for the whole batch, whatever its size, seen by the engines' events.
    assert sum("INSERT INTO audit_events" in s for s in statements) == 1
    found = [{name: getattr(e, name) for name in COLUMNS} for e in await stored(database)]
    assert found == [_as_stored(row) for row in rows]
    assert found[1]["occurred_at"] == datetime(2026, 5, 6, 7, 8, 7, 654321, tzinfo=UTC)


@pytest.mark.parametrize(
    ("rows", "arrays"),
    [
        ([ROW], False),
        ([ANONYMOUS], False),
        ([ROW, ANONYMOUS] * (trail.VALUES_ROWS // 2), False),
        ([ROW, ANONYMOUS] * (trail.VALUES_ROWS // 2) + [ROW], True),
    ],
    ids=["one row", "one with nulls and another zone", "the most as values", "one more"],
)
async def test_a_batch_goes_as_values_or_as_arrays_by_its_size(
    database: Database, rows: list[dict[str, Any]], arrays: bool
) -> None:
    """PostgreSQL: a batch of a few rows (a read's own, a page's) as one parameter per value, a
    larger one as arrays to unnest; stored the same either way, in one statement (SQLite's is
    one row's, executed for each)."""
    writer = AuditWriter(database)
    with statements_sent(database) as statements:
        waiter = writer.submit(rows, wait=True)
        assert waiter is not None
        await waiter
    [sent] = [s for s in statements if "INSERT INTO audit_events" in s]
    assert ("unnest" in sent) == (arrays and database.engine.dialect.name == "postgresql")
    found = [{name: getattr(e, name) for name in COLUMNS} for e in await stored(database)]
    assert found == [_as_stored(row) for row in rows]


@pytest.mark.parametrize("others", [0, 1], ids=["alone", "with another row"])
async def test_a_naive_time_fails_the_batch_and_stores_nothing(
    database: Database, others: int
) -> None:
    writer = AuditWriter(database)
    waiter = writer.submit(
        [ROW] * others + [{**ROW, "occurred_at": datetime(2026, 1, 1)}], wait=True
    )
    with pytest.raises(AuditUnavailable):
        await waiter  # type: ignore[misc]
    assert await stored(database) == []


async def test_read_batches_commit_with_their_own_durability(settings: Settings) -> None:
    """PostgreSQL: the trail's connections use their synchronous_commit, others keep theirs."""
    database = create_database(
        settings.model_copy(update={"audit_postgres_synchronous_commit": "off"})
    )
    try:
        if settings.is_sqlite:
            # A SQLite file has its own audit engine instead (test_sqlite_connections.py).
            assert database.paths.postgres_trail is None
            return
        assert database.paths.postgres_trail is not None
        driver = await database.paths.postgres_trail.driver("SHOW synchronous_commit")
        audit = await driver.fetchval("SHOW synchronous_commit")
        async with database.write_sessions() as session:
            write = (await session.execute(text("SHOW synchronous_commit"))).scalar_one()
    finally:
        await database.dispose()
    assert (audit, write) == ("off", "on")


@pytest.mark.only_on(
    "postgresql", reason="SQLite's trail connection is a file's, no server to lose"
)
async def test_a_batch_after_a_server_restart_goes_on_a_fresh_connection(
    database: Database,
) -> None:
    """PostgreSQL: the trail's held connection, closed by the server, is replaced before use."""
    assert database.paths is not None
    trail = database.paths.postgres_trail
    assert trail is not None
    writer = AuditWriter(database)
    first = writer.submit([ROW], wait=True)
    assert first is not None
    await first
    driver = await trail.driver("SELECT pg_backend_pid()")
    pid = await driver.fetchval("SELECT pg_backend_pid()")
    async with database.engine.connect() as admin:  # as a server restart would
        await admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    for _ in range(500):  # the server closes the socket; asyncpg notices on its next read
        if driver.is_closed():
            break
        await asyncio.sleep(0.01)
    assert driver.is_closed()
    second = writer.submit([{**ROW, "record_id": 8}], wait=True)
    assert second is not None
    await second  # no AuditUnavailable: the batch went on a fresh connection
    assert [e.record_id for e in await stored(database)] == [ROW["record_id"], 8]


@pytest.mark.only_on(
    "sqlite", reason="PostgreSQL's batches are one awaited statement, never on a thread"
)
async def test_sqlite_writes_small_batches_on_the_loop_and_large_ones_on_a_thread(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[int] = []
    original = trail.insert_sqlite

    def recording(statements: Any, statement: Any, rows: Any) -> None:
        threads.append(threading.get_ident())
        original(statements, statement, rows)

    monkeypatch.setattr(paths, "insert_sqlite", recording)
    writer = AuditWriter(database)
    for size in (1, paths.INLINE_ROWS, paths.INLINE_ROWS + 1):
        waiter = writer.submit([{**ROW, "record_id": i} for i in range(size)], wait=True)
        await waiter  # type: ignore[misc]
    loop = threading.get_ident()
    assert [thread == loop for thread in threads] == [True, True, False]
    assert len(await stored(database)) == 1 + paths.INLINE_ROWS + paths.INLINE_ROWS + 1


@pytest.mark.parametrize("count", [1, trail.VALUES_ROWS + 1], ids=["as values", "as arrays"])
async def test_a_text_longer_than_its_column_is_cut_short_not_refused(
    database: Database, count: int
) -> None:
    """A read's operation can be an alias the client chose: on PostgreSQL a text longer than
    its column is cut to the column's length (as the arrays' cast always did), never a failed
    batch that would leave every read waiting on it without data. SQLite keeps it whole."""
    long = {**ROW, "operation": "o" * 150}
    writer = AuditWriter(database)
    waiter = writer.submit([long] * count, wait=True)
    assert waiter is not None
    await waiter
    kept = 100 if database.engine.dialect.name == "postgresql" else 150
    assert [e.operation for e in await stored(database)] == ["o" * kept] * count
