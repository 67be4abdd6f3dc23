"""createGroup: the seed's document, invite codes, unique names, permissions."""

from __future__ import annotations

from tests.support.api import Api
from tests.support.groups import GROUP, create_group, group_rows
from tests.support.seed_group_documents import CREATE_GROUP
from tests.support.world import World

from carebook.auth.tokens import _INVITE_ALPHABET
from carebook.db.engine import Database


async def test_seed_document_creates_a_group_in_the_callers_organization(
    api: Api, world: World, database: Database
) -> None:
    staff = api.with_key(world.a.staff.api_key)
    variables = {"name": " Discovery   Patients "}
    payload = (await staff.data(CREATE_GROUP, variables))["createGroup"]
    assert payload["messages"] is None
    assert payload["user_group"]["name"] == "Discovery Patients"
    row = next(g for g in await group_rows(database) if str(g.id) == payload["user_group"]["id"])
    assert row.organization_id == world.a.provider.organization_id
    assert row.name_key == "discovery patients"


async def test_every_group_gets_a_short_unique_hard_to_guess_invite_code(
    api: Api, world: World
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    codes = []
    for index in range(12):
        group_id = await create_group(provider, f"Cohort {index}")
        group = (await provider.data(GROUP, {"id": group_id}))["userGroup"]
        codes.append(group["invite_code"])
    assert all(len(code) == 8 and set(code) <= set(_INVITE_ALPHABET) for code in codes)
    assert len(set(codes)) == len(codes)


async def test_a_new_group_has_no_patients_and_no_flow(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    group_id = await create_group(provider, "Empty")
    group = (await provider.data(GROUP, {"id": group_id}))["userGroup"]
    assert group["users_count"] == 0
    assert group["user_ids"] == []
    assert group["onboarding_flow_id"] is None
    assert group["created_at"]


async def test_names_are_unique_in_the_organization_ignoring_case(
    api: Api, world: World, database: Database
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    await create_group(provider, "Discovery Patients")
    before = len(await group_rows(database))
    payload = (await provider.data(CREATE_GROUP, {"name": "discovery PATIENTS"}))["createGroup"]
    assert payload["user_group"] is None
    assert payload["messages"] == [
        {
            "field": "name",
            "message": "Name has already been taken: this organization has a group "
            "'Discovery Patients'",
        }
    ]
    assert len(await group_rows(database)) == before


async def test_case_folding_covers_non_ascii_letters(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    await create_group(provider, "Équipe Straße")
    payload = (await provider.data(CREATE_GROUP, {"name": "ÉQUIPE  STRASSE"}))["createGroup"]
    assert [m["field"] for m in payload["messages"]] == ["name"]


async def test_another_organization_may_use_the_same_name(api: Api, world: World) -> None:
    # world.a already has a group called "Group a".
    other = api.with_key(world.b.provider.api_key)
    assert await create_group(other, "Group A")


async def test_name_is_required_and_bounded(api: Api, world: World, database: Database) -> None:
    provider = api.with_key(world.a.provider.api_key)
    before = len(await group_rows(database))
    for variables in ({}, {"name": None}, {"name": "   "}):
        payload = (await provider.data(CREATE_GROUP, variables))["createGroup"]
        assert payload == {
            "user_group": None,
            "messages": [{"field": "name", "message": "Name can't be blank"}],
        }
    payload = (await provider.data(CREATE_GROUP, {"name": "x" * 201}))["createGroup"]
    assert payload["messages"] == [
        {"field": "name", "message": "Name is too long (at most 200 characters)"}
    ]
    assert len(await group_rows(database)) == before


async def test_only_providers_and_staff_create_groups(
    api: Api, world: World, database: Database
) -> None:
    before = len(await group_rows(database))
    patient = api.with_token(world.a.patient_token)
    assert await patient.error_codes(CREATE_GROUP, {"name": "Mine"}) == ["FORBIDDEN"]
    assert await api.error_codes(CREATE_GROUP, {"name": "Mine"}) == ["UNAUTHENTICATED"]
    assert len(await group_rows(database)) == before
