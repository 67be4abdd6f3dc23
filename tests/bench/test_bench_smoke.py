"""The benchmark's data generator works on both databases and is deterministic for a seed."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from bench.generate import Generated, Options, generate
from sqlalchemy import select, text

from carebook.config import Settings
from carebook.db.engine import Database, create_database
from carebook.search.index import searchable
from carebook.search.models import SearchToken
from carebook.search.text import tokens_of
from carebook.tables import data_tables
from carebook.tags.models import AppliedTag, Tagging
from carebook.users.models import User

PATIENTS = 200

SNAPSHOT = (
    "SELECT first_name, last_name, legal_name, email, phone_number, dob, record_identifier,"
    " additional_record_identifier, active, archived_at, created_at, user_group_id IS NULL"
    " FROM users WHERE role = 'patient' ORDER BY id"
)


async def _empty(database: Database) -> None:
    tables = data_tables()
    async with database.engine.begin() as connection:
        if database.engine.dialect.name == "postgresql":
            names = ", ".join(t.name for t in tables)
            await connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                await connection.execute(table.delete())


async def _generate_and_read(
    database: Database, url: str, seed: int
) -> tuple[Generated, list[Any]]:
    generated = await generate(
        Options(url, PATIENTS, seed, recreate=False, migrate=False), log=lambda _: None
    )
    async with database.engine.connect() as connection:
        rows = list((await connection.execute(text(SNAPSHOT))).all())
    return generated, rows


async def _check_tokens(database: Database) -> None:
    """The bulk-written tokens are exactly what carebook's own index would write."""
    async with database.read_sessions() as session:
        users = (await session.execute(select(User).where(User.role == "patient"))).scalars()
        tokens: dict[int, set[str]] = defaultdict(set)
        for user_id, token in await session.execute(select(SearchToken.user_id, SearchToken.token)):
            tokens[user_id].add(token)
        for user in users:
            assert tokens[user.id] == tokens_of(searchable(user)), user.id
            assert user.created_at.tzinfo is not None


async def _check_applications(database: Database) -> None:
    """Every tagging has its application record, as the services write them (appliedTags)."""
    async with database.read_sessions() as session:
        taggings = set((await session.execute(select(Tagging.tag_id, Tagging.user_id))).all())
        applied = (await session.execute(select(AppliedTag.tag_id, AppliedTag.user_id))).all()
    assert taggings and sorted(taggings) == sorted(applied)


async def test_generator_fills_one_organization_deterministically(database_url: str) -> None:
    database = create_database(Settings(database_url=database_url))
    try:
        await _empty(database)
        first, rows = await _generate_and_read(database, database_url, seed=7)
        assert first.api_key and first.counts["users"] == PATIENTS == len(rows)
        assert first.counts["search_tokens"] > PATIENTS * 5
        assert 0 < sum(1 for row in rows if not row[8]) < PATIENTS * 0.15  # ~5% archived
        assert all(row[4] is None or row[4].startswith("+") for row in rows)  # E.164
        assert any(not row[0].isascii() or not row[1].isascii() for row in rows)  # accents
        await _check_tokens(database)
        await _check_applications(database)
        await _empty(database)

        again, same = await _generate_and_read(database, database_url, seed=7)
        assert same == rows and again.counts == first.counts
        await _empty(database)

        _, other = await _generate_and_read(database, database_url, seed=8)
        assert other != rows
    finally:
        await _empty(database)
        await database.dispose()
