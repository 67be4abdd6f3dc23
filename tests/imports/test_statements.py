"""A batch is written set-wise: its statements do not grow with its rows."""

from __future__ import annotations

from pathlib import Path

from tests.imports.support import import_file, write_csv
from tests.support.db import statements_sent
from tests.support.world import World

from carebook.auth.passwords import Passwords
from carebook.db.engine import Database


def _rows(count: int, start: int) -> list[tuple[str, ...]]:
    return [
        ("Pat", f"Number{n}", f"set{n}@example.com", "1990-01-01", "", "", f"SET-{n}")
        for n in range(start, start + count)
    ]


async def _statements(
    database: Database, passwords: Passwords, path: Path, organization_id: int, size: int
) -> list[str]:
    with statements_sent(database) as sent:
        summary, report = await import_file(
            database, passwords, path, organization_id, batch_size=size
        )
    assert (summary.created, report) == (size, [])
    return sent


async def test_a_batch_of_40_sends_as_many_statements_as_a_batch_of_4(
    database: Database, passwords: Passwords, world: World, tmp_path: Path
) -> None:
    org = world.a.provider.organization_id
    small = write_csv(tmp_path / "small.csv", _rows(4, 0))
    large = write_csv(tmp_path / "large.csv", _rows(40, 100))
    few = await _statements(database, passwords, small, org, 4)
    many = await _statements(database, passwords, large, org, 40)
    # One INSERT of the batch's users (ids reserved first), not one per patient.
    assert [s for s in many if s.startswith("INSERT INTO users")] == [
        s for s in few if s.startswith("INSERT INTO users")
    ]
    assert len([s for s in many if s.startswith("INSERT INTO users")]) == 1
    assert len(many) == len(few)
