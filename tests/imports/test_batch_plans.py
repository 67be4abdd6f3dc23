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
from carebook.imports.run import Summary
from carebook.imports.service import ImportOptions

_SHOW = text("SHOW plan_cache_mode")


def _watch(
    monkeypatch: pytest.MonkeyPatch, owner: Any, name: str, seen: list[tuple[str, str]]
) -> None:
    """``owner.name`` (a function taking a Connection first) notes the plan_cache_mode it runs
    with in ``seen``, under its own name, then runs."""
    original = getattr(owner, name)

    def watched(connection: Connection, *args: Any, **kwargs: Any) -> Any:
        seen.append((name, str(connection.execute(_SHOW).scalar_one())))
        return original(connection, *args, **kwargs)

    monkeypatch.setattr(owner, name, watched)


async def _import(
    database: Database,
    passwords: Passwords,
    world: World,
    path: Path,
    rows: list[tuple[str, ...]],
    options: ImportOptions,
    batch_size: int = 1000,
) -> Summary:
    """Import ``rows`` (written to ``path``) into organization A; the file has no bad row."""
    org = world.a.provider.organization_id
    summary, report = await import_file(
        database, passwords, write_csv(path, rows), org, options=options, batch_size=batch_size
    )
    assert report == []
    return summary


@pytest.mark.only_on("postgresql", reason="plan_cache_mode is PostgreSQL's; SQLite caches no plan")
async def test_a_batch_writes_with_the_sessions_plans_and_checks_with_custom_ones(
    database: Database,
    passwords: Passwords,
    world: World,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[tuple[str, str]] = []
    _watch(monkeypatch, service, "write_batch", seen)

    async def check(session: AsyncSession, _: Sequence[tuple[int, PatientRecord]]) -> list[str]:
        seen.append(("check", str((await session.execute(_SHOW)).scalar_one())))
        return []

    rows = [("Pat", f"Plan{n}", f"plan{n}@example.com", "1990-01-01", "", "", "") for n in range(3)]
    options = ImportOptions(world.a.provider.user_id, on_batch=check)
    summary = await _import(database, passwords, world, tmp_path / "p.csv", rows, options, 2)
    assert summary.created == 3
    # The connection's own setting ("auto" unless the engine was made with custom plans).
    assert seen == [("write_batch", "auto"), ("check", "force_custom_plan")] * 2


@pytest.mark.only_on("postgresql", reason="plan_cache_mode is PostgreSQL's; SQLite caches no plan")
async def test_the_import_finds_duplicates_with_custom_plans_and_records_them_with_its_own(
    database: Database,
    passwords: Passwords,
    world: World,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[tuple[str, str]] = []
    _watch(monkeypatch, scan, "find_for", seen)
    _watch(monkeypatch, pairs, "insert_rows", seen)
    # Two records of one person (another email each): a likely duplicate pair.
    rows = [("Dana", "Planner", f"dana{n}@example.com", "1971-03-04", "", "", "") for n in range(2)]
    options = ImportOptions(world.a.provider.user_id, on_batch=duplicate_notes)
    summary = await _import(database, passwords, world, tmp_path / "d.csv", rows, options)
    assert (summary.created, len(summary.notes)) == (2, 1)
    assert seen == [("find_for", "force_custom_plan"), ("insert_rows", "auto")]


@pytest.mark.only_on("postgresql", reason="plan_cache_mode is PostgreSQL's; SQLite caches no plan")
async def test_a_corrected_patients_pairs_are_rechecked_with_custom_plans(
    database: Database,
    passwords: Passwords,
    world: World,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    options = ImportOptions(world.a.provider.user_id)
    first = [("Dana", "Planner", "dana@example.com", "1971-03-04", "", "", "MRN-DANA")]
    summary = await _import(database, passwords, world, tmp_path / "a.csv", first, options)
    assert summary.created == 1
    seen: list[tuple[str, str]] = []
    _watch(monkeypatch, scan, "find_for", seen)
    # The same record, its last name and date of birth corrected: its pairs are re-checked.
    fixed = [("Dana", "Plainer", "dana@example.com", "1971-04-03", "", "", "MRN-DANA")]
    summary = await _import(database, passwords, world, tmp_path / "b.csv", fixed, options)
    assert summary.updated == 1
    assert seen == [("find_for", "force_custom_plan")]
