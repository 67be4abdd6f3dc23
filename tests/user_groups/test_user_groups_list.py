"""userGroups and userGroupsCount: the seed's document, keywords, every sort, pagination."""

from __future__ import annotations

from typing import Any

import pytest
from tests.support.api import Api
from tests.support.groups import add_patients, create_group
from tests.support.seed_group_documents import USER_GROUPS
from tests.support.world import World

from carebook.auth.passwords import Passwords
from carebook.db.engine import Database

LIST = """query($offset: Int, $keywords: String, $sort_by: String, $order_by: UserGroupOrderKeys,
  $should_paginate: Boolean, $page_size: Int, $after: Cursor) {
  userGroupsCount(keywords: $keywords)
  userGroups(offset: $offset, keywords: $keywords, sort_by: $sort_by, order_by: $order_by,
             should_paginate: $should_paginate, page_size: $page_size, after: $after) {
    id name invite_code users_count cursor } }"""

# name -> number of active patients; "Group a" (world.a's, created first) has none.
GROUPS = {"beta": 2, "Alpha": 3, "gamma": 0, "Delta": 2}


async def _setup(api: Api, world: World, database: Database, passwords: Passwords) -> Api:
    """Organization A with five groups (GROUPS and "Group a"); B's group must never show."""
    provider = api.with_key(world.a.provider.api_key)
    for name, count in GROUPS.items():
        group_id = await create_group(provider, name)
        await add_patients(database, passwords, world.a, count, group_id=group_id, tag=name)
    # An archived patient never counts.
    await add_patients(
        database, passwords, world.a, 1, group_id=world.a.group_id, tag="gone", active=False
    )
    return provider


async def _list(api: Api, **variables: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = (await api.data(LIST, variables))["userGroups"]
    return rows


def _ids(rows: list[dict[str, Any]]) -> list[int]:
    return [int(row["id"]) for row in rows]


async def test_seed_document_lists_and_counts(
    api: Api, world: World, database: Database, passwords: Passwords
) -> None:
    provider = await _setup(api, world, database, passwords)
    data = await provider.data(USER_GROUPS, {"offset": 0, "keywords": None, "sort_by": None})
    assert data["userGroupsCount"] == 5
    assert [g["name"] for g in data["userGroups"]] == ["Alpha", "beta", "Delta", "gamma", "Group a"]
    assert [g["users_count"] for g in data["userGroups"]] == [3, 2, 2, 0, 0]
    data = await provider.data(USER_GROUPS, {"offset": 3, "keywords": "", "sort_by": "name"})
    assert [g["name"] for g in data["userGroups"]] == ["gamma", "Group a"]
    assert data["userGroupsCount"] == 5


async def test_keywords_search_names_ignoring_case(
    api: Api, world: World, database: Database, passwords: Passwords
) -> None:
    provider = await _setup(api, world, database, passwords)
    await create_group(provider, "100% Fit_Club")
    cases = {
        "A": ["Alpha", "beta", "Delta", "gamma", "Group a"],
        "ALP": ["Alpha"],
        "roup": ["Group a"],
        "group A": ["Group a"],
        "%": ["100% Fit_Club"],
        "_": ["100% Fit_Club"],
        "zzz": [],
    }
    for keywords, names in cases.items():
        data = await provider.data(USER_GROUPS, {"keywords": keywords})
        assert [g["name"] for g in data["userGroups"]] == names, keywords
        assert data["userGroupsCount"] == len(names), keywords


async def test_every_seed_sort_by_value(
    api: Api, world: World, database: Database, passwords: Passwords
) -> None:
    provider = await _setup(api, world, database, passwords)
    rows = await _list(provider)
    by_name = {row["name"]: row for row in rows}
    ids_by_age = sorted(_ids(rows))
    by_code = sorted(rows, key=lambda row: row["invite_code"])
    names = ["Alpha", "beta", "Delta", "gamma", "Group a"]
    counts = {int(row["id"]): row["users_count"] for row in rows}

    def named(*order: str) -> list[int]:
        return [int(by_name[name]["id"]) for name in order]

    expected = {
        None: named(*names),
        "": named(*names),
        "NAME_ASC": named(*names),
        "name": named(*names),
        "group_name_asc": named(*names),
        "group_name_desc": named(*reversed(names)),
        "invite_code": _ids(by_code),
        "created_at_asc": ids_by_age,
        "created_at_desc": list(reversed(ids_by_age)),
        # Ties (beta and Delta: 2; gamma and Group a: 0) are broken by id, in the sort's direction.
        "users_count_asc": sorted(counts, key=lambda gid: (counts[gid], gid)),
        "users_count_desc": sorted(counts, key=lambda gid: (counts[gid], gid), reverse=True),
    }
    for sort_by, ids in expected.items():
        assert _ids(await _list(provider, sort_by=sort_by)) == ids, sort_by
    # The seed's document takes the same values.
    data = await provider.data(USER_GROUPS, {"sort_by": "users_count_desc"})
    assert [g["users_count"] for g in data["userGroups"]] == [3, 2, 2, 0, 0]


async def test_every_order_by_value_agrees_with_sort_by(
    api: Api, world: World, database: Database, passwords: Passwords
) -> None:
    provider = await _setup(api, world, database, passwords)
    pairs = {
        "NAME_ASC": "name",
        "NAME_DESC": "group_name_desc",
        "INVITE_CODE_ASC": "invite_code",
        "INVITE_CODE_DESC": "invite_code_desc",
        "CREATED_AT_ASC": "created_at_asc",
        "CREATED_AT_DESC": "created_at_desc",
        "USERS_COUNT_ASC": "users_count_asc",
        "USERS_COUNT_DESC": "users_count_desc",
    }
    for order_by, sort_by in pairs.items():
        assert _ids(await _list(provider, order_by=order_by)) == _ids(
            await _list(provider, sort_by=sort_by)
        ), order_by
    codes = [row["invite_code"] for row in await _list(provider, order_by="INVITE_CODE_DESC")]
    assert codes == sorted(codes, reverse=True)
    # order_by, when given, wins over sort_by (as in the project's other lists).
    assert _ids(await _list(provider, order_by="NAME_DESC", sort_by="name")) == list(
        reversed(_ids(await _list(provider)))
    )


@pytest.mark.parametrize("sort_by", ["nom", "users_count", "name; drop table users"])
async def test_unknown_sort_by_is_a_bad_user_input(api: Api, world: World, sort_by: str) -> None:
    provider = api.with_key(world.a.provider.api_key)
    body = await provider.post(LIST, {"sort_by": sort_by})
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]
    assert "Unknown sort" in body["errors"][0]["message"]


async def test_not_paginated_by_default_paginated_on_request(
    api: Api, world: World, database: Database, passwords: Passwords
) -> None:
    provider = await _setup(api, world, database, passwords)
    for index in range(10):
        await create_group(provider, f"Extra {index:02d}")
    assert len(await _list(provider)) == 15  # should_paginate defaults to false
    assert len(await _list(provider, should_paginate=True)) == 10  # page_size defaults to 10
    page = await _list(provider, should_paginate=True, page_size=4, offset=13)
    assert [row["name"] for row in page] == ["gamma", "Group a"]


async def test_cursor_pagination_walks_the_whole_list_once(
    api: Api, world: World, database: Database, passwords: Passwords
) -> None:
    provider = await _setup(api, world, database, passwords)
    expected = _ids(await _list(provider, sort_by="users_count_desc"))
    seen: list[int] = []
    after = None
    while True:
        page = await _list(
            provider, sort_by="users_count_desc", should_paginate=True, page_size=2, after=after
        )
        if not page:
            break
        seen += _ids(page)
        after = page[-1]["cursor"]
    assert seen == expected
    # Cursors are opaque strings, distinct per position.
    cursors = [row["cursor"] for row in await _list(provider)]
    assert len(set(cursors)) == len(cursors)


async def test_bad_pagination_arguments_are_bad_user_input(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    for variables in (
        {"offset": -1},
        {"should_paginate": True, "page_size": 0},
        {"should_paginate": True, "page_size": 101},
        {"after": "not a cursor"},
    ):
        assert await provider.error_codes(LIST, variables) == ["BAD_USER_INPUT"], variables


async def test_only_the_callers_organization_is_listed(
    api: Api, world: World, database: Database, passwords: Passwords
) -> None:
    await _setup(api, world, database, passwords)
    theirs = api.with_key(world.b.staff.api_key)
    data = await theirs.data(USER_GROUPS, {})
    assert data == {
        "userGroupsCount": 1,
        "userGroups": [{"id": str(world.b.group_id), "name": "Group b", "users_count": 0}],
    }


async def test_lists_are_for_providers_and_staff(api: Api, world: World) -> None:
    patient = api.with_token(world.a.patient_token)
    assert set(await patient.error_codes(USER_GROUPS, {})) == {"FORBIDDEN"}
    assert set(await api.error_codes(USER_GROUPS, {})) == {"UNAUTHENTICATED"}
