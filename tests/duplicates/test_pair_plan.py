"""The duplicate check of a batch reads its patients' keys' blocks, not the organization's keys.

On PostgreSQL the check's join order was the planner's choice, and on a database that had never
been analyzed (a new one importing its practice's patients) it walked every key of the
organization and looked each up by key alone: a first import batch of 1,000 patients sharing a
birthday took minutes. How much the statement reads is counted here from its executed plan
(rows each scan returned or threw away), not timed: at most one key row per key of the batch,
the block count's LIMIT, and the block itself, per key.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import bindparam, func, select, text

from carebook.auth.passwords import Passwords
from carebook.db.engine import Database
from carebook.duplicates.models import MatchKey
from carebook.duplicates.scan import MAX_BLOCK, pairs_of_statement
from carebook.users.models import User
from tests.imports.support import import_file, write_csv
from tests.support.world import World

PATIENTS, CHECKED = 600, 300


def _nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [plan, *(node for child in plan.get("Plans", []) for node in _nodes(child))]


def _rows_read(nodes: list[dict[str, Any]], table: str) -> int:
    """Rows the scans of ``table`` returned or filtered out, over all their loops."""
    removed = ("Rows Removed by Filter", "Rows Removed by Index Recheck")
    return sum(
        (node["Actual Rows"] + sum(node.get(key, 0) for key in removed)) * node["Actual Loops"]
        for node in nodes
        if node.get("Relation Name") == table
    )


@pytest.mark.only_on("postgresql", reason="the plan PostgreSQL chooses; SQLite's loops are fixed")
async def test_the_check_of_a_batch_reads_only_its_patients_blocks(
    database: Database, passwords: Passwords, world: World, tmp_path: Path
) -> None:
    org = world.a.provider.organization_id
    # One birthday and first name for all: keys every patient shares (blocks over the cap) and
    # keys of their own, as a practice's file gives.
    rows = [
        ("Pat", f"Number{n}", f"pat{n}@example.com", "1990-01-01", "", "", f"MRN-{n}")
        for n in range(PATIENTS)
    ]
    summary, _ = await import_file(database, passwords, write_csv(tmp_path / "p.csv", rows), org)
    assert summary.created == PATIENTS
    async with database.write_sessions() as session, session.begin():
        newest = select(User.id).where(User.organization_id == org).order_by(User.id.desc())
        ids = sorted((await session.execute(newest.limit(CHECKED))).scalars())
        keys_of_ids = select(func.count()).where(MatchKey.user_id.in_(ids))
        keys = (await session.execute(keys_of_ids)).scalar_one()
        # As find_for sends it: the ids bound, the values the check uses.
        statement = pairs_of_statement("postgresql")
        explain = text(f"EXPLAIN (ANALYZE, FORMAT JSON) {statement.text}").bindparams(
            bindparam("ids", expanding=True)
        )
        values = {"org": org, "cap": MAX_BLOCK, "over": MAX_BLOCK + 1, "ids": ids}
        answer = await session.execute(explain, values)
        raw = answer.scalar_one()
    document = json.loads(raw) if isinstance(raw, str) else raw
    nodes = _nodes(document[0]["Plan"])
    assert keys >= CHECKED * 4  # each patient has keys of their own and shared ones
    # Per key of the batch: the key itself, its block counted up to the cap + 1, and the block's
    # other patients when it is within the cap.
    assert _rows_read(nodes, "duplicate_match_keys") <= keys * (1 + (MAX_BLOCK + 1) + MAX_BLOCK)
