"""Recording a User's tags and addresses loads nothing more: they name that User, recorded already.

Each Tag and Location of ``users { active_tags locations }`` used to ask the user loader for its
owner (one await per record, ~30% of the request) only for the trail to drop the duplicate event.
"""

from __future__ import annotations

from typing import Any

import pytest
from strawberry.dataloader import DataLoader

from carebook import builders
from carebook.auth.passwords import Passwords
from carebook.db.engine import Database
from carebook.locations import service as locations
from carebook.locations.inputs import NewLocation
from carebook.tags import service as tags
from tests.support.api import Api
from tests.support.world import World

WITH_RECORDS = "query { users(page_size: 100) { id first_name active_tags { name } "
WITH_RECORDS += "locations { line1 } location { line1 } } }"
BARE = "query { users(page_size: 100) { id first_name } }"


async def _patients(database: Database, passwords: Passwords, world: World, how_many: int) -> None:
    actor = builders.actor_of(world.a.provider)
    async with database.write_sessions() as session, session.begin():
        vip = await tags.create_tag(session, actor=actor, name="VIP")
        diet = await tags.create_tag(session, actor=actor, name="Diet")
        for index in range(how_many):
            patient = await builders.patient(
                session, passwords, actor=actor, first_name=f"P{index}", skipped_email=True
            )
            await tags.bulk_apply(
                session, actor=actor, ids=[vip.id, diet.id], taggable_user_id=patient.id, max_ids=2
            )
            for line in ("1 Home St", "2 Work Ave"):
                await locations.create_location(
                    session, actor=actor, fields=NewLocation(user_id=patient.id, line1=line)
                )


def _count_user_loads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts calls of the user loader's load_many (a spy: the loader still answers)."""
    calls: list[int] = []
    original = DataLoader.load_many

    def load_many(self: DataLoader[Any, Any], keys: Any) -> Any:
        if getattr(self.load_fn, "__name__", "") == "_users":
            calls.append(1)
        return original(self, keys)

    monkeypatch.setattr(DataLoader, "load_many", load_many)
    return calls


async def test_a_users_tags_and_addresses_do_not_load_their_owner_again(
    api: Api,
    world: World,
    database: Database,
    passwords: Passwords,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await _patients(database, passwords, world, 3)
    provider = api.with_key(world.a.provider.api_key)
    calls = _count_user_loads(monkeypatch)
    await provider.data(BARE)
    bare = len(calls)
    calls.clear()
    users = (await provider.data(WITH_RECORDS))["users"]
    assert sum(len(user["active_tags"]) for user in users) >= 6
    assert sum(len(user["locations"]) for user in users) >= 6
    assert len(calls) == bare
