"""A restored world starts with an empty API key cache, as a world built through the services did.

The module's first test builds the world (its commits empty the cache) and fills the cache; the
second gets the world restored row for row, which empties nothing: the ``database`` fixture must.
"""

from __future__ import annotations

from tests.support.world import World

from carebook.db.engine import Database
from carebook.users import credentials
from carebook.users.credentials import actor_from_api_key


async def test_a_looked_up_key_is_cached(database: Database, world: World) -> None:
    async with database.read_sessions() as session:
        assert await actor_from_api_key(session, world.a.provider.api_key, 60) is not None
    assert credentials.cached_api_key_actor(world.a.provider.api_key) is not None


async def test_the_cache_is_empty_when_a_restored_world_test_starts(
    database: Database, world: World
) -> None:
    assert credentials._API_KEY_ACTORS == {}
    assert credentials.cached_api_key_actor(world.a.provider.api_key) is None
