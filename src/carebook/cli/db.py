"""``carebook db upgrade`` and ``carebook db recount``."""

from __future__ import annotations

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.cli.common import in_transaction, load_settings
from carebook.db.migrate import upgrade as run_upgrade
from carebook.search import counters

app = typer.Typer(help="Database maintenance.")


@app.callback()
def main() -> None:
    """Database maintenance."""


@app.command()
def upgrade(
    database_url: str | None = typer.Option(None, help="Overrides CAREBOOK_DATABASE_URL."),
) -> None:
    """Apply the Alembic migrations up to the newest one, and name the ones applied."""
    applied = run_upgrade(load_settings(database_url).database_url)
    if not applied:
        typer.echo("database is up to date: no migration to apply")
        return
    plural = "" if len(applied) == 1 else "s"
    typer.echo(f"applied {len(applied)} migration{plural}: {', '.join(applied)}")


@app.command()
def recount(
    database_url: str | None = typer.Option(None, help="Overrides CAREBOOK_DATABASE_URL."),
) -> None:
    """Rebuild the user counters (usersCount, deep pages) from the users table.

    Database triggers keep them exact on every write; this repairs them after a bulk load that
    ran with the triggers disabled.
    """

    async def work(session: AsyncSession) -> None:
        await counters.recount(session)

    in_transaction(load_settings(database_url), work, command="db recount")
    typer.echo("user counters rebuilt")
