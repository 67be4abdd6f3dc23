"""Checks of a reset link's token, validateResetPasswordToken and the /reset_password page:
limited per client address, one count for both, refused with 429."""

from __future__ import annotations

import httpx
from tests.ratelimit.conftest import Clock, MakeClient
from tests.support.world import World

VALIDATE = "query($t: String) { validateResetPasswordToken(token: $t) }"
LIMITS = {"reset_token_check_address_limit": 3, "reset_token_check_address_window_seconds": 600}


async def _validate(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/graphql", json={"query": VALIDATE, "variables": {"t": token}})


def _limited(response: httpx.Response) -> bool:
    errors = response.json().get("errors") or []
    limited = bool(errors) and errors[0]["extensions"]["code"] == "RATE_LIMITED"
    return response.status_code == 429 and limited


async def test_the_query_is_limited_per_address(
    client_with: MakeClient, world: World, clock: Clock
) -> None:
    client = await client_with(address="10.0.0.1", **LIMITS)
    for n in range(3):
        answer = await _validate(client, f"guess-{n}")
        assert answer.json() == {"data": {"validateResetPasswordToken": False}}
    refused = await _validate(client, "guess-3")
    assert _limited(refused)
    assert refused.json()["data"] == {"validateResetPasswordToken": None}
    assert int(refused.headers["retry-after"]) > 0
    other = await client_with(address="10.0.0.2", **LIMITS)
    assert not _limited(await _validate(other, "guess-3"))
    clock.advance(600)
    assert not _limited(await _validate(client, "guess-4"))


async def test_the_page_is_limited_per_address_with_the_query(
    client_with: MakeClient, world: World, clock: Clock
) -> None:
    client = await client_with(address="10.0.0.1", **LIMITS)
    assert not _limited(await _validate(client, "guess"))
    for n in range(2):  # the third check of the address is a page load
        page = await client.get(f"/reset_password?token=guess-{n}")
        assert page.status_code == 400
        assert "This link is not valid" in page.text
    refused = await client.get("/reset_password?token=guess-2")
    assert refused.status_code == 429
    assert "Too many attempts" in refused.text
    assert "This link is not valid" not in refused.text
    assert int(refused.headers["retry-after"]) > 0
    submitted = await client.post("/reset_password", data={"token": "guess", "password": "x"})
    assert submitted.status_code == 429
    other = await client_with(address="10.0.0.2", **LIMITS)
    assert (await other.get("/reset_password?token=guess-2")).status_code == 400


async def test_the_invitation_page_is_not_counted(client_with: MakeClient, world: World) -> None:
    client = await client_with(
        reset_token_check_address_limit=1, reset_token_check_address_window_seconds=600
    )
    for n in range(3):
        assert (await client.get(f"/set_password?token=guess-{n}")).status_code == 400
    assert not _limited(await _validate(client, "guess"))
