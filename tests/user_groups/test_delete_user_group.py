"""deleteUserGroup: patients move to the receiving group or to none; counts stay right."""

from __future__ import annotations

from tests.support.api import Api
from tests.support.groups import (
    GROUP,
    add_patients,
    create_group,
    group_of,
    group_rows,
    users_count,
)
from tests.support.seed_group_documents import CREATE_GROUP, DELETE_USER_GROUP
from tests.support.world import World

from carebook.auth.passwords import Passwords
from carebook.db.engine import Database


async def test_delete_without_receiving_group_leaves_patients_in_no_group(
    api: Api, world: World, database: Database, passwords: Passwords
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    doomed = await create_group(provider, "Doomed")
    active = await add_patients(database, passwords, world.a, 2, group_id=doomed)
    archived = await add_patients(
        database, passwords, world.a, 1, group_id=doomed, tag="gone", active=False
    )
    payload = (await provider.data(DELETE_USER_GROUP, {"id": doomed}))["deleteUserGroup"]
    assert payload == {"user_group": {"id": doomed}, "messages": None}
    assert [await group_of(database, pid) for pid in active + archived] == [None, None, None]
    assert (await provider.data(GROUP, {"id": doomed}))["userGroup"] is None
    assert doomed not in [str(g.id) for g in await group_rows(database)]


async def test_blank_receiving_group_means_no_group(
    api: Api, world: World, database: Database, passwords: Passwords
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    doomed = await create_group(provider, "Doomed")
    [patient] = await add_patients(database, passwords, world.a, 1, group_id=doomed)
    variables = {"id": doomed, "group_to_receive_clients": ""}
    payload = (await provider.data(DELETE_USER_GROUP, variables))["deleteUserGroup"]
    assert payload["messages"] is None
    assert await group_of(database, patient) is None


async def test_delete_with_receiving_group_moves_every_patient_there(
    api: Api, world: World, database: Database, passwords: Passwords
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    doomed = await create_group(provider, "Doomed")
    receiver = str(world.a.group_id)
    moved = await add_patients(database, passwords, world.a, 3, group_id=doomed)
    archived = await add_patients(
        database, passwords, world.a, 1, group_id=doomed, tag="gone", active=False
    )
    await add_patients(database, passwords, world.a, 2, group_id=receiver, tag="already")
    assert await users_count(provider, receiver) == 2
    variables = {"id": doomed, "group_to_receive_clients": receiver}
    payload = (await provider.data(DELETE_USER_GROUP, variables))["deleteUserGroup"]
    assert payload == {"user_group": {"id": doomed}, "messages": None}
    assert {await group_of(database, pid) for pid in moved + archived} == {world.a.group_id}
    assert await users_count(provider, receiver) == 5  # archived patients are not counted


async def test_a_group_cannot_receive_its_own_patients(
    api: Api, world: World, database: Database, passwords: Passwords
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    doomed = await create_group(provider, "Doomed")
    [patient] = await add_patients(database, passwords, world.a, 1, group_id=doomed)
    variables = {"id": doomed, "group_to_receive_clients": doomed}
    payload = (await provider.data(DELETE_USER_GROUP, variables))["deleteUserGroup"]
    assert payload == {
        "user_group": None,
        "messages": [
            {
                "field": "group_to_receive_clients",
                "message": "A group cannot receive its own clients",
            }
        ],
    }
    assert await group_of(database, patient) == int(doomed)


async def test_receiving_group_of_another_organization_is_not_found(
    api: Api, world: World, database: Database, passwords: Passwords
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    doomed = await create_group(provider, "Doomed")
    [patient] = await add_patients(database, passwords, world.a, 1, group_id=doomed)
    for receiver in (str(world.b.group_id), "999999", "x1"):
        variables = {"id": doomed, "group_to_receive_clients": receiver}
        payload = (await provider.data(DELETE_USER_GROUP, variables))["deleteUserGroup"]
        assert payload["user_group"] is None
        assert [m["field"] for m in payload["messages"]] == ["group_to_receive_clients"]
    assert await group_of(database, patient) == int(doomed)
    assert (await provider.data(GROUP, {"id": doomed}))["userGroup"] is not None


async def test_another_organizations_group_is_not_found(
    api: Api, world: World, database: Database
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    before = await group_rows(database)
    for group_id in (str(world.b.group_id), "999999"):
        payload = (await provider.data(DELETE_USER_GROUP, {"id": group_id}))["deleteUserGroup"]
        assert payload == {
            "user_group": None,
            "messages": [{"field": "id", "message": "User group not found"}],
        }
    assert len(await group_rows(database)) == len(before)


async def test_a_deleted_groups_name_is_free_again(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    await provider.data(DELETE_USER_GROUP, {"id": str(world.a.group_id)})
    payload = (await provider.data(CREATE_GROUP, {"name": "Group a"}))["createGroup"]
    assert payload["messages"] is None


async def test_deleting_a_group_keeps_other_groups_counts(
    api: Api, world: World, database: Database, passwords: Passwords
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    doomed = await create_group(provider, "Doomed")
    bystander = await create_group(provider, "Bystander")
    await add_patients(database, passwords, world.a, 2, group_id=doomed)
    await add_patients(database, passwords, world.a, 3, group_id=bystander, tag="by")
    await provider.data(DELETE_USER_GROUP, {"id": doomed})
    assert await users_count(provider, bystander) == 3
    assert await users_count(provider, world.a.group_id) == 0


async def test_only_providers_and_staff_delete_groups(
    api: Api, world: World, database: Database
) -> None:
    variables = {"id": str(world.a.group_id)}
    patient = api.with_token(world.a.patient_token)
    assert await patient.error_codes(DELETE_USER_GROUP, variables) == ["FORBIDDEN"]
    assert await api.error_codes(DELETE_USER_GROUP, variables) == ["UNAUTHENTICATED"]
    assert world.a.group_id in [g.id for g in await group_rows(database)]
