"""users reads only the columns of the users row its document selects (issue 28)."""

from __future__ import annotations

from graphql import GraphQLObjectType, get_named_type, is_leaf_type
from tests.support.api import Api
from tests.support.db import statements_sent
from tests.support.world import World

from carebook.db.engine import Database
from carebook.graphql.schema import build_schema

# A field without a declaration of the columns it reads: the whole row is read for it.
WHOLE_ROW = "set_password_link"


def _page_statements(statements: list[str]) -> list[str]:
    """The statements that read patient rows (not the caller's API key, not ids alone)."""
    return [
        s
        for s in statements
        if "FROM users" in s and "users.first_name" in s.split("FROM")[0] and "api_keys" not in s
    ]


async def test_a_page_reads_only_the_selected_columns(
    api: Api, world: World, database: Database
) -> None:
    caller = api.with_key(world.a.provider.api_key)
    with statements_sent(database) as statements:
        data = await caller.data("{ users { id first_name } }")
    assert {u["id"] for u in data["users"]} == {
        str(world.a.patient_id),
        str(world.a.other_patient_id),
    }
    (read,) = _page_statements(statements)
    selected = read.split("FROM")[0]
    assert "users.password_hash" not in selected and "users.invite_code" not in selected
    with statements_sent(database) as statements:
        await caller.data(f"{{ users {{ first_name {WHOLE_ROW} }} }}")
    (read,) = _page_statements(statements)
    assert "users.password_hash" in read.split("FROM")[0]


async def test_fragments_add_their_columns(api: Api, world: World) -> None:
    caller = api.with_key(world.a.provider.api_key)
    patient = world.a.patient_id
    both = await caller.data(
        f"{{ users(ids: [{patient}]) {{ ...Named ... on User {{ email }} }} }}"
        " fragment Named on User { id last_name }"
    )
    whole = await caller.data(f"{{ users(ids: [{patient}]) {{ id last_name email {WHOLE_ROW} }} }}")
    (user,) = both["users"]
    assert user["email"] and user == {k: whole["users"][0][k] for k in user}


def _selection(name: str, field_type: object) -> str:
    named = get_named_type(field_type)  # type: ignore[arg-type]
    return name if is_leaf_type(named) else f"{name} {{ __typename }}"


async def test_every_user_field_answers_alike_from_its_own_columns(api: Api, world: World) -> None:
    """Each field alone (only its declared columns read) answers as with the whole row read:
    a field reading a column it does not declare fails here (the column raises when read)."""
    user_type = build_schema()._schema.type_map["User"]
    assert isinstance(user_type, GraphQLObjectType)
    caller = api.with_key(world.a.provider.api_key)
    patient = world.a.patient_id
    for name, field in user_type.fields.items():
        selection = _selection(name, field.type)
        alone = await caller.post(f"{{ users(ids: [{patient}]) {{ {selection} }} }}")
        assert "errors" not in alone, (name, alone)
        whole = await caller.data(f"{{ users(ids: [{patient}]) {{ {selection} {WHOLE_ROW} }} }}")
        assert alone["data"]["users"][0][name] == whole["users"][0][name], name


def _user_read(statements: list[str]) -> str:
    (read,) = [
        s
        for s in statements
        if "FROM users" in s and "target_user_id" not in s and "api_keys" not in s
    ]
    return read


async def test_user_reads_only_the_selected_columns_and_notifications_only_to_clear_them(
    api: Api, world: World, database: Database
) -> None:
    caller = api.with_key(world.a.provider.api_key)
    patient = world.a.patient_id
    with statements_sent(database) as statements:
        data = await caller.data(f'{{ user(id: "{patient}") {{ id first_name }} }}')
    assert data["user"]["id"] == str(patient)
    read = _user_read(statements)
    assert "users.password_hash" not in read.split("FROM")[0]
    assert "user_notifications" in read  # a provider's read clears their notifications
    with statements_sent(database) as statements:
        await caller.data(f'{{ user(id: "{patient}", clear_notifs: false) {{ id quick_notes }} }}')
    read = _user_read(statements)
    assert "user_notifications" not in read
    assert "users.quick_notes" in read.split("FROM")[0]  # the record's columns, in one read
