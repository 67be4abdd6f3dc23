"""Moving patients between groups (updateClient, bulkUpdateClients, createClient) and the
group counts staying right after moves and archiving."""

from __future__ import annotations

from tests.support.api import Api
from tests.support.groups import (
    BULK_GROUP,
    UPDATE_CLIENT_GROUP,
    add_patients,
    create_group,
    group_of,
    users_count,
)
from tests.support.seed_documents import CREATE_CLIENT
from tests.support.world import World

from carebook.auth.passwords import Passwords
from carebook.db.engine import Database


async def _update(api: Api, patient_id: int, **variables: object) -> dict[str, object]:
    data = await api.data(UPDATE_CLIENT_GROUP, {"id": str(patient_id), **variables})
    payload: dict[str, object] = data["updateClient"]
    return payload


async def test_update_client_moves_a_patient_and_both_counts_follow(
    api: Api, world: World, database: Database, passwords: Passwords
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    first = await create_group(provider, "First")
    second = await create_group(provider, "Second")
    [patient] = await add_patients(database, passwords, world.a, 1, group_id=first)
    assert (await users_count(provider, first), await users_count(provider, second)) == (1, 0)
    payload = await _update(provider, patient, user_group_id=second)
    assert payload["messages"] is None
    # A patient is in at most one group: joining the second one left the first.
    assert await group_of(database, patient) == int(second)
    assert (await users_count(provider, first), await users_count(provider, second)) == (0, 1)


async def test_blank_user_group_id_removes_the_patient_from_their_group(
    api: Api, world: World, database: Database, passwords: Passwords
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    [patient] = await add_patients(database, passwords, world.a, 1, group_id=world.a.group_id)
    payload = await _update(provider, patient, user_group_id="")
    assert payload["messages"] is None
    assert await group_of(database, patient) is None
    assert await users_count(provider, world.a.group_id) == 0


async def test_for_changing_groups_removes_the_patient_from_their_group(
    api: Api, world: World, database: Database, passwords: Passwords
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    [patient] = await add_patients(database, passwords, world.a, 1, group_id=world.a.group_id)
    payload = await _update(provider, patient, for_changing_groups=True)
    assert payload["messages"] is None
    assert await group_of(database, patient) is None
    assert await users_count(provider, world.a.group_id) == 0


async def test_another_organizations_group_is_refused_and_nothing_moves(
    api: Api, world: World, database: Database, passwords: Passwords
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    [patient] = await add_patients(database, passwords, world.a, 1, group_id=world.a.group_id)
    payload = await _update(provider, patient, user_group_id=str(world.b.group_id))
    assert payload["messages"] == [{"field": "user_group_id", "message": "User group not found"}]
    assert await group_of(database, patient) == world.a.group_id
    bulk = await provider.data(
        BULK_GROUP, {"ids": [str(patient)], "user_group_id": str(world.b.group_id)}
    )
    assert bulk["bulkUpdateClients"]["messages"] == [
        {"field": "user_group_id", "message": "User group not found"}
    ]
    assert await group_of(database, patient) == world.a.group_id
    theirs = api.with_key(world.b.provider.api_key)
    assert await users_count(theirs, world.b.group_id) == 0


async def test_bulk_update_moves_patients_and_counts_follow(
    api: Api, world: World, database: Database, passwords: Passwords
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    target = await create_group(provider, "Target")
    patients = await add_patients(database, passwords, world.a, 3, group_id=world.a.group_id)
    loose = await add_patients(database, passwords, world.a, 1, tag="loose")
    variables = {
        "ids": [str(pid) for pid in patients[:2] + loose],
        "user_group_id": target,
        "active_status": False,  # ignored: user_group_id wins
    }
    payload = (await provider.data(BULK_GROUP, variables))["bulkUpdateClients"]
    assert payload["messages"] is None
    assert {u["user_group_id"] for u in payload["users"]} == {target}
    assert await users_count(provider, target) == 3
    assert await users_count(provider, world.a.group_id) == 1


async def test_bulk_update_with_blank_group_removes_patients_from_their_groups(
    api: Api, world: World, database: Database, passwords: Passwords
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    patients = await add_patients(database, passwords, world.a, 2, group_id=world.a.group_id)
    variables = {"ids": [str(pid) for pid in patients], "user_group_id": ""}
    payload = (await provider.data(BULK_GROUP, variables))["bulkUpdateClients"]
    assert payload["messages"] is None
    assert [await group_of(database, pid) for pid in patients] == [None, None]
    assert await users_count(provider, world.a.group_id) == 0


async def test_archiving_and_reactivating_change_the_count(
    api: Api, world: World, database: Database, passwords: Passwords
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    patients = await add_patients(database, passwords, world.a, 3, group_id=world.a.group_id)
    await _update(provider, patients[0], active=False)
    assert await users_count(provider, world.a.group_id) == 2
    await provider.data(BULK_GROUP, {"ids": [str(p) for p in patients[1:]], "active_status": False})
    assert await users_count(provider, world.a.group_id) == 0
    # Archived patients stay in their group.
    assert {await group_of(database, pid) for pid in patients} == {world.a.group_id}
    await provider.data(BULK_GROUP, {"ids": [str(p) for p in patients], "active_status": True})
    assert await users_count(provider, world.a.group_id) == 3


async def test_create_client_puts_the_patient_in_the_group(
    api: Api, world: World, database: Database
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    variables = {
        "first_name": "Jonas",
        "last_name": "Salk",
        "email": "jonas@example.com",
        "user_group_id": str(world.a.group_id),
        "dont_send_welcome": True,
    }
    payload = (await provider.data(CREATE_CLIENT, variables))["createClient"]
    assert payload["messages"] is None
    assert await group_of(database, int(payload["user"]["id"])) == world.a.group_id
    assert await users_count(provider, world.a.group_id) == 1


async def test_another_organizations_group_is_not_found_anywhere_a_patient_is_placed(
    api: Api, world: World, database: Database, passwords: Passwords
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    variables = {
        "first_name": "Jonas",
        "last_name": "Salk",
        "email": "jonas@example.com",
        "user_group_id": str(world.b.group_id),
    }
    payload = (await provider.data(CREATE_CLIENT, variables))["createClient"]
    assert payload == {
        "user": None,
        "messages": [{"field": "user_group_id", "message": "User group not found"}],
    }
    # The patient list filtered by another organization's group is empty, not theirs.
    await add_patients(database, passwords, world.b, 2, group_id=world.b.group_id)
    listed = await provider.data(
        "query($g: String) { users(group_id: $g) { id } usersCount(group_id: $g) }",
        {"g": str(world.b.group_id)},
    )
    assert listed == {"users": [], "usersCount": 0}
