"""``carebook provider create``."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.accounts.staff import NewProvider, create_provider
from carebook.auth.passwords import Passwords
from carebook.cli.common import in_transaction, load_settings
from carebook.errors import Invalid

app = typer.Typer(help="Providers and their API keys.")


@app.callback()
def main() -> None:
    """Providers and their API keys."""


@app.command()
def create(
    email: str = typer.Option(..., help="The provider's email (their sign-in)."),
    first_name: str = typer.Option(..., help="First name."),
    last_name: str = typer.Option(..., help="Last name."),
    organization: str | None = typer.Option(
        None,
        help="Name of an existing organization to join (an unknown name is an error listing "
        "close matches); with --create-organization, the name of a new one. Without it, a new "
        "organization named after the provider.",
    ),
    create_organization: bool = typer.Option(
        False, "--create-organization", help="Create the organization named by --organization."
    ),
    organization_id: int | None = typer.Option(
        None, help="Id of an existing organization to join (when several share a name)."
    ),
    password: str | None = typer.Option(None, help="A password to sign in with (optional)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    database_url: str | None = typer.Option(None, help="Overrides CAREBOOK_DATABASE_URL."),
) -> None:
    """Create a provider (and their organization) and print a new API key."""
    if create_organization and not organization:
        typer.echo("error: --create-organization needs --organization NAME", err=True)
        raise typer.Exit(code=2)
    if organization_id is not None and organization:
        typer.echo("error: give --organization or --organization-id, not both", err=True)
        raise typer.Exit(code=2)
    settings = load_settings(database_url)
    passwords = Passwords(settings)

    async def work(session: AsyncSession) -> NewProvider:
        return await create_provider(
            session,
            passwords=passwords,
            email=email,
            first_name=first_name,
            last_name=last_name,
            organization_name=organization,
            organization_id=organization_id,
            new_organization=create_organization,
            password=password,
        )

    try:
        created = in_transaction(settings, work, command="provider create")
    except Invalid as error:
        for message in error.messages:
            typer.echo(f"error: {message.field or 'input'}: {message.message}", err=True)
            if message.message.startswith("No organization is named"):
                typer.echo("(to create it, add --create-organization)", err=True)
        raise typer.Exit(code=1) from None
    result = {
        "id": str(created.user_id),
        "organization_id": str(created.organization_id),
        "api_key": created.api_key,
    }
    if as_json:
        typer.echo(json.dumps(result))
        return
    console = Console()
    console.print(f"Provider [bold]{result['id']}[/] in organization {result['organization_id']}")
    console.print(f"API key (shown once): [bold]{result['api_key']}[/]")
