"""Who may merge which patients, and what a merge or an unmerge refuses, changing nothing."""

from __future__ import annotations

from tests.support.api import Api
from tests.support.merges import MERGE, full_record, merge, unmerge
from tests.support.world import World

from carebook.db.engine import Database

NOT_MERGED = "This client was not merged into another"
NEW_CLIENT = """mutation($first: String) { createClient(input: {first_name: $first,
  last_name: "Dup", skipped_email: true}) { user { id } } }"""


async def _new_client(api: Api, first: str) -> int:
    return int((await api.data(NEW_CLIENT, {"first": first}))["createClient"]["user"]["id"])


async def test_a_patient_may_not_merge(api: Api, world: World, database: Database) -> None:
    a = world.a
    before = await full_record(database, [a.patient_id, a.other_patient_id])
    body = await api.with_token(a.patient_token).post(
        MERGE, {"input": {"ids": [str(a.other_patient_id)], "target_user_id": str(a.patient_id)}}
    )
    assert body["data"]["mergeClients"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    assert await full_record(database, [a.patient_id, a.other_patient_id]) == before


async def test_patients_of_two_organizations_never_merge(
    api: Api, world: World, database: Database
) -> None:
    a, b = world.a, world.b
    ids = [a.patient_id, a.other_patient_id, b.patient_id]
    before = await full_record(database, ids)
    staff_a = api.with_key(a.provider.api_key)
    # B's patient into A's: B's patient is unknown to A's staff.
    mixed = await merge(staff_a, ids=[str(b.patient_id)], target_user_id=str(a.patient_id))
    assert mixed["messages"] == [{"field": "ids", "message": f"Users not found: {b.patient_id}"}]
    # A's patient into B's: the target is unknown.
    into_b = await merge(staff_a, ids=[str(a.patient_id)], target_user_id=str(b.patient_id))
    assert into_b["messages"] == [{"field": "target_user_id", "message": "User not found"}]
    # B's staff cannot merge A's patients with each other either.
    staff_b = api.with_key(b.provider.api_key)
    foreign = await merge(staff_b, ids=[str(a.patient_id)], target_user_id=str(a.other_patient_id))
    assert foreign["messages"] == [{"field": "target_user_id", "message": "User not found"}]
    assert await full_record(database, ids) == before


async def test_input_mistakes_are_messages(api: Api, world: World) -> None:
    staff = api.with_key(world.a.staff.api_key)
    target = str(world.a.patient_id)
    cases = [
        ({"ids": [target]}, "target_user_id", "target_user_id can't be blank"),
        ({"ids": [], "target_user_id": target}, "ids", "Ids can't be blank"),
        (
            {"ids": [target], "target_user_id": target},
            "ids",
            "Give at least one client other than target_user_id",
        ),
        ({"ids": ["x"], "target_user_id": target}, "ids", "'x' is not a valid id"),
        # 21 others than the target: one more than a merge takes (ids need not exist to count).
        (
            {"ids": [str(10_000 + i) for i in range(21)], "target_user_id": target},
            "ids",
            "At most 20 clients can be merged at once",
        ),
        (
            {"ids": [str(world.a.other_patient_id)], "target_user_id": target, "target_email": "@"},
            "target_email",
            None,
        ),
    ]
    for fields, field, message in cases:
        messages = (await merge(staff, **fields))["messages"]
        assert messages is not None and messages[0]["field"] == field, (fields, messages)
        if message is not None:
            assert messages[0]["message"] == message


async def test_a_merged_patient_is_not_merged_again(api: Api, world: World) -> None:
    staff = api.with_key(world.a.provider.api_key)
    merged, target = world.a.patient_id, world.a.other_patient_id
    assert (await merge(staff, ids=[str(merged)], target_user_id=str(target)))["messages"] is None
    again = await merge(staff, ids=[str(merged)], target_user_id=str(target))
    assert again["messages"][0]["field"] == "ids"
    into = await merge(staff, ids=[str(target)], target_user_id=str(merged))
    assert into["messages"][0]["field"] == "target_user_id"


async def test_merges_into_one_client_are_undone_newest_first(
    api: Api, world: World, database: Database
) -> None:
    staff = api.with_key(world.a.provider.api_key)
    target = world.a.other_patient_id
    first, second = world.a.patient_id, await _new_client(staff, "Second")
    before = await full_record(database, [first, second, target])
    assert (await merge(staff, ids=[str(first)], target_user_id=str(target)))["messages"] is None
    assert (await merge(staff, ids=[str(second)], target_user_id=str(target)))["messages"] is None
    early = await unmerge(staff, first)
    assert early["messages"] == [
        {"field": "id", "message": "A later merge into the same client must be undone first"}
    ]
    assert (await unmerge(staff, second))["messages"] is None
    assert (await unmerge(staff, first))["messages"] is None
    assert await full_record(database, [first, second, target]) == before
    # Nothing is left to undo.
    again = await unmerge(staff, first)
    assert again["messages"] == [{"field": "id", "message": NOT_MERGED}]
