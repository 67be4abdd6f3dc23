"""``carebook``: serve, db upgrade, provider create, organization sign-up, demo, outbox, events.

Each subcommand's module is imported only when that subcommand runs (or shows its own help):
importing them all, with the application and the whole GraphQL schema that ``serve`` and
``schema`` need, cost every ``carebook ...`` process about 1.5 s of CPU before it did anything
(docs/performance.md, "Start-up"). ``carebook --help`` lists them from the summaries below.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperCommand, TyperGroup

if TYPE_CHECKING:  # typer's own copy of click (typer >= 0.26); annotations only
    from typer._click import Command, Context


@dataclass(frozen=True)
class Subcommand:
    """A subcommand known by name and summary until it runs; then its module is imported."""

    name: str
    module: str
    attribute: str  # a command's function, or a group's typer.Typer
    summary: str  # the first paragraph of its help, as `carebook --help` shows it
    group: bool

    def load(self) -> Command:
        """The command exactly as registering it on the top-level app would build it."""
        target = getattr(importlib.import_module(self.module), self.attribute)
        wrapper = typer.Typer()
        if self.group:
            wrapper.add_typer(target, name=self.name)
        else:
            wrapper.command(self.name)(target)
        return typer.main.get_group(wrapper).commands[self.name]


# In the order `carebook --help` lists them: commands first, then groups (typer's own order),
# with `schema` (defined below) between the two. tests/cli/test_lazy.py checks each summary
# against the loaded command's help.
SUBCOMMANDS = (
    Subcommand("serve", "carebook.cli.serve", "serve",
               "Run the API server (migrating the database first).", group=False),
    Subcommand("demo", "carebook.cli.demo", "demo",
               "Fill the database with a demo practice and print an API key to try the API with.",
               group=False),
    Subcommand("db", "carebook.cli.db", "app", "Database maintenance.", group=True),
    Subcommand("provider", "carebook.cli.provider", "app", "Providers and their API keys.",
               group=True),
    Subcommand("organization", "carebook.cli.organization", "app", "Organizations (practices).",
               group=True),
    Subcommand("search", "carebook.cli.search", "app", "Keyword search index.", group=True),
    Subcommand("duplicates", "carebook.cli.duplicates", "app", "Duplicate detection.", group=True),
    Subcommand("outbox", "carebook.cli.outbox", "app",
               "List outbox messages (ids and kinds only), show one, or deliver them once.",
               group=True),
    Subcommand("audit", "carebook.cli.audit", "app",
               "The audit trail of patient-record reads and writes.", group=True),
    Subcommand("events", "carebook.cli.events", "app",
               "The change feed: an organization's events (ids and field names, no patient data).",
               group=True),
    Subcommand("import", "carebook.cli.imports", "app", "Bring records in from files.",
               group=True),
)  # fmt: skip


class _Placeholder(TyperCommand):
    """Stands in for a subcommand not yet imported: its name and summary, for listings."""


class LazyGroup(TyperGroup):
    """The top-level group: subcommands are placeholders until a command line names one."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        defined = dict(self.commands)
        self.commands.clear()
        for subcommand in SUBCOMMANDS:
            if subcommand.group and defined:  # the commands defined here come before the groups
                self.commands.update(defined)
                defined = {}
            self.commands[subcommand.name] = _Placeholder(
                name=subcommand.name, help=subcommand.summary
            )
        self.commands.update(defined)

    def resolve_command(
        self, ctx: Context, args: list[str]
    ) -> tuple[str | None, Command | None, list[str]]:
        if args:
            self.load(args[0])
        return super().resolve_command(ctx, args)

    def load(self, name: str) -> None:
        """Replace the placeholder named ``name`` (if it is one) with the real command."""
        if not isinstance(self.commands.get(name), _Placeholder):
            return
        for subcommand in SUBCOMMANDS:
            if subcommand.name == name:
                self.commands[name] = subcommand.load()


# Tracebacks never show local variables: they may hold secrets or patient data.
app = typer.Typer(
    cls=LazyGroup,
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


@app.command("schema")
def schema() -> None:
    """Print the GraphQL schema (SDL); the committed schema.graphql is this output."""
    # Deferred for start-up cost: the schema's import (~0.4 s of CPU) is for this command only.
    from carebook.graphql.schema import build_schema

    typer.echo(build_schema().as_str())


if __name__ == "__main__":
    app()
