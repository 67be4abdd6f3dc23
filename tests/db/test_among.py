"""db/among.py: ``column IN (ids)`` as each database takes a long list best.

The same rows whichever way, and on PostgreSQL one array parameter however many ids (an IN
list is rendered parameter by parameter at every execution: 1,000 ids, some 2,000 calls of
SQLAlchemy's compiler each time).
"""

from __future__ import annotations

from sqlalchemy import select
from tests.support.db import statements_sent
from tests.support.world import World

from carebook.db.among import among
from carebook.db.engine import Database
from carebook.users.models import User


async def test_the_same_rows_as_an_in_list(database: Database, world: World) -> None:
    wanted = [world.a.patient_id, world.b.patient_id, 10**9]
    dialect = database.engine.dialect
    async with database.read_sessions() as session:
        listed = await session.scalars(select(User.id).where(User.id.in_(wanted)))
        with statements_sent(database) as sent:
            found = await session.scalars(select(User.id).where(among(dialect, User.id, wanted)))
        assert sorted(found) == sorted(listed) == sorted(wanted[:2])
        nothing = await session.scalars(select(User.id).where(among(dialect, User.id, [])))
        assert list(nothing) == []
    (statement,) = sent
    if dialect.name == "postgresql":
        assert "= ANY (" in statement and "IN (" not in statement
    else:
        assert "IN (" in statement
