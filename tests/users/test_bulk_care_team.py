"""bulkUpdateClients' care-team changes: other_provider_ids adds, provider_ids_to_remove removes,
all or nothing, as Healthie's bulkUpdateClientsInput declares them."""

from __future__ import annotations

from typing import Any

from tests.support.api import Api
from tests.support.db import care_team, users_snapshot
from tests.support.events import events_after, last_event_id
from tests.support.world import World

from carebook import builders
from carebook.auth.passwords import Passwords
from carebook.auth.roles import Role
from carebook.db.engine import Database

BULK = """mutation($input: bulkUpdateClientsInput) { bulkUpdateClients(input: $input) {
  users { id active user_group_id other_provider_ids }
  messages { field message } } }"""


async def _bulk(api: Api, world: World, **fields: Any) -> dict[str, Any]:
    data = await api.with_key(world.a.provider.api_key).data(BULK, {"input": fields})
    payload: dict[str, Any] = data["bulkUpdateClients"]
    return payload


async def _colleague(database: Database, passwords: Passwords, world: World) -> int:
    """A second provider of organization A."""
    async with database.write_sessions() as session, session.begin():
        return (
            await builders.provider(
                session,
                passwords,
                email="second.provider.a@example.com",
                organization_id=world.a.provider.organization_id,
                role=Role.PROVIDER,
                first_name="Second",
                last_name="Provider",
            )
        ).user_id


def _ids(world: World) -> list[str]:
    return [str(world.a.patient_id), str(world.a.other_patient_id)]


async def test_other_provider_ids_join_every_care_team(
    api: Api, world: World, database: Database, passwords: Passwords
) -> None:
    colleague = await _colleague(database, passwords, world)
    staff = world.a.staff.user_id
    payload = await _bulk(api, world, ids=_ids(world), other_provider_ids=f"{colleague}, {staff}")
    assert not payload["messages"]
    expected = sorted([str(colleague), str(staff)], key=int)
    assert [sorted(u["other_provider_ids"], key=int) for u in payload["users"]] == [expected] * 2
    for patient_id in (world.a.patient_id, world.a.other_patient_id):
        assert await care_team(database, patient_id) == sorted([colleague, staff])
    # Adding them again changes nothing; the primary provider never joins as a further one.
    again = await _bulk(
        api, world, ids=_ids(world), other_provider_ids=f"{colleague},{world.a.provider.user_id}"
    )
    assert not again["messages"]
    assert await care_team(database, world.a.patient_id) == sorted([colleague, staff])


async def test_provider_ids_to_remove_leave_the_care_teams(
    api: Api, world: World, database: Database, passwords: Passwords
) -> None:
    colleague = await _colleague(database, passwords, world)
    staff = world.a.staff.user_id
    await _bulk(api, world, ids=_ids(world), other_provider_ids=f"{colleague},{staff}")
    payload = await _bulk(
        api, world, ids=[str(world.a.patient_id)], provider_ids_to_remove=[str(colleague)]
    )
    assert not payload["messages"]
    assert payload["users"][0]["other_provider_ids"] == [str(staff)]
    assert await care_team(database, world.a.patient_id) == [staff]
    assert await care_team(database, world.a.other_patient_id) == sorted([colleague, staff])


async def test_care_team_changes_go_with_a_status_change(
    api: Api, world: World, database: Database
) -> None:
    staff = world.a.staff.user_id
    payload = await _bulk(
        api, world, ids=_ids(world), active_status=False, other_provider_ids=str(staff)
    )
    assert not payload["messages"]
    assert [u["active"] for u in payload["users"]] == [False, False]
    assert await care_team(database, world.a.patient_id) == [staff]


async def test_unknown_or_foreign_providers_change_nothing(
    api: Api, world: World, database: Database
) -> None:
    before = await users_snapshot(database, [world.a.patient_id, world.a.other_patient_id])
    foreign = world.b.provider.user_id
    cases: list[tuple[dict[str, Any], str]] = [
        ({"other_provider_ids": f"{world.a.staff.user_id},{foreign}"}, "other_provider_ids"),
        ({"other_provider_ids": str(world.a.patient_id)}, "other_provider_ids"),  # a patient
        ({"provider_ids_to_remove": [str(foreign)]}, "provider_ids_to_remove"),
        ({"provider_ids_to_remove": ["abc"]}, "provider_ids_to_remove"),
    ]
    for fields, field in cases:
        payload = await _bulk(api, world, ids=_ids(world), active_status=False, **fields)
        assert payload["users"] is None, fields
        assert [m["field"] for m in payload["messages"]] == [field], fields
    assert await users_snapshot(database, [world.a.patient_id, world.a.other_patient_id]) == before


async def test_nothing_to_change_is_still_a_message(api: Api, world: World) -> None:
    payload = await _bulk(api, world, ids=_ids(world))
    assert payload["messages"] == [
        {"field": "active_status", "message": "Give user_group_id or active_status"}
    ]


async def test_each_patients_event_names_what_changed_for_them(
    api: Api, world: World, database: Database
) -> None:
    """A move and a care-team change at once: a patient already in the group gets an event
    naming the care team alone, the other both fields."""
    group, staff = str(world.a.group_id), str(world.a.staff.user_id)
    await _bulk(api, world, ids=[str(world.a.patient_id)], user_group_id=group)
    after = await last_event_id(database)
    payload = await _bulk(
        api, world, ids=_ids(world), user_group_id=group, other_provider_ids=staff
    )
    assert not payload["messages"]
    events = await events_after(database, after)
    assert sorted((e.resource_id, e.event_type, e.changed_fields) for e in events) == sorted(
        [
            (world.a.patient_id, "patient.updated", ["other_provider_ids"]),
            (world.a.other_patient_id, "patient.updated", ["other_provider_ids", "user_group_id"]),
        ]
    )
