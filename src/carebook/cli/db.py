"""``carebook db upgrade``."""

from __future__ import annotations

import typer

from carebook.cli.common import load_settings
from carebook.db.migrate import upgrade as run_upgrade

app = typer.Typer(help="Database maintenance.")


@app.callback()
def main() -> None:
    """Database maintenance."""


@app.command()
def upgrade(
    database_url: str | None = typer.Option(None, help="Overrides CAREBOOK_DATABASE_URL."),
) -> None:
    """Apply the Alembic migrations up to the newest one."""
    run_upgrade(load_settings(database_url).database_url)
    typer.echo("database is up to date")
