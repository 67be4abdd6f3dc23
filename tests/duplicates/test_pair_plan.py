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

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import bindparam, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.auth.passwords import Passwords
from carebook.config import Settings
from carebook.db.engine import Database, create_database
from carebook.db.migrate import upgrade_async
from carebook.duplicates.models import MatchKey
from carebook.duplicates.scan import MAX_BLOCK, pairs_of_statement
from carebook.imports.service import plan_batch
from carebook.users.models import User
from tests.imports.support import import_file, write_csv
from tests.support.migration import empty_url, execute
from tests.support.world import World

__all__ = ["empty_url"]  # the fixture, used by name

CHECKED = 300
TABLE = "duplicate_match_keys"
POSTGRESQL_ONLY = pytest.mark.only_on(
    "postgresql", reason="the plan PostgreSQL chooses; SQLite's loops are written in the query"
)


def _nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [plan, *(node for child in plan.get("Plans", []) for node in _nodes(child))]


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
    document = json.loads(raw) if isinstance(raw, str) else raw
    return keys, _rows_read(_nodes(document[0]["Plan"]))


def _bound(keys: int) -> int:
    return keys * (1 + (MAX_BLOCK + 1) + MAX_BLOCK)


@POSTGRESQL_ONLY
async def test_the_check_of_a_batch_reads_only_its_patients_blocks(
    database: Database, passwords: Passwords, world: World, tmp_path: Path
) -> None:
    org = world.a.provider.organization_id
    # One birthday and first name for all: keys every patient shares (blocks over the cap) and
    # keys of their own, as a practice's file gives.
    rows = [
        ("Pat", f"Number{n}", f"pat{n}@example.com", "1990-01-01", "", "", f"MRN-{n}")
        for n in range(2 * CHECKED)
    ]
    summary, _ = await import_file(database, passwords, write_csv(tmp_path / "p.csv", rows), org)
    assert summary.created == 2 * CHECKED
    async with database.write_sessions() as session, session.begin():
        newest = select(User.id).where(User.organization_id == org).order_by(User.id.desc())
        ids = sorted((await session.execute(newest.limit(CHECKED))).scalars())
        keys, read = await _check_reads(session, org, ids)
    assert keys >= CHECKED * 4  # each patient has keys of their own and shared ones
    assert read <= _bound(keys)


@POSTGRESQL_ONLY
async def test_an_import_batch_in_a_database_never_analyzed_counts_blocks_only_to_the_cap(
    empty_url: str, settings: Settings
) -> None:
    # A new database, as a practice's first import finds it: its patients written since the
    # migrations, never analyzed. 20,000 patients share three keys (blocks far over the cap),
    # and each has one of their own.
    await upgrade_async(empty_url)
    (org,) = (await execute(empty_url, _ORGANIZATION))[0]
    await execute(empty_url, _PATIENTS.format(org=org))
    await execute(empty_url, _KEYS.format(org=org))
    never = "SELECT count(*) FROM pg_stats WHERE tablename = 'duplicate_match_keys'"
    assert await execute(empty_url, never) == [(0,)]
    database = create_database(settings.model_copy(update={"database_url": empty_url}))
    try:
        async with database.write_sessions() as session, session.begin():
            await plan_batch(session)  # as every import batch's transaction is planned
            users = select(User.id).where(User.organization_id == org).order_by(User.id.desc())
            ids = sorted((await session.execute(users.limit(CHECKED))).scalars())
            keys, read = await _check_reads(session, org, ids)
    finally:
        await database.dispose()
    assert keys == CHECKED * 4
    # A bitmap scan of each shared block would read its 20,000 entries for each key.
    assert read <= _bound(keys)


_ORGANIZATION = """INSERT INTO organizations (name, created_at, updated_at)
VALUES ('First import', now(), now()) RETURNING id"""
_PATIENTS = """INSERT INTO users
    (organization_id, role, first_name, last_name, skipped_email, active, created_at, updated_at)
SELECT {org}, 'patient', 'Pat', 'Number' || n, false, true, now(), now()
FROM generate_series(1, 20000) AS n"""
_KEYS = """INSERT INTO duplicate_match_keys (organization_id, key, user_id)
SELECT {org}, shared.key, users.id FROM users, (VALUES (1), (2), (3)) AS shared (key)
UNION ALL SELECT {org}, 1000 + users.id, users.id FROM users"""
