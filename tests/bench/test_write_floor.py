"""The writes' floor (bench/write_floor.py): carebook's own statements, replayed as new writes."""

from __future__ import annotations

import hashlib

from bench.generate import Generated, Options, generate
from bench.operations import write_operations
from sqlalchemy import text
from tests.audit.cleanup import clear_sqlite_audit_events
from tests.bench.test_bench_smoke import _empty

from bench import report, write_floor
from carebook.config import Settings
from carebook.db import hooks
from carebook.db.engine import Database, create_database

NEW_PATIENTS = (
    "SELECT u.id, (SELECT count(*) FROM search_tokens t WHERE t.user_id = u.id),"
    " (SELECT count(*) FROM audit_events a WHERE a.record_id = u.id AND a.action = 'create'),"
    " (SELECT count(*) FROM events e WHERE e.resource_id = u.id"
    "  AND e.event_type = 'patient.created')"
    " FROM users u WHERE u.email LIKE :marker ORDER BY u.id"
)


UPDATED_EVENTS = "SELECT count(*) FROM events WHERE event_type = 'patient.updated'"


async def _count(database: Database, sql: str) -> int:
    async with database.read_sessions() as session:
        return int((await session.execute(text(sql))).scalar_one())


async def _clear(database: Database) -> None:
    """Empty the tables, the append-only audit trail included (this test writes events)."""
    if database.engine.dialect.name == "sqlite":
        async with database.write_sessions() as session, session.begin():
            await clear_sqlite_audit_events(session)
    await _empty(database)


async def test_replays_are_new_whole_writes_committed(database_url: str) -> None:
    database = create_database(Settings(database_url=database_url))
    engine = database.engine.execution_options(**{hooks.WRITE_OPTION: True})
    try:
        await _clear(database)
        options = Options(database_url, 30, 5, recreate=False, migrate=False)
        world = await generate(options, log=lambda _: None)
        floors = await write_floor.capture(world, database_url, "t1")
        created = floors["createClient"][0]
        sent = [" ".join(s.sql.split()) for s in created.statements]
        # The write transaction only: no API-key look-up, no activity note after the answer.
        assert any(s.startswith("INSERT INTO users") for s in sent)
        assert any(s.startswith("INSERT INTO audit_events") for s in sent)
        assert not any("last_activity_at=" in s for s in sent)
        assert len(floors["updateClient"]) == write_floor.VARIANTS["updateClient"]
        moved = floors["bulkUpdateClients"][0]
        assert len(floors["bulkUpdateClients"]) == write_floor.VARIANTS["bulkUpdateClients"]
        # A real move: the captured transaction updates the patients and tells of each.
        moves = [" ".join(s.sql.split()) for s in moved.statements]
        assert any(s.startswith("UPDATE users SET user_group_id=") for s in moves)
        assert any(s.startswith("INSERT INTO events") for s in moves)
        (update,) = [s for s in moved.statements if s.sql.startswith("UPDATE users")]
        # The group, the time stamp, then the ids: one array on PostgreSQL, one each on SQLite.
        ids = update.parameters[-1]
        moved_patients = len(ids) if isinstance(ids, list) else len(update.parameters) - 2

        for _ in range(3):
            await write_floor.replay(engine, created)
        for variant in floors["updateClient"][:2] * 2:
            await write_floor.replay(engine, variant)
        updated_before = await _count(database, UPDATED_EVENTS)
        for _ in range(2):
            await write_floor.replay(engine, moved)
        # Each replay is the whole move again: each moved patient's event, committed.
        assert moved_patients > 0
        assert await _count(database, UPDATED_EVENTS) - updated_before == 2 * moved_patients

        async with database.read_sessions() as session:
            rows = (await session.execute(text(NEW_PATIENTS), {"marker": "%floort1x0%"})).all()
        # The captured patient and three replayed ones, each a whole write: its own row, search
        # tokens, audit event and webhook event under its own id.
        assert len(rows) == 4
        assert len({row[0] for row in rows}) == 4
        assert all(row[1] > 0 and row[2] == 1 and row[3] == 1 for row in rows)
    finally:
        await _clear(database)
        await database.dispose()


def test_each_run_moves_other_blocks_to_other_groups() -> None:
    """A run after another on the same database must not repeat the last run's moves: those
    change nothing, and a bulkUpdateClients that changes nothing is not the one measured."""
    world = Generated(
        database_url="sqlite+aiosqlite://", organization_id=1, provider_id=1, provider_ids=[1],
        api_key="k", patients=100_000, first_patient_id=2, last_patient_id=100_001,
        group_ids=list(range(1, 21)), tag_ids=[],
    )  # fmt: skip
    groups_now: dict[str, str] = {}  # each block's group, as the moves leave it
    no_ops = []
    for run in ("1765000000", "1765000600"):
        bulk = next(o for o in write_operations(world, run, 4) if o.name == "bulkUpdateClients")
        moves = [bulk.variables(i)["input"] for i in range(200)]
        assert all(len(move["ids"]) == 1000 for move in moves)
        changed_nothing = 0
        for move in moves:
            block = move["ids"][0]
            changed_nothing += groups_now.get(block) == move["user_group_id"]
            groups_now[block] = move["user_group_id"]
        no_ops.append(changed_nothing)
    # Within a run none; in the next run, a block's first move finds it in the new group one
    # time in twenty (20 groups), each block on its own.
    assert no_ops[0] == 0
    assert no_ops[1] < 15


def _run_id(n: int) -> str:
    """Run ids unlike each other, as time stamps of runs hours apart are."""
    return hashlib.sha256(str(n).encode()).hexdigest()[:10]


def test_no_run_repeats_the_last_runs_moves_wholesale() -> None:
    """Whatever two run ids are, the later run's first moves are no-ops for a few blocks at
    most (each block's group drawn on its own), never for all of them at once."""
    world = Generated(
        database_url="sqlite+aiosqlite://", organization_id=1, provider_id=1, provider_ids=[1],
        api_key="k", patients=20_000, first_patient_id=2, last_patient_id=20_001,
        group_ids=list(range(1, 21)), tag_ids=[],
    )  # fmt: skip
    worst = 0
    for pair in range(60):
        groups_now: dict[str, str] = {}
        for run in (_run_id(2 * pair), _run_id(2 * pair + 1)):
            ops = write_operations(world, run, 4)
            bulk = next(o for o in ops if o.name == "bulkUpdateClients")
            no_ops = 0
            for i in range(20):  # each of the 20 blocks once
                move = bulk.variables(i)["input"]
                block = move["ids"][0]
                no_ops += groups_now.get(block) == move["user_group_id"]
                groups_now[block] = move["user_group_id"]
        worst = max(worst, no_ops)
    assert worst <= 6


def test_the_report_shows_graphql_over_sql_for_writes() -> None:
    def result(layer: str, rps: float) -> dict[str, object]:
        figures = {"rps": rps, "median_ms": 1.0, "p99_ms": 2.0, "peak_rss_mb": None}
        return {"operation": "createClient", "layer": layer, "errors": 0, **figures}

    config = {"database": "sqlite", "workers": 2, "concurrency": 4, "duration": 5}
    machine = {"cores": 2, "cpu": "x", "ram_gb": 1, "python": "3", "sqlite": "3"}
    document = {
        "config": {**config, "write_duration": 5},
        "machine": {**machine, "postgresql": "15"},
        "patients": 10,
        "date": "d",
        "command": "c",
        "counts": {},
        "run_seconds": 1,
        "idle_rss_mb": 1,
        "operations": ["createClient"],
        "labels": {},
        "results": [result("graphql", 100.0), result("sql", 400.0)],
    }
    lines = report.markdown(document).splitlines()
    header = next(line for line in lines if line.startswith("| operation |"))
    row = next(line for line in lines if "createClient" in line)
    cells = dict(zip(header.split("|"), row.split("|"), strict=True))
    assert (cells[" GraphQL / bare "], cells[" GraphQL / SQL "]) == (" - ", " 4.0x ")
