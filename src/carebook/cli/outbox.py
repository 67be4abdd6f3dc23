"""``carebook outbox``: the emails waiting in (or delivered from) the outbox."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.cli.common import in_transaction, load_settings
from carebook.notifications.models import OutboxMessage


def outbox(
    status: str | None = typer.Option(None, help="Only messages in this status."),
    limit: int = typer.Option(50, help="At most this many, newest first."),
    database_url: str | None = typer.Option(None, help="Overrides CAREBOOK_DATABASE_URL."),
) -> None:
    """List outbox messages (ids and kinds only: no patient details are printed)."""

    async def work(session: AsyncSession) -> list[OutboxMessage]:
        query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
        if status:
            query = query.where(OutboxMessage.status == status)
        return list((await session.execute(query)).scalars())

    rows = in_transaction(load_settings(database_url), work)
    table = Table("id", "kind", "recipient user", "status", "attempts", "created")
    for row in rows:
        table.add_row(
            str(row.id),
            row.kind,
            str(row.recipient_user_id),
            row.status,
            str(row.attempts),
            row.created_at.isoformat(timespec="seconds"),
        )
    Console().print(table)
