"""``carebook audit export``: the audit trail as JSON lines, streamed."""

from __future__ import annotations

import asyncio
import json
import sys
from contextlib import nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import typer

from carebook import times
from carebook.audit.models import AuditEvent
from carebook.audit.queries import EventFilter, stream_events
from carebook.cli.common import load_settings
from carebook.config import Settings
from carebook.db.engine import create_database

app = typer.Typer(help="The audit trail of patient-record reads and writes.")


@app.callback()
def main() -> None:
    """The audit trail of patient-record reads and writes."""


def _time(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = times.parse(value)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint=name) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def as_json(row: AuditEvent) -> dict[str, Any]:
    """One event as the JSON object of an export line (ids as strings, as in the API)."""

    def text(value: int | None) -> str | None:
        return None if value is None else str(value)

    return {
        "id": str(row.id),
        "occurred_at": row.occurred_at.isoformat(),
        "organization_id": str(row.organization_id),
        "actor_id": text(row.actor_user_id),
        "actor_role": row.actor_role,
        "credential": row.credential,
        "operation": row.operation,
        "action": row.action,
        "record_type": row.record_type,
        "record_id": text(row.record_id),
        "allowed": row.allowed,
        "client_address": row.client_address,
        "request_id": row.request_id,
    }


async def _export(settings: Settings, wanted: EventFilter, out: TextIO) -> int:
    database = create_database(settings)
    count = 0
    try:
        # A streamed result lives in a server-side cursor, which PostgreSQL keeps only inside
        # a transaction: the door's stream sessions open one.
        async with database.stream_sessions() as session, session.begin():
            async for row in stream_events(session, wanted):
                out.write(json.dumps(as_json(row), separators=(",", ":")) + "\n")
                count += 1
    finally:
        await database.dispose()
    return count


@app.command()
def export(
    organization_id: int | None = typer.Option(None, help="Only this organization's events."),
    since: str | None = typer.Option(None, help="Events at or after this ISO 8601 time."),
    until: str | None = typer.Option(None, help="Events before this ISO 8601 time."),
    output: Path | None = typer.Option(None, help="Write to this file instead of stdout."),
    database_url: str | None = typer.Option(None, help="Overrides CAREBOOK_DATABASE_URL."),
) -> None:
    """Write audit events as JSON lines, oldest first (streamed, not loaded into memory)."""
    wanted = EventFilter(
        organization_id=organization_id,
        since=_time(since, "--since"),
        until=_time(until, "--until"),
    )
    target = output.open("w", encoding="utf-8") if output else nullcontext(sys.stdout)
    with target as out:
        count = asyncio.run(_export(load_settings(database_url), wanted, out))
    if output is not None:  # the count on stdout would corrupt a stdout export
        typer.echo(f"exported {count} audit events to {output}")
