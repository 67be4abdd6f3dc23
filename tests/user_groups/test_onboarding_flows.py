"""Onboarding flows: created and listed in the organization, used by groups, seen on the user."""

from __future__ import annotations

from typing import Any

from tests.support.api import Api
from tests.support.auth_helpers import add_provider
from tests.support.groups import GROUP, UPDATE_CLIENT_GROUP, create_group
from tests.support.seed_group_documents import UPDATE_USER_GROUP
from tests.support.world import World

from carebook.auth.passwords import Passwords
from carebook.db.engine import Database

# Healthie's forms guide (docs.gethealthie.com/guides/forms), verbatim.
CREATE_FLOW = """mutation createOnboardingFlow($name: String, $groups_to_use_onboarding_flow: String) {
  createOnboardingFlow(input: { name: $name, groups_to_use_onboarding_flow: $groups_to_use_onboarding_flow }) {
    onboardingFlow {
      id
    }
    messages {
      field
      message
    }
  }
}"""  # noqa: E501
UPDATE_FLOW = """mutation updateOnboardingFlow($id: ID, $name: String, $groups_to_use_onboarding_flow: String) {
  updateOnboardingFlow(input: { id: $id, name: $name, groups_to_use_onboarding_flow: $groups_to_use_onboarding_flow }) {
    onboardingFlow {
      id
    }
    messages {
      field
      message
    }
  }
}"""  # noqa: E501
LIST_FLOWS = """query onboardingFlows($offset: Int, $keywords: String, $sort_by: String, $should_paginate: Boolean) {
  onboardingFlows(offset: $offset, keywords: $keywords, sort_by: $sort_by, should_paginate: $should_paginate) {
    id
    name
    is_multiple_providers
    has_forms_after_welcome
  }
}"""  # noqa: E501
GET_FLOW = """query onboardingFlow($id: ID, $user_id: ID) {
  onboardingFlow(id: $id, user_id: $user_id) {
    id
    name
    is_multiple_providers
    has_forms_after_welcome
  }
}"""

FLOW = """query($id: ID) { onboardingFlow(id: $id) {
  id name created_at cursor user_groups { id name } user_groups_count user_groups_name_string } }"""
FLOWS = """query($order_by: OnboardingFlowOrderKeys, $keywords: String, $page_size: Int,
  $after: Cursor) {
  onboardingFlowsCount(keywords: $keywords)
  onboardingFlows(order_by: $order_by, keywords: $keywords, page_size: $page_size, after: $after) {
    id name cursor } }"""
USER_FLOW = """query($id: ID) { user(id: $id) {
  user_group { id onboarding_flow_id onboarding_flow { id name } } } }"""


async def _create(api: Api, name: str, groups: str | None = None) -> str:
    variables = {"name": name, "groups_to_use_onboarding_flow": groups}
    payload = (await api.data(CREATE_FLOW, variables))["createOnboardingFlow"]
    assert payload["messages"] is None, payload
    flow_id: str = payload["onboardingFlow"]["id"]
    return flow_id


async def _flow(api: Api, flow_id: str) -> dict[str, Any] | None:
    flow: dict[str, Any] | None = (await api.data(FLOW, {"id": flow_id}))["onboardingFlow"]
    return flow


async def test_create_a_flow_and_attach_it_to_groups(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    other = await create_group(provider, "Another Group")
    flow_id = await _create(provider, "Intake flow", f"{world.a.group_id}, {other}")
    flow = await _flow(provider, flow_id)
    assert flow is not None
    assert flow["name"] == "Intake flow"
    assert flow["user_groups"] == [
        {"id": other, "name": "Another Group"},
        {"id": str(world.a.group_id), "name": "Group a"},
    ]
    assert flow["user_groups_count"] == 2
    assert flow["user_groups_name_string"] == "Another Group, Group a"
    group = (await provider.data(GROUP, {"id": str(world.a.group_id)}))["userGroup"]
    assert group["onboarding_flow_id"] == flow_id


async def test_flow_name_is_required(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    payload = (await provider.data(CREATE_FLOW, {"name": ""}))["createOnboardingFlow"]
    assert payload == {
        "onboardingFlow": None,
        "messages": [{"field": "name", "message": "Name can't be blank"}],
    }


async def test_groups_of_another_organization_are_not_found_and_nothing_is_created(
    api: Api, world: World
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    variables = {"name": "Intake", "groups_to_use_onboarding_flow": f"{world.b.group_id},abc"}
    payload = (await provider.data(CREATE_FLOW, variables))["createOnboardingFlow"]
    assert payload["onboardingFlow"] is None
    assert [m["field"] for m in payload["messages"]] == ["groups_to_use_onboarding_flow"]
    variables["groups_to_use_onboarding_flow"] = str(world.b.group_id)
    payload = (await provider.data(CREATE_FLOW, variables))["createOnboardingFlow"]
    assert payload["messages"] == [
        {
            "field": "groups_to_use_onboarding_flow",
            "message": f"User groups not found: {world.b.group_id}",
        }
    ]
    assert (await provider.data(LIST_FLOWS, {}))["onboardingFlows"] == []


async def test_update_renames_and_replaces_the_groups_using_the_flow(
    api: Api, world: World
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    second = await create_group(provider, "Second")
    flow_id = await _create(provider, "Intake", str(world.a.group_id))
    variables = {"id": flow_id, "name": "Intake v2", "groups_to_use_onboarding_flow": second}
    payload = (await provider.data(UPDATE_FLOW, variables))["updateOnboardingFlow"]
    assert payload == {"onboardingFlow": {"id": flow_id}, "messages": None}
    flow = await _flow(provider, flow_id)
    assert flow is not None
    assert (flow["name"], flow["user_groups"]) == ("Intake v2", [{"id": second, "name": "Second"}])
    await provider.data(UPDATE_FLOW, {"id": flow_id, "groups_to_use_onboarding_flow": ""})
    flow = await _flow(provider, flow_id)
    assert flow is not None
    assert (flow["name"], flow["user_groups"]) == ("Intake v2", [])


async def test_update_of_another_organizations_flow_is_not_found(api: Api, world: World) -> None:
    theirs = await _create(api.with_key(world.b.provider.api_key), "Theirs")
    provider = api.with_key(world.a.provider.api_key)
    payload = (await provider.data(UPDATE_FLOW, {"id": theirs, "name": "Mine"}))[
        "updateOnboardingFlow"
    ]
    assert payload == {
        "onboardingFlow": None,
        "messages": [{"field": "id", "message": "Onboarding flow not found"}],
    }
    assert await _flow(provider, theirs) is None
    assert (await provider.data(GET_FLOW, {"id": theirs}))["onboardingFlow"] is None


async def test_guide_documents_list_and_read_flows(
    api: Api, world: World, database: Database, passwords: Passwords
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    intake = await _create(provider, "Intake flow")
    await _create(provider, "annual review")
    await _create(api.with_key(world.b.provider.api_key), "Not ours")
    data = await provider.data(LIST_FLOWS, {"sort_by": "onboarding_flow_name_desc"})
    assert [f["name"] for f in data["onboardingFlows"]] == ["Intake flow", "annual review"]
    assert {f["has_forms_after_welcome"] for f in data["onboardingFlows"]} == {False}
    assert {f["is_multiple_providers"] for f in data["onboardingFlows"]} == {False}
    data = await provider.data(LIST_FLOWS, {"keywords": "INTAKE", "should_paginate": False})
    assert [f["id"] for f in data["onboardingFlows"]] == [intake]
    await add_provider(
        database, passwords, organization_id=world.a.provider.organization_id, email="p2@x.org"
    )
    flow = (await provider.data(GET_FLOW, {"id": intake}))["onboardingFlow"]
    assert flow == {
        "id": intake,
        "name": "Intake flow",
        "is_multiple_providers": True,
        "has_forms_after_welcome": False,
    }


async def test_flow_sorts_keywords_count_and_cursor(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    ids = [await _create(provider, name) for name in ("beta", "Alpha", "gamma")]

    async def listed(**variables: Any) -> list[str]:
        return [f["id"] for f in (await provider.data(FLOWS, variables))["onboardingFlows"]]

    assert await listed() == [ids[1], ids[0], ids[2]]
    assert await listed(order_by="NAME_DESC") == [ids[2], ids[0], ids[1]]
    assert await listed(order_by="CREATED_AT_ASC") == ids
    assert await listed(order_by="CREATED_AT_DESC") == list(reversed(ids))
    assert await listed(order_by="FORMS_COUNT_ASC") == ids  # no forms: id order
    data = await provider.data(FLOWS, {"keywords": "a", "page_size": 2})
    assert data["onboardingFlowsCount"] == 3
    assert len(data["onboardingFlows"]) == 2
    rest = await listed(page_size=2, after=data["onboardingFlows"][-1]["cursor"])
    assert rest == [ids[2]]
    assert await provider.error_codes(FLOWS, {"page_size": 0}) == ["BAD_USER_INPUT"]
    codes = await provider.error_codes(LIST_FLOWS, {"sort_by": "newest"})
    assert codes == ["BAD_USER_INPUT"]


async def test_a_groups_flow_is_visible_on_its_patients(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    flow_id = await _create(provider, "Intake flow")
    group_id = str(world.a.group_id)
    await provider.data(UPDATE_USER_GROUP, {"id": group_id, "onboarding_flow_id": flow_id})
    moved = await provider.data(
        UPDATE_CLIENT_GROUP, {"id": str(world.a.patient_id), "user_group_id": group_id}
    )
    assert moved["updateClient"]["messages"] is None
    expected = {
        "id": group_id,
        "onboarding_flow_id": flow_id,
        "onboarding_flow": {"id": flow_id, "name": "Intake flow"},
    }
    # Staff see it on the patient; the patient sees it on themselves.
    user = (await provider.data(USER_FLOW, {"id": str(world.a.patient_id)}))["user"]
    assert user["user_group"] == expected
    patient = api.with_token(world.a.patient_token)
    me = (await patient.data(USER_FLOW, {"id": str(world.a.patient_id)}))["user"]
    assert me["user_group"] == expected
    # And through onboardingFlow(user_id:), Healthie's way of asking for a patient's flow.
    by_user = await provider.data(GET_FLOW, {"user_id": str(world.a.patient_id)})
    assert by_user["onboardingFlow"]["id"] == flow_id
    own = await patient.data(GET_FLOW, {"user_id": str(world.a.other_patient_id)})
    assert own["onboardingFlow"]["id"] == flow_id  # user_id is ignored for a patient


async def test_a_patient_sees_only_their_own_flow_and_group(
    api: Api, world: World, database: Database, passwords: Passwords
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    other_group = await create_group(provider, "Other group")
    shared = await _create(provider, "Shared", f"{world.a.group_id},{other_group}")
    elsewhere = await _create(provider, "Elsewhere")
    patient = api.with_token(world.a.patient_token)
    # Not in a group yet: no flow at all.
    assert (await patient.data(GET_FLOW, {"id": shared}))["onboardingFlow"] is None
    await provider.data(
        UPDATE_CLIENT_GROUP,
        {"id": str(world.a.patient_id), "user_group_id": str(world.a.group_id)},
    )
    flow = (await patient.data(FLOW, {"id": shared}))["onboardingFlow"]
    assert flow["user_groups"] == [{"id": str(world.a.group_id), "name": "Group a"}]
    assert (await patient.data(GET_FLOW, {"id": elsewhere}))["onboardingFlow"] is None
    assert set(await patient.error_codes(LIST_FLOWS, {})) == {"FORBIDDEN"}
    assert set(await patient.error_codes(CREATE_FLOW, {"name": "x"})) == {"FORBIDDEN"}
    assert set(await api.error_codes(GET_FLOW, {"id": shared})) == {"UNAUTHENTICATED"}


async def test_staff_ask_for_a_patient_of_another_organization_get_nothing(
    api: Api, world: World
) -> None:
    theirs = api.with_key(world.b.provider.api_key)
    flow_id = await _create(theirs, "Theirs", str(world.b.group_id))
    await theirs.data(
        UPDATE_CLIENT_GROUP,
        {"id": str(world.b.patient_id), "user_group_id": str(world.b.group_id)},
    )
    assert (await theirs.data(GET_FLOW, {"user_id": str(world.b.patient_id)}))[
        "onboardingFlow"
    ] == {"id": flow_id, "name": "Theirs", "is_multiple_providers": False,
          "has_forms_after_welcome": False}  # fmt: skip
    provider = api.with_key(world.a.provider.api_key)
    data = await provider.data(GET_FLOW, {"user_id": str(world.b.patient_id)})
    assert data["onboardingFlow"] is None
