"""bulkUpdateClients: archive, reactivate and regroup many patients at once, all or nothing."""

from __future__ import annotations

from typing import Any

from tests.support.api import Api
from tests.support.db import user_row, users_snapshot
from tests.support.seed_documents import BULK_UPDATE_CLIENTS
from tests.support.world import World

from carebook import builders
from carebook.auth.passwords import Passwords
from carebook.db.engine import Database

FULL = """mutation($input: bulkUpdateClientsInput) { bulkUpdateClients(input: $input) {
  users { id active archived_at user_group_id }
  messages { field message } } }"""


async def _bulk(api: Api, key: str, **fields: Any) -> dict[str, Any]:
    """The bulkUpdateClients payload of a call made with ``key``."""
    data = await api.with_key(key).data(FULL, {"input": fields})
    payload: dict[str, Any] = data["bulkUpdateClients"]
    return payload


def _a_ids(world: World) -> list[int]:
    return [world.a.patient_id, world.a.other_patient_id]


async def _group(database: Database, organization_id: int, name: str) -> int:
    async with database.write_sessions() as session, session.begin():
        return (await builders.group(session, organization_id=organization_id, name=name)).id


# --- active_status --------------------------------------------------------------------------


async def test_seed_document_archives_the_patients(
    api: Api, world: World, database: Database
) -> None:
    ids = [str(i) for i in _a_ids(world)]
    data = await api.with_key(world.a.provider.api_key).data(
        BULK_UPDATE_CLIENTS, {"ids": ids, "active_status": False}
    )
    assert data["bulkUpdateClients"] == {"users": [{"id": i} for i in ids], "messages": None}
    for patient_id in _a_ids(world):
        row = await user_row(database, patient_id)
        assert row.active is False
        assert row.archived_at is not None
        assert row.first_name in ("Pat", "Other")  # archived, not emptied


async def test_seed_document_reactivates_the_patients(
    api: Api, world: World, database: Database
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    ids = [str(i) for i in _a_ids(world)]
    await provider.data(BULK_UPDATE_CLIENTS, {"ids": ids, "active_status": False})
    data = await provider.data(BULK_UPDATE_CLIENTS, {"ids": ids, "active_status": True})
    assert data["bulkUpdateClients"]["messages"] is None
    for patient_id in _a_ids(world):
        row = await user_row(database, patient_id)
        assert (row.active, row.archived_at) == (True, None)


async def test_payload_shows_the_new_status(api: Api, world: World) -> None:
    payload = await _bulk(
        api, world.a.provider.api_key, ids=[str(world.a.patient_id)], active_status=False
    )
    [user] = payload["users"]
    assert user["id"] == str(world.a.patient_id)
    assert user["active"] is False
    assert user["archived_at"]


async def test_only_the_listed_patients_change(api: Api, world: World, database: Database) -> None:
    await _bulk(api, world.a.provider.api_key, ids=[str(world.a.patient_id)], active_status=False)
    assert (await user_row(database, world.a.patient_id)).active is False
    assert (await user_row(database, world.a.other_patient_id)).active is True
    assert (await user_row(database, world.b.patient_id)).active is True


async def test_archived_patients_can_no_longer_use_their_session(api: Api, world: World) -> None:
    await _bulk(api, world.a.provider.api_key, ids=[str(world.a.patient_id)], active_status=False)
    codes = await api.with_token(world.a.patient_token).error_codes("query { currentUser { id } }")
    assert codes == ["UNAUTHENTICATED"]


async def test_repeated_ids_are_updated_once(api: Api, world: World) -> None:
    patient = str(world.a.patient_id)
    payload = await _bulk(
        api, world.a.provider.api_key, ids=[patient, patient, patient], active_status=False
    )
    assert payload["messages"] is None
    assert [u["id"] for u in payload["users"]] == [patient]


async def test_staff_member_may_bulk_update(api: Api, world: World, database: Database) -> None:
    payload = await _bulk(
        api, world.a.staff.api_key, ids=[str(world.a.patient_id)], active_status=False
    )
    assert payload["messages"] is None
    assert (await user_row(database, world.a.patient_id)).active is False


# --- user_group_id --------------------------------------------------------------------------


async def test_user_group_id_moves_the_patients(api: Api, world: World, database: Database) -> None:
    second = await _group(database, world.a.provider.organization_id, "Second")
    key, ids = world.a.provider.api_key, [str(i) for i in _a_ids(world)]
    payload = await _bulk(api, key, ids=ids, user_group_id=str(world.a.group_id))
    assert payload["messages"] is None
    assert [u["user_group_id"] for u in payload["users"]] == [str(world.a.group_id)] * 2
    payload = await _bulk(api, key, ids=ids, user_group_id=str(second))
    assert [u["user_group_id"] for u in payload["users"]] == [str(second)] * 2
    for patient_id in _a_ids(world):
        assert (await user_row(database, patient_id)).user_group_id == second


async def test_empty_user_group_id_removes_the_patients_from_their_group(
    api: Api, world: World, database: Database
) -> None:
    key, ids = world.a.provider.api_key, [str(i) for i in _a_ids(world)]
    await _bulk(api, key, ids=ids, user_group_id=str(world.a.group_id))
    payload = await _bulk(api, key, ids=ids, user_group_id="")
    assert payload["messages"] is None
    assert [u["user_group_id"] for u in payload["users"]] == [None, None]
    for patient_id in _a_ids(world):
        assert (await user_row(database, patient_id)).user_group_id is None


async def test_user_group_id_wins_and_active_status_is_ignored(
    api: Api, world: World, database: Database
) -> None:
    key, ids = world.a.provider.api_key, [str(i) for i in _a_ids(world)]
    payload = await _bulk(
        api, key, ids=ids, user_group_id=str(world.a.group_id), active_status=False
    )
    assert payload["messages"] is None
    for patient_id in _a_ids(world):
        row = await user_row(database, patient_id)
        assert (row.user_group_id, row.active, row.archived_at) == (world.a.group_id, True, None)


async def test_an_ignored_active_status_is_told_in_a_warning_not_a_failure(
    api: Api, world: World, database: Database
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    ids = [str(i) for i in _a_ids(world)]
    both = {"ids": ids, "user_group_id": str(world.a.group_id), "active_status": False}
    body = await provider.post(FULL, {"input": both})
    assert "errors" not in body and body["data"]["bulkUpdateClients"]["messages"] is None
    [warning] = body["extensions"]["warnings"]
    assert warning["code"] == "ACTIVE_STATUS_IGNORED"
    assert warning["path"] == ["bulkUpdateClients"]
    assert "active_status" in warning["message"] and "user_group_id" in warning["message"]
    assert (await user_row(database, world.a.patient_id)).active is True
    # One change alone warns of nothing, and a later request carries no earlier warning.
    for alone in ({"user_group_id": ""}, {"active_status": True}):
        body = await provider.post(FULL, {"input": {"ids": ids, **alone}})
        assert "extensions" not in body, body
    # A refused update (an unknown group) answers its messages only: nothing was done.
    refused = {**both, "user_group_id": "999999"}
    body = await provider.post(FULL, {"input": refused})
    assert body["data"]["bulkUpdateClients"]["messages"] and "extensions" not in body


async def test_empty_user_group_id_also_wins_over_active_status(
    api: Api, world: World, database: Database
) -> None:
    key, ids = world.a.provider.api_key, [str(i) for i in _a_ids(world)]
    await _bulk(api, key, ids=ids, user_group_id=str(world.a.group_id))
    await _bulk(api, key, ids=ids, user_group_id="", active_status=False)
    for patient_id in _a_ids(world):
        row = await user_row(database, patient_id)
        assert (row.user_group_id, row.active) == (None, True)


async def test_group_must_belong_to_the_callers_organization(
    api: Api, world: World, database: Database
) -> None:
    before = await users_snapshot(database, _a_ids(world))
    for group in (str(world.b.group_id), "999999", "abc"):
        payload = await _bulk(
            api,
            world.a.provider.api_key,
            ids=[str(i) for i in _a_ids(world)],
            user_group_id=group,
        )
        assert payload["users"] is None
        assert [m["field"] for m in payload["messages"]] == ["user_group_id"], group
    assert await users_snapshot(database, _a_ids(world)) == before


# --- all or nothing -------------------------------------------------------------------------


async def _rejected(
    api: Api, world: World, database: Database, bad_id: str, **fields: Any
) -> dict[str, Any]:
    """A bulk call over A's patients plus ``bad_id``; checks that nobody changed."""
    watched = [*_a_ids(world), world.b.patient_id]
    before = await users_snapshot(database, watched)
    ids = [str(world.a.patient_id), bad_id, str(world.a.other_patient_id)]
    payload = await _bulk(api, world.a.provider.api_key, ids=ids, **fields)
    assert payload["users"] is None
    assert await users_snapshot(database, watched) == before
    return payload


async def test_a_patient_of_another_organization_changes_nothing(
    api: Api, world: World, database: Database
) -> None:
    bad = str(world.b.patient_id)
    payload = await _rejected(api, world, database, bad, active_status=False)
    assert [m["field"] for m in payload["messages"]] == ["ids"]
    assert bad in payload["messages"][0]["message"]
    for own in _a_ids(world):
        assert str(own) not in payload["messages"][0]["message"]


async def test_another_organization_answers_like_a_missing_id(
    api: Api, world: World, database: Database
) -> None:
    key = world.a.provider.api_key
    other_org = await _bulk(api, key, ids=[str(world.b.patient_id)], active_status=False)
    missing = await _bulk(api, key, ids=["987654321"], active_status=False)
    assert other_org["users"] is missing["users"] is None
    assert other_org["messages"][0]["message"].replace(str(world.b.patient_id), "X") == missing[
        "messages"
    ][0]["message"].replace("987654321", "X")


async def test_an_unknown_id_changes_nothing(api: Api, world: World, database: Database) -> None:
    payload = await _rejected(
        api, world, database, "987654321", user_group_id=str(world.a.group_id)
    )
    assert [m["field"] for m in payload["messages"]] == ["ids"]
    assert "987654321" in payload["messages"][0]["message"]


async def test_a_malformed_id_changes_nothing(api: Api, world: World, database: Database) -> None:
    payload = await _rejected(api, world, database, "not-an-id", active_status=False)
    assert [m["field"] for m in payload["messages"]] == ["ids"]
    assert "not-an-id" in payload["messages"][0]["message"]


async def test_a_provider_id_changes_nothing(api: Api, world: World, database: Database) -> None:
    bad = str(world.a.staff.user_id)
    payload = await _rejected(api, world, database, bad, active_status=False)
    assert [m["field"] for m in payload["messages"]] == ["ids"]
    assert bad in payload["messages"][0]["message"]
    assert (await user_row(database, world.a.staff.user_id)).active is True


async def test_every_offending_id_is_named(api: Api, world: World, database: Database) -> None:
    ids = [str(world.a.patient_id), str(world.b.patient_id), "987654321"]
    payload = await _bulk(api, world.a.provider.api_key, ids=ids, active_status=False)
    assert payload["users"] is None
    message = payload["messages"][0]["message"]
    assert str(world.b.patient_id) in message
    assert "987654321" in message
    assert (await user_row(database, world.a.patient_id)).active is True


async def test_empty_list_is_a_message(api: Api, world: World) -> None:
    for ids in ([], None):
        payload = await _bulk(api, world.a.provider.api_key, ids=ids, active_status=False)
        assert payload["users"] is None
        assert [m["field"] for m in payload["messages"]] == ["ids"], ids


async def test_list_of_blank_ids_is_a_message(api: Api, world: World) -> None:
    payload = await _bulk(api, world.a.provider.api_key, ids=["", " "], active_status=False)
    assert payload["users"] is None
    assert [m["field"] for m in payload["messages"]] == ["ids"]


async def test_neither_field_is_a_message(api: Api, world: World, database: Database) -> None:
    before = await users_snapshot(database, _a_ids(world))
    payload = await _bulk(api, world.a.provider.api_key, ids=[str(i) for i in _a_ids(world)])
    assert payload["users"] is None
    assert [m["field"] for m in payload["messages"]] == ["active_status"]
    assert await users_snapshot(database, _a_ids(world)) == before


async def test_more_ids_than_the_maximum_changes_nothing(
    api: Api, world: World, database: Database, passwords: Passwords
) -> None:
    actor = builders.actor_of(world.a.provider)
    async with database.write_sessions() as session, session.begin():
        created = [
            (await builders.patient(session, passwords, actor=actor, last_name=f"P{n}")).id
            for n in range(49)
        ]
    ids = [*created, world.a.patient_id, world.a.other_patient_id]  # 51, all valid
    before = await users_snapshot(database, ids)
    payload = await _bulk(
        api, world.a.provider.api_key, ids=[str(i) for i in ids], active_status=False
    )
    assert payload["users"] is None
    assert [m["field"] for m in payload["messages"]] == ["ids"]
    assert "50" in payload["messages"][0]["message"]
    assert await users_snapshot(database, ids) == before
    # Exactly the maximum is accepted.
    payload = await _bulk(
        api, world.a.provider.api_key, ids=[str(i) for i in ids[:50]], active_status=False
    )
    assert payload["messages"] is None
    assert len(payload["users"]) == 50
    assert (await user_row(database, ids[50])).active is True


# --- who may call ---------------------------------------------------------------------------


async def test_patient_is_forbidden(api: Api, world: World, database: Database) -> None:
    before = await users_snapshot(database, _a_ids(world))
    variables = {"ids": [str(world.a.patient_id)], "active_status": False}
    codes = await api.with_token(world.a.patient_token).error_codes(BULK_UPDATE_CLIENTS, variables)
    assert codes == ["FORBIDDEN"]
    assert await users_snapshot(database, _a_ids(world)) == before


async def test_anonymous_is_unauthenticated(api: Api, world: World, database: Database) -> None:
    before = await users_snapshot(database, _a_ids(world))
    variables = {"ids": [str(world.a.patient_id)], "active_status": False}
    assert await api.error_codes(BULK_UPDATE_CLIENTS, variables) == ["UNAUTHENTICATED"]
    assert await users_snapshot(database, _a_ids(world)) == before
