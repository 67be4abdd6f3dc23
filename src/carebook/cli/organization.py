"""``carebook organization sign-up`` and ``timezone``: a practice's settings."""

from __future__ import annotations

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.cli.common import in_transaction, load_settings
from carebook.errors import Invalid
from carebook.organizations.service import set_open_sign_up, set_timezone

app = typer.Typer(help="Organizations (practices).")


@app.callback()
def main() -> None:
    """Organizations (practices)."""


@app.command("sign-up")
def sign_up(
    organization_id: int = typer.Argument(..., help="The organization's id."),
    open_sign_up: bool | None = typer.Option(
        None,
        "--open/--invite-only",
        help="--open: anyone may sign up as a patient by naming a provider (signUp's "
        "dietitian_id); --invite-only: only with an invite code. Without either, print the "
        "current setting.",
    ),
    database_url: str | None = typer.Option(None, help="Overrides CAREBOOK_DATABASE_URL."),
) -> None:
    """Show or change whether patients may sign up without an invite code."""

    async def work(session: AsyncSession) -> bool:
        return await set_open_sign_up(session, organization_id, open_sign_up)

    try:
        is_open = in_transaction(load_settings(database_url), work, command="organization sign-up")
    except Invalid as error:
        for message in error.messages:
            typer.echo(f"error: {message.message}", err=True)
        raise typer.Exit(code=1) from None
    state = "open" if is_open else "invite-only"
    typer.echo(f"organization {organization_id}: patient sign-up is {state}")


@app.command("timezone")
def timezone(
    organization_id: int = typer.Argument(..., help="The organization's id."),
    zone: str | None = typer.Argument(
        None,
        help='An IANA time zone, e.g. America/New_York; "" clears it. Without it, print the '
        "current one.",
    ),
    database_url: str | None = typer.Option(None, help="Overrides CAREBOOK_DATABASE_URL."),
) -> None:
    """Show or set the time zone date-times are written in for people who have none."""

    async def work(session: AsyncSession) -> str | None:
        return await set_timezone(session, organization_id, zone)

    try:
        now = in_transaction(load_settings(database_url), work, command="organization timezone")
    except Invalid as error:
        for message in error.messages:
            typer.echo(f"error: {message.message}", err=True)
        raise typer.Exit(code=1) from None
    typer.echo(f"organization {organization_id}: time zone {now or 'UTC (none set)'}")
