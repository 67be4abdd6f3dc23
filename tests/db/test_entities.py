"""List pages read as Core rows and made detached by hand (carebook.db.rows.entities).

A page of patients must come out as the ORM session would load it (same rows, same values and
types of the columns read), detached with its identity, and a column the statement did not read
must raise when read, never pass for null: the list reads only the columns its document selects.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import bindparam, inspect, select
from sqlalchemy.orm import load_only
from sqlalchemy.orm.exc import DetachedInstanceError
from tests.support.world import World

from carebook.db.engine import Database
from carebook.db.rows import core_rows, entities
from carebook.users.models import User

COLUMNS = ("id", "organization_id", "role", "first_name", "last_name", "dob", "user_metadata")


def _values(user: User, keys: tuple[str, ...]) -> dict[str, Any]:
    return {key: getattr(user, key) for key in keys}


async def test_a_page_reads_as_the_session_loads_it(database: Database, world: World) -> None:
    some = select(User).options(load_only(*(getattr(User, c) for c in COLUMNS), raiseload=True))
    organization_id = world.a.provider.organization_id
    statement = some.where(User.organization_id == organization_id).order_by(User.id)
    async with database.read_sessions() as session:
        expected = list((await session.execute(statement)).scalars())
        got = await entities(session, User, statement)
    assert [u.id for u in got] == [u.id for u in expected] and got
    for mine, theirs in zip(got, expected, strict=True):
        assert _values(mine, COLUMNS) == _values(theirs, COLUMNS)
        assert [type(v) for v in _values(mine, COLUMNS).values()] == [
            type(v) for v in _values(theirs, COLUMNS).values()
        ]
        assert mine.is_patient == theirs.is_patient
        state = inspect(mine)
        assert state.detached and state.identity == (mine.id,)


async def test_a_column_not_read_raises_instead_of_reading_as_null(
    database: Database, world: World
) -> None:
    statement = (
        select(User)
        .options(load_only(User.id, User.organization_id, User.role, raiseload=True))
        .where(User.id == world.a.patient_id)
    )
    async with database.read_sessions() as session:
        (user,) = await entities(session, User, statement)
    assert user.id == world.a.patient_id
    with pytest.raises(DetachedInstanceError):
        _ = user.first_name  # a plain column left out of the SELECT
    with pytest.raises(DetachedInstanceError):
        _ = user.quick_notes  # a deferred patient-record column


async def test_the_whole_row_and_expanding_ids(database: Database, world: World) -> None:
    statement = select(User).where(User.id.in_(bindparam("ids", expanding=True)))
    ids = [world.a.patient_id, world.b.patient_id]
    async with database.read_sessions() as session:
        expected = {u.id: u for u in (await session.execute(statement, {"ids": ids})).scalars()}
        got = await entities(session, User, statement, {"ids": ids})
        ranked = await core_rows(session, select(User.id).where(User.id.in_(ids)))
    keys = tuple(p.key for p in inspect(User).column_attrs if not p.deferred)
    assert sorted(u.id for u in got) == sorted(ids) == sorted(row[0] for row in ranked)
    for user in got:
        assert _values(user, keys) == _values(expected[user.id], keys)
