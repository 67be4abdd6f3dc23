"""resetPassword: limited per client address and per email, the same for unknown emails."""

from __future__ import annotations

import httpx
from tests.ratelimit.conftest import Clock, MakeClient
from tests.support.auth_helpers import count_rows
from tests.support.world import World

from carebook.db.engine import Database
from carebook.notifications.models import OutboxMessage

RESET = """mutation($email: String) {
  resetPassword(input: {email: $email}) { messages { field message } } }"""


async def _reset(client: httpx.AsyncClient, email: str) -> httpx.Response:
    return await client.post("/graphql", json={"query": RESET, "variables": {"email": email}})


def _limited(response: httpx.Response) -> bool:
    errors = response.json().get("errors") or []
    limited = bool(errors) and errors[0]["extensions"]["code"] == "RATE_LIMITED"
    return response.status_code == 429 and limited


async def test_one_email_is_limited_from_every_address_known_or_not(
    client_with: MakeClient, world: World, database: Database, clock: Clock
) -> None:
    limits = {"reset_password_email_limit": 2, "reset_password_email_window_seconds": 600}
    first = await client_with(address="10.0.0.1", **limits)
    second = await client_with(address="10.0.0.2", **limits)
    for email in ("patient.a@example.com", "nobody@example.com"):
        assert not _limited(await _reset(first, email))
        assert not _limited(await _reset(second, email.upper()))
        refused = await _reset(second, email)
        assert _limited(refused)
        assert int(refused.headers["retry-after"]) > 0
    # Two emails were sent, both to the one account; the refused request sent nothing.
    assert await count_rows(database, OutboxMessage) == 2
    clock.advance(600)
    assert not _limited(await _reset(second, "patient.a@example.com"))


async def test_one_address_is_limited_whatever_the_email(
    client_with: MakeClient, world: World, database: Database
) -> None:
    client = await client_with(
        reset_password_address_limit=3, reset_password_address_window_seconds=60
    )
    for n in range(3):
        assert not _limited(await _reset(client, f"someone{n}@example.org"))
    assert _limited(await _reset(client, "patient.a@example.com"))
    other = await client_with(
        address="10.9.9.9", reset_password_address_limit=3, reset_password_address_window_seconds=60
    )
    assert not _limited(await _reset(other, "patient.a@example.com"))
