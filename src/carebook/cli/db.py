"""``carebook db upgrade``, ``recount``, ``backup`` and ``restore``."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.cli.common import in_transaction, load_settings
from carebook.db import backup as backups
from carebook.db.create import ensure_database
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
    """Apply the Alembic migrations up to the newest one, and name the ones applied (creating
    a missing PostgreSQL database first)."""
    url = load_settings(database_url).database_url
    if ensure_database(url):
        typer.echo("created the database")
    applied = run_upgrade(url)
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


@app.command()
def backup(
    file: Path = typer.Argument(..., help="The backup to write (must not exist)."),
    database_url: str | None = typer.Option(None, help="Overrides CAREBOOK_DATABASE_URL."),
) -> None:
    """Copy the SQLite database into FILE, consistent, while the server keeps serving.

    PostgreSQL: use pg_dump (docs/production.md, Backups).
    """
    try:
        backups.backup(load_settings(database_url).database_url, file)
    # sqlite3's own errors (a folder that does not exist, a file that is no database) name the
    # problem, never the data: shown as they are, without a traceback.
    except (backups.BackupError, sqlite3.Error) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=1) from None
    typer.echo(f"backed up to {file}")


@app.command()
def restore(
    file: Path = typer.Argument(..., help="A backup written by carebook db backup."),
    database_url: str | None = typer.Option(
        None, help="Where to restore; overrides CAREBOOK_DATABASE_URL."
    ),
) -> None:
    """Replace the SQLite database's contents with FILE's; refused while a server has it open.

    Run carebook db upgrade (or serve) afterwards: a backup from an older version is migrated.
    """
    try:
        backups.restore(file, load_settings(database_url).database_url)
    except (backups.BackupError, sqlite3.Error) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=1) from None
    typer.echo(f"restored {file}")
