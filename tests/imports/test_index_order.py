"""A batch's search tokens and blocking keys go to the database in their indexes' order.

Both covering indexes of search_tokens start with (organization_id, token), and the primary key of
duplicate_match_keys is (organization_id, key, user_id): rows sent in that order land each next to
the previous one in those B-trees (PostgreSQL spent 30 % less CPU on a batch's tokens, a quarter
less on its keys: bench.import_writes, docs/performance.md). The rows are the same either way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from tests.imports.support import import_file, write_csv
from tests.support.world import World

from carebook.auth.passwords import Passwords
from carebook.db.engine import Database


def _rows(count: int) -> list[tuple[str, ...]]:
    # Names whose tokens interleave across patients ("zed", "adams", ...), in no sorted order.
    names = ["Zed", "Adams", "Moss", "Baker", "Young", "Cole"]
    return [
        (names[n % 6], names[(n * 5 + 1) % 6], f"ord{n}@example.com", "1990-01-0" + str(n % 9 + 1),
         "", "", f"ORD-{n}")
        for n in range(count)
    ]  # fmt: skip


def _columns(parameters: Any, many: bool, width: int) -> list[tuple[Any, ...]]:
    """The rows of an INSERT's parameters: an executemany's tuples (SQLite), or one array per
    column (PostgreSQL's INSERT ... SELECT FROM unnest), one value for a column every row
    shares (db/many_rows.py)."""
    if many:
        return [tuple(row) for row in parameters]
    values = list(parameters)
    count = max(len(v) for v in values if isinstance(v, list))
    arrays = [v if isinstance(v, list) else [v] * count for v in values[:width]]
    return list(zip(*arrays, strict=True))


async def test_tokens_and_keys_are_sent_in_their_indexes_order(
    database: Database, passwords: Passwords, world: World, tmp_path: Path
) -> None:
    sent: dict[str, list[tuple[Any, ...]]] = {"search_tokens": [], "duplicate_match_keys": []}

    def listen(_c: Any, _cur: Any, sql: str, parameters: Any, _ctx: Any, many: bool) -> None:
        for table, rows in sent.items():
            if sql.startswith(f"INSERT INTO {table} "):
                rows.extend(_columns(parameters, many, 3))

    engine = database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", listen)
    try:
        summary, report = await import_file(
            database,
            passwords,
            write_csv(tmp_path / "o.csv", _rows(30)),
            world.a.provider.organization_id,
        )
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    assert (summary.created, report) == (30, [])
    tokens = [row[:2] for row in sent["search_tokens"]]  # (organization_id, token)
    keys = sent["duplicate_match_keys"]  # (organization_id, key, user_id)
    assert len(tokens) > 30 * 5 and len(keys) > 30 * 3
    assert tokens == sorted(tokens)
    assert keys == sorted(keys)
