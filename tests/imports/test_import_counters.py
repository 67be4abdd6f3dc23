"""An import's batches keep the patient counters exact: new patients, renames and both at once."""

from __future__ import annotations

from pathlib import Path

from tests.imports.support import import_file, write_csv
from tests.support.counters import assert_counters_match
from tests.support.world import World

from carebook.auth.passwords import Passwords
from carebook.db.engine import Database

# Last names in many blocks, block starts themselves, case and accents.
NAMES = ["Baker", "baker", "Ba", "B", "Adams", "Zoë", "Zoe", "Ng", "Øst", "O'Neil", "1st"]


def _rows(numbers: range, names: list[str]) -> list[tuple[str, ...]]:
    return [
        ("Cnt", names[n % len(names)], f"cnt{n}@example.com", "", "", "", f"CNT-{n}")
        for n in numbers
    ]


async def test_batches_of_new_and_renamed_patients_keep_every_counter(
    database: Database, passwords: Passwords, world: World, tmp_path: Path
) -> None:
    org = world.a.provider.organization_id
    first = _rows(range(40), NAMES)
    first[5] = ("Cnt", "Bad", "not an email", "", "", "", "CNT-5")  # reported, not counted
    summary, _ = await import_file(
        database, passwords, write_csv(tmp_path / "a.csv", first), org, batch_size=7
    )
    assert (summary.created, summary.failed_rows) == (39, 1)
    async with database.read_sessions() as session:
        await assert_counters_match(session)
    # The same patients renamed into other blocks, and new ones, in the same batches: each
    # batch updates some patients and inserts others in one transaction.
    second = _rows(range(20, 60), list(reversed(NAMES)))
    summary, _ = await import_file(
        database, passwords, write_csv(tmp_path / "b.csv", second), org, batch_size=9
    )
    assert (summary.created, summary.updated, summary.failed_rows) == (20, 20, 0)
    async with database.read_sessions() as session:
        await assert_counters_match(session)
