"""bulkUpdateClients loads of its patients only the columns the update and the payload's
``users`` selection read (issue 28: a thousand whole rows cost more than the UPDATE)."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLObjectType, get_named_type, is_leaf_type
from tests.support.api import Api
from tests.support.db import statements_sent
from tests.support.world import World

from carebook.db.engine import Database
from carebook.graphql.schema import build_schema

# A field without a declaration of the columns it reads: the whole row is read for it.
WHOLE_ROW = "set_password_link"


def _bulk(users: str, *, fragments: str = "") -> str:
    return (
        "mutation($input: bulkUpdateClientsInput) { bulkUpdateClients(input: $input) {"
        f" {users} messages {{ field message }} }} }} {fragments}"
    )


async def _move(api: Api, world: World, document: str) -> dict[str, Any]:
    """Move organization A's two patients to its group (again: the same answer each time)."""
    caller = api.with_key(world.a.provider.api_key)
    ids = [str(world.a.patient_id), str(world.a.other_patient_id)]
    answer = await caller.post(
        document, {"input": {"ids": ids, "user_group_id": str(world.a.group_id)}}
    )
    assert "errors" not in answer, answer
    payload: dict[str, Any] = answer["data"]["bulkUpdateClients"]
    assert payload["messages"] is None
    return payload


_BY_IDS = ("users.id IN (", "users.id = ANY")


def _patients_read(statements: list[str]) -> str:
    """What the SELECT of the bulk update's patients reads (its columns): their ids as an IN
    list (SQLite) or an array (PostgreSQL)."""
    (read,) = [
        s
        for s in statements
        if s.startswith("SELECT") and "FROM users" in s and any(ids in s for ids in _BY_IDS)
    ]
    return read.split("FROM")[0]


async def test_a_group_move_reads_only_what_it_and_its_payload_need(
    api: Api, world: World, database: Database
) -> None:
    with statements_sent(database) as statements:
        await _move(api, world, _bulk("users { id }"))
    read = _patients_read(statements)
    assert "users.user_group_id" in read and "users.merged_into_id" in read
    assert "users.email" not in read and "users.password_hash" not in read
    with statements_sent(database) as statements:
        await _move(api, world, _bulk("users { id email }"))
    read = _patients_read(statements)
    assert "users.email" in read and "users.password_hash" not in read
    with statements_sent(database) as statements:
        await _move(api, world, _bulk(f"users {{ id {WHOLE_ROW} }}"))
    assert "users.password_hash" in _patients_read(statements)


async def test_fragments_and_aliases_of_the_payload_add_their_columns(
    api: Api, world: World
) -> None:
    payload = await _move(
        api,
        world,
        _bulk(
            "...Moved",
            fragments="fragment Moved on bulkUpdateClientsPayload"
            " { moved: users { id ... on User { email last_name } } }",
        ),
    )
    whole = await _move(api, world, _bulk(f"users {{ id email last_name {WHOLE_ROW} }}"))
    assert [u["email"] for u in payload["moved"]] == [u["email"] for u in whole["users"]]
    assert all(u["email"] and u["last_name"] for u in payload["moved"])
    assert payload["moved"] == [
        {k: u[k] for k in ("id", "email", "last_name")} for u in whole["users"]
    ]


def _selection(name: str, field_type: object) -> str:
    named = get_named_type(field_type)  # type: ignore[arg-type]
    return name if is_leaf_type(named) else f"{name} {{ __typename }}"


async def test_every_user_field_of_the_payload_answers_alike_from_its_own_columns(
    api: Api, world: World
) -> None:
    """Each field alone answers as with the whole row loaded: a field reading a column it does
    not declare fails here (the column raises when read)."""
    user_type = build_schema()._schema.type_map["User"]
    assert isinstance(user_type, GraphQLObjectType)
    for name, field in user_type.fields.items():
        selection = _selection(name, field.type)
        alone = await _move(api, world, _bulk(f"users {{ {selection} }}"))
        whole = await _move(api, world, _bulk(f"users {{ {selection} {WHOLE_ROW} }}"))
        assert [u[name] for u in alone["users"]] == [u[name] for u in whole["users"]], name
