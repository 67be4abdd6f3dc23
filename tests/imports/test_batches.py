"""Batches: each commits whole or not at all, and the summary says which rows went in."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from tests.audit.cleanup import empty_sqlite_table
from tests.imports.support import counts, import_file, patients_by_email, write_csv
from tests.support.world import World, nonempty_tables

from carebook.auth.passwords import Passwords
from carebook.db.engine import Database
from carebook.imports.records import PatientRecord
from carebook.imports.service import ImportOptions
from carebook.search.models import SearchToken
from carebook.tables import data_tables


def _rows(count: int, start: int = 0) -> list[tuple[str, ...]]:
    return [
        ("Pat", f"Number{n}", f"pat{n}@example.com", "1990-01-01", "", "", f"MRN-{n}")
        for n in range(start, start + count)
    ]


async def test_a_batch_that_fails_to_write_leaves_nothing_and_stops_the_import(
    database: Database, passwords: Passwords, world: World, tmp_path: Path
) -> None:
    org = world.a.provider.organization_id
    path = write_csv(tmp_path / "p.csv", _rows(25))
    batches = 0
    before = await counts(database)

    async def second_batch_refused(
        session: AsyncSession, users: Sequence[tuple[int, PatientRecord]]
    ) -> list[str]:
        nonlocal batches
        batches += 1
        if batches == 2:  # after its rows were flushed: the database refuses a NULL last name
            await session.execute(text("UPDATE users SET last_name = NULL WHERE id = :id"),
                                  {"id": users[0][1].id})  # fmt: skip
        return []

    options = ImportOptions(0, on_batch=second_batch_refused)
    summary, report = await import_file(
        database, passwords, path, org, options=options, batch_size=10
    )
    assert summary.created == 10 and summary.settled_through == 11  # rows 2..11: batch one
    assert summary.stopped is not None and "rows 12 to 21" in summary.stopped
    assert [row for row, _, _ in report] == list(range(12, 22))
    after = await counts(database)
    assert after["users"] == before["users"] + 10
    patients = await patients_by_email(database, org)
    assert "pat9@example.com" in patients and "pat10@example.com" not in patients
    # The index, the events and the audit trail hold batch one and nothing of batch two.
    async with database.read_sessions() as session:
        indexed = select(func.count(func.distinct(SearchToken.user_id))).where(
            SearchToken.user_id.in_([p.id for p in patients.values()])
        )
        assert (await session.execute(indexed)).scalar_one() == len(patients)
    assert after["events"] == before["events"] + 10
    assert after["audit"] == before["audit"] + 10

    # The re-run after the cause is gone finishes the job and duplicates no one.
    summary, report = await import_file(database, passwords, path, org, batch_size=10)
    assert (summary.created, summary.updated, summary.stopped, report) == (15, 10, None, [])
    assert (await counts(database))["users"] == before["users"] + 25


async def test_two_rows_of_one_file_naming_one_person_make_one_record(
    database: Database, passwords: Passwords, world: World, tmp_path: Path
) -> None:
    org = world.a.provider.organization_id
    rows = [*_rows(2), ("Patricia", "Number0", "", "", "", "", "MRN-0"),
            ("Pat", "Other", "pat1@example.com", "", "", "", "MRN-1b")]  # fmt: skip
    summary, report = await import_file(
        database, passwords, write_csv(tmp_path / "p.csv", rows), org
    )
    assert (summary.created, summary.updated) == (2, 1)
    # Pat1's email with another record identifier is another person sharing it: refused, as
    # createClient refuses a taken email, rather than written over Pat1.
    assert report == [
        (5, "email", "Email has already been taken (by a patient with another record_identifier)")
    ]
    patients = await patients_by_email(database, org)
    assert patients["pat0@example.com"].first_name == "Patricia"
    assert patients["pat1@example.com"].record_identifier == "MRN-1"


async def test_a_failed_row_leaves_the_record_it_names_as_it_was(
    database: Database, passwords: Passwords, world: World, tmp_path: Path
) -> None:
    org = world.a.provider.organization_id
    await import_file(database, passwords, write_csv(tmp_path / "a.csv", _rows(1)), org)
    bad = [("Renamed", "Number0", "pat0@example.com", "not a date", "", "", "MRN-0")]
    summary, report = await import_file(
        database, passwords, write_csv(tmp_path / "b.csv", bad), org
    )
    assert summary.failed_rows == 1 and [(r, f) for r, f, _ in report] == [(2, "dob")]
    assert (await patients_by_email(database, org))["pat0@example.com"].first_name == "Pat"


async def test_a_100000_row_file_with_3_bad_rows(
    database: Database, passwords: Passwords, world: World, tmp_path: Path
) -> None:
    org = world.a.provider.organization_id
    rows = _rows(100_000)
    for index, fault in ((17, 3), (50_000, 2), (99_999, 0)):  # bad dob, email, first name
        rows[index] = tuple(("1990-02-31" if fault == 3 else "x@") if i == fault else value
                            for i, value in enumerate(rows[index]))  # fmt: skip
    rows[99_999] = ("", *rows[99_999][1:])
    before = await counts(database)
    summary, report = await import_file(
        database, passwords, write_csv(tmp_path / "big.csv", rows), org
    )
    assert (summary.rows, summary.created, summary.failed_rows) == (100_000, 99_997, 3)
    assert [(row, field) for row, field, _ in report] == [
        (19, "dob"), (50_002, "email"), (100_001, "first_name"),
    ]  # fmt: skip
    assert (await counts(database))["users"] == before["users"] + 99_997
    await _empty_at_once(database)


async def _empty_at_once(database: Database) -> None:
    """Every table emptied without the fixture's per-row work for 100,000 patients: the
    counters' triggers and the foreign-key checks of each row (minutes on a busy machine on
    PostgreSQL; on SQLite 13 s in CI, most of it the foreign-key checks of each deleted user
    against every table that refers to users, even with the triggers off).

    PostgreSQL: TRUNCATE. SQLite: on a connection of its own, whose foreign keys are off (a
    connection's default; Carebook's turn them on), in one transaction, each table holding rows
    by one DELETE, its triggers dropped first and recreated from their own SQL after
    (tests/audit/cleanup.py, as the audit trail is emptied): a DELETE without a WHERE, triggers or
    foreign keys to check frees the table's pages at once instead of visiting each row. Every
    table of data goes, so no reference is left dangling; the counters the triggers keep are
    among them. A failure rolls everything back, the triggers included."""
    tables = data_tables()
    if database.engine.dialect.name == "postgresql":
        names = ", ".join(table.name for table in tables)
        async with database.engine.begin() as connection:
            await connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        return
    # A plain engine, not Carebook's: its connections keep SQLite's default, foreign keys off.
    plain = create_async_engine(database.engine.url, connect_args={"timeout": 30})
    try:
        async with plain.begin() as connection:
            assert (await connection.exec_driver_sql("PRAGMA foreign_keys")).one() == (0,)
            # Explicitly: the driver would begin only before a DML statement, after the first
            # DROP TRIGGER had already committed on its own.
            await connection.exec_driver_sql("BEGIN IMMEDIATE")
            for name in await nonempty_tables(connection, tables):
                await empty_sqlite_table(connection, name)
    finally:
        await plain.dispose()
