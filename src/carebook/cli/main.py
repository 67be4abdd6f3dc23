"""``carebook``: serve, db upgrade, provider create, organization sign-up, demo, outbox, events."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version

import typer

from carebook.cli import (
    audit,
    db,
    demo,
    duplicates,
    events,
    imports,
    organization,
    outbox,
    provider,
    search,
    serve,
)
from carebook.graphql.schema import build_schema

# Tracebacks never show local variables: they may hold secrets or patient data.
app = typer.Typer(
    help="Carebook: patient management with a Healthie-compatible GraphQL API.",
    pretty_exceptions_show_locals=False,
)


def _print_version(given: bool) -> None:
    if not given:
        return
    try:
        typer.echo(f"carebook {package_version('carebook')}")
    except PackageNotFoundError:  # run from a source tree that was never installed
        typer.echo("carebook (not installed: version unknown)")
    raise typer.Exit


@app.callback()
def main(
    version: bool = typer.Option(
        False,
        "--version",
        callback=_print_version,
        is_eager=True,
        help="Print the version (from the installed package's metadata) and exit.",
    ),
) -> None:
    """Carebook: patient management with a Healthie-compatible GraphQL API."""


app.command("serve")(serve.serve)
app.add_typer(db.app, name="db")
app.add_typer(provider.app, name="provider")
app.add_typer(organization.app, name="organization")
app.add_typer(search.app, name="search")
app.add_typer(duplicates.app, name="duplicates")
app.command("demo")(demo.demo)
app.add_typer(outbox.app, name="outbox")
app.add_typer(audit.app, name="audit")
app.add_typer(events.app, name="events")
app.add_typer(imports.app, name="import")


@app.command("schema")
def schema() -> None:
    """Print the GraphQL schema (SDL); the committed schema.graphql is this output."""
    typer.echo(build_schema().as_str())


if __name__ == "__main__":
    app()
