"""Migration 0039: the name tallies of patients written before it are backfilled, so an upgraded
database counts how many patients share a name (duplicates/people.py) without a reindex.

The patients are written at head with plain SQL (no flush hook: no tallies), the database taken
back to 0038 (the table goes) and up again: 0039's downgrade and its backfill both run.
"""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import insert, select
from tests.db.test_migrations import empty_database

from carebook import builders
from carebook.audit.trail import load_without_trail
from carebook.auth.passwords import Passwords
from carebook.auth.roles import Role
from carebook.config import Settings
from carebook.db.engine import create_database
from carebook.db.migrate import alembic_config, upgrade
from carebook.duplicates.keys import tally_of
from carebook.duplicates.models import NameKey
from carebook.duplicates.people import RARE, common_names
from carebook.users.models import User

PREVIOUS = "0038_import_write_cost"
# Names as patients type them: accents, case, transposed, a phonetic twin, none at all.
NAMES = [
    ("John", "Smith"),
    ("JOHN", "Smyth"),
    ("Smith", "John"),
    ("José", "Núñez"),
    ("Jose", "Nunez"),
    ("", "Lonely"),
]


def _patients(organization_id: int, provider_id: int) -> list[dict[str, Any]]:
    """More John Smiths than a rare name has, the NAMES, and an archived John Smith."""
    rows = [
        {"first_name": "John", "last_name": "Smith", "dob": date(1940 + n, 1, 1)}
        for n in range(RARE)
    ]
    rows += [{"first_name": first, "last_name": last} for first, last in NAMES]
    rows.append({"first_name": "John", "last_name": "Smith", "active": False})
    common = {"organization_id": organization_id, "role": Role.PATIENT, "dietitian_id": provider_id}
    return [common | row for row in rows]


async def _write(settings: Settings, passwords: Passwords) -> int:
    """A provider (a John Smith too: staff are no patients) and patients written with Core
    statements, as an older version would have left them; the organization's id."""
    database = create_database(settings)
    try:
        async with database.write_sessions() as session, session.begin():
            load_without_trail(session)
            provider = await builders.provider(session, passwords, email="p@example.com")
            await session.execute(
                insert(User).values(first_name="John", last_name="Smith"),
                [{"organization_id": provider.organization_id, "role": Role.PROVIDER}],
            )
            rows = _patients(provider.organization_id, provider.user_id)
            await session.execute(insert(User), rows)
            return provider.organization_id
    finally:
        await database.dispose()


async def _read(settings: Settings, organization_id: int) -> tuple[Any, ...]:
    """The stored tallies, those the patients' rows give, and the organization's common names."""
    database = create_database(settings)
    try:
        async with database.read_sessions() as session:
            rows = await session.execute(select(NameKey.user_id, NameKey.key))
            stored = {user_id: key for user_id, key in rows}
            patients = await session.execute(
                select(User.id, User.first_name, User.last_name).where(
                    User.role == Role.PATIENT, User.active.is_(True)
                )
            )
            expected = {p.id: t for p in patients if (t := tally_of(p)) is not None}
            common = await session.run_sync(lambda s: common_names(s.connection(), organization_id))
            return stored, expected, common
    finally:
        await database.dispose()


def test_patients_written_before_0039_are_counted_without_a_reindex(
    database_url: str, settings: Settings, passwords: Passwords, tmp_path: Path
) -> None:
    with empty_database(database_url, tmp_path) as url:
        upgrade(url)
        at_url = settings.model_copy(update={"database_url": url})
        organization_id = asyncio.run(_write(at_url, passwords))
        command.downgrade(alembic_config(url), PREVIOUS)
        upgrade(url)
        stored, expected, common = asyncio.run(_read(at_url, organization_id))
    assert stored == expected
    # Every active patient with both names, nobody else: the archived John Smith, the provider
    # and the patient without a first name have no tally.
    assert len(stored) == RARE + len(NAMES) - 1
    # John Smith, Smyth and transposed count as one name: one more than a rare name has.
    john = tally_of(User(first_name="John", last_name="Smith"))
    assert common == {john: RARE + 3}
