"""A page without keywords or filters reuses its statement and builds nothing per request.

Its statement is kept per actor, sort and columns (``search/rows.py::plain_page``); the first
page of ``users`` is what integrations ask most, and building a visibility SELECT for it (as
``list_patients`` once did before taking the kept statement) cost a tenth of its CPU.
"""

from __future__ import annotations

from typing import Any

import pytest

from carebook import builders, search
from carebook.auth.passwords import Passwords
from carebook.db.engine import Database
from carebook.search import ListArgs, SearchState
from carebook.users import scoping

NAMES = ["Ames", "Bell", "Cho", "Diaz", "Eng"]


@pytest.mark.parametrize("sort", ["last_name_desc", "first_name_asc", "created_at_desc"])
async def test_a_plain_page_builds_no_statement_once_kept(
    database: Database, passwords: Passwords, monkeypatch: pytest.MonkeyPatch, sort: str
) -> None:
    async with database.write_sessions() as session, session.begin():
        provider = await builders.provider(session, passwords, email="plain@example.com")
        actor = builders.actor_of(provider)
        for i, name in enumerate(NAMES):
            await builders.patient(
                session, passwords, actor=actor, last_name=name, email=f"p{i}@example.com"
            )
    state = SearchState()
    args = ListArgs(sort=sort, offset=0, limit=3)
    async with database.read_sessions() as session:
        first = [u.last_name for u in await search.page(session, actor, args, state)]
        built: list[Any] = []
        original = scoping.visible_users

        def counting(*a: Any) -> Any:
            built.append(a)
            return original(*a)

        monkeypatch.setattr(scoping, "visible_users", counting)
        again = [u.last_name for u in await search.page(session, actor, args, state)]
    assert again == first and len(first) == 3
    if sort == "last_name_desc":
        assert first == sorted(NAMES, reverse=True)[:3]
    assert built == []
