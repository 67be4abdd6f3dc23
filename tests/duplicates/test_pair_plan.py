"""The duplicate check of a batch reads its patients' keys' blocks, not the organization's keys.

On PostgreSQL the check's plan was the planner's choice, and on a database that had never been
analyzed (a new one importing its practice's patients) it was quadratic: the join walked every
key of the organization and looked each up by key alone, and each key's block was counted with
a bitmap scan, which reads the whole block before the LIMIT applies. A first import batch of
1,000 patients sharing a birthday took minutes. How much the statement reads is counted here
from its executed plan (rows each scan and index scan returned or threw away), not timed: at
most, per key of the batch, the key row, its block counted to the cap + 1, and the block's
other patients when it is within the cap.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import bindparam, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.config import Settings
from carebook.db.engine import create_database
from carebook.db.migrate import upgrade_async
from carebook.duplicates.models import MatchKey
from carebook.duplicates.scan import MAX_BLOCK, pairs_of_statement
from carebook.imports.service import plan_batch
from carebook.users.models import User
from tests.support.migration import empty_url, execute
from tests.support.plans import plan_nodes

__all__ = ["empty_url"]  # the fixture, used by name

CHECKED = 100
TABLE = "duplicate_match_keys"
POSTGRESQL_ONLY = pytest.mark.only_on(
    "postgresql", reason="the plan PostgreSQL chooses; SQLite's loops are written in the query"
)


def _rows_read(nodes: list[dict[str, Any]]) -> int:
    """Rows the scans of the keys' table and of its indexes returned or filtered out, over all
    their loops (a bitmap index scan's rows are the entries it read before its heap scan)."""
    removed = ("Rows Removed by Filter", "Rows Removed by Index Recheck")
    return sum(
        (node["Actual Rows"] + sum(node.get(key, 0) for key in removed)) * node["Actual Loops"]
        for node in nodes
        if node.get("Relation Name") == TABLE or TABLE in node.get("Index Name", "")
    )


async def _check_reads(session: AsyncSession, org: int, ids: list[int]) -> tuple[int, int]:
    """(keys of ``ids``, rows the check of ``ids`` read), the check run as find_for runs it."""
    keys_of_ids = select(func.count()).where(MatchKey.user_id.in_(ids))
    keys = (await session.execute(keys_of_ids)).scalar_one()
    statement = pairs_of_statement("postgresql")
    explain = text(f"EXPLAIN (ANALYZE, FORMAT JSON) {statement.text}").bindparams(
        bindparam("ids", expanding=True)
    )
    values = {"org": org, "cap": MAX_BLOCK, "over": MAX_BLOCK + 1, "ids": ids}
    raw = (await session.execute(explain, values)).scalar_one()
    return keys, _rows_read(plan_nodes(raw))


async def _newest(session: AsyncSession, org: int) -> list[int]:
    """The ids of the organization's CHECKED newest patients (the small block's among them)."""
    users = select(User.id).where(User.organization_id == org).order_by(User.id.desc())
    return sorted((await session.execute(users.limit(CHECKED))).scalars())


def _bound(keys: int) -> int:
    return keys * (1 + (MAX_BLOCK + 1) + MAX_BLOCK)


async def _new_database(url: str) -> int:
    """A new database as a practice's first import finds it: its patients written since the
    migrations, never analyzed (autovacuum kept off these tables, wherever the test runs).
    20,000 patients share three keys (blocks far over the cap), each has one of their own, and
    the newest ten share one more (a block within the cap). The organization's id."""
    await upgrade_async(url)
    await execute(url, "ALTER TABLE users SET (autovacuum_enabled = off)")
    await execute(url, f"ALTER TABLE {TABLE} SET (autovacuum_enabled = off)")
    (org,) = (await execute(url, _ORGANIZATION))[0]
    for statement in (_PATIENTS, _KEYS, _SMALL_BLOCK):
        await execute(url, statement.format(org=org))
    return int(str(org))


@POSTGRESQL_ONLY
async def test_an_import_batch_in_a_database_never_analyzed_reads_only_its_patients_blocks(
    empty_url: str, settings: Settings
) -> None:
    org = await _new_database(empty_url)
    assert await execute(empty_url, _STATISTICS) == [(0,)]
    database = create_database(settings.model_copy(update={"database_url": empty_url}))
    try:
        async with database.write_sessions() as session, session.begin():
            await plan_batch(session)  # as every import batch's transaction is planned
            ids = await _newest(session, org)
            keys, read = await _check_reads(session, org, ids)
    finally:
        await database.dispose()
    assert keys == CHECKED * 4 + 10
    # A bitmap scan of each shared block reads its 20,000 entries for each key of the batch;
    # a join the planner may reorder read the organization's 80,000 keys.
    assert read <= _bound(keys)


@POSTGRESQL_ONLY
async def test_the_check_finds_the_pairs_the_plain_join_finds(
    empty_url: str, settings: Settings
) -> None:
    org = await _new_database(empty_url)
    await execute(empty_url, f"ANALYZE {TABLE}")  # the plain join's plan, within seconds
    database = create_database(settings.model_copy(update={"database_url": empty_url}))
    try:
        async with database.write_sessions() as session, session.begin():
            ids = await _newest(session, org)
            values = {"org": org, "cap": MAX_BLOCK, "over": MAX_BLOCK + 1, "ids": ids}
            found = {
                dialect: set((await session.execute(pairs_of_statement(dialect), values)).all())
                for dialect in ("postgresql", "sqlite")  # SQLite's is the plain join
            }
    finally:
        await database.dispose()
    # The small block's ten patients, each with the nine others; no pair through a shared key.
    assert len(found["postgresql"]) == 10 * 9
    assert found["postgresql"] == found["sqlite"]


_ORGANIZATION = """INSERT INTO organizations (name, created_at, updated_at)
VALUES ('First import', now(), now()) RETURNING id"""
_PATIENTS = """INSERT INTO users
    (organization_id, role, first_name, last_name, skipped_email, active, created_at, updated_at)
SELECT {org}, 'patient', 'Pat', 'Number' || n, false, true, now(), now()
FROM generate_series(1, 20000) AS n"""
_KEYS = """INSERT INTO duplicate_match_keys (organization_id, key, user_id)
SELECT {org}, shared.key, users.id FROM users, (VALUES (1), (2), (3)) AS shared (key)
UNION ALL SELECT {org}, 1000 + users.id, users.id FROM users"""
_STATISTICS = "SELECT count(*) FROM pg_stats WHERE tablename = 'duplicate_match_keys'"
_SMALL_BLOCK = """INSERT INTO duplicate_match_keys (organization_id, key, user_id)
SELECT {org}, 7, id FROM users ORDER BY id DESC LIMIT 10"""
