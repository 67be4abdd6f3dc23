"""Single-row reads on the connection each process holds (carebook.db.row_reads).

On both databases they must answer exactly what the ORM session answers (same visibility, same
values and types), see every commit made before them, never write, recover from a failed
statement, and be what ``user(id)`` uses.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from sqlalchemy import bindparam, event, func, inspect, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm.exc import DetachedInstanceError
from tests.support.api import Api
from tests.support.world import World

from carebook.auth.actor import Actor
from carebook.config import Settings
from carebook.db import rows
from carebook.db.engine import Database
from carebook.db.prepared import Prepared
from carebook.db.row_reads import RowReads
from carebook.users import queries
from carebook.users.credentials import actor_from_api_key
from carebook.users.models import User


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The test database's settings with the fast paths on: they are what is tested here,
    whatever CAREBOOK_TEST_FAST_PATHS says."""
    return settings.model_copy(update={"fast_paths": True})


async def _actor(database: Database, key: str) -> Actor:
    async with database.read_sessions() as session:
        actor = await actor_from_api_key(session, key)
    assert actor is not None
    return actor


def _reads(database: Database) -> RowReads:
    assert database.paths is not None  # a file or a server: never the in-memory case here
    return database.paths.row_reads


def _sync_engine(reads: RowReads) -> Engine:
    engine = getattr(reads, "engine")  # noqa: B009 - both implementations keep their engine
    return getattr(engine, "sync_engine", engine)  # type: ignore[no-any-return]


def _columns(user: User) -> dict[str, Any]:
    # The deferred patient-record columns are read by neither (users/models.py).
    columns = [prop for prop in inspect(User).column_attrs if not prop.deferred]
    return {prop.key: getattr(user, prop.key) for prop in columns}


async def test_the_held_read_answers_what_the_session_answers(
    database: Database, world: World
) -> None:
    _reads(database)  # the held path exists (a file or a server)
    actor = await _actor(database, world.a.provider.api_key)
    for user_id in (world.a.patient_id, world.a.provider.user_id, world.b.patient_id, 10**9):
        async with database.read_sessions() as session:
            expected, expected_unseen = await queries.get_visible_user_and_unseen(
                session, actor, user_id
            )
        got, unseen = await queries.read_visible_user_and_unseen(database, actor, user_id)
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


async def test_the_held_read_sees_each_commit_before_it(database: Database, world: World) -> None:
    _reads(database)  # the held path exists (a file or a server)
    actor = await _actor(database, world.a.provider.api_key)
    before, _ = await queries.read_visible_user_and_unseen(database, actor, world.a.patient_id)
    assert before is not None
    async with database.write_sessions() as session, session.begin():
        await session.execute(
            update(User).where(User.id == world.a.patient_id).values(first_name="Renamed")
        )
    after, _ = await queries.read_visible_user_and_unseen(database, actor, world.a.patient_id)
    assert after is not None and after.first_name == "Renamed" != before.first_name


async def test_the_held_connection_cannot_write_and_survives_a_failed_statement(
    database: Database, world: World
) -> None:
    reads = _reads(database)
    with pytest.raises(DBAPIError, match=r"(?i)read.?only"):
        await reads.first(text("UPDATE users SET first_name = 'x'"), {})
    with pytest.raises(DBAPIError, match="no_such_table"):
        await reads.first(text("SELECT * FROM no_such_table"), {})
    query = text("SELECT first_name FROM users WHERE id = :id")
    row = await reads.first(query, {"id": world.a.patient_id})
    assert row is not None and row.first_name != "x"


async def test_user_by_id_reads_through_the_held_connection_straight_to_the_driver(
    api: Api, database: Database, world: World
) -> None:
    reads = _reads(database)
    engine = _sync_engine(reads)
    through_core: list[str] = []
    straight: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        through_core.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    stop = reads.observe(straight.append)
    try:
        data = await api.with_key(world.a.provider.api_key).data(
            "query($id: ID) { user(id: $id) { id first_name } }", {"id": str(world.a.patient_id)}
        )
    finally:
        event.remove(engine, "before_cursor_execute", record)
        stop()
    assert data["user"]["id"] == str(world.a.patient_id)
    assert len([s for s in straight if "FROM users" in s]) == 1
    assert not [s for s in through_core if "FROM users" in s]


async def test_a_statement_the_driver_fails_is_answered_through_core_whole(
    database: Database, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    _reads(database)  # the held path exists (a file or a server)
    actor = await _actor(database, world.a.provider.api_key)
    expected, _ = await queries.read_visible_user_and_unseen(database, actor, world.a.patient_id)
    failures: list[str] = []
    arguments = Prepared.arguments

    def failing_once(self: Prepared, parameters: Any) -> list[Any]:
        if not failures:
            failures.append(self.sql)
            raise sqlite3.OperationalError("disk I/O error")  # any driver error alike
        return arguments(self, parameters)

    monkeypatch.setattr(Prepared, "arguments", failing_once)
    got, _ = await queries.read_visible_user_and_unseen(database, actor, world.a.patient_id)
    assert failures and got is not None and expected is not None
    assert _columns(got) == _columns(expected)
    again, _ = await queries.read_visible_user_and_unseen(database, actor, world.a.patient_id)
    assert again is not None and _columns(again) == _columns(expected)


@pytest.mark.only_on("postgresql", reason="a SQLite file has no server connection to lose")
async def test_a_lost_postgres_connection_is_replaced_without_failing_the_read(
    database: Database, world: World
) -> None:
    reads = _reads(database)
    pid_row = await reads.first(text("SELECT pg_backend_pid() AS pid"), {})
    assert pid_row is not None
    async with database.engine.connect() as admin:  # as a server restart would
        await admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid_row.pid})
    for query in (
        text("SELECT first_name, pg_backend_pid() AS pid FROM users WHERE id = :id"),
        # A prepared statement (sent straight to the driver) is recovered alike.
        select(User.first_name, func.pg_backend_pid().label("pid")).where(
            User.id == bindparam("id")
        ),
    ):
        row = await reads.first(query, {"id": world.a.patient_id})
        assert row is not None and row.pid != pid_row.pid
        async with database.engine.connect() as admin:
            await admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": row.pid})
        pid_row = row


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> list[type]:
    """The entity of each filler :func:`carebook.db.rows.detached` works out, in order."""
    made: list[type] = []

    class Counted(rows._Filler):
        def __init__(self, entity: type, position: Any) -> None:
            made.append(entity)
            super().__init__(entity, position)

    monkeypatch.setattr(rows, "_Filler", Counted)
    return made


async def test_what_each_value_fills_is_worked_out_once_per_statement(
    database: Database, world: World, made: list[type]
) -> None:
    """A statement's rows share their index: the attribute each held value fills is found for
    the first row only (kept with the prepared statement), and each statement has its own."""
    actor = await _actor(database, world.a.provider.api_key)
    patient, _ = await queries.read_visible_user_and_unseen(database, actor, world.a.patient_id)
    provider, _ = await queries.read_visible_user_and_unseen(
        database, actor, world.a.provider.user_id
    )
    assert made == [User]
    assert patient is not None and provider is not None
    assert (patient.id, provider.id) == (world.a.patient_id, world.a.provider.user_id)
    assert patient.first_name != provider.first_name
    narrow, _ = await queries.read_visible_user_and_unseen(
        database, actor, world.a.patient_id, columns=("id", "first_name")
    )
    assert made == [User, User]  # another statement, another filler
    assert narrow is not None and narrow.first_name == patient.first_name
    with pytest.raises(DetachedInstanceError):
        _ = narrow.last_name  # not read: expired, as a closed session leaves it


async def test_a_row_through_core_is_filled_without_keeping_anything(
    database: Database, world: World, made: list[type]
) -> None:
    """A Core row (fast paths off, or after a failure of theirs) has an index of its own: the
    filler made for it is not kept anywhere (each such row gets its own)."""
    statement = select(*User.__table__.columns).where(User.id == world.a.patient_id)
    async with database.read_sessions() as session:
        connection = await session.connection()
        held = rows.from_core(statement, (await connection.execute(statement)).first())
    assert held is not None
    user = rows.detached(User, held)
    assert user.id == world.a.patient_id and inspect(user).detached
    assert rows.detached(User, held).id == world.a.patient_id
    assert made == [User, User]  # nothing was kept from the first
