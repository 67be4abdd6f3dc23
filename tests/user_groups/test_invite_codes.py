"""signUp with a group's invite code (the seed's document): group, organization, provider."""

from __future__ import annotations

from typing import Any

from tests.support.api import Api
from tests.support.db import user_row
from tests.support.groups import GROUP, create_group, users_count
from tests.support.seed_documents import SIGN_UP
from tests.support.world import World

from carebook.db.engine import Database

SIGN_UP_WITH_TOKEN = SIGN_UP.replace("user { id }", "user { id } token")
MY_GROUP = """query { currentUser { user_group_id user_group { id name }
  organization { id } dietitian_id } }"""


def _patient(**extra: Any) -> dict[str, Any]:
    return {
        "first_name": "Mei",
        "last_name": "Chen",
        "email": "mei.chen@example.com",
        "password": "b@se3ball rocks",
        "role": "patient",
        **extra,
    }


async def _invite_code(api: Api, group_id: str) -> str:
    code: str = (await api.data(GROUP, {"id": group_id}))["userGroup"]["invite_code"]
    return code


async def test_a_new_groups_code_puts_the_patient_in_that_group_and_organization(
    api: Api, world: World, database: Database
) -> None:
    staff = api.with_key(world.b.staff.api_key)
    group_id = await create_group(staff, "Discovery Patients")
    code = await _invite_code(staff, group_id)
    payload = (await api.data(SIGN_UP_WITH_TOKEN, _patient(invite_code=code)))["signUp"]
    assert payload["messages"] is None
    row = await user_row(database, int(payload["user"]["id"]))
    assert row.user_group_id == int(group_id)
    assert row.organization_id == world.b.provider.organization_id
    me = (await api.with_token(payload["token"]).data(MY_GROUP))["currentUser"]
    assert me["user_group"] == {"id": group_id, "name": "Discovery Patients"}
    assert me["organization"]["id"] == str(world.b.provider.organization_id)
    assert await users_count(staff, group_id) == 1


async def test_code_with_dietitian_id_assigns_that_provider(
    api: Api, world: World, database: Database
) -> None:
    staff = api.with_key(world.a.staff.api_key)
    group_id = await create_group(staff, "Weight Management")
    code = await _invite_code(staff, group_id)
    variables = _patient(invite_code=code, dietitian_id=str(world.a.staff.user_id))
    payload = (await api.data(SIGN_UP, variables))["signUp"]
    assert payload["messages"] is None
    row = await user_row(database, int(payload["user"]["id"]))
    assert (row.user_group_id, row.dietitian_id) == (int(group_id), world.a.staff.user_id)


async def test_code_with_a_provider_of_another_organization_is_refused(
    api: Api, world: World
) -> None:
    staff = api.with_key(world.a.staff.api_key)
    code = await _invite_code(staff, str(world.a.group_id))
    variables = _patient(invite_code=code, dietitian_id=str(world.b.provider.user_id))
    payload = (await api.data(SIGN_UP, variables))["signUp"]
    assert payload["user"] is None
    assert [m["field"] for m in payload["messages"]] == ["dietitian_id"]
    assert await users_count(staff, world.a.group_id) == 0


async def test_an_unknown_code_is_a_clear_message(api: Api, world: World) -> None:
    payload = (await api.data(SIGN_UP, _patient(invite_code="zzzzzzzz")))["signUp"]
    assert payload == {
        "user": None,
        "messages": [{"field": "invite_code", "message": "Invite code not found"}],
    }


async def test_a_deleted_groups_code_no_longer_works(api: Api, world: World) -> None:
    staff = api.with_key(world.a.staff.api_key)
    group_id = await create_group(staff, "Short lived")
    code = await _invite_code(staff, group_id)
    delete = "mutation($id: ID!) { deleteUserGroup(input: {id: $id}) { messages { message } } }"
    await staff.data(delete, {"id": group_id})
    payload = (await api.data(SIGN_UP, _patient(invite_code=code)))["signUp"]
    assert payload["messages"] == [{"field": "invite_code", "message": "Invite code not found"}]
