"""users / usersCount: the seed's arguments, Healthie's current ones, and their rules."""

from __future__ import annotations

import base64
from typing import Any

from tests.support.api import Api
from tests.support.world import World

from carebook import builders
from carebook.auth.passwords import Passwords
from carebook.conversations.models import Conversation, ConversationMembership
from carebook.db.engine import Database

SEED_LIST = """query users( $offset: Int $keywords: String $sort_by: String $active_status: String $group_id: String $show_all_by_default: Boolean $should_paginate: Boolean $provider_id: String $conversation_id: ID $limited_to_provider: Boolean) { usersCount( keywords: $keywords active_status: $active_status group_id: $group_id conversation_id: $conversation_id provider_id: $provider_id limited_to_provider: $limited_to_provider ) users( offset: $offset keywords: $keywords sort_by: $sort_by active_status: $active_status group_id: $group_id conversation_id: $conversation_id show_all_by_default: $show_all_by_default should_paginate: $should_paginate provider_id: $provider_id limited_to_provider: $limited_to_provider ) { id }}"""  # noqa: E501
SEED_SEARCH = """query users($keywords: String) { users(keywords: $keywords) { id }}"""
LIST = """query($args: String, $order: UserOrderKeys, $after: Cursor, $page: Int, $offset: Int,
  $ids: [ID]) {
  users(sort_by: $args, order_by: $order, after: $after, page_size: $page, offset: $offset,
        ids: $ids) { id last_name cursor } }"""


async def _patients(
    database: Database, passwords: Passwords, world: World, names: list[str], **extra: Any
) -> list[int]:
    ids = []
    async with database.write_sessions() as session, session.begin():
        actor = builders.actor_of(world.a.provider)
        for i, name in enumerate(names):
            user = await builders.patient(
                session,
                passwords,
                actor=actor,
                first_name=f"F{i}",
                last_name=name,
                email=f"{name.lower()}.{i}@example.com",
                **extra,
            )
            ids.append(user.id)
    return ids


async def _list(api: Api, **variables: Any) -> tuple[int, list[str]]:
    data = await api.data(SEED_LIST, variables)
    return data["usersCount"], [u["id"] for u in data["users"]]


async def test_seed_document_lists_only_own_organizations_patients(api: Api, world: World) -> None:
    count, ids = await _list(api.with_key(world.a.provider.api_key))
    assert count == 2
    assert set(ids) == {str(world.a.patient_id), str(world.a.other_patient_id)}
    count_b, ids_b = await _list(api.with_key(world.b.provider.api_key))
    assert count_b == 2 and not set(ids) & set(ids_b)


async def test_default_sort_is_last_name_desc_and_pages_never_repeat(
    api: Api, world: World, database: Database, passwords: Passwords
) -> None:
    await _patients(database, passwords, world, ["Adams", "Baker", "Baker", "Clark"] * 4)
    provider = api.with_key(world.a.provider.api_key)
    seen: list[str] = []
    for offset in range(0, 18, 10):
        _, page = await _list(provider, offset=offset)
        seen += page
    assert len(seen) == len(set(seen)) == 18
    data = await provider.data(LIST, {"page": 100})
    names = [u["last_name"] for u in data["users"]]
    assert names == sorted(names, reverse=True)


async def test_order_by_enum_and_sort_by_string_agree(
    api: Api, world: World, database: Database, passwords: Passwords
) -> None:
    await _patients(database, passwords, world, ["Zed", "Amy", "Moe"])
    provider = api.with_key(world.a.provider.api_key)
    by_enum = await provider.data(LIST, {"order": "LAST_NAME_ASC", "page": 100})
    by_string = await provider.data(LIST, {"args": "last_name_asc", "page": 100})
    assert by_enum == by_string
    names = [u["last_name"] for u in by_enum["users"]]
    assert names == sorted(names)


async def test_every_sort_key_works(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    for key in (
        "email",
        "first_name",
        "last_name",
        "created_at",
        "updated_at",
        "group_name",
        "provider_name",
        "next_appt_date",
    ):
        for direction in ("asc", "desc"):
            data = await provider.data(LIST, {"args": f"{key}_{direction}"})
            assert len(data["users"]) == 2, key


async def test_cursor_pagination_continues_after_the_cursor(
    api: Api, world: World, database: Database, passwords: Passwords
) -> None:
    await _patients(database, passwords, world, [f"N{i:02d}" for i in range(12)])
    provider = api.with_key(world.a.provider.api_key)
    first = (await provider.data(LIST, {"page": 5}))["users"]
    second = (await provider.data(LIST, {"page": 5, "after": first[-1]["cursor"]}))["users"]
    whole = (await provider.data(LIST, {"page": 10}))["users"]
    assert [u["id"] for u in first + second] == [u["id"] for u in whole]


async def test_page_size_and_should_paginate(
    api: Api, world: World, database: Database, passwords: Passwords
) -> None:
    await _patients(database, passwords, world, [f"P{i:02d}" for i in range(12)])
    provider = api.with_key(world.a.provider.api_key)
    count, page = await _list(provider)
    assert count == 14 and len(page) == 10
    _, everything = await _list(provider, should_paginate=False)
    assert len(everything) == 14


async def test_active_status_filters_and_count_agrees(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    archive = """mutation($ids: [ID]) {
      bulkUpdateClients(input: {ids: $ids, active_status: false}) { messages { message } } }"""
    await provider.data(archive, {"ids": [str(world.a.other_patient_id)]})
    assert await _list(provider, active_status="archived") == (1, [str(world.a.other_patient_id)])
    assert await _list(provider, active_status="active") == (1, [str(world.a.patient_id)])
    assert (await _list(provider))[0] == 2


async def test_group_filter(
    api: Api, world: World, database: Database, passwords: Passwords
) -> None:
    ids = await _patients(
        database, passwords, world, ["Grouped"], user_group_id=str(world.a.group_id)
    )
    provider = api.with_key(world.a.provider.api_key)
    assert await _list(provider, group_id=str(world.a.group_id)) == (1, [str(ids[0])])
    # Another organization's group reveals nothing.
    assert await _list(provider, group_id=str(world.b.group_id)) == (0, [])


async def test_provider_id_and_limited_to_provider(
    api: Api, world: World, database: Database, passwords: Passwords
) -> None:
    ids = await _patients(
        database, passwords, world, ["Staffed"], dietitian_id=str(world.a.staff.user_id)
    )
    provider = api.with_key(world.a.provider.api_key)
    staff_id = str(world.a.staff.user_id)
    assert (await _list(provider, provider_id=staff_id))[0] == 3  # staff see the whole practice
    assert await _list(provider, provider_id=staff_id, limited_to_provider=True) == (
        1,
        [str(ids[0])],
    )
    assert (await _list(provider, limited_to_provider=True))[0] == 2
    assert await _list(provider, provider_id=str(world.b.provider.user_id)) == (0, [])
    assert await _list(provider, provider_id=str(world.a.patient_id)) == (0, [])


async def test_conversation_filter(api: Api, world: World, database: Database) -> None:
    async with database.write_sessions() as session, session.begin():
        convo = Conversation(
            organization_id=world.a.provider.organization_id, owner_id=world.a.provider.user_id
        )
        other = Conversation(
            organization_id=world.b.provider.organization_id, owner_id=world.b.provider.user_id
        )
        session.add_all([convo, other])
        await session.flush()
        session.add_all(
            [
                ConversationMembership(conversation_id=convo.id, user_id=world.a.patient_id),
                ConversationMembership(conversation_id=convo.id, user_id=world.a.provider.user_id),
                ConversationMembership(conversation_id=other.id, user_id=world.b.patient_id),
            ]
        )
        convo_id, other_id = convo.id, other.id
    provider = api.with_key(world.a.provider.api_key)
    assert await _list(provider, conversation_id=str(convo_id)) == (1, [str(world.a.patient_id)])
    assert await _list(provider, conversation_id=str(other_id)) == (0, [])


async def test_show_all_by_default_false_needs_keywords(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    assert (await _list(provider, show_all_by_default=False))[1] == []
    assert (await _list(provider, show_all_by_default=False, keywords="Other"))[1] == [
        str(world.a.other_patient_id)
    ]


async def test_seed_search_example_finds_only_the_right_patient(
    api: Api, world: World, database: Database, passwords: Passwords
) -> None:
    async with database.write_sessions() as session, session.begin():
        actor = builders.actor_of(world.a.provider)
        john = await builders.patient(
            session, passwords, actor=actor, first_name="John", last_name="Doe", dob="2002-01-01"
        )
        await builders.patient(
            session, passwords, actor=actor, first_name="John", last_name="Doe", dob="2002-01-02"
        )
        await builders.patient(
            session, passwords, actor=actor, first_name="Jane", last_name="Doe", dob="2002-01-01"
        )
        john_id = john.id
    data = await api.with_key(world.a.provider.api_key).data(
        SEED_SEARCH, {"keywords": "John Doe 2002-01-01"}
    )
    assert data["users"] == [{"id": str(john_id)}]


async def test_search_follows_updates(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    rename = """mutation($id: ID) {
      updateClient(input: {id: $id, last_name: "Zamora"}) { messages { message } } }"""
    await provider.data(rename, {"id": str(world.a.patient_id)})
    assert (await provider.data(SEED_SEARCH, {"keywords": "zamo"}))["users"] == [
        {"id": str(world.a.patient_id)}
    ]
    assert (await provider.data(SEED_SEARCH, {"keywords": "IentA Pat"}))["users"] == []


async def test_search_never_crosses_organizations(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    assert (await provider.data(SEED_SEARCH, {"keywords": "IentB"}))["users"] == []
    assert (await provider.data(SEED_SEARCH, {"keywords": str(world.b.patient_id)}))["users"] == []


async def test_invalid_arguments_are_clear_errors(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    for variables in (
        {"sort_by": "shoe_size"},
        {"active_status": "deleted"},
        {"offset": -1},
        {"group_id": "abc"},
    ):
        codes = await provider.error_codes(SEED_LIST, variables)
        assert codes and set(codes) == {"BAD_USER_INPUT"}, variables
    assert await provider.error_codes(LIST, {"after": "not-a-cursor"}) == ["BAD_USER_INPUT"]
    # A well-formed cursor whose position overflows OFFSET is bad input too, not a 500.
    huge = base64.urlsafe_b64encode(b"pos:" + b"9" * 30).decode()
    assert await provider.error_codes(LIST, {"after": huge}) == ["BAD_USER_INPUT"]
    assert await provider.error_codes(LIST, {"page": 101}) == ["BAD_USER_INPUT"]


async def test_patients_and_anonymous_cannot_list(api: Api, world: World) -> None:
    assert await api.with_token(world.a.patient_token).error_codes(SEED_SEARCH) == ["FORBIDDEN"]
    assert await api.error_codes(SEED_SEARCH) == ["UNAUTHENTICATED"]


async def test_ids_filter(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    data = await provider.data(LIST, {"ids": [str(world.a.patient_id), str(world.b.patient_id)]})
    assert [u["id"] for u in data["users"]] == [str(world.a.patient_id)]


async def test_tag_ids_filter_lists_patients_with_any_of_the_tags(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    create = """mutation($n: String, $u: ID) {
      createTag(input: {name: $n, taggable_user_id: $u}) { tag { id } messages { message } } }"""
    vip = (await provider.data(create, {"n": "VIP", "u": str(world.a.patient_id)}))["createTag"]
    empty = (await provider.data(create, {"n": "Unused"}))["createTag"]
    other_org = (
        await api.with_key(world.b.provider.api_key).data(
            create, {"n": "VIP", "u": str(world.b.patient_id)}
        )
    )["createTag"]
    query = """query($t: [ID]) { usersCount(tag_ids: $t) users(tag_ids: $t) { id } }"""
    data = await provider.data(query, {"t": [vip["tag"]["id"], empty["tag"]["id"]]})
    assert data == {"usersCount": 1, "users": [{"id": str(world.a.patient_id)}]}
    assert (await provider.data(query, {"t": [other_org["tag"]["id"]]}))["users"] == []
    assert (await provider.data(query, {"t": []}))["usersCount"] == 2


async def test_both_search_plans_return_the_same_pages(
    api: Api, world: World, database: Database, passwords: Passwords
) -> None:
    from unittest.mock import patch

    from carebook.search import pages as page_paths
    from carebook.search import terms

    await _patients(database, passwords, world, ["Ames", "Ames", "Bell", "Ames", "Zola", "Ames"])
    provider = api.with_key(world.a.provider.api_key)
    pages = []
    # Driving, probing within the walk window, and probing that falls back to driving.
    plans = ((terms.DRIVING_LIMIT, 2000), (0, 2000), (0, 1))
    for limit, budget in plans:
        with (
            patch.object(terms, "DRIVING_LIMIT", limit),
            patch.object(page_paths, "WALK_BUDGET", budget),
        ):
            for order in ("last_name_desc", "email_asc", "group_name_desc", "provider_name_asc"):
                data = await provider.data(
                    """query($k: String, $s: String) {
                       users(keywords: $k, sort_by: $s, page_size: 3, offset: 1) { id } }""",
                    {"k": "f", "s": order},
                )
                pages.append(data["users"])
    assert pages[:4] == pages[4:8] == pages[8:]
    assert all(len(page) == 3 for page in pages)
