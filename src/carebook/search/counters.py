"""How many users an organization has per role and status, kept by database triggers.

Counting a million patients takes a full index scan on every ``usersCount``; the triggers of
migration 0010 keep these counters exact in the same transaction as every insert, delete and
change of ``organization_id``, ``role`` or ``active`` (whatever the write path, ORM or SQL), so
an unfiltered count is a short primary-key range read that agrees with the list in every
snapshot.

A counter is the sum of its rows, one per ``shard``: on PostgreSQL each connection writes its
own (migration 0040), so creations in one organization do not wait for each other's commits;
SQLite (one writer at a time) keeps shard 0.
"""

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Integer,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from carebook.db.base import REFERENCE_DATA, Base

# Rebuilds the counters from the users table (after a bulk load that bypassed the triggers).
RECOUNT_SQL = (
    "INSERT INTO user_counts (organization_id, role, active, total)"
    " SELECT organization_id, role, active, COUNT(*) FROM users"
    " GROUP BY organization_id, role, active"
)


class UserCount(Base):
    """Of the users of ``organization_id`` with this ``role`` and ``active`` flag, the ``total``
    one connection's writes added (a shard may be below zero; the shards' sum is the count)."""

    __tablename__ = "user_counts"

    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    active: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True, server_default="0")
    total: Mapped[int] = mapped_column(Integer)


# The block of a user: the greatest start that is not after the last name, in the database's
# own collation (so a block is a contiguous run of the list whatever the collation).
BLOCK_OF_USER = (
    "(SELECT start FROM list_block_starts WHERE start <= {row}.last_name"
    " ORDER BY start DESC LIMIT 1)"
)
# Rebuilds the block counters from the users table (after a bulk load without triggers).
RECOUNT_BLOCKS_SQL = (
    "INSERT INTO list_blocks (organization_id, role, start, active_total, archived_total)"  # noqa: S608 - constant SQL
    " SELECT organization_id, role, block,"
    " SUM(CASE WHEN active THEN 1 ELSE 0 END), SUM(CASE WHEN active THEN 0 ELSE 1 END)"
    f" FROM (SELECT organization_id, role, active, {BLOCK_OF_USER.format(row='users')} AS block"
    " FROM users) AS placed GROUP BY organization_id, role, block"
)


class ListBlockStart(Base):
    """Where the list's blocks start: fixed strings ('', 'A', 'Aa' ... 'zz', 'À' ...), from 0014.

    Fixed, so that a user's block depends only on its last name and the counters are a plain
    upsert in every write; compared in the database's collation, so any collation works.
    """

    __tablename__ = "list_block_starts"
    __table_args__ = {"info": {REFERENCE_DATA: True}}

    start: Mapped[str] = mapped_column(String(100), primary_key=True)


class ListBlock(Base):
    """How many users of ``organization_id`` with this ``role`` are in the block at ``start``.

    A block holds the users whose last name is at or after ``start`` and before the next start.
    A deep page in last-name order (``search/deep_pages.py``) adds up the blocks' totals in order
    to find the block holding offset N and skips only within it, instead of walking N entries
    of the sort index. The triggers of migration 0014 keep them exact in the transaction of
    every write, like :class:`UserCount`.
    """

    __tablename__ = "list_blocks"
    # SQLite stores the rows in key order, so the walk reads the table itself. No index holds
    # the totals, so PostgreSQL updates them in place (HOT) on every write; the walk reads at
    # most ~1,800 small rows.
    __table_args__ = (
        PrimaryKeyConstraint("organization_id", "role", "start"),
        {"sqlite_with_rowid": False},
    )

    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))
    start: Mapped[str] = mapped_column(String(100))
    active_total: Mapped[int] = mapped_column(Integer)
    archived_total: Mapped[int] = mapped_column(Integer)


# Every counter rebuilt from the users table, for a bulk load that ran without the triggers.
RECOUNT_ALL = (
    "DELETE FROM user_counts",
    RECOUNT_SQL,
    "DELETE FROM list_blocks",
    RECOUNT_BLOCKS_SQL,
)


async def recount(session: AsyncSession) -> None:
    """Rebuild every counter from the users table, in the session's transaction.

    For counters that no longer agree with the rows (a load that ran with the triggers
    disabled). On PostgreSQL writes to users wait until the transaction ends, so that no
    trigger adds to a counter between the delete and the recount; SQLite has one writer anyway.
    """
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        await session.execute(text("LOCK TABLE users IN SHARE MODE"))
    for statement in RECOUNT_ALL:
        await session.execute(text(statement))
