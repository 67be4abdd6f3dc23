"""A merged patient is an archived alias until the merge is undone: no write to its profile,
no reactivation, no session; and the merge's webhooks say what changed on both patients."""

from __future__ import annotations

import json

from sqlalchemy import select
from tests.support.api import Api
from tests.support.merges import full_record, merge, unmerge
from tests.support.world import World

from carebook.db.engine import Database
from carebook.events.models import Event

ME = "{ currentUser { id } }"
UPDATE = """mutation($input: updateClientInput) { updateClient(input: $input) {
  user { id } messages { field message } } }"""
UPDATE_USER = """mutation($input: updateUserInput) { updateUser(input: $input) {
  user { id } messages { field message } } }"""
EMAIL = """mutation($input: UpdateUserEmailInput) { updateUserEmail(input: $input) {
  success_string messages { field message } } }"""
BULK = """mutation($input: bulkUpdateClientsInput) { bulkUpdateClients(input: $input) {
  users { id } messages { field message } } }"""
REFUSED = "was merged into another client: change that one, or undo the merge first"


async def test_a_merged_patient_is_neither_written_nor_reactivated(
    api: Api, world: World, database: Database
) -> None:
    staff = api.with_key(world.a.provider.api_key)
    merged, target = world.a.patient_id, world.a.other_patient_id
    assert (await merge(staff, ids=[str(merged)], target_user_id=str(target)))["messages"] is None
    after_merge = await full_record(database, [merged, target])
    refused = [{"field": "id", "message": f"Client {merged} {REFUSED}"}]
    for document, fields in (
        (UPDATE, {"id": str(merged), "pronouns": "they"}),
        (UPDATE, {"id": str(merged), "active": True}),
        (UPDATE_USER, {"id": str(merged), "first_name": "Changed"}),
    ):
        payload = next(iter((await staff.data(document, {"input": fields})).values()))
        assert payload["messages"] == refused, (document, payload)
    bulk = await staff.data(BULK, {"input": {"ids": [str(merged)], "active_status": True}})
    assert bulk["bulkUpdateClients"]["messages"] == [
        {"field": "ids", "message": f"Client {merged} {REFUSED}"}
    ]
    # The merged patient kept its address (the target took another): still not changeable.
    change = {
        "user_id": str(merged),
        "current_email": "patient.a@example.com",
        "new_email": "x@example.com",
    }
    moved = (await staff.data(EMAIL, {"input": change}))["updateUserEmail"]
    assert moved["messages"] == [{"field": "user_id", "message": f"Client {merged} {REFUSED}"}]
    assert await full_record(database, [merged, target]) == after_merge
    # Undone, the patient is theirs to change again.
    assert (await unmerge(staff, merged))["messages"] is None
    again = await staff.data(UPDATE, {"input": {"id": str(merged), "pronouns": "they"}})
    assert again["updateClient"]["messages"] is None


async def test_a_merge_ends_the_merged_patients_sessions_for_good(api: Api, world: World) -> None:
    staff = api.with_key(world.a.provider.api_key)
    patient = api.with_token(world.a.patient_token)
    assert (await patient.data(ME))["currentUser"]["id"] == str(world.a.patient_id)
    ids = {"ids": [str(world.a.patient_id)], "target_user_id": str(world.a.other_patient_id)}
    assert (await merge(staff, **ids))["messages"] is None
    assert await patient.error_codes(ME) == ["UNAUTHENTICATED"]
    # An unmerge does not bring a session back: the patient signs in again.
    assert (await unmerge(staff, world.a.patient_id))["messages"] is None
    assert await patient.error_codes(ME) == ["UNAUTHENTICATED"]


async def _fired(database: Database, after: int) -> set[tuple[int, tuple[str, ...]]]:
    async with database.read_sessions() as session:
        rows = await session.scalars(
            select(Event).where(Event.id > after, Event.event_type == "patient.updated")
        )
        return {(e.resource_id, tuple(json.loads(e.changed_fields))) for e in rows}


async def _last(database: Database) -> int:
    async with database.read_sessions() as session:
        rows = await session.scalars(select(Event.id).order_by(Event.id.desc()).limit(1))
        return rows.first() or 0


async def test_the_merges_webhooks_name_the_email_and_care_team_of_both(
    api: Api, world: World, database: Database
) -> None:
    staff = api.with_key(world.a.provider.api_key)
    merged, target = world.a.patient_id, world.a.other_patient_id
    member = str(world.a.staff.user_id)
    team = {"id": str(merged), "other_provider_ids": member}
    assert (await staff.data(UPDATE, {"input": team}))["updateClient"]["messages"] is None
    email = await staff.data("query($id: ID) { user(id: $id) { email } }", {"id": str(merged)})
    start = await _last(database)
    payload = await merge(
        staff, ids=[str(merged)], target_user_id=str(target), target_email=email["user"]["email"]
    )
    assert payload["messages"] is None
    assert await _fired(database, start) == {
        (merged, ("active", "email", "other_provider_ids")),
        (target, ("email", "other_provider_ids")),
    }
    start = await _last(database)
    assert (await unmerge(staff, merged))["messages"] is None
    assert await _fired(database, start) == {
        (merged, ("active", "email", "other_provider_ids")),
        (target, ("email", "other_provider_ids")),
    }
