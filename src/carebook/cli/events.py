"""``carebook events``: an organization's change feed as JSON lines; ``purge``: its retention."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import TextIO

import typer

from carebook.cli.common import load_settings
from carebook.config import Settings
from carebook.db.engine import create_database
from carebook.events.catalog import EVENT_TYPES
from carebook.webhooks.feed import FeedFilter, feed_entry, stream_events, unknown_event_type
from carebook.webhooks.retention import purge_events

app = typer.Typer(
    help="The change feed: an organization's events (ids and field names, no patient data).",
    invoke_without_command=True,
    pretty_exceptions_show_locals=False,
)


async def _print(settings: Settings, wanted: FeedFilter, limit: int | None, out: TextIO) -> None:
    database = create_database(settings)
    try:
        # A streamed result lives in a server-side cursor, which PostgreSQL keeps only inside
        # a transaction: the door's stream sessions open one.
        async with database.stream_sessions() as session, session.begin():
            async for event in stream_events(session, wanted, limit=limit):
                out.write(json.dumps(feed_entry(event), separators=(",", ":")) + "\n")
    finally:
        await database.dispose()


@app.callback()
def events(
    ctx: typer.Context,
    organization: int | None = typer.Option(None, help="The organization's id (required)."),
    after: int = typer.Option(0, help="Only events after this id (the last id you have)."),
    limit: int | None = typer.Option(None, min=1, help="At most this many events."),
    event_type: str | None = typer.Option(None, "--type", help="Only events of this type."),
    database_url: str | None = typer.Option(None, help="Overrides CAREBOOK_DATABASE_URL."),
) -> None:
    """Print the organization's events after --after, oldest first, one JSON object a line:
    the body a webhook receives, with the event's id (the cursor) and created_at."""
    if ctx.invoked_subcommand is not None:
        return
    if organization is None:
        raise typer.BadParameter("an organization id is needed", param_hint="--organization")
    if unknown_event_type(event_type):
        known = ", ".join(EVENT_TYPES)
        raise typer.BadParameter(f"unknown event type; one of: {known}", param_hint="--type")
    wanted = FeedFilter(organization_id=organization, after=after, event_type=event_type)
    asyncio.run(_print(load_settings(database_url), wanted, limit, sys.stdout))


@app.command("purge")
def purge(
    database_url: str | None = typer.Option(None, help="Overrides CAREBOOK_DATABASE_URL."),
) -> None:
    """Delete the events older than CAREBOOK_EVENT_RETENTION_DAYS once (serve does it hourly)."""
    settings = load_settings(database_url)

    async def run() -> int:
        database = create_database(settings)
        try:
            return await purge_events(database, settings)
        finally:
            await database.dispose()

    deleted = asyncio.run(run())
    typer.echo(f"deleted {deleted} events older than {settings.event_retention_days} days")
