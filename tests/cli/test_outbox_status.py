"""``carebook outbox --status``: a misspelt status is refused, not answered with no rows."""

from __future__ import annotations

from tests.cli.run import carebook

from carebook.notifications.models import OutboxStatus


def test_an_unknown_status_is_refused_with_the_valid_ones(database_url: str) -> None:
    done = carebook(database_url, "outbox", "--status", "bogus")
    assert done.returncode == 2 and done.stdout == ""
    assert "'bogus'" in done.stderr
    for status in OutboxStatus:
        assert f"'{status.value}'" in done.stderr
    listed = carebook(database_url, "outbox", "--status", "pending")
    assert listed.returncode == 0, listed.stderr
    assert "recipient user" in listed.stdout
