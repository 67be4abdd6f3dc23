"""Every filter of ListArgs keeps the list off the counted fast paths, and its answers exact.

The counters (``usersCount`` without keywords), the index-only count of one term and the deep
pages from the block counters know only the organization, the keywords and ``active_status``.
This test walks ``dataclasses.fields(ListArgs)``: every field that is not declared as answered
by those paths is set to a value other than its default (derived from its type), and then the
counts and a deep page must not read the counters and must equal the plain path's. A filter
added to ListArgs without the fast paths honouring it fails here.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import update
from tests.support.db import statements_sent

from carebook import builders, search
from carebook.auth.actor import Actor
from carebook.auth.passwords import Passwords
from carebook.db.engine import Database
from carebook.search import ListArgs, SearchState, arguments, pages
from carebook.users.models import User

# What the fast paths answer themselves (keywords, active_status, show_all_by_default) or what
# only says which part of the list to show, in which order, and which columns of it. Adding a
# field here claims that the counters, the index-only count and the deep pages honour it.
ANSWERED_BY_THE_FAST_PATHS = {
    "keywords",
    "active_status",
    "show_all_by_default",
    "sort",
    "offset",
    "limit",
    "whole_list_rows",
    "columns",
}
WORD = "quillon"  # every patient's first name: one plain term matching them all
EVERYONE = 10**6  # the capped count never stops early: the plain path's count


def _non_default(field: dataclasses.Field[Any], some_id: int) -> Any:
    """A value of the field's type other than its default (an id of the list for ids)."""
    hint = typing.get_type_hints(ListArgs)[field.name]
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        (hint,) = [a for a in typing.get_args(hint) if a is not type(None)]
    if hint is bool:
        return field.default is not True
    if hint is int:
        return some_id
    if typing.get_origin(hint) is Sequence and typing.get_args(hint) == (int,):
        return (some_id,)
    if hint is str:
        return "a value"
    pytest.fail(f"ListArgs.{field.name}: no value other than its default for {hint}")


def _filters() -> list[dataclasses.Field[Any]]:
    return [f for f in dataclasses.fields(ListArgs) if f.name not in ANSWERED_BY_THE_FAST_PATHS]


async def _practice(database: Database, passwords: Passwords) -> tuple[Actor, int]:
    """A provider's patients, some archived, some without the provider as their dietitian."""
    async with database.write_sessions() as session, session.begin():
        provider = await builders.provider(session, passwords, email="filters@example.com")
        actor = builders.actor_of(provider)
        patients = [
            await builders.patient(
                session,
                passwords,
                actor=actor,
                first_name=WORD.title(),
                last_name=name,
                email=f"filters{i}@example.com",
            )
            for i, name in enumerate(["Ames", "Bell", "Cho", "Diaz", "Eng", "Fox", "Gil", "Ho"])
        ]
        for archived in patients[::3]:
            archived.active = False
        others = [p.id for p in patients[1::2]]
        await session.execute(update(User).where(User.id.in_(others)).values(dietitian_id=None))
    return actor, patients[4].id


async def _plain_page(
    session: Any, actor: Actor, args: ListArgs, monkeypatch: pytest.MonkeyPatch
) -> list[int]:
    """The page from the sort index's OFFSET: the deep pages' counters out of the way."""
    with monkeypatch.context() as patched:
        patched.setattr(pages, "COUNTED_OFFSET", 10**9)
        return [u.id for u in await search.page(session, actor, args, SearchState())]


def test_the_fields_answered_by_the_fast_paths_are_declared() -> None:
    assert set(arguments.NOT_FILTERS) == ANSWERED_BY_THE_FAST_PATHS


async def test_without_filters_the_fast_paths_answer(
    database: Database, passwords: Passwords, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The detection below works: the counters are read when nothing but the status narrows."""
    actor, _ = await _practice(database, passwords)
    monkeypatch.setattr(pages, "COUNTED_OFFSET", 1)
    async with database.read_sessions() as session:
        with statements_sent(database) as statements:
            assert await search.count(session, actor, ListArgs(), SearchState()) == 8
            page = await search.page(session, actor, ListArgs(offset=2, limit=3), SearchState())
        assert any("user_counts" in s for s in statements)
        assert any("list_blocks" in s for s in statements)
        assert [u.id for u in page] == await _plain_page(
            session, actor, ListArgs(offset=2, limit=3), monkeypatch
        )


@pytest.mark.parametrize("field", _filters(), ids=lambda f: f.name)
async def test_a_filter_leaves_the_fast_paths_and_is_honoured(
    database: Database,
    passwords: Passwords,
    monkeypatch: pytest.MonkeyPatch,
    field: dataclasses.Field[Any],
) -> None:
    actor, some_id = await _practice(database, passwords)
    value = _non_default(field, some_id)
    monkeypatch.setattr(pages, "COUNTED_OFFSET", 1)
    async with database.read_sessions() as session:
        for keywords in (None, WORD):
            args = ListArgs(keywords=keywords, **{field.name: value})
            plain = await search.count(session, actor, args, SearchState(), most=EVERYONE)
            everyone = ListArgs(keywords=keywords)
            total = await search.count(session, actor, everyone, SearchState(), most=EVERYONE)
            assert plain != total, f"{field.name}={value!r} narrows nothing: pick another value"
            with statements_sent(database) as statements:
                assert await search.count(session, actor, args, SearchState()) == plain
            assert not any("user_counts" in s for s in statements), field.name
        for sort in arguments.LAST_NAME_SORTS:
            args = ListArgs(sort=sort, offset=1, limit=3, **{field.name: value})
            with statements_sent(database) as statements:
                page = [u.id for u in await search.page(session, actor, args, SearchState())]
            assert not any("list_blocks" in s for s in statements), field.name
            assert page == await _plain_page(session, actor, args, monkeypatch)
