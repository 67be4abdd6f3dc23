"""What PostgreSQL spends on an import batch's search tokens and blocking keys, by variant.

    python -m bench.import_writes --database-url postgresql://postgres@127.0.0.1:5432/DB

On a database made by ``python -m bench.generate`` (PostgreSQL; keyed as ``bench.imports`` keys
it): in one transaction that is rolled back at the end, copies 1,000 random patients as new
users (new ids from the sequence: the ids are spent, nothing else stays), then inserts their
tokens (about 9 a patient) and their blocking keys (6) as an import batch does, in savepoints
rolled back after each variant, the variants alternated ``--rounds`` times:

- as the import writes them (each user's rows together);
- without the foreign-key checks (``session_replication_role = replica`` skips the RI triggers);
- without one of the tokens' two covering indexes (dropped inside the savepoint);
- the same rows sorted by the covering index's leading columns first.

Prints, per variant, the median wall time and the median CPU of the serving backend (read from
/proc around the statement: the server must run on this machine; 10 ms ticks, hence medians).
Only a measurement: the variants without a check or an index are not what Carebook may do.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Sequence

import asyncpg

from bench.generate import asyncpg_dsn
from bench.imports import process_cpu

_SAME_ROLE = "SET LOCAL session_replication_role = replica"
# (table, the temporary table of its rows, statements run first in the savepoint)
VARIANTS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "tokens: as written (user, token)": ("search_tokens", "bench_tokens", ()),
    "tokens: without the foreign-key check": ("search_tokens", "bench_tokens", (_SAME_ROLE,)),
    "tokens: without ix_search_tokens_org_shared_token": (
        "search_tokens",
        "bench_tokens",
        ("DROP INDEX ix_search_tokens_org_shared_token",),
    ),
    "tokens: without ix_search_tokens_org_token_sort": (
        "search_tokens",
        "bench_tokens",
        ("DROP INDEX ix_search_tokens_org_token_sort",),
    ),
    "tokens: sorted by (organization_id, token)": ("search_tokens", "bench_tokens_sorted", ()),
    "keys: as written (user)": ("duplicate_match_keys", "bench_keys", ()),
    "keys: without the foreign-key check": ("duplicate_match_keys", "bench_keys", (_SAME_ROLE,)),
    "keys: sorted by (organization_id, key, user_id)": (
        "duplicate_match_keys",
        "bench_keys_sorted",
        (),
    ),
}

_SETUP = (
    # 1,000 random patients of the largest organization, each with a new id.
    """CREATE TEMP TABLE bench_ids ON COMMIT DROP AS
    SELECT id AS old, nextval(pg_get_serial_sequence('users', 'id')) AS new FROM users
    WHERE role = 'patient' AND organization_id = (
        SELECT organization_id FROM users WHERE role = 'patient'
        GROUP BY organization_id ORDER BY count(*) DESC LIMIT 1)
    ORDER BY random() LIMIT 1000""",
    # Copied as new users (what is unique made unique), so the rows below have their parents.
    """INSERT INTO users SELECT (jsonb_populate_record(NULL::users, to_jsonb(u)
        || jsonb_build_object('id', b.new, 'email', 'bench' || b.new || '@example.test',
            'email_key', 'bench' || b.new || '@example.test',
            'record_identifier', 'BENCH-' || b.new, 'invite_code', NULL))).*
    FROM users AS u JOIN bench_ids AS b ON u.id = b.old""",
    """CREATE TEMP TABLE bench_tokens ON COMMIT DROP AS
    SELECT t.organization_id, t.token, b.new AS user_id, t.last_name, t.role, t.active, t.shared
    FROM search_tokens AS t JOIN bench_ids AS b ON t.user_id = b.old ORDER BY b.new, t.token""",
    """CREATE TEMP TABLE bench_tokens_sorted ON COMMIT DROP AS
    SELECT * FROM bench_tokens ORDER BY organization_id, token""",
    """CREATE TEMP TABLE bench_keys ON COMMIT DROP AS
    SELECT k.organization_id, k.key, b.new AS user_id
    FROM duplicate_match_keys AS k JOIN bench_ids AS b ON k.user_id = b.old ORDER BY b.new""",
    """CREATE TEMP TABLE bench_keys_sorted ON COMMIT DROP AS
    SELECT * FROM bench_keys ORDER BY organization_id, key, user_id""",
)


def _cpu(pid: int) -> float:
    """The serving backend's CPU seconds so far (it must run on this machine)."""
    cpu = process_cpu(pid)
    assert cpu is not None, f"backend {pid} is not a process of this machine"
    return cpu


async def measure(url: str, rounds: int) -> dict[str, list[tuple[float, float]]]:
    """(wall, backend CPU) seconds of each variant's INSERT, per round."""
    connection = await asyncpg.connect(url)
    found: dict[str, list[tuple[float, float]]] = {name: [] for name in VARIANTS}
    try:
        pid = int(await connection.fetchval("SELECT pg_backend_pid()"))
        await connection.execute("BEGIN")
        for statement in _SETUP:
            await connection.execute(statement)
        tokens = await connection.fetchval("SELECT count(*) FROM bench_tokens")
        keys = await connection.fetchval("SELECT count(*) FROM bench_keys")
        print(f"1,000 new patients: {tokens:,} tokens, {keys:,} blocking keys")
        for _ in range(rounds):
            for name, (table, rows, first) in VARIANTS.items():
                await connection.execute("SAVEPOINT bench_variant")
                for statement in first:
                    await connection.execute(statement)
                cpu, wall = _cpu(pid), time.perf_counter()
                await connection.execute(f"INSERT INTO {table} SELECT * FROM {rows}")  # noqa: S608
                found[name].append((time.perf_counter() - wall, _cpu(pid) - cpu))
                await connection.execute("ROLLBACK TO SAVEPOINT bench_variant")
        await connection.execute("ROLLBACK")
    finally:
        await connection.close()
    return found


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m bench.import_writes``."""
    parser = argparse.ArgumentParser(prog="python -m bench.import_writes")
    parser.add_argument("--database-url", required=True, help="postgresql://... (asyncpg's)")
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args(argv)
    url = asyncpg_dsn(args.database_url)
    found = asyncio.run(measure(url, args.rounds))
    for name, runs in found.items():
        wall = statistics.median(w for w, _ in runs) * 1000
        cpu = statistics.median(c for _, c in runs) * 1000
        print(f"{name:52s} wall {wall:5.0f} ms  backend CPU {cpu:5.0f} ms (medians)")


if __name__ == "__main__":
    main()
