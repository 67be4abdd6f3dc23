"""A page without keywords or filters reuses its statement and builds nothing per request.

Its statement is kept per actor, sort and columns (``search/rows.py::plain_page``); the first
page of ``users`` is what integrations ask most, and building a visibility SELECT for it (as
``list_patients`` once did before taking the kept statement) cost a tenth of its CPU. A deep
page found from the block counters (``search/pages.py::_counted_page``) keeps its rows'
statement the same way (building it was a fifth of such a request's CPU).
"""

from __future__ import annotations

from typing import Any

import pytest
from tests.support.db import statements_sent

from carebook import builders, search
from carebook.auth.passwords import Passwords
from carebook.db.engine import Database
from carebook.search import ListArgs, SearchState, pages
from carebook.users import scoping

NAMES = ["Ames", "Bell", "Cho", "Diaz", "Eng"]


async def _practice(database: Database, passwords: Passwords) -> Any:
    async with database.write_sessions() as session, session.begin():
        provider = await builders.provider(session, passwords, email="plain@example.com")
        actor = builders.actor_of(provider)
        for i, name in enumerate(NAMES):
            await builders.patient(
                session, passwords, actor=actor, last_name=name, email=f"p{i}@example.com"
            )
    return actor


async def _built_again(
    database: Database, actor: Any, args: ListArgs, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[str], list[Any]]:
    """The page's last names (asked twice, equal), and the visibility SELECTs built the second
    time."""
    state = SearchState()
    async with database.read_sessions() as session:
        first = [u.last_name for u in await search.page(session, actor, args, state)]
        built: list[Any] = []
        original = scoping.visible_users

        def counting(*a: Any) -> Any:
            built.append(a)
            return original(*a)

        with monkeypatch.context() as patched:
            patched.setattr(scoping, "visible_users", counting)
            again = [u.last_name for u in await search.page(session, actor, args, state)]
    assert again == first
    return first, built


@pytest.mark.parametrize("sort", ["last_name_desc", "first_name_asc", "created_at_desc"])
async def test_a_plain_page_builds_no_statement_once_kept(
    database: Database, passwords: Passwords, monkeypatch: pytest.MonkeyPatch, sort: str
) -> None:
    actor = await _practice(database, passwords)
    first, built = await _built_again(
        database, actor, ListArgs(sort=sort, offset=0, limit=3), monkeypatch
    )
    assert len(first) == 3
    if sort == "last_name_desc":
        assert first == sorted(NAMES, reverse=True)[:3]
    assert built == []


@pytest.mark.parametrize("sort", ["last_name_asc", "last_name_desc"])
async def test_a_counted_deep_page_builds_no_statement_once_kept(
    database: Database, passwords: Passwords, monkeypatch: pytest.MonkeyPatch, sort: str
) -> None:
    actor = await _practice(database, passwords)
    monkeypatch.setattr(pages, "COUNTED_OFFSET", 1)  # offset 1 is "deep": the counters answer
    with statements_sent(database) as statements:
        first, built = await _built_again(
            database, actor, ListArgs(sort=sort, offset=1, limit=2), monkeypatch
        )
    assert any("list_blocks" in s for s in statements)  # the counted path, not the plain one
    ordered = sorted(NAMES, reverse=sort.endswith("desc"))
    assert first == ordered[1:3]
    assert built == []
