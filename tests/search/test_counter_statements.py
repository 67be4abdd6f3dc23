"""Statements that write many users at once move each counter by exactly their share.

PostgreSQL counts an INSERT's and a DELETE's users once per statement (migration 0038: one
upsert per counter for the whole statement), SQLite row by row: either way every counter must
equal a count of the users, for statements spanning organizations, roles, statuses and blocks,
for statements that touch no user, and in a transaction that mixes them with updates.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from tests.support.counters import assert_counters_match, kept_and_counted
from tests.support.world import World

from carebook.auth.roles import Role
from carebook.db.engine import Database
from carebook.users.models import User

# Block starts themselves, case, accents, names before the first letter block and after the
# last one, and the empty name (the '' block).
NAMES = ["Baker", "baker", "Ba", "B", "Adams", "Zoë", "Zoe", "Ng", "Øst", "O'Neil", "1st", ""]
ROLES = [Role.PATIENT.value, Role.PATIENT.value, Role.STAFF.value]


def _users(organizations: tuple[int, int], tag: str, count: int) -> list[dict[str, Any]]:
    """``count`` users spread over both organizations, three roles, both statuses and every
    name of NAMES."""
    return [
        {
            "organization_id": organizations[n % 2],
            "role": ROLES[n % len(ROLES)],
            "first_name": "Many",
            "last_name": NAMES[n % len(NAMES)],
            "email": f"{tag}{n}@example.com",
            "email_key": f"{tag}{n}@example.com",
            "active": n % 4 != 0,
        }
        for n in range(count)
    ]


async def _ids(session: AsyncSession, tag: str) -> list[int]:
    query = select(User.id).where(User.email.like(f"{tag}%")).order_by(User.id)
    return list((await session.execute(query)).scalars())


async def test_one_insert_and_one_delete_of_many_users_move_each_counter_by_their_share(
    database: Database, world: World
) -> None:
    organizations = (world.a.provider.organization_id, world.b.provider.organization_id)
    async with database.write_sessions() as session, session.begin():
        before, _ = await kept_and_counted(session)
        # One statement: 60 users, 5 of each name, in 2 organizations x 2 roles x 2 statuses.
        await session.execute(insert(User).values(_users(organizations, "many", 60)))
        await assert_counters_match(session)
        after, _ = await kept_and_counted(session)
        assert after != before
        ids = await _ids(session, "many")
        # One statement deleting every other one of them, across all the same counters.
        await session.execute(delete(User).where(User.id.in_(ids[::2])))
        await assert_counters_match(session)
        # Statements that touch no user move nothing (and make no counter).
        kept, _ = await kept_and_counted(session)
        await session.execute(
            text("INSERT INTO users (organization_id, role, first_name, last_name, email_key,"
                 " skipped_email, active, created_at, updated_at)"
                 " SELECT organization_id, role, first_name, last_name, email_key, skipped_email,"
                 " active, created_at, updated_at FROM users WHERE id < 0")
        )  # fmt: skip
        await session.execute(delete(User).where(User.id < 0))
        assert (await kept_and_counted(session))[0] == kept
        # The rest of them deleted: the counters are back where they started.
        await session.execute(delete(User).where(User.id.in_(ids[1::2])))
        await assert_counters_match(session)
        assert (await kept_and_counted(session))[0] == before


async def test_a_transaction_mixing_inserts_updates_and_deletes_keeps_every_counter(
    database: Database, world: World
) -> None:
    organizations = (world.a.provider.organization_id, world.b.provider.organization_id)
    async with database.write_sessions() as session, session.begin():
        await session.execute(insert(User).values(_users(organizations, "mixed", 36)))
        ids = await _ids(session, "mixed")
        # Archive, rename across blocks and move between organizations, many rows a statement
        # (row triggers on both databases), then insert into the counters just moved and delete
        # from them, in the same transaction.
        await session.execute(update(User).where(User.id.in_(ids[:12])).values(active=False))
        await session.execute(
            update(User).where(User.id.in_(ids[12:24])).values(last_name="Zed", active=True)
        )
        await session.execute(
            update(User)
            .where(User.id.in_(ids[24:30]))
            .values(organization_id=organizations[0], role=Role.STAFF.value)
        )
        await session.execute(insert(User).values(_users(organizations, "again", 24)))
        await session.execute(delete(User).where(User.id.in_(ids[6:18] + ids[27:33])))
        await assert_counters_match(session)
        # Copying rows with INSERT ... SELECT: one statement, its rows from the table itself.
        await session.execute(
            text("INSERT INTO users (organization_id, role, first_name, last_name, skipped_email,"
                 " active, created_at, updated_at)"
                 " SELECT organization_id, 'patient', first_name, last_name, skipped_email,"
                 " active, created_at, updated_at FROM users WHERE email LIKE 'again%'")
        )  # fmt: skip
        await assert_counters_match(session)
