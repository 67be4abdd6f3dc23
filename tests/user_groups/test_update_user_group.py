"""updateUserGroup: the seed's document, renames, onboarding flows, not found."""

from __future__ import annotations

from tests.support.api import Api
from tests.support.groups import GROUP, create_group, group_rows
from tests.support.seed_group_documents import UPDATE_USER_GROUP
from tests.support.world import World

from carebook.db.engine import Database

CREATE_FLOW = """mutation($name: String) { createOnboardingFlow(input: {name: $name}) {
  onboardingFlow { id } messages { field message } } }"""

NOT_FOUND = [{"field": "id", "message": "User group not found"}]


async def _flow(api: Api, name: str) -> str:
    payload = (await api.data(CREATE_FLOW, {"name": name}))["createOnboardingFlow"]
    assert payload["messages"] is None
    flow_id: str = payload["onboardingFlow"]["id"]
    return flow_id


async def test_seed_document_renames_and_sets_the_onboarding_flow(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    flow_id = await _flow(provider, "Intake")
    group_id = str(world.a.group_id)
    payload = (
        await provider.data(
            UPDATE_USER_GROUP, {"id": group_id, "name": "Renamed", "onboarding_flow_id": flow_id}
        )
    )["updateUserGroup"]
    assert payload == {"user_group": {"id": group_id, "name": "Renamed"}, "messages": None}
    group = (await provider.data(GROUP, {"id": group_id}))["userGroup"]
    assert group["name"] == "Renamed"
    assert group["onboarding_flow_id"] == flow_id


async def test_absent_fields_are_left_alone(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    flow_id = await _flow(provider, "Intake")
    group_id = str(world.a.group_id)
    await provider.data(UPDATE_USER_GROUP, {"id": group_id, "onboarding_flow_id": flow_id})
    await provider.data(UPDATE_USER_GROUP, {"id": group_id, "name": "Only the name"})
    group = (await provider.data(GROUP, {"id": group_id}))["userGroup"]
    assert (group["name"], group["onboarding_flow_id"]) == ("Only the name", flow_id)
    await provider.data(UPDATE_USER_GROUP, {"id": group_id, "onboarding_flow_id": ""})
    group = (await provider.data(GROUP, {"id": group_id}))["userGroup"]
    assert (group["name"], group["onboarding_flow_id"]) == ("Only the name", None)


async def test_rename_to_a_taken_name_is_refused_ignoring_case(
    api: Api, world: World, database: Database
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    other = await create_group(provider, "Weight Management")
    before = [(g.id, g.name) for g in await group_rows(database)]
    payload = (await provider.data(UPDATE_USER_GROUP, {"id": other, "name": "GROUP A"}))[
        "updateUserGroup"
    ]
    assert payload["user_group"] is None
    assert payload["messages"] == [
        {
            "field": "name",
            "message": "Name has already been taken: this organization has a group 'Group a'",
        }
    ]
    assert [(g.id, g.name) for g in await group_rows(database)] == before


async def test_a_group_may_change_the_case_of_its_own_name(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    variables = {"id": str(world.a.group_id), "name": "GROUP A"}
    payload = (await provider.data(UPDATE_USER_GROUP, variables))["updateUserGroup"]
    assert payload["messages"] is None
    assert payload["user_group"]["name"] == "GROUP A"


async def test_blank_name_is_refused(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    variables = {"id": str(world.a.group_id), "name": " "}
    payload = (await provider.data(UPDATE_USER_GROUP, variables))["updateUserGroup"]
    assert payload["messages"] == [{"field": "name", "message": "Name can't be blank"}]


async def test_another_organizations_group_is_not_found(
    api: Api, world: World, database: Database
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    before = [(g.id, g.name) for g in await group_rows(database)]
    for group_id in (str(world.b.group_id), "999999"):
        payload = (await provider.data(UPDATE_USER_GROUP, {"id": group_id, "name": "Taken over"}))[
            "updateUserGroup"
        ]
        assert payload == {"user_group": None, "messages": NOT_FOUND}
    payload = (await provider.data(UPDATE_USER_GROUP, {"name": "No id"}))["updateUserGroup"]
    assert payload["messages"] == [{"field": "id", "message": "Id can't be blank"}]
    assert [(g.id, g.name) for g in await group_rows(database)] == before


async def test_another_organizations_flow_is_not_found(api: Api, world: World) -> None:
    theirs = await _flow(api.with_key(world.b.provider.api_key), "Their intake")
    provider = api.with_key(world.a.provider.api_key)
    for flow_id in (theirs, "999999"):
        variables = {"id": str(world.a.group_id), "name": "X", "onboarding_flow_id": flow_id}
        payload = (await provider.data(UPDATE_USER_GROUP, variables))["updateUserGroup"]
        assert payload["messages"] == [
            {"field": "onboarding_flow_id", "message": "Onboarding flow not found"}
        ]
    group = (await provider.data(GROUP, {"id": str(world.a.group_id)}))["userGroup"]
    assert (group["name"], group["onboarding_flow_id"]) == ("Group a", None)


async def test_only_providers_and_staff_update_groups(api: Api, world: World) -> None:
    variables = {"id": str(world.a.group_id), "name": "Mine"}
    patient = api.with_token(world.a.patient_token)
    assert await patient.error_codes(UPDATE_USER_GROUP, variables) == ["FORBIDDEN"]
    assert await api.error_codes(UPDATE_USER_GROUP, variables) == ["UNAUTHENTICATED"]


async def test_every_problem_is_reported_at_once(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    variables = {"id": str(world.a.group_id), "name": "", "onboarding_flow_id": "424242"}
    payload = (await provider.data(UPDATE_USER_GROUP, variables))["updateUserGroup"]
    assert payload["messages"] == [
        {"field": "name", "message": "Name can't be blank"},
        {"field": "onboarding_flow_id", "message": "Onboarding flow not found"},
    ]
