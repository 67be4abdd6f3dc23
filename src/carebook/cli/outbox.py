"""``carebook outbox``: the listing, ``show`` (one email rendered) and ``deliver`` (one pass)."""

from __future__ import annotations

import asyncio
from email.message import EmailMessage

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.audit.service import Target
from carebook.audit.trail import record_write
from carebook.cli.common import in_transaction, load_settings
from carebook.db.engine import create_database
from carebook.notifications.delivery import (
    DeliveryReport,
    PermanentFailure,
    deliver_pending,
    preview,
)
from carebook.notifications.models import OutboxMessage, OutboxStatus
from carebook.users.models import User

app = typer.Typer(
    help="List outbox messages (ids and kinds only), show one, or deliver them once.",
    invoke_without_command=True,
    pretty_exceptions_show_locals=False,
)


@app.callback()
def outbox(
    ctx: typer.Context,
    # An Enum: a misspelt status is refused with the valid ones, not answered with no rows.
    status: OutboxStatus | None = typer.Option(None, help="Only messages in this status."),
    limit: int = typer.Option(50, help="At most this many, newest first."),
    database_url: str | None = typer.Option(None, help="Overrides CAREBOOK_DATABASE_URL."),
) -> None:
    """List outbox messages (ids and kinds only: no patient details are printed)."""
    if ctx.invoked_subcommand is not None:
        return

    async def work(session: AsyncSession) -> list[OutboxMessage]:
        query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
        if status:
            query = query.where(OutboxMessage.status == status.value)
        return list((await session.execute(query)).scalars())

    rows = in_transaction(load_settings(database_url), work, command="outbox")
    table = Table("id", "kind", "recipient user", "status", "attempts", "created", "last error")
    for row in rows:
        table.add_row(
            str(row.id),
            row.kind,
            str(row.recipient_user_id),
            row.status,
            str(row.attempts),
            row.created_at.isoformat(timespec="seconds"),
            row.last_error or "",
        )
    Console(width=160).print(table)


@app.command("show")
def show(
    message_id: int = typer.Argument(..., help="The message's id (from the listing)."),
    database_url: str | None = typer.Option(None, help="Overrides CAREBOOK_DATABASE_URL."),
) -> None:
    """Print one message as it would be sent (headers and text), without an SMTP server.

    It shows the recipient's address and the email's text: this is the operator's own
    server, and the output goes to their terminal only (nothing is logged).
    """
    settings = load_settings(database_url)

    async def work(session: AsyncSession) -> tuple[OutboxMessage | None, EmailMessage]:
        email = await preview(session, settings, message_id)
        row = await session.get(OutboxMessage, message_id)
        recipient = await session.get(User, row.recipient_user_id) if row else None
        if recipient is not None and recipient.is_patient:
            # A patient's name and address are shown: a read of their record, in the trail.
            target = Target(recipient.id, recipient.organization_id)
            await record_write(session, [target], action="read")
        return row, email

    try:
        row, email = in_transaction(settings, work, command="outbox show")
    except PermanentFailure as error:
        typer.echo(f"error: message {message_id} cannot be shown: {error}", err=True)
        raise typer.Exit(1) from None
    if row is not None:
        typer.echo(f"Outbox message {row.id}: {row.kind}, {row.status}")
    for header in ("Date", "From", "To", "Subject", "Message-ID"):
        typer.echo(f"{header}: {email[header]}")
    body = email.get_body(preferencelist=("plain",))
    typer.echo("")
    typer.echo(body.get_content() if body is not None else "")


@app.command("deliver")
def deliver(
    database_url: str | None = typer.Option(None, help="Overrides CAREBOOK_DATABASE_URL."),
    limit: int = typer.Option(500, help="At most this many messages in this pass."),
) -> None:
    """Deliver the due messages once over SMTP (CAREBOOK_SMTP_URL), then exit."""
    settings = load_settings(database_url)
    if not settings.smtp_url:
        typer.echo("CAREBOOK_SMTP_URL is not set: messages stay in the outbox.", err=True)
        raise typer.Exit(1)

    async def run() -> DeliveryReport:
        database = create_database(settings)
        try:
            return await deliver_pending(database, settings, limit=limit)
        finally:
            await database.dispose()

    report = asyncio.run(run())
    typer.echo(
        f"sent {report.sent}, to retry {report.retried}, failed {report.failed}, "
        f"skipped {report.skipped}"
    )
