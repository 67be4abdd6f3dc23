"""The world restored from a snapshot is as young as a world just built (tests/support/world.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from tests.conftest import _empty_tables
from tests.support.world import build_world, restore_world, snapshot_world

from carebook.auth.models import SessionToken
from carebook.auth.passwords import Passwords
from carebook.db.base import utcnow
from carebook.db.engine import Database
from carebook.tables import data_tables
from carebook.users.credentials import actor_from_session_token


async def test_an_aged_snapshot_is_restored_with_fresh_times(
    database: Database, passwords: Passwords
) -> None:
    tables = data_tables()
    world = await build_world(database, passwords)
    snapshot = await snapshot_world(database, world, tables)
    # The snapshot of a build two hours ago: its rows and its moment moved back.
    age = timedelta(hours=2)
    snapshot.taken_at -= age
    snapshot.rows = [
        (
            table,
            [{k: v - age if isinstance(v, datetime) else v for k, v in r.items()} for r in rows],
        )
        for table, rows in snapshot.rows
    ]
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
