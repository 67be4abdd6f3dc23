"""insert_rows and insert_mappings: many rows in one statement, an ordinary write of the
caller's transaction: the rows are there (values as their types convert them), a refused row
fails the whole write with SQLAlchemy's error and leaves nothing, and the engine's statement
events see the write (the tests count statements with them).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import String, cast, func, insert, select
from sqlalchemy.exc import IntegrityError
from tests.support.db import statements_sent
from tests.support.world import World

from carebook.db.engine import Database
from carebook.db.many_rows import insert_mappings, insert_rows
from carebook.duplicates.models import DuplicatePair
from carebook.events.models import Event
from carebook.search.index import TOKEN_COLUMNS
from carebook.search.models import SearchToken

_TABLE = SearchToken.__table__
_MANY = 100


def _tokens(user_id: int, organization_id: int, count: int) -> list[tuple[object, ...]]:
    return [
        (organization_id, f"zz{n:05d}", user_id, "Ient", "patient", n % 2 == 0, n % 3)
        for n in range(count)
    ]


async def _token_count(database: Database, user_id: int) -> int:
    async with database.read_sessions() as session:
        query = select(func.count()).where(
            SearchToken.user_id == user_id, SearchToken.token.like("zz%")
        )
        return int((await session.execute(query)).scalar_one())


@pytest.mark.parametrize("count", [3, _MANY, 2 * _MANY + 7])
async def test_the_rows_are_written_as_given(database: Database, world: World, count: int) -> None:
    org, user_id = world.a.provider.organization_id, world.a.patient_id
    rows = _tokens(user_id, org, count)
    with statements_sent(database) as sent:
        async with database.write_sessions() as session, session.begin():
            await session.run_sync(
                lambda sync: insert_rows(sync.connection(), _TABLE, TOKEN_COLUMNS, rows)
            )
    # One statement whatever the count (an executemany on SQLite), seen by the statement events.
    (write,) = [s for s in sent if "search_tokens" in s]
    assert write.startswith("INSERT INTO search_tokens")
    if database.engine.dialect.name == "postgresql":
        # A column every row gives the same value (organization, user, last name, role) goes
        # as that one value: asyncpg encodes each array element at a cost.
        assert " ".join(write.split()).endswith(
            "SELECT $1::int4, u.c2, $3::int4, $4::text, $5::text, u.c6, u.c7 FROM "
            "unnest($2::text[], $6::bool[], $7::int2[]) AS u(c2, c6, c7)"
        )
    assert await _written_tokens(database, user_id) == rows


async def _written_tokens(database: Database, user_id: int) -> list[tuple[object, ...]]:
    """The test's tokens of ``user_id`` as stored, in token order."""
    async with database.read_sessions() as session:
        query = select(*(SearchToken.__table__.c[name] for name in TOKEN_COLUMNS))
        query = query.where(SearchToken.user_id == user_id, SearchToken.token.like("zz%"))
        return [tuple(row) for row in await session.execute(query.order_by(SearchToken.token))]


async def test_rows_all_alike_are_all_written(database: Database, world: World) -> None:
    """Rows whose every column is the same (no column varies) still go in one by one."""
    org = world.a.provider.organization_id
    with statements_sent(database) as sent:
        async with database.write_sessions() as session, session.begin():
            await session.run_sync(
                lambda sync: insert_mappings(
                    sync.connection(), Event.__table__, [_event_row(org, 0, _AT, False)] * 3
                )
            )
    if database.engine.dialect.name == "postgresql":
        (write,) = [s for s in sent if s.startswith("INSERT INTO events")]
        assert "SELECT * FROM unnest(" in write  # three rows of arrays, not one row of values
    async with database.read_sessions() as session:
        events = select(func.count()).where(Event.event_type == "test.many_rows")
        assert (await session.execute(events)).scalar_one() == 3


@pytest.mark.parametrize("count", [3, 2 * _MANY])
async def test_a_refused_row_fails_the_write_with_sqlalchemys_error_and_leaves_nothing(
    database: Database, world: World, count: int
) -> None:
    org, user_id = world.a.provider.organization_id, world.a.patient_id
    rows = _tokens(user_id, org, count)
    rows[-1] = (org, "zz-nobody", 999_999_999, "Ient", "patient", True, 0)  # no such user
    with pytest.raises(IntegrityError):
        async with database.write_sessions() as session, session.begin():
            await session.run_sync(
                lambda sync: insert_rows(sync.connection(), _TABLE, TOKEN_COLUMNS, rows)
            )
    assert await _token_count(database, user_id) == 0
    # The connection goes on serving writes.
    async with database.write_sessions() as session, session.begin():
        await session.run_sync(
            lambda sync: insert_rows(sync.connection(), _TABLE, TOKEN_COLUMNS, rows[:-1])
        )
    assert await _token_count(database, user_id) == count - 1


def _event_row(
    org: int, n: int, created_at: datetime | None, dispatched: bool
) -> dict[str, object]:
    """An event's columns, named out of the table's order (as the audit trail's rows are)."""
    return {
        "dispatched": dispatched,
        "organization_id": org,
        "event_type": "test.many_rows",
        "resource_type": "User",
        "resource_id": n,
        "changed_fields": "[]",
        "extra": "{}",
        "created_at": created_at,
    }


async def test_converted_values_go_through_their_types(database: Database, world: World) -> None:
    """Date-times through their type's bind processor (UTCDateTime), in many rows at once."""
    org = world.a.provider.organization_id
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    rows = [_event_row(org, n, at, False) for n in range(2 * _MANY)]
    async with database.write_sessions() as session, session.begin():
        await session.run_sync(
            lambda sync: insert_mappings(sync.connection(), Event.__table__, rows)
        )
    async with database.read_sessions() as session:
        query = select(Event.resource_id, Event.created_at)
        query = query.where(Event.event_type == "test.many_rows")
        found = (await session.execute(query.order_by(Event.resource_id))).all()
    assert [tuple(row) for row in found] == [(n, at) for n in range(2 * _MANY)]


async def test_each_rows_own_values_are_converted(database: Database, world: World) -> None:
    """Rows whose time stamps differ (equal values as distinct objects too, and one given in
    another zone) each keep their own, converted to UTC; booleans both ways."""
    org = world.a.provider.organization_id
    stamps = [datetime(2026, 1, 2, 3, 4, n % 3, tzinfo=UTC) for n in range(_MANY)]
    stamps[7] = datetime(2026, 1, 2, 5, 4, 1, tzinfo=timezone(timedelta(hours=2)))
    rows = [_event_row(org, n, stamps[n], n % 2 == 1) for n in range(_MANY)]
    async with database.write_sessions() as session, session.begin():
        await session.run_sync(
            lambda sync: insert_mappings(sync.connection(), Event.__table__, rows)
        )
    async with database.read_sessions() as session:
        query = select(Event.resource_id, Event.created_at, Event.dispatched)
        query = query.where(Event.event_type == "test.many_rows")
        found = (await session.execute(query.order_by(Event.resource_id))).all()
    expected = [(n, stamps[n].astimezone(UTC), n % 2 == 1) for n in range(_MANY)]
    assert [tuple(row) for row in found] == expected
    assert found[7][1] == datetime(2026, 1, 2, 3, 4, 1, tzinfo=UTC)


async def test_a_value_its_type_refuses_writes_no_row(database: Database, world: World) -> None:
    """A naive time stamp in the last row: the type's check refuses it and no row is written."""
    org = world.a.provider.organization_id
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    rows = [_event_row(org, n, at, False) for n in range(_MANY)]
    rows[-1]["created_at"] = datetime(2026, 1, 2, 3, 4, 5)  # naive on purpose
    with pytest.raises(ValueError, match="naive"):
        async with database.write_sessions() as session, session.begin():
            await session.run_sync(
                lambda sync: insert_mappings(sync.connection(), Event.__table__, rows)
            )
    async with database.read_sessions() as session:
        query = select(func.count()).where(Event.event_type == "test.many_rows")
        assert (await session.execute(query)).scalar_one() == 0


async def test_time_stamps_are_stored_as_core_stores_them(database: Database, world: World) -> None:
    """The stored text of a time stamp is the one SQLAlchemy's own INSERT writes (on SQLite the
    driver's default adapter would write another: no microseconds when they are 0)."""
    org = world.a.provider.organization_id
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    ours, cores = _event_row(org, 1, at, False), _event_row(org, 2, at, False)
    async with database.write_sessions() as session, session.begin():
        await session.run_sync(
            lambda sync: insert_mappings(sync.connection(), Event.__table__, [ours])
        )
        await session.execute(insert(Event.__table__), [cores])
    async with database.read_sessions() as session:
        query = select(Event.resource_id, cast(Event.created_at, String))
        query = query.where(Event.event_type == "test.many_rows").order_by(Event.resource_id)
        (_, stored), (_, expected) = (await session.execute(query)).all()
    assert stored == expected


_PAIRS = DuplicatePair.__table__
_PAIR_COLUMNS = (
    "organization_id", "user_id", "other_user_id", "score", "reasons", "created_at", "updated_at",
)  # fmt: skip
_AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
_PAIR_KEY = ("organization_id", "user_id", "other_user_id")


async def _pairs(database: Database, org: int) -> list[tuple[object, ...]]:
    async with database.read_sessions() as session:
        query = select(DuplicatePair.user_id, DuplicatePair.other_user_id, DuplicatePair.score)
        query = query.where(DuplicatePair.organization_id == org).order_by(DuplicatePair.user_id)
        return [tuple(row) for row in (await session.execute(query.order_by("other_user_id")))]


async def test_rows_breaking_the_named_unique_constraint_are_skipped(
    database: Database, world: World
) -> None:
    """skip_conflicts: a row already there and a repeat within the call are skipped, the rest
    written; a row breaking another constraint (a foreign key) still refuses the write."""
    org = world.a.provider.organization_id
    ids = sorted((world.a.provider.user_id, world.a.patient_id, world.a.other_patient_id))
    first = (org, ids[0], ids[1], 0.9, "already there", _AT, _AT)
    async with database.write_sessions() as session, session.begin():
        await session.run_sync(
            lambda sync: insert_rows(
                sync.connection(), _PAIRS, _PAIR_COLUMNS, [first], convert=True
            )
        )
    given = [(ids[0], ids[1], 0.5, "again"), (ids[0], ids[2], 0.7, "new"),
             (ids[0], ids[2], 0.6, "repeated"), (ids[1], ids[2], 0.8, "new")]  # fmt: skip
    rows = [(org, *row, _AT, _AT) for row in given]

    def write(sync: Any, rows: list[tuple[object, ...]]) -> None:
        insert_rows(
            sync.connection(), _PAIRS, _PAIR_COLUMNS, rows, convert=True, skip_conflicts=_PAIR_KEY
        )

    async with database.write_sessions() as session, session.begin():
        await session.run_sync(write, rows)
    expected = [(ids[0], ids[1], 0.9), (ids[0], ids[2], 0.7), (ids[1], ids[2], 0.8)]
    assert await _pairs(database, org) == expected
    refused = [(org, ids[1], 999_999_999, 0.5, "no such patient", _AT, _AT)]
    with pytest.raises(IntegrityError):
        async with database.write_sessions() as session, session.begin():
            await session.run_sync(write, [(org, ids[0], ids[1], 0.1, "again", _AT, _AT), *refused])
    assert await _pairs(database, org) == expected
