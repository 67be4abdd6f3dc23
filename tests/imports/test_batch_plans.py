"""How PostgreSQL plans an import batch: custom plans for its reads, none forced on its writes.

A batch's INSERTs check each row's foreign keys with a query the server prepares once and
reruns per row; under ``force_custom_plan`` it is planned again for every row (about three
times the cost of the blocking keys' INSERT). The look-ups and the duplicate checks' reads,
which choose among plans, keep custom plans; the rows, their index entries and the pairs found
are written with the session's own setting.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession
from tests.imports.support import import_file, write_csv
from tests.support.world import World

from carebook.auth.passwords import Passwords
from carebook.db.engine import Database
from carebook.duplicates import pairs, scan
from carebook.imports import service
from carebook.imports.duplicates import duplicate_notes
from carebook.imports.records import PatientRecord
from carebook.imports.service import ImportOptions

_SHOW = text("SHOW plan_cache_mode")


@pytest.mark.only_on("postgresql", reason="plan_cache_mode is PostgreSQL's; SQLite caches no plan")
async def test_a_batch_writes_with_the_sessions_plans_and_checks_with_custom_ones(
    database: Database,
    passwords: Passwords,
    world: World,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[tuple[str, str]] = []
    write_batch = service.write_batch

    def watched_write(connection: Connection, *args: Any) -> dict[int, list[int]]:
        seen.append(("writes", str(connection.execute(_SHOW).scalar_one())))
        return write_batch(connection, *args)

    async def check(session: AsyncSession, _: Sequence[tuple[int, PatientRecord]]) -> list[str]:
        seen.append(("check", str((await session.execute(_SHOW)).scalar_one())))
        return []

    monkeypatch.setattr(service, "write_batch", watched_write)
    rows = [("Pat", f"Plan{n}", f"plan{n}@example.com", "1990-01-01", "", "", "") for n in range(3)]
    options = ImportOptions(world.a.provider.user_id, on_batch=check)
    summary, report = await import_file(
        database,
        passwords,
        write_csv(tmp_path / "p.csv", rows),
        world.a.provider.organization_id,
        options=options,
        batch_size=2,
    )
    assert (summary.created, report) == (3, [])
    # The connection's own setting ("auto" unless the engine was made with custom plans).
    assert seen == [("writes", "auto"), ("check", "force_custom_plan")] * 2


@pytest.mark.only_on("postgresql", reason="plan_cache_mode is PostgreSQL's; SQLite caches no plan")
async def test_the_import_finds_duplicates_with_custom_plans_and_records_them_with_its_own(
    database: Database,
    passwords: Passwords,
    world: World,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[tuple[str, str]] = []
    find_for, insert_rows = scan.find_for, pairs.insert_rows

    def watched_find(connection: Connection, *args: Any) -> list[scan.Found]:
        seen.append(("find", str(connection.execute(_SHOW).scalar_one())))
        return find_for(connection, *args)

    def watched_insert(connection: Connection, *args: Any, **kwargs: Any) -> None:
        seen.append(("pairs", str(connection.execute(_SHOW).scalar_one())))
        insert_rows(connection, *args, **kwargs)

    monkeypatch.setattr(scan, "find_for", watched_find)
    monkeypatch.setattr(pairs, "insert_rows", watched_insert)
    # Two records of one person (another email each): a likely duplicate pair.
    rows = [("Dana", "Planner", f"dana{n}@example.com", "1971-03-04", "", "", "") for n in range(2)]
    options = ImportOptions(world.a.provider.user_id, on_batch=duplicate_notes)
    summary, report = await import_file(
        database,
        passwords,
        write_csv(tmp_path / "d.csv", rows),
        world.a.provider.organization_id,
        options=options,
    )
    assert (summary.created, report, len(summary.notes)) == (2, [], 1)
    assert seen == [("find", "force_custom_plan"), ("pairs", "auto")]


@pytest.mark.only_on("postgresql", reason="plan_cache_mode is PostgreSQL's; SQLite caches no plan")
async def test_a_corrected_patients_pairs_are_rechecked_with_custom_plans(
    database: Database,
    passwords: Passwords,
    world: World,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    org, options = world.a.provider.organization_id, ImportOptions(world.a.provider.user_id)
    first = [("Dana", "Planner", "dana@example.com", "1971-03-04", "", "", "MRN-DANA")]
    summary, _ = await import_file(
        database, passwords, write_csv(tmp_path / "a.csv", first), org, options=options
    )
    assert summary.created == 1
    seen: list[str] = []
    find_for = scan.find_for

    def watched_find(connection: Connection, *args: Any) -> list[scan.Found]:
        seen.append(str(connection.execute(_SHOW).scalar_one()))
        return find_for(connection, *args)

    monkeypatch.setattr(scan, "find_for", watched_find)
    # The same record, its last name and date of birth corrected: its pairs are re-checked.
    fixed = [("Dana", "Plainer", "dana@example.com", "1971-04-03", "", "", "MRN-DANA")]
    summary, _ = await import_file(
        database, passwords, write_csv(tmp_path / "b.csv", fixed), org, options=options
    )
    assert summary.updated == 1
    assert seen == ["force_custom_plan"]
