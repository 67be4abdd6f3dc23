"""``carebook duplicates reindex|scan``: blocking keys and candidate pairs of an organization."""

from __future__ import annotations

import asyncio
import time

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.cli.common import in_transaction, load_settings
from carebook.db.engine import create_database
from carebook.duplicates import service

app = typer.Typer(help="Duplicate detection.")
ORGANIZATION = typer.Option(..., help="The organization whose patients are keyed or compared.")
DATABASE_URL = typer.Option(None, help="Overrides CAREBOOK_DATABASE_URL.")


@app.callback()
def main() -> None:
    """Duplicate detection."""


@app.command()
def reindex(organization_id: int = ORGANIZATION, database_url: str | None = DATABASE_URL) -> None:
    """Rebuild the blocking keys (after upgrading to 0029_duplicate_pairs, or a bulk load)."""

    async def work(session: AsyncSession) -> int:
        return await service.reindex_organization(session, organization_id)

    count = in_transaction(load_settings(database_url), work, command="duplicates reindex")
    typer.echo(f"keyed {count} patients")


async def _scan(database_url: str | None, organization_id: int) -> int:
    database = create_database(load_settings(database_url))
    try:
        # Found in a streaming read (a server-side cursor on PostgreSQL; a deferred
        # transaction on SQLite); only the recording takes the write lock.
        async with database.stream_sessions() as session, session.begin():
            found = await service.find_in_organization(session, organization_id)
        async with database.write_sessions() as session, session.begin():
            return await service.record_found(session, organization_id, found)
    finally:
        await database.dispose()


@app.command()
def scan(organization_id: int = ORGANIZATION, database_url: str | None = DATABASE_URL) -> None:
    """Find every likely duplicate pair of the organization and list them for its staff."""
    started = time.perf_counter()
    count = asyncio.run(_scan(database_url, organization_id))
    typer.echo(f"{count} candidate pairs in {time.perf_counter() - started:.1f} s")
