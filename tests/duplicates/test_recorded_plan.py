"""Recorded pairs are looked up pair by pair, whatever PostgreSQL's statistics say.

An import batch asks which of its thousands of found pairs are recorded already
(duplicates/pairs.py, ``recorded``). As a plain join of the two arrays with the pairs' table, on
statistics taken while the table was nearly empty (a practice's first imports, a machine whose
autovacuum lags), PostgreSQL walked every pair of the organization and ran through the arrays for
each: 2-3 s a batch at 100,000 pairs, doubling from one import to the next. The plan is read
here, not timed: each wanted pair is one index probe by its patients' ids.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.dialects import postgresql

from carebook.db.engine import Database
from carebook.duplicates.pairs import _AMONG_ARRAYS
from tests.support.plans import plan_nodes
from tests.support.world import World

POSTGRESQL_ONLY = pytest.mark.only_on(
    "postgresql", reason="the plan PostgreSQL chooses; SQLite's form fixes its loop order"
)


def _probes(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [n for n in nodes if n.get("Relation Name") == "duplicate_pairs"]


@POSTGRESQL_ONLY
async def test_each_wanted_pair_is_one_probe_on_stale_statistics(
    database: Database, world: World
) -> None:
    org = world.a.provider.organization_id
    sql = str(_AMONG_ARRAYS.compile(dialect=postgresql.asyncpg.dialect()))
    lows, highs = list(range(1, 2001)), list(range(2, 2002))
    async with database.write_sessions() as session, session.begin():
        # Statistics of the table analyzed while empty, then 60,000 pairs of the organization
        # written (patients' ids not checked: only the plan is asked for; rolled back).
        await session.execute(text("ANALYZE duplicate_pairs"))
        await session.execute(text("SET LOCAL session_replication_role = replica"))
        await session.execute(
            text(
                "INSERT INTO duplicate_pairs (organization_id, user_id, other_user_id, score,"
                " reasons, created_at, updated_at) SELECT :org, n, n + 1, 0.9, 'x', now(), now()"
                " FROM generate_series(100000, 159999) AS n"
            ),
            {"org": org},
        )
        raw = await session.run_sync(
            lambda sync: (
                sync.connection()
                .exec_driver_sql(f"EXPLAIN (FORMAT JSON) {sql}", (lows, highs, org))
                .scalar_one()
            )
        )
        await session.rollback()
    nodes = plan_nodes(raw)
    (probe,) = _probes(nodes)
    assert probe["Node Type"] in ("Index Scan", "Index Only Scan")
    # Probed by the wanted pair's ids (the unique index, or the other patient's), never by
    # the organization alone.
    assert "wanted." in probe["Index Cond"]
    # The arrays drive: the function scan is the outer side of the loop, run once.
    (loop,) = [n for n in nodes if n["Node Type"] == "Nested Loop"]
    assert loop["Plans"][0]["Node Type"] == "Function Scan"
