"""Ids for a batch's new patients, reserved before the flush, so their INSERT is one executemany.

Without ids the ORM needs each row's generated id back, and on SQLite (whose multi-row
``RETURNING`` order SQLAlchemy does not rely on) it sends one ``INSERT`` per patient. With the
ids set, the flush sends the batch's rows as one executemany, and the hooks that follow it (search
tokens, blocking keys) see the ids as before.

- PostgreSQL: the ids come from the table's own sequence in one query, so concurrent writers
  (the API) never collide with them.
- SQLite: the batch's transaction holds the write lock from its ``BEGIN IMMEDIATE``, so nobody
  else inserts until it commits; ``users.id`` is a plain rowid (no AUTOINCREMENT), so the next
  ids after the largest are exactly those SQLite would have given.
"""

from __future__ import annotations

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.users.models import User

_FROM_SEQUENCE = text(
    "SELECT nextval(pg_get_serial_sequence('users', 'id')) FROM generate_series(1, :n)"
)


async def reserve_user_ids(session: AsyncSession, count: int) -> list[int]:
    """``count`` ids for new users, in increasing order, valid in the session's transaction."""
    if count == 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        found = await session.execute(_FROM_SEQUENCE, {"n": count})
        return sorted(int(value) for value in found.scalars())
    largest = (await session.execute(select(func.max(User.id)))).scalar_one_or_none() or 0
    return list(range(largest + 1, largest + 1 + count))
