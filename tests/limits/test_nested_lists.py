"""Every list is bounded where it runs, by the bound the cost estimate uses (issue 22, item 2).

A list inside an object that is not paginated holds at most CAREBOOK_NESTED_LIST_MAX_ROWS items
and is refused past it; Tag.tagged_users pages like Healthie's (should_paginate, offset).
"""

from __future__ import annotations

from graphql import GraphQLList, GraphQLObjectType, get_nullable_type
from strawberry.types.field import StrawberryField
from tests.limits.conftest import MakeApi
from tests.support.api import Api
from tests.support.schema_walk import SCHEMA
from tests.support.world import World

from carebook import builders
from carebook.auth.passwords import Passwords
from carebook.db.engine import Database
from carebook.graphql.limits.rows import CAPPED

PAGED = {"page_size", "should_paginate"}
# Lists bounded by what they are, whatever the data: no cap to check.
BOUNDED = {
    "Appointment.attendees": "the appointment's one patient",
    "Conversation.first_four_invitees": "four at most",
    "DuplicateCandidate.reasons": "the few reasons of one pair, split from one column",
}


async def _group_of_both(api: Api, world: World) -> str:
    """Organization A's two patients, moved into a new group; its id."""
    created = await api.data(
        'mutation { createGroup(input: {name: "Both"}) { user_group { id } } }'
    )
    group_id: str = created["createGroup"]["user_group"]["id"]
    for patient in (world.a.patient_id, world.a.other_patient_id):
        await api.data(
            "mutation($id: ID, $g: String) { updateClient(input: {id: $id, user_group_id: $g}) "
            "{ user { id } } }",
            {"id": str(patient), "g": group_id},
        )
    return group_id


async def _tag_on_both(api: Api, world: World) -> str:
    """A tag applied to organization A's two patients; its id."""
    query = (
        'mutation($u: ID) { createTag(input: {name: "Both", taggable_user_id: $u}) { tag { id } } }'
    )
    tag_id: str = (await api.data(query, {"u": str(world.a.patient_id)}))["createTag"]["tag"]["id"]
    await api.data(
        "mutation($t: [ID], $u: ID) { bulkApply(input: {ids: $t, taggable_user_id: $u}) "
        "{ tags { id } } }",
        {"t": [tag_id], "u": str(world.a.other_patient_id)},
    )
    return tag_id


async def test_a_group_over_the_nested_cap_is_refused_not_cut(
    api_with: MakeApi, world: World
) -> None:
    api = (await api_with(nested_list_max_rows=1)).with_key(world.a.provider.api_key)
    group_id = await _group_of_both(api, world)
    body = await api.post("query($g: ID) { userGroup(id: $g) { users { id } } }", {"g": group_id})
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "limit": 1}
    assert "UserGroup.users returns at most 1" in error["message"]
    assert "users(group_id" in error["message"]
    assert body["data"] == {"userGroup": None}
    api = (await api_with(nested_list_max_rows=2)).with_key(world.a.provider.api_key)
    data = await api.data("query($g: ID) { userGroup(id: $g) { users { id } } }", {"g": group_id})
    assert len(data["userGroup"]["users"]) == 2


async def test_tagged_users_page_and_refuse_a_whole_list_over_the_cap(
    api_with: MakeApi, world: World
) -> None:
    api = (await api_with(nested_list_max_rows=1)).with_key(world.a.provider.api_key)
    tag_id = await _tag_on_both(api, world)
    whole = "query($t: [ID]) { tags(ids: $t) { tagged_users { id } } }"
    body = await api.post(whole, {"t": [tag_id]})
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]
    pages = (
        "query($t: [ID]) { tags(ids: $t) { first: tagged_users(should_paginate: true) { id } "
        "second: tagged_users(should_paginate: true, offset: 1) { id } } }"
    )
    [tag] = (await api.data(pages, {"t": [tag_id]}))["tags"]
    assert {u["id"] for u in tag["first"] + tag["second"]} == {
        str(world.a.patient_id),
        str(world.a.other_patient_id),
    }


async def test_the_cost_of_a_nested_list_is_its_cap(api_with: MakeApi, world: World) -> None:
    # users 10 + 10 x (user_group 1 + users 50) = 520
    query = "{ users(page_size: 10) { user_group { users { id } } } }"
    api = (await api_with(max_query_cost=519, nested_list_max_rows=50)).with_key(
        world.a.provider.api_key
    )
    assert await api.error_codes(query) == ["QUERY_TOO_COMPLEX"]
    api = (await api_with(max_query_cost=520, nested_list_max_rows=50)).with_key(
        world.a.provider.api_key
    )
    assert await api.data(query)
    # A page of tagged users costs its page (10), not the cap.
    paged = '{ tags(ids: ["1"]) { tagged_users(should_paginate: true) { id } } }'
    api = (await api_with(max_query_cost=11, nested_list_max_rows=50)).with_key(
        world.a.provider.api_key
    )
    assert await api.data(paged) is not None


async def test_a_care_team_over_the_nested_cap_is_refused_and_costed(
    api_with: MakeApi, world: World, database: Database, passwords: Passwords
) -> None:
    api = (await api_with(nested_list_max_rows=1)).with_key(world.a.provider.api_key)
    async with database.write_sessions() as session, session.begin():
        colleague = await builders.provider(
            session,
            passwords,
            email="colleague@example.com",
            organization_id=world.a.provider.organization_id,
        )
    team = [str(colleague.user_id), str(world.a.staff.user_id)]  # the primary provider is apart
    updated = await api.data(
        "mutation($id: ID, $o: [String]) { updateClient(input: {id: $id, other_provider_ids: $o})"
        " { messages { message } } }",
        {"id": str(world.a.patient_id), "o": team},
    )
    assert updated["updateClient"]["messages"] is None
    query = "query($id: ID) { user(id: $id) { other_provider_ids } }"
    body = await api.post(query, {"id": str(world.a.patient_id)})
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "limit": 1}
    assert "User.other_provider_ids returns at most 1" in error["message"]
    # Costed by its cap like a list of objects: users 10 x (1 + ids 50) = 510.
    ids = "{ users(page_size: 10) { other_provider_ids } }"
    tight = (await api_with(max_query_cost=509, nested_list_max_rows=50)).with_key(
        world.a.provider.api_key
    )
    assert await tight.error_codes(ids) == ["QUERY_TOO_COMPLEX"]


async def test_a_refused_providers_list_nulls_that_field_not_the_page(
    api_with: MakeApi, world: World, database: Database, passwords: Passwords
) -> None:
    api = (await api_with(nested_list_max_rows=1)).with_key(world.a.provider.api_key)
    async with database.write_sessions() as session, session.begin():
        colleague = await builders.provider(
            session,
            passwords,
            email="teammate@example.com",
            organization_id=world.a.provider.organization_id,
        )
    updated = await api.data(
        "mutation($id: ID, $o: [String]) { updateClient(input: {id: $id, other_provider_ids: $o})"
        " { messages { message } } }",
        {"id": str(world.a.patient_id), "o": [str(colleague.user_id)]},
    )
    assert updated["updateClient"]["messages"] is None
    body = await api.post("{ users(page_size: 10) { id providers { id } } }")
    assert [e["path"][-1] for e in body["errors"]] == ["providers"]
    users = {u["id"]: u for u in body["data"]["users"]}  # the page is still answered
    assert users[str(world.a.patient_id)]["providers"] is None
    assert users[str(world.a.other_patient_id)]["providers"] is not None


def test_every_list_of_objects_is_paginated_or_capped() -> None:
    """The schema walk: a new list field cannot forget its run-time bound."""
    unbounded = []
    schema = SCHEMA._schema
    roots = (schema.query_type, schema.mutation_type)
    for type_name, type_ in schema.type_map.items():
        if not isinstance(type_, GraphQLObjectType) or type_name.startswith("__"):
            continue
        for name, field in type_.fields.items():
            # Lists of scalars too (ids): each item is a row read.
            if not isinstance(get_nullable_type(field.type), GraphQLList):
                continue
            definition = (field.extensions or {}).get("strawberry-definition")
            assert isinstance(definition, StrawberryField)
            resolver = definition.base_resolver
            marked = resolver is not None and getattr(resolver.wrapped_func, CAPPED, False)
            # Root lists are paginated or capped by their own resolver (tests/limits);
            # a payload's list holds what its mutation's input named (bounded there).
            if marked or type_ in roots or type_name.endswith("Payload"):
                continue
            if PAGED & set(field.args) and name != "tagged_users":
                continue
            if f"{type_name}.{name}" in BOUNDED:
                continue
            unbounded.append(f"{type_name}.{name}")
    assert unbounded == []


def test_the_walk_sees_the_nested_lists() -> None:
    capped = set()
    for type_name in ("UserGroup", "Tag", "User", "Conversation", "OnboardingFlow"):
        type_ = SCHEMA._schema.type_map[type_name]
        assert isinstance(type_, GraphQLObjectType)
        for name, field in type_.fields.items():
            definition = (field.extensions or {}).get("strawberry-definition")
            resolver = getattr(definition, "base_resolver", None)
            if resolver is not None and getattr(resolver.wrapped_func, CAPPED, False):
                capped.add(f"{type_name}.{name}")
    assert {
        "UserGroup.users",
        "Tag.tagged_users",
        "User.providers",
        "User.locations",
        "User.active_tags",
        "Conversation.users",
        "OnboardingFlow.user_groups",
    } <= capped


async def test_a_staff_members_groups_over_the_nested_cap_are_refused_not_cut(
    api_with: MakeApi, world: World
) -> None:
    # The world's organization A has one group; a second makes two, over a cap of one.
    api = (await api_with(nested_list_max_rows=1)).with_key(world.a.provider.api_key)
    await api.data('mutation { createGroup(input: {name: "Second"}) { user_group { id } } }')
    body = await api.post("{ currentUser { user_groups { id } } }")
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "limit": 1}
    assert "User.user_groups returns at most 1" in error["message"]
    # Pages are bounded by their page size, not by the cap.
    paged = await api.data("{ currentUser { user_groups(should_paginate: true) { id } } }")
    assert len(paged["currentUser"]["user_groups"]) == 2
