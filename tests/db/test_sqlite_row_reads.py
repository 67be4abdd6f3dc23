"""Single-row reads on SQLite's held connection (carebook.db.sqlite_reads).

They must answer exactly what the ORM session answers (same visibility, same values and types),
see every commit made before them, never write, recover from a failed statement, and be what
``user(id)`` uses on a SQLite file.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, inspect, text, update
from sqlalchemy.exc import OperationalError
from tests.support.api import Api
from tests.support.world import World

from carebook.auth.actor import Actor
from carebook.auth.service import actor_from_api_key
from carebook.db.engine import Database
from carebook.db.sqlite_reads import SQLiteRowReads
from carebook.users import queries
from carebook.users.models import User


async def _actor(database: Database, key: str) -> Actor:
    async with database.read_sessions() as session:
        actor = await actor_from_api_key(session, key)
    assert actor is not None
    return actor


def _reads(database: Database, backend: str) -> SQLiteRowReads:
    if backend != "sqlite":
        assert database.row_reads is None  # PostgreSQL reads through its sessions only
        pytest.skip("held single-row reads exist on SQLite files only")
    assert database.row_reads is not None
    return database.row_reads


def _columns(user: User) -> dict[str, Any]:
    return {prop.key: getattr(user, prop.key) for prop in inspect(User).column_attrs}


async def test_the_held_read_answers_what_the_session_answers(
    database: Database, backend: str, world: World
) -> None:
    reads = _reads(database, backend)
    actor = await _actor(database, world.a.provider.api_key)
    for user_id in (world.a.patient_id, world.a.provider.user_id, world.b.patient_id, 10**9):
        async with database.read_sessions() as session:
            expected, expected_unseen = await queries.get_visible_user_and_unseen(
                session, actor, user_id
            )
        got, unseen = queries.visible_user_and_unseen_now(reads, actor, user_id)
        assert unseen == expected_unseen
        if expected is None:  # another organization's patient, or nobody
            assert got is None
            continue
        assert got is not None
        assert _columns(got) == _columns(expected)
        assert [type(v) for v in _columns(got).values()] == [
            type(v) for v in _columns(expected).values()
        ]
        state = inspect(got)
        assert state.detached and state.identity == (user_id,)


async def test_the_held_read_sees_each_commit_before_it(
    database: Database, backend: str, world: World
) -> None:
    reads = _reads(database, backend)
    actor = await _actor(database, world.a.provider.api_key)
    before, _ = queries.visible_user_and_unseen_now(reads, actor, world.a.patient_id)
    assert before is not None
    async with database.write_sessions() as session, session.begin():
        await session.execute(
            update(User).where(User.id == world.a.patient_id).values(first_name="Renamed")
        )
    after, _ = queries.visible_user_and_unseen_now(reads, actor, world.a.patient_id)
    assert after is not None and after.first_name == "Renamed" != before.first_name


async def test_the_held_connection_cannot_write_and_survives_a_failed_statement(
    database: Database, backend: str, world: World
) -> None:
    reads = _reads(database, backend)
    with pytest.raises(OperationalError, match="readonly"):
        reads.first(text("UPDATE users SET first_name = 'x'"), {})
    with pytest.raises(OperationalError, match="no such table"):
        reads.first(text("SELECT * FROM no_such_table"), {})
    row = reads.first(
        text("SELECT first_name FROM users WHERE id = :id"), {"id": world.a.patient_id}
    )
    assert row is not None and row.first_name != "x"


async def test_user_by_id_reads_through_the_held_connection(
    api: Api, database: Database, backend: str, world: World
) -> None:
    reads = _reads(database, backend)
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(reads.engine, "before_cursor_execute", record)
    try:
        data = await api.with_key(world.a.provider.api_key).data(
            "query($id: ID) { user(id: $id) { id first_name } }", {"id": str(world.a.patient_id)}
        )
    finally:
        event.remove(reads.engine, "before_cursor_execute", record)
    assert data["user"]["id"] == str(world.a.patient_id)
    assert len([s for s in seen if "FROM users" in s]) == 1
