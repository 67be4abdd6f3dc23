"""``carebook search reindex``: rebuild the keyword-search tokens from the user rows."""

from __future__ import annotations

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.cli.common import in_transaction, load_settings
from carebook.search.index import reindex_users

app = typer.Typer(help="Keyword search index.")


@app.callback()
def main() -> None:
    """Keyword search index."""


@app.command()
def reindex(
    organization_id: int | None = typer.Option(None, help="Only this organization's users."),
    database_url: str | None = typer.Option(None, help="Overrides CAREBOOK_DATABASE_URL."),
) -> None:
    """Rebuild the search tokens (after a bulk import, or to repair the index)."""

    async def work(session: AsyncSession) -> int:
        connection = await session.connection()
        return await connection.run_sync(reindex_users, organization_id)

    count = in_transaction(load_settings(database_url), work, command="search reindex")
    typer.echo(f"reindexed {count} users")
