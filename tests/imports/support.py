"""Writing import files and running imports, through the command or in this process."""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.audit.models import AuditEvent
from carebook.audit.trail import command_origin, open_trail
from carebook.auth.passwords import Passwords
from carebook.db.engine import Database
from carebook.events.models import Event
from carebook.imports.reader import open_source
from carebook.imports.run import Plan, ReportLine, Summary, run_import
from carebook.imports.service import ImportOptions
from carebook.notifications.models import OutboxMessage
from carebook.search.models import SearchToken
from carebook.users.models import User

HEADER = ("first_name", "last_name", "email", "dob", "phone_number", "gender", "record_identifier")


def write_csv(path: Path, rows: Sequence[Sequence[Any]], header: Sequence[str] = HEADER) -> Path:
    """A CSV file with ``header`` and ``rows``."""
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def read_report(path: Path) -> list[tuple[int, str, str]]:
    """The report file's lines (row, field, message)."""
    with path.open(encoding="utf-8", newline="") as handle:
        lines = list(csv.reader(handle))
    assert lines[0] == ["row", "field", "message"]
    return [(int(row), field, message) for row, field, message in lines[1:]]


async def import_file(
    database: Database,
    passwords: Passwords,
    path: Path,
    organization_id: int,
    *,
    dry_run: bool = False,
    options: ImportOptions | None = None,
    batch_size: int = 1000,
) -> tuple[Summary, list[ReportLine]]:
    """Run the import as ``carebook import patients`` does, in this process."""
    source = open_source(path, format=None, encoding="utf-8-sig", mapping={})
    origin = command_origin()

    @asynccontextmanager
    async def sessions() -> AsyncIterator[AsyncSession]:
        async with database.write_sessions() as session:
            open_trail(session, origin, "cli:import patients")
            yield session

    plan = Plan(source, organization_id, None, options or ImportOptions(0), dry_run, batch_size)
    lines: list[ReportLine] = []
    summary = await run_import(plan, sessions, passwords, report=lines.extend)
    return summary, lines


async def counts(database: Database) -> dict[str, int]:
    """Rows of every table an import writes."""
    found: dict[str, int] = {}
    async with database.read_sessions() as session:
        for name, model in (
            ("users", User),
            ("tokens", SearchToken),
            ("events", Event),
            ("audit", AuditEvent),
            ("outbox", OutboxMessage),
        ):
            query = select(func.count()).select_from(model)
            found[name] = int((await session.execute(query)).scalar_one())
    return found


async def patients_by_email(database: Database, organization_id: int) -> dict[str, User]:
    """The organization's patients by email."""
    async with database.read_sessions() as session:
        query = select(User).where(User.organization_id == organization_id, User.role == "patient")
        return {user.email or "": user for user in (await session.execute(query)).scalars()}
