"""The one Database door: the same verbs answer the same with the fast paths on and off.

``CAREBOOK_FAST_PATHS`` off leaves one engine and plain sessions; on, the verbs take the held
connections. Callers cannot tell (they never look), and ORM hooks hang on Carebook's own session
class, never on SQLAlchemy's global one.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from sqlalchemy import Table, event, func, inspect, select
from sqlalchemy.orm import Session, load_only
from sqlalchemy.orm.exc import DetachedInstanceError
from tests.audit.test_append_only import ROW
from tests.support.world import World

from carebook.audit import models as audit_models
from carebook.audit.models import AuditEvent
from carebook.audit.trail import load_without_trail
from carebook.config import Settings
from carebook.db.engine import Database, create_database
from carebook.db.rows import detached
from carebook.db.session import CarebookSession
from carebook.search import index as search_index
from carebook.users import credentials
from carebook.users.models import User

TRAIL = cast(Table, AuditEvent.__table__)


@pytest.fixture(params=["on", "off"])
async def door(
    request: pytest.FixtureRequest, settings: Settings, database: Database
) -> AsyncIterator[Database]:
    """The test database behind a second door, with the fast paths on, then off (``database``
    empties the tables after the test)."""
    database = create_database(settings.model_copy(update={"fast_paths": request.param == "on"}))
    yield database
    await database.dispose()


def _pools(database: Database) -> set[int]:
    return {id(e.sync_engine.pool) for e in (database.engine, database.read_engine)}


async def test_the_switch_leaves_one_engine_and_no_held_connection(settings: Settings) -> None:
    plain = create_database(settings.model_copy(update={"fast_paths": False}))
    fast = create_database(settings.model_copy(update={"fast_paths": True}))
    try:
        assert plain.paths is None and len(_pools(plain)) == 1
        assert fast.paths is not None
        # A SQLite file's reads have their own engine; PostgreSQL's share the pool.
        assert len(_pools(fast)) == (2 if settings.is_sqlite else 1)
    finally:
        await plain.dispose()
        await fast.dispose()


async def test_a_single_row_read_answers_the_same_on_both_paths(
    door: Database, database: Database, world: World
) -> None:
    statement = select(User).where(User.id == world.a.patient_id)
    row = await door.read_row(statement, {})
    assert row is not None
    user = detached(User, row)
    async with database.read_sessions() as session:
        expected = await session.get_one(User, world.a.patient_id)
    assert (user.id, user.first_name, user.created_at) == (
        expected.id,
        expected.first_name,
        expected.created_at,
    )
    assert await door.read_row(select(User).where(User.id == 10**9), {}) is None


async def test_a_single_row_reads_entity_is_detached_and_raises_on_what_it_did_not_read(
    door: Database, database: Database, world: World
) -> None:
    # Made by hand (db/rows.py::detached): it must be what a closed session leaves.
    statement = select(User).options(load_only(User.id, User.first_name, raiseload=True))
    row = await door.read_row(statement.where(User.id == world.a.patient_id), {})
    assert row is not None
    user = detached(User, row)
    state = inspect(user)
    assert state.detached and state.identity == (world.a.patient_id,)
    assert not state.modified and user.first_name
    with pytest.raises(DetachedInstanceError):
        _ = user.last_name
    # Merged into a session, it is that patient's row (an UPDATE), never a new one.
    count = select(func.count()).select_from(User)
    async with database.read_sessions() as session:
        before = await session.scalar(count)
    user.first_name = "Renamed"
    async with database.write_sessions() as session, session.begin():
        load_without_trail(session)
        merged = await session.merge(user)
    assert merged.id == world.a.patient_id
    async with database.read_sessions() as session:
        stored = await session.get_one(User, world.a.patient_id)
        assert stored.first_name == "Renamed"
        assert await session.scalar(count) == before


async def test_a_single_row_read_runs_on_the_session_it_is_lent_when_plain(
    door: Database, world: World
) -> None:
    lent: list[Any] = []
    async with door.read_sessions() as session:

        async def within(work: Any) -> Any:
            lent.append(session)
            return await work(session)

        statement = select(User.id).where(User.id == world.a.patient_id)
        row = await door.read_row(statement, {}, within=within)
    assert row is not None and row.id == world.a.patient_id
    # The fast path never needs a session; the plain one takes the caller's, not a second one.
    assert len(lent) == (0 if door.paths is not None else 1)


async def test_a_trail_batch_is_stored_and_observed_on_both_paths(door: Database) -> None:
    sent: list[str] = []
    stop = door.observe(sent.append)
    try:
        await door.trail_batch(TRAIL, [ROW, {**ROW, "record_id": 8}])
    finally:
        stop()
    assert sum("INSERT INTO audit_events" in s for s in sent) == 1
    async with door.read_sessions() as session:
        stored = (await session.scalars(select(AuditEvent.record_id))).all()
    assert sorted(stored) == sorted([ROW["record_id"], 8])


async def test_a_naive_time_fails_a_trail_batch_on_both_paths(door: Database) -> None:
    with pytest.raises(Exception, match="naive"):
        await door.trail_batch(TRAIL, [{**ROW, "occurred_at": datetime(2026, 1, 1)}])
    await door.trail_batch(TRAIL, [{**ROW, "occurred_at": datetime(2026, 1, 1, tzinfo=UTC)}])


def test_hooks_hang_on_carebooks_session_class_not_on_sqlalchemys() -> None:
    hooks = [
        ("after_flush", credentials._note_credential_changes),
        ("after_commit", credentials._forget_api_key_actors),
        ("do_orm_execute", audit_models._refuse_bulk_change),
        ("after_flush", search_index._after_flush),
    ]
    for name, hook in hooks:
        assert event.contains(CarebookSession, name, hook), hook
        assert not event.contains(Session, name, hook), hook


def test_importing_the_models_registers_the_search_index_hook() -> None:
    """The search index follows flushes as soon as the models are imported (the Database
    imports no domain package, so it cannot install the hook itself)."""
    check = (
        "import carebook.tables\n"
        "from sqlalchemy import event\n"
        "from carebook.db.session import CarebookSession\n"
        "from carebook.search.index import _after_flush\n"
        "assert event.contains(CarebookSession, 'after_flush', _after_flush)\n"
    )
    subprocess.run([sys.executable, "-c", check], check=True)


async def test_every_session_of_the_door_is_a_carebook_session(door: Database) -> None:
    for sessions in (door.read_sessions, door.write_sessions):
        async with sessions() as session:
            assert isinstance(session.sync_session, CarebookSession)
