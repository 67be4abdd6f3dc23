"""Every read of a patient record is recorded: single, in lists, nested, and refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from carebook.db.engine import Database
from tests.audit.events import brief, stored
from tests.support.api import Api
from tests.support.world import World

USER = "query($id: ID) { user(id: $id) { id first_name } }"
USERS = "query { users(page_size: 100) { id } }"


async def test_single_read_records_who_what_when_where(
    api: Api, world: World, database: Database
) -> None:
    before = datetime.now(UTC)
    await api.with_key(world.a.provider.api_key).data(USER, {"id": str(world.a.patient_id)})
    [event] = await stored(database)
    assert brief([event]) == [("user", "read", world.a.patient_id, True)]
    assert event.organization_id == world.a.provider.organization_id
    assert event.actor_user_id == world.a.provider.user_id
    assert (event.actor_role, event.credential, event.record_type) == (
        "provider",
        "api_key",
        "User",
    )
    assert event.client_address == "127.0.0.1"  # httpx's ASGI transport's client
    assert len(event.request_id) == 32
    assert before - timedelta(seconds=1) <= event.occurred_at <= datetime.now(UTC)


async def test_client_request_id_is_kept(api: Api, world: World, database: Database) -> None:
    caller = api.with_key(world.a.staff.api_key)
    caller.headers["X-Request-ID"] = "trace-42"
    await caller.data(USER, {"id": str(world.a.patient_id)})
    [event] = await stored(database)
    assert (event.request_id, event.actor_role) == ("trace-42", "staff")


async def test_another_organizations_patient_is_a_refused_read(
    api: Api, world: World, database: Database
) -> None:
    data = await api.with_key(world.a.provider.api_key).data(USER, {"id": str(world.b.patient_id)})
    assert data["user"] is None
    [event] = await stored(database)
    assert brief([event]) == [("user", "read", world.b.patient_id, False)]
    # The event belongs to the caller's organization: B never learns of it, A learns nothing.
    assert event.organization_id == world.a.provider.organization_id


async def test_list_records_one_event_per_patient(
    api: Api, world: World, database: Database
) -> None:
    data = await api.with_key(world.a.provider.api_key).data(USERS)
    listed = {int(u["id"]) for u in data["users"]}
    assert listed == {world.a.patient_id, world.a.other_patient_id}
    events = await stored(database)
    assert sorted(brief(events)) == sorted(("users", "read", i, True) for i in listed)
    assert len({e.request_id for e in events}) == 1


async def test_providers_are_not_patient_records(
    api: Api, world: World, database: Database
) -> None:
    await api.with_key(world.a.provider.api_key).data("query { currentUser { id } }")
    assert await stored(database) == []


async def test_patient_reading_themselves_with_a_session(
    api: Api, world: World, database: Database
) -> None:
    await api.with_token(world.a.patient_token).data("query { currentUser { id } }")
    [event] = await stored(database)
    assert brief([event]) == [("currentUser", "read", world.a.patient_id, True)]
    assert (event.actor_role, event.credential) == ("patient", "session")


async def test_nested_patients_are_recorded_under_the_aliased_root_field(
    api: Api, world: World, database: Database
) -> None:
    caller = api.with_key(world.a.provider.api_key)
    move = """mutation($ids: [ID], $g: ID) { bulkUpdateClients(input: {ids: $ids,
      user_group_id: $g}) { messages { message } } }"""
    await caller.data(move, {"ids": [str(world.a.patient_id)], "g": str(world.a.group_id)})
    query = "query($id: ID) { grp: userGroup(id: $id) { users { id } } }"
    data = await caller.data(query, {"id": str(world.a.group_id)})
    assert data["grp"]["users"] == [{"id": str(world.a.patient_id)}]
    events = await stored(database, operation="userGroup")
    assert brief(events) == [("userGroup", "read", world.a.patient_id, True)]


async def test_no_wait_setting_still_stores_the_events(
    world: World, database: Database, settings: object
) -> None:
    import httpx

    from carebook.app import create_app
    from carebook.config import Settings

    assert isinstance(settings, Settings)
    app = create_app(settings.model_copy(update={"audit_wait_for_reads": False}), database)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://carebook.test") as http:
        await (
            Api(http).with_key(world.a.provider.api_key).data(USER, {"id": str(world.a.patient_id)})
        )
        async with app.router.lifespan_context(app):
            pass  # shutdown flushes what is still queued
    assert brief(await stored(database)) == [("user", "read", world.a.patient_id, True)]


async def test_a_patient_reached_many_times_in_one_request_is_one_event(
    api: Api, world: World, database: Database
) -> None:
    # Each patient is listed, then reached again through each alias's group members.
    group = await api.with_key(world.a.provider.api_key).data(
        'mutation { createGroup(input: {name: "Dedupe"}) { user_group { id } } }'
    )
    group_id = group["createGroup"]["user_group"]["id"]
    caller = api.with_key(world.a.provider.api_key)
    for patient in (world.a.patient_id, world.a.other_patient_id):
        await caller.data(
            "mutation($id: ID, $g: String) { updateClient(input: {id: $id, user_group_id: $g}) "
            "{ user { id } } }",
            {"id": str(patient), "g": group_id},
        )
    before = len(await stored(database, operation="users"))
    query = (
        "query($g: String) { users(page_size: 10, group_id: $g) { id "
        "user_group { users { id } } } again: users(group_id: $g) { id } }"
    )
    data = await caller.data(query, {"g": group_id})
    assert len(data["users"]) == 2 and len(data["users"][0]["user_group"]["users"]) == 2
    events = (await stored(database, operation="users"))[before:]
    assert sorted(brief(events)) == sorted(
        ("users", "read", patient, True)
        for patient in (world.a.patient_id, world.a.other_patient_id)
    )
