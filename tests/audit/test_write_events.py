"""Every write of a patient record is recorded in its own transaction; refusals apart."""

from __future__ import annotations

import pytest

from carebook.audit import service
from carebook.db.engine import Database
from tests.audit.events import brief, stored
from tests.support.api import Api
from tests.support.seed_documents import BULK_UPDATE_CLIENTS, CREATE_CLIENT, UPDATE_CLIENT
from tests.support.world import World


async def test_create_records_the_write_and_the_payload_read(
    api: Api, world: World, database: Database
) -> None:
    data = await api.with_key(world.a.provider.api_key).data(
        CREATE_CLIENT, {"first_name": "Ada", "last_name": "Byron", "email": "ada@example.com"}
    )
    new_id = int(data["createClient"]["user"]["id"])
    events = await stored(database)
    # The payload's read of the new patient is the create itself: one event.
    assert brief(events) == [("createClient", "create", new_id, True)]
    assert {e.organization_id for e in events} == {world.a.provider.organization_id}


async def test_archive_is_its_own_action(api: Api, world: World, database: Database) -> None:
    document = """mutation($id: ID) { updateClient(input: {id: $id, active: false}) {
      messages { message } } }"""
    await api.with_key(world.a.staff.api_key).data(document, {"id": str(world.a.patient_id)})
    [event] = await stored(database)
    assert brief([event]) == [("updateClient", "archive", world.a.patient_id, True)]
    assert event.actor_role == "staff"


async def test_update_of_another_organizations_patient_is_refused_and_recorded(
    api: Api, world: World, database: Database
) -> None:
    data = await api.with_key(world.a.provider.api_key).data(
        UPDATE_CLIENT, {"id": str(world.b.patient_id), "first_name": "X"}
    )
    assert data["updateClient"]["messages"]
    events = await stored(database)
    assert brief(events) == [("updateClient", "update", world.b.patient_id, False)]
    assert events[0].organization_id == world.a.provider.organization_id


async def test_invalid_create_leaves_no_allowed_write(
    api: Api, world: World, database: Database
) -> None:
    data = await api.with_key(world.a.provider.api_key).data(
        CREATE_CLIENT, {"first_name": "Ada", "last_name": "Byron", "email": "not an email"}
    )
    assert data["createClient"]["user"] is None
    assert brief(await stored(database)) == [("createClient", "create", None, False)]


async def test_bulk_update_records_every_patient(
    api: Api, world: World, database: Database
) -> None:
    ids = [world.a.patient_id, world.a.other_patient_id]
    await api.with_key(world.a.provider.api_key).data(
        BULK_UPDATE_CLIENTS, {"ids": [str(i) for i in ids], "active_status": False}
    )
    writes = await stored(database, action="archive")
    assert sorted(brief(writes)) == [("bulkUpdateClients", "archive", i, True) for i in ids]


async def test_write_events_roll_back_with_the_write(
    api: Api, world: World, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The events are inserted in the write's transaction: when it fails late, neither stays."""
    real = service.insert_events
    failed: list[bool] = []

    async def insert_then_fail(session: object, rows: list[service.EventRow]) -> None:
        await real(session, rows)  # type: ignore[arg-type]
        if rows and rows[0]["allowed"] and not failed:
            failed.append(True)
            from carebook.errors import Invalid

            raise Invalid.field(None, "simulated failure after the audit insert")

    monkeypatch.setattr("carebook.audit.trail.insert_events", insert_then_fail)
    data = await api.with_key(world.a.provider.api_key).data(
        UPDATE_CLIENT, {"id": str(world.a.patient_id), "first_name": "Changed"}
    )
    assert data["updateClient"]["messages"] == [
        {"field": None, "message": "simulated failure after the audit insert"}
    ]
    assert brief(await stored(database)) == [("updateClient", "update", world.a.patient_id, False)]
    user = await api.with_key(world.a.provider.api_key).data(
        "query($id: ID) { user(id: $id) { first_name } }", {"id": str(world.a.patient_id)}
    )
    assert user["user"]["first_name"] != "Changed"


async def test_anonymous_sign_up_belongs_to_the_practice_joined(
    api: Api, world: World, database: Database
) -> None:
    from tests.support.seed_documents import SIGN_UP

    variables = {
        "first_name": "Sam", "last_name": "Signup", "email": "sam.signup@example.com",
        "password": "b@se3ball rocks, truly", "role": "patient",
        "dietitian_id": str(world.b.provider.user_id),
    }  # fmt: skip
    data = await api.data(SIGN_UP, variables)
    new_id = int(data["signUp"]["user"]["id"])
    events = await stored(database)
    assert brief(events) == [("signUp", "create", new_id, True)]
    assert {(e.organization_id, e.actor_user_id, e.credential) for e in events} == {
        (world.b.provider.organization_id, None, None)
    }


async def test_tags_and_addresses_of_a_patient_are_writes_of_their_record(
    api: Api, world: World, database: Database
) -> None:
    from tests.support.seed_tag_location_documents import (
        APPLY_TAGS,
        CREATE_LOCATION,
        CREATE_TAG,
    )

    caller = api.with_key(world.a.provider.api_key)
    patient = str(world.a.patient_id)
    tag = await caller.data(CREATE_TAG, {"name": "VIP", "taggable_user_id": patient})
    tag_id = tag["createTag"]["tag"]["id"]
    await caller.data(APPLY_TAGS, {"ids": [tag_id], "taggable_user_id": patient})
    address = {"user_id": patient, "line1": "1 Main St", "city": "Boston", "state": "MA",
               "zip": "02110"}  # fmt: skip
    assert not (await caller.data(CREATE_LOCATION, address))["createLocation"]["messages"]
    writes = [e for e in await stored(database) if e.action != "read"]
    assert brief(writes) == [
        ("createTag", "update", world.a.patient_id, True),
        ("bulkApply", "update", world.a.patient_id, True),
        ("createLocation", "update", world.a.patient_id, True),
    ]
    # Another organization's patient: refused, and recorded in the caller's organization.
    refused = await caller.data(
        APPLY_TAGS, {"ids": [tag_id], "taggable_user_id": str(world.b.patient_id)}
    )
    assert refused["bulkApply"]["messages"]
    [event] = await stored(database, allowed=False)
    assert brief([event]) == [("bulkApply", "update", world.b.patient_id, False)]


async def test_an_id_out_of_range_cannot_spoil_the_batch(
    api: Api, world: World, database: Database
) -> None:
    """A refused write names only ids a record could have; a wider one would fail the insert."""
    data = await api.with_key(world.a.provider.api_key).data(
        UPDATE_CLIENT, {"id": "9999999999", "first_name": "X"}
    )
    assert data["updateClient"]["messages"]
    assert brief(await stored(database)) == [("updateClient", "update", None, False)]
