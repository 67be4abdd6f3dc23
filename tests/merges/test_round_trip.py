"""mergeClients moves everything of the merged patient to the target; unmergeClients puts back
exactly that: the full record (every row referring to either patient) before and after."""

from __future__ import annotations

import json

from sqlalchemy import select
from tests.audit.events import brief, stored
from tests.support.api import Api
from tests.support.merges import book, full_record, merge, owned, unmerge
from tests.support.own_records import build_cast
from tests.support.scheduling import create_type
from tests.support.world import World

from carebook.db.engine import Database
from carebook.events.models import Event
from carebook.merges.registry import MOVED

TARGET_VIEW = """query($id: ID) { user(id: $id, clear_notifs: false) {
  id locations { id } active_tags { id } other_provider_ids } }"""
# Reads that leave the notifications unseen: they are part of the record compared.
ONE_FIELD = "query($id: ID) {{ user(id: $id, clear_notifs: false) {{ {} }} }}"
# The rows the target already had one like (build_cast gives both patients the same tag,
# conversation and care-team member): they stay on the merged patient, so nothing is lost.
KEPT = {
    ("taggings", "user_id"),
    ("applied_tags", "user_id"),
    ("care_team_members", "patient_id"),
    ("conversation_memberships", "user_id"),
}


async def _events(database: Database, after: int) -> list[tuple[str, int, list[str]]]:
    async with database.read_sessions() as session:
        rows = await session.scalars(select(Event).where(Event.id > after).order_by(Event.id))
        return [(e.event_type, e.resource_id, json.loads(e.changed_fields)) for e in rows]


async def _last_event(database: Database) -> int:
    async with database.read_sessions() as session:
        rows = await session.scalars(select(Event.id).order_by(Event.id.desc()).limit(1))
        return rows.first() or 0


async def test_merge_then_unmerge_restores_the_full_record(
    api: Api, world: World, database: Database
) -> None:
    cast = await build_cast(api, world)
    provider = api.with_key(world.a.provider.api_key)
    merged, target = world.a.patient_id, world.a.other_patient_id
    type_id = await create_type(provider, name="Merge consult", ccb=True, pricing="50")
    await book(api.with_token(world.a.patient_token), type_id, world.a.provider.user_id, 6)
    before = await full_record(database, [merged, target])
    moving = {t: len(rows) for t, rows in before.items()}
    assert moving["locations"] and moving["appointments"] and moving["billing_items"]
    mine_before = {
        (e.table, e.column): await owned(database, e.table, e.column, merged) for e in MOVED
    }
    first_event = await _last_event(database)

    payload = await merge(provider, ids=[str(merged), str(target)], target_user_id=str(target))
    assert payload["messages"] is None
    assert payload["user"]["id"] == str(target) and payload["user"]["active"] is True

    # Every row of the merged patient now names the target, but the duplicates it kept.
    for entry in MOVED:
        left = await owned(database, entry.table, entry.column, merged)
        pair = (entry.table, entry.column)
        assert left == (mine_before[pair] if pair in KEPT else 0), pair
    view = (await provider.data(TARGET_VIEW, {"id": str(target)}))["user"]
    assert cast.own["Location"] in {loc["id"] for loc in view["locations"]}
    archived = (await provider.data(ONE_FIELD.format("active"), {"id": str(merged)}))["user"]
    assert archived["active"] is False
    # Who merged what: a "merge" of both patients, allowed, under the mutation's name.
    events = brief(await stored(database, operation="mergeClients"))
    assert {(e[1], e[2], e[3]) for e in events if e[1] != "read"} == {
        ("merge", merged, True),
        ("merge", target, True),
    }
    # Webhooks: the merged patient archived, the moved appointments and addresses updated.
    fired = await _events(database, first_event)
    assert ("patient.updated", merged, ["active"]) in fired
    assert ("appointment.updated", int(cast.own["Appointment"]), ["user_id"]) in fired
    assert ("location.updated", int(cast.own["Location"]), ["user_id"]) in fired

    undone = await unmerge(provider, merged)
    assert undone["messages"] is None
    assert [(u["id"], u["active"]) for u in undone["users"]] == [
        (str(target), True),
        (str(merged), True),
    ]
    assert await full_record(database, [merged, target]) == before
    unmerge_events = brief(await stored(database, operation="unmergeClients"))
    assert {(e[1], e[2]) for e in unmerge_events if e[1] != "read"} == {
        ("unmerge", merged),
        ("unmerge", target),
    }


async def test_target_email_moves_an_address_and_comes_back(
    api: Api, world: World, database: Database
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    merged, target = world.a.patient_id, world.a.other_patient_id
    before = await full_record(database, [merged, target])
    payload = await merge(
        provider,
        ids=[str(merged)],
        target_user_id=str(target),
        target_email="Patient.A@example.com",
    )
    assert payload["messages"] is None
    assert payload["user"]["email"] == "Patient.A@example.com"
    view = (await provider.data(ONE_FIELD.format("email"), {"id": str(merged)}))["user"]
    assert view["email"] is None  # the merged patient gave the address up
    assert (await unmerge(provider, merged))["messages"] is None
    assert await full_record(database, [merged, target]) == before


async def test_an_email_of_another_patient_is_refused_and_nothing_changes(
    api: Api, world: World, database: Database
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    merged, target = world.a.patient_id, world.a.other_patient_id
    before = await full_record(database, [merged, target])
    create = await provider.data(
        'mutation { createClient(input: {first_name: "Third", last_name: "Person",'
        ' email: "third@example.com"}) { user { id } } }'
    )
    assert create["createClient"]["user"]["id"]
    payload = await merge(
        provider, ids=[str(merged)], target_user_id=str(target), target_email="third@example.com"
    )
    assert payload["messages"] == [
        {"field": "target_email", "message": "Email has already been taken"}
    ]
    assert await full_record(database, [merged, target]) == before


async def test_the_targets_primary_provider_does_not_join_its_care_team(
    api: Api, world: World, database: Database
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    staff = str(world.a.staff.user_id)
    create = """mutation($input: createClientInput) { createClient(input: $input) {
      user { id } messages { field message } } }"""
    ids = []
    for first, fields in (("Merged", {"other_provider_ids": [staff]}), ("Kept", {})):
        payload = await provider.data(
            create, {"input": {"first_name": first, "last_name": "Team", "skipped_email": True}}
        )
        ids.append(payload["createClient"]["user"]["id"])
        update = {"id": ids[-1], **fields}
        if first == "Kept":
            update["dietitian_id"] = staff  # the staff member is the target's primary provider
        await provider.data(
            "mutation($i: updateClientInput) { updateClient(input: $i) { user { id } } }",
            {"i": update},
        )
    merged, target = ids
    assert (await merge(provider, ids=[merged], target_user_id=target))["messages"] is None
    team = ONE_FIELD.format("other_provider_ids")
    assert (await provider.data(team, {"id": target}))["user"]["other_provider_ids"] == []
    assert (await provider.data(team, {"id": merged}))["user"]["other_provider_ids"] == [staff]
