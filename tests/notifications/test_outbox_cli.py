"""``carebook outbox deliver``: one delivery pass from the command line; the listing; ``show``."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from email.utils import parsedate_to_datetime

import pytest
from sqlalchemy import select
from tests.support.api import Api
from tests.support.emails import create_client, outbox_rows
from tests.support.mailbox import LINK, Mailbox, run_mailbox
from tests.support.world import World

from carebook.audit.models import AuditEvent
from carebook.db.engine import Database


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """A real SMTP server for this test."""
    yield from run_mailbox()


def _run(database_url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "carebook.cli.main", *args],
        env={**os.environ, "CAREBOOK_DATABASE_URL": database_url, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


async def test_deliver_sends_once_and_the_listing_shows_it_sent(
    api: Api, world: World, database: Database, database_url: str, mailbox: Mailbox
) -> None:
    await create_client(
        api.with_key(world.a.provider.api_key),
        first_name="Marie",
        last_name="Curie",
        email="marie@example.com",
    )
    without_smtp = _run(database_url, "outbox", "deliver", CAREBOOK_SMTP_URL="")
    assert without_smtp.returncode == 1
    assert "CAREBOOK_SMTP_URL is not set" in without_smtp.stderr

    done = _run(database_url, "outbox", "deliver", CAREBOOK_SMTP_URL=mailbox.url)

    assert done.returncode == 0, done.stderr
    assert "sent 1, to retry 0, failed 0" in done.stdout
    assert [m.rcpt_tos for m in mailbox.received] == [["marie@example.com"]]
    again = _run(database_url, "outbox", "deliver", CAREBOOK_SMTP_URL=mailbox.url)
    assert "sent 0" in again.stdout
    listing = _run(database_url, "outbox", "--status", "sent")
    assert listing.returncode == 0, listing.stderr
    assert "welcome" in listing.stdout and "sent" in listing.stdout
    assert "marie" not in listing.stdout.lower() and "curie" not in listing.stdout.lower()


async def test_deliver_refuses_the_default_secret_in_production(
    api: Api, world: World, database_url: str, mailbox: Mailbox
) -> None:
    # The secret signs the set-password links these emails carry.
    await create_client(
        api.with_key(world.a.provider.api_key), first_name="Ada", last_name="Byron",
        email="ada@example.com",
    )  # fmt: skip
    production = {"CAREBOOK_PRODUCTION": "true", "CAREBOOK_SMTP_URL": mailbox.url}
    refused = _run(database_url, "outbox", "deliver", **production, CAREBOOK_SECRET_KEY="change-me")
    assert refused.returncode == 1
    assert "CAREBOOK_SECRET_KEY is the default" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert mailbox.received == []
    real = secrets.token_urlsafe(32)
    done = _run(database_url, "outbox", "deliver", **production, CAREBOOK_SECRET_KEY=real)
    assert "sent 1," in done.stdout, done.stderr


async def test_show_prints_a_queued_email_without_smtp_and_leaves_it_queued(
    api: Api, world: World, database: Database, database_url: str, mailbox: Mailbox
) -> None:
    await create_client(
        api.with_key(world.a.provider.api_key), first_name="Lise", last_name="Meitner",
        email="lise@example.com",
    )  # fmt: skip
    [row] = [r for r in await outbox_rows(database) if r.kind == "welcome"]
    shown = _run(database_url, "outbox", "show", str(row.id), CAREBOOK_SMTP_URL="")
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    assert f"Outbox message {row.id}: welcome, pending" in out
    assert "To: lise@example.com" in out and "Subject: Welcome to " in out
    date = re.search(r"^Date: (.+)$", out, re.M)
    assert date and parsedate_to_datetime(date.group(1))
    assert "Hello Lise" in out
    shown_link = LINK.search(out)
    assert shown_link, out
    assert [r.status for r in await outbox_rows(database) if r.id == row.id] == ["pending"]
    async with database.read_sessions() as session:
        query = select(AuditEvent.action, AuditEvent.record_id).where(
            AuditEvent.operation == "cli:outbox show"
        )
        assert (await session.execute(query)).all() == [("read", row.recipient_user_id)]

    done = _run(database_url, "outbox", "deliver", CAREBOOK_SMTP_URL=mailbox.url)
    assert "sent 1," in done.stdout, done.stderr
    # The link shown is the one the email carries (the same set-password token).
    [mail] = mailbox.received
    assert mail.link() == shown_link.group(0)

    missing = _run(database_url, "outbox", "show", "999999")
    assert missing.returncode == 1 and "no outbox message 999999" in missing.stderr
    assert "Traceback" not in missing.stderr
