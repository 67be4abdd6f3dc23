"""A replayed Idempotency-Key answer hands out patient data again: it is audited like a read."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from tests.audit.events import break_audit_storage, brief, stored
from tests.support.seed_documents import CREATE_CLIENT, SIGN_UP
from tests.support.world import World

from carebook.db.engine import Database

TWO_FIELDS = """mutation($id: ID) {
  changed: updateClient(input: {id: $id, first_name: "Renamed"}) { user { id } }
  createClient(input: {first_name: "Second", last_name: "Field", skipped_email: true}) {
    user { id } } }"""


def _headers(api_key: str | None, key: str, request_id: str) -> dict[str, str]:
    headers = {"Idempotency-Key": key, "X-Request-ID": request_id}
    if api_key is not None:
        headers.update(Authorization=f"Basic {api_key}", AuthorizationSource="API")
    return headers


def _new_client(first_name: str) -> dict[str, Any]:
    variables = {"first_name": first_name, "last_name": "Lovelace", "skipped_email": True}
    return {"query": CREATE_CLIENT, "variables": variables}


async def test_a_replay_records_a_read_of_the_patient_in_the_first_answer(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    key, body = str(uuid.uuid4()), _new_client("Ada")
    api_key = world.a.provider.api_key
    first = await client.post("/graphql", json=body, headers=_headers(api_key, key, "first"))
    new_id = int(first.json()["data"]["createClient"]["user"]["id"])
    again = await client.post("/graphql", json=body, headers=_headers(api_key, key, "retry"))
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == first.content
    replayed = await stored(database, request_id="retry")
    assert brief(replayed) == [("replay:createClient", "read", new_id, True)]
    [event] = replayed
    assert (event.organization_id, event.actor_user_id, event.credential) == (
        world.a.provider.organization_id,
        world.a.provider.user_id,
        "api_key",
    )


async def test_each_root_field_of_the_first_answer_is_named(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    key, api_key = str(uuid.uuid4()), world.a.provider.api_key
    body = {"query": TWO_FIELDS, "variables": {"id": str(world.a.patient_id)}}
    first = await client.post("/graphql", json=body, headers=_headers(api_key, key, "first"))
    new_id = int(first.json()["data"]["createClient"]["user"]["id"])
    await client.post("/graphql", json=body, headers=_headers(api_key, key, "retry"))
    assert sorted(brief(await stored(database, request_id="retry"))) == [
        ("replay:createClient", "read", new_id, True),
        ("replay:updateClient", "read", world.a.patient_id, True),  # the alias is resolved
    ]


async def test_an_anonymous_replay_belongs_to_the_organization_joined(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    variables = {
        "first_name": "Grace", "last_name": "Hopper", "email": "grace@example.com",
        "password": "c0bol-compiler-1959", "role": "patient",
        "dietitian_id": str(world.b.provider.user_id),
    }  # fmt: skip
    body, key = {"query": SIGN_UP, "variables": variables}, str(uuid.uuid4())
    first = await client.post("/graphql", json=body, headers=_headers(None, key, "first"))
    new_id = int(first.json()["data"]["signUp"]["user"]["id"])
    await client.post("/graphql", json=body, headers=_headers(None, key, "retry"))
    replayed = await stored(database, request_id="retry")
    assert brief(replayed) == [("replay:signUp", "read", new_id, True)]
    assert (replayed[0].organization_id, replayed[0].actor_user_id) == (
        world.b.provider.organization_id,
        None,
    )


async def test_a_replay_whose_trail_cannot_be_stored_hands_out_nothing(
    client: httpx.AsyncClient, world: World, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    key, body, api_key = str(uuid.uuid4()), _new_client("Ada"), world.a.provider.api_key
    first = await client.post("/graphql", json=body, headers=_headers(api_key, key, "first"))
    new_id = first.json()["data"]["createClient"]["user"]["id"]

    break_audit_storage(monkeypatch, RuntimeError("audit storage down"))
    again = await client.post("/graphql", json=body, headers=_headers(api_key, key, "retry"))
    assert again.status_code == 500
    assert again.json()["data"] is None
    assert again.json()["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert new_id.encode() not in again.content
    assert "idempotent-replayed" not in again.headers


async def test_a_record_stored_before_replays_were_audited_still_replays(
    client: httpx.AsyncClient, world: World, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Older records hold the bare answer: it replays unchanged and records no event."""
    monkeypatch.setattr("carebook.idempotency.answer.pack", lambda body, _disclosed: body)
    key, body, api_key = str(uuid.uuid4()), _new_client("Ada"), world.a.provider.api_key
    first = await client.post("/graphql", json=body, headers=_headers(api_key, key, "first"))
    monkeypatch.undo()
    again = await client.post("/graphql", json=body, headers=_headers(api_key, key, "retry"))
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == first.content
    assert await stored(database, request_id="retry") == []


async def test_every_concurrent_replay_is_recorded(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    """Replays found before the write and after it lost the key race are both audited."""
    key, body, api_key = str(uuid.uuid4()), _new_client("Twin"), world.a.provider.api_key
    responses = await asyncio.gather(
        *(
            client.post("/graphql", json=body, headers=_headers(api_key, key, f"copy-{n}"))
            for n in range(8)
        )
    )
    replays = {f"copy-{n}" for n, r in enumerate(responses) if "idempotent-replayed" in r.headers}
    events = await stored(database, operation="replay:createClient")
    assert sorted(e.request_id for e in events) == sorted(replays)
