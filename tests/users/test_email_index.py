"""Users' emails in one unique index (migration 0042): both rules kept, every look-up served.

The database itself refuses a patient's email twice in one organization and a provider's or
staff member's twice anywhere, whatever the services check first (a race between two requests
reaches the index); patients of two organizations, and a patient and a staff member, may share
one. Every look-up by email reads that index, the sign-in's (any role, any practice) included.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from tests.support.fetched_rows import cursor_events, database_engines
from tests.support.world import World

from carebook.auth.actor import Actor
from carebook.auth.roles import Role
from carebook.db.engine import Database
from carebook.imports.lookups import Organization, batch_lookups
from carebook.imports.reader import SourceRow
from carebook.users import credentials, password_reset, queries
from carebook.users.models import User

EMAIL = "shared.person@example.com"


def _user(world_org: Any, role: Role, n: int, email: str = EMAIL) -> dict[str, Any]:
    return {
        "organization_id": world_org.provider.organization_id,
        "role": role.value,
        "first_name": "Shared",
        "last_name": f"Person{n}",
        "email": email,
        "email_key": email,
    }


async def _insert(database: Database, *rows: dict[str, Any]) -> None:
    async with database.write_sessions() as session, session.begin():
        await session.execute(insert(User), list(rows))


async def test_patients_of_two_organizations_and_a_staff_member_may_share_an_email(
    database: Database, world: World
) -> None:
    await _insert(
        database,
        _user(world.a, Role.PATIENT, 1),
        _user(world.b, Role.PATIENT, 2),
        _user(world.a, Role.STAFF, 3),
    )
    async with database.read_sessions() as session:
        found = await session.scalars(select(User.role).where(User.email_key == EMAIL))
        assert sorted(found) == sorted([Role.PATIENT.value] * 2 + [Role.STAFF.value])


async def test_accounts_without_an_email_are_not_held_to_the_rules(
    database: Database, world: World
) -> None:
    nobody = {"email": None, "email_key": None}
    await _insert(
        database,
        _user(world.a, Role.STAFF, 1) | nobody,
        _user(world.b, Role.STAFF, 2) | nobody,
        _user(world.a, Role.PATIENT, 3) | nobody,
        _user(world.a, Role.PATIENT, 4) | nobody,
    )


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param(("a", Role.PATIENT), ("a", Role.PATIENT), id="two patients of one practice"),
        pytest.param(("a", Role.STAFF), ("b", Role.STAFF), id="staff of two practices"),
        pytest.param(("a", Role.PROVIDER), ("a", Role.STAFF), id="a provider and a staff member"),
        pytest.param(("a", Role.PROVIDER), ("b", Role.PROVIDER), id="providers of two practices"),
    ],
)
async def test_the_database_refuses_an_email_twice_where_a_rule_forbids_it(
    database: Database, world: World, first: tuple[str, Role], second: tuple[str, Role]
) -> None:
    await _insert(database, _user(getattr(world, first[0]), first[1], 1))
    with pytest.raises(IntegrityError):
        await _insert(database, _user(getattr(world, second[0]), second[1], 2))
    async with database.read_sessions() as session:
        assert await session.scalar(select(User.id).where(User.last_name == "Person2")) is None


@contextmanager
def statements(database: Database) -> Iterator[list[tuple[str, Any]]]:
    """The statements (and their parameters) that look users up by ``email_key``, as sent."""
    seen: list[tuple[str, Any]] = []

    def grab(_c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> None:
        if re.search(r"email_key (=|IN)", statement) and not statement.startswith("EXPLAIN"):
            seen.append((statement, parameters))

    with cursor_events(database_engines(database), "before_cursor_execute", grab):
        yield seen


async def _look_up_in_every_way(session: AsyncSession, world: World) -> None:
    org = world.a.provider.organization_id
    staff = Actor(world.a.staff.user_id, org, Role.STAFF)
    await queries.patient_email_taken(session, org, EMAIL)  # createClient, signUp
    await queries.patient_email_taken(session, org, EMAIL, exclude_id=world.a.patient_id)
    await queries.patient_with_email(session, org, EMAIL)  # checkout, enrollment
    await queries.staff_email_taken(session, EMAIL)  # provider and staff accounts
    await queries.find_patient_by_email(session, staff, EMAIL)  # updateClient by current_email
    await credentials.password_candidates(session, EMAIL)  # sign-in: any role, any practice
    await password_reset.accounts_with_email(session, EMAIL)
    organization = Organization(org, frozenset(), frozenset())  # an import batch's look-up
    await batch_lookups(session, organization, [SourceRow(1, {"email": EMAIL})])


async def _plan(session: AsyncSession, statement: str, parameters: Any, backend: str) -> str:
    connection = await session.connection()
    if backend == "postgresql":
        # Statistics of this test's table (the test database is emptied between tests and
        # never analyzed: estimates from its grown heap could favour walking the primary key;
        # as other plan tests do, this leaves the table's size estimate to the tests after it),
        # and sequential scans priced out: a table this small would otherwise be read whole.
        await connection.exec_driver_sql("ANALYZE users")
        await connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        rows = await connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)
    else:
        rows = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
    return "\n".join(str(row[-1]) for row in rows)


async def test_every_look_up_by_email_reads_the_email_index(
    database: Database, world: World, backend: str
) -> None:
    async with database.write_sessions() as session, session.begin():
        with statements(database) as seen:
            await _look_up_in_every_way(session, world)
        assert len(seen) == 8  # one per look-up above
        for statement, parameters in seen:
            plan = await _plan(session, statement, parameters, backend)
            assert "uq_users_email" in plan, (statement, plan)
            if backend == "sqlite":
                # SQLite plans without statistics: what it picks here, it picks on a million.
                # (PostgreSQL weighs its statistics; on a table this small any index is cheap.)
                assert "ix_users_org_role_last_name" not in plan, (statement, plan)


_DEFINITION = {
    "sqlite": "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = 'uq_users_email'",
    "postgresql": "SELECT indexdef FROM pg_indexes WHERE indexname = 'uq_users_email'",
}


async def test_the_index_is_built_as_the_migration_states_it(
    database: Database, backend: str
) -> None:
    # Alembic cannot compare an index on an expression on SQLite (tests/db/test_migrations.py
    # compares it on PostgreSQL only), so its definition is read back here; on SQLite a
    # rebuild of users in batch mode would drop it without a word.
    async with database.read_sessions() as session:
        sql = str(await session.scalar(text(_DEFINITION[backend])))
    assert "UNIQUE" in sql and "CASE" in sql and "email_key IS NOT NULL" in sql, sql
    assert sql.index("email_key") < sql.index("CASE"), sql  # the email first: any-role look-ups
