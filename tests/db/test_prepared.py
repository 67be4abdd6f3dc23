"""Statements compiled once for the held connections' drivers (carebook.db.prepared)."""

from __future__ import annotations

import pytest
from sqlalchemy import bindparam, select, text
from tests.support.world import World

from carebook.config import Settings
from carebook.db.engine import Database
from carebook.db.prepared import Prepared, PreparedCache
from carebook.users.models import User


def _dialect(database: Database):  # type: ignore[no-untyped-def]
    return database.engine.sync_engine.dialect


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The test database's settings with the fast paths on: they are what is tested here,
    whatever CAREBOOK_TEST_FAST_PATHS says."""
    return settings.model_copy(update={"fast_paths": True})


def test_only_selects_whose_sql_is_final_are_prepared(database: Database) -> None:
    dialect = _dialect(database)
    assert Prepared.of(select(User.id).where(User.id == bindparam("id")), dialect) is not None
    # SQL completed at execution (an IN of a Python list) and text go through Core.
    assert Prepared.of(select(User.id).where(User.id.in_([1, 2])), dialect) is None
    assert Prepared.of(text("SELECT 1"), dialect) is None


def test_the_cache_prepares_a_statement_once_and_tells_statements_apart(
    database: Database,
) -> None:
    cache = PreparedCache(_dialect(database), size=2)
    one = select(User.id).where(User.id == bindparam("id"))
    two = select(User.email).where(User.id == bindparam("id"))
    first = cache.get(one)
    assert first is not None and cache.get(one) is first
    second = cache.get(two)
    assert second is not None and second is not first and "email" in second.sql
    cache.get(select(User.dob))  # over the size: the oldest entry goes
    assert cache.get(one) is not first


async def test_a_statement_that_cannot_be_prepared_is_read_through_core(
    database: Database, world: World
) -> None:
    assert database.paths is not None
    reads = database.paths.row_reads
    statement = select(User.id, User.first_name).where(User.id.in_([world.a.patient_id]))
    sent: list[str] = []
    stop = reads.observe(sent.append)
    try:
        row = await reads.first(statement, {})
    finally:
        stop()
    assert row is not None and row.id == world.a.patient_id and row.first_name
    assert sent == []  # not sent straight to the driver
