"""The list's caches are the state an application owns, not module globals."""

from __future__ import annotations

from carebook import builders, search
from carebook.auth.passwords import Passwords
from carebook.db.engine import Database
from carebook.search import ListArgs, SearchState
from carebook.search.state import Recent


def test_recent_keeps_the_most_recent_entries() -> None:
    recent: Recent[str, int] = Recent(2)
    recent.put("a", 1)
    recent.put("b", 2)
    assert recent.built("a", lambda: 99) == 1  # used: now the most recent
    recent.put("c", 3)
    assert (recent.get("a"), recent.get("b"), recent.get("c")) == (1, None, 3)
    recent.pop("a")
    recent.pop("unknown")
    assert recent.get("a") is None and len(recent) == 1


async def test_a_search_fills_the_state_it_is_given_and_no_other(
    database: Database, passwords: Passwords
) -> None:
    async with database.write_sessions() as session, session.begin():
        provider = await builders.provider(session, passwords, email="state@example.com")
        actor = builders.actor_of(provider)
        await builders.patient(session, passwords, actor=actor, last_name="Okafor")
    used, untouched = SearchState(), SearchState()
    async with database.read_sessions() as session:
        args = ListArgs(keywords="okafor jonas", offset=1200, limit=3)
        assert await search.page(session, actor, args, used) == []
        await search.page(session, actor, ListArgs(offset=1200, limit=3), used)
    assert len(used.sizes) >= 2  # both terms' ranges (and maybe an exact word's)
    assert len(used.deep_page_statements) == 1
    assert not any(map(len, (untouched.sizes, untouched.bounds, untouched.keys_statements)))
    assert not len(untouched.deep_page_statements)
