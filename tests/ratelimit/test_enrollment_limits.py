"""Anonymous signUp and completeCheckout: limited per address, per email and per target."""

from __future__ import annotations

import httpx
from tests.ratelimit.conftest import MakeClient
from tests.support.auth_helpers import count_rows
from tests.support.world import World

from carebook.db.engine import Database
from carebook.users.models import User

SIGN_UP = """mutation($email: String, $dietitian_id: String) {
  signUp(input: {first_name: "Mei", last_name: "", email: $email,
    password: "password", role: "patient", dietitian_id: $dietitian_id}) {
    user { id } messages { message } } }"""
CHECKOUT = """mutation($email: String, $provider_id: String) {
  completeCheckout(input: {appointment_type_id: "1", provider_id: $provider_id, email: $email,
    first_name: "Jonas", last_name: ""}) { appointment { id } messages { field message } } }"""


async def _post(client: httpx.AsyncClient, query: str, **variables: str) -> httpx.Response:
    return await client.post("/graphql", json={"query": query, "variables": variables})


def _limited(response: httpx.Response) -> bool:
    errors = response.json().get("errors") or []
    return response.status_code == 429 and errors[0]["extensions"]["code"] == "RATE_LIMITED"


async def test_one_email_is_limited_from_every_address_and_across_both_mutations(
    client_with: MakeClient, world: World, database: Database
) -> None:
    limits = {"enrollment_email_limit": 2, "enrollment_email_window_seconds": 3600}
    first = await client_with(address="10.0.0.1", **limits)
    second = await client_with(address="10.0.0.2", **limits)
    provider = str(world.a.provider.user_id)
    email = "patient.a@example.com"
    assert not _limited(await _post(first, SIGN_UP, email=email, dietitian_id=provider))
    assert not _limited(await _post(second, CHECKOUT, email=email, provider_id=provider))
    users = await count_rows(database, User)
    # Case does not make a new email; an unknown email is counted the same way.
    assert _limited(
        await _post(second, SIGN_UP, email="PATIENT.A@example.com", dietitian_id=provider)
    )
    assert not _limited(
        await _post(second, SIGN_UP, email="new@example.com", dietitian_id=provider)
    )
    assert await count_rows(database, User) == users


async def test_one_target_is_limited_whatever_the_email(
    client_with: MakeClient, world: World
) -> None:
    client = await client_with(enrollment_target_limit=2, enrollment_target_window_seconds=60)
    provider = str(world.a.provider.user_id)
    for n in range(2):
        assert not _limited(
            await _post(client, SIGN_UP, email=f"a{n}@x.org", dietitian_id=provider)
        )
    assert _limited(await _post(client, CHECKOUT, email="a9@x.org", provider_id=provider))
    # An unknown provider id is counted like a real one: a refusal tells nothing.
    for n in range(2):
        assert not _limited(await _post(client, SIGN_UP, email=f"b{n}@x.org", dietitian_id="9999"))
    assert _limited(await _post(client, SIGN_UP, email="b9@x.org", dietitian_id="9999"))
    other = str(world.b.provider.user_id)
    assert not _limited(await _post(client, SIGN_UP, email="c@x.org", dietitian_id=other))


async def test_anonymous_checkouts_are_limited_per_address_signed_in_ones_are_not(
    client_with: MakeClient, world: World
) -> None:
    client = await client_with(checkout_address_limit=2, checkout_address_window_seconds=60)
    provider = str(world.a.provider.user_id)
    for n in range(2):
        assert not _limited(
            await _post(client, CHECKOUT, email=f"c{n}@x.org", provider_id=provider)
        )
    refused = await _post(client, CHECKOUT, email="c9@x.org", provider_id=provider)
    assert _limited(refused) and refused.headers["retry-after"]
    client.headers["Authorization"] = f"Bearer {world.a.patient_token}"
    assert not _limited(await _post(client, CHECKOUT, email="", provider_id=provider))


async def test_leading_zeros_do_not_make_a_new_target(
    client_with: MakeClient, world: World
) -> None:
    """ "01" and "001" name provider 1 to the services, so they count as provider 1 here too."""
    client = await client_with(enrollment_target_limit=2, enrollment_target_window_seconds=60)
    provider = world.a.provider.user_id
    assert not _limited(
        await _post(client, SIGN_UP, email="z0@x.org", dietitian_id=f" {provider} ")
    )
    assert not _limited(await _post(client, CHECKOUT, email="z1@x.org", provider_id=f"0{provider}"))
    for spelled in (str(provider), f"00{provider}", f"000{provider}"):
        assert _limited(await _post(client, SIGN_UP, email="z2@x.org", dietitian_id=spelled))
        assert _limited(await _post(client, CHECKOUT, email="z3@x.org", provider_id=spelled))
