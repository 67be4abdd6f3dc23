"""The world restored from a snapshot is as young as a world just built (tests/support/world.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, text
from tests.conftest import _empty_tables
from tests.support.world import build_world, restore_world, snapshot_world

from carebook.auth.models import SessionToken
from carebook.auth.passwords import Passwords
from carebook.db.base import utcnow
from carebook.db.engine import Database
from carebook.tables import data_tables
from carebook.users.credentials import actor_from_session_token
from carebook.users.models import User


async def test_an_aged_snapshot_is_restored_with_fresh_times(
    database: Database, passwords: Passwords
) -> None:
    tables = data_tables()
    world = await build_world(database, passwords)
    snapshot = await snapshot_world(database, world, tables)
    # The snapshot of a build two hours ago: its rows and its moment moved back.
    snapshot.age_by(timedelta(hours=2))
    await _empty_tables(database)
    started = utcnow()
    restored = await restore_world(database, snapshot, tables)
    assert restored is not None

    async with database.read_sessions() as session:
        expires = (await session.execute(select(SessionToken.expires_at))).scalars().all()
        assert expires and all(e > started + timedelta(minutes=50) for e in expires)
        assert await actor_from_session_token(session, restored.a.patient_token) is not None
        connection = await session.connection()
        times = [
            (f"{table.name}.{name}", value)
            for table, _ in snapshot.rows
            for row in (await connection.execute(select(table))).mappings()
            for name, value in row.items()
            if isinstance(value, datetime) and name != "expires_at"  # ahead of now, seen above
        ]
    now = utcnow()
    assert times
    assert [(n, t) for n, t in times if not started - timedelta(minutes=10) < t <= now] == []


async def test_a_snapshot_is_not_restored_over_rows_or_used_sequences(
    database: Database, passwords: Passwords
) -> None:
    tables = data_tables()
    world = await build_world(database, passwords)
    snapshot = await snapshot_world(database, world, tables)
    async with database.read_sessions() as session:
        before = await session.execute(select(func.count()).select_from(User))
    # The world's rows still there: restoring them again would double them.
    assert await restore_world(database, snapshot, tables) is None
    async with database.read_sessions() as session:
        after = await session.execute(select(func.count()).select_from(User))
    assert after.scalar_one() == before.scalar_one()
    # Every table emptied but a sequence used since (PostgreSQL; SQLite has none): the ids the
    # snapshot holds would not be the next ones handed out.
    await _empty_tables(database)
    if database.engine.dialect.name == "postgresql":
        async with database.write_sessions() as session, session.begin():
            await session.execute(text("SELECT nextval(pg_get_serial_sequence('users', 'id'))"))
        assert await restore_world(database, snapshot, tables) is None
        await _empty_tables(database)
    assert await restore_world(database, snapshot, tables) is not None
