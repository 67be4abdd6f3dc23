"""Listing patients with their tags and locations costs a fixed number of SQL statements.

The ``users`` list is built elsewhere; ``bulkUpdateClients`` returns a list of patients too, so it
stands in for it here. The statement count must not grow with the number of patients: tags and
locations are loaded by one batched query each (DataLoaders), never one query per patient.
"""

from __future__ import annotations

from tests.support.api import Api
from tests.support.db import statements_sent
from tests.support.world import World

from carebook import builders
from carebook.auth.passwords import Passwords
from carebook.db.engine import Database
from carebook.locations import service as locations
from carebook.locations.inputs import NewLocation
from carebook.tags import service as tags

LIST = """mutation($ids: [ID!]) { bulkUpdateClients(input: {ids: $ids, active_status: true}) {
  users { id active_tags { id name } locations { id line1 } } messages { field message } } }"""

BARE = """mutation($ids: [ID!]) { bulkUpdateClients(input: {ids: $ids, active_status: true}) {
  users { id } messages { field message } } }"""

# Per request: the caller's API key, the patients of the bulk update, then ONE query for every
# patient's tags and ONE for every patient's locations. On SQLite the write transaction also
# sends its BEGIN IMMEDIATE as a statement (reads send no BEGIN on either database). The audit
# trail adds a constant 1: the write's events in its transaction (the payload's read of the
# patients it changed is that event, so no batch of read events follows).
STATEMENTS = {"sqlite": 6, "postgresql": 5}
LOADER_STATEMENTS = {"sqlite": 2, "postgresql": 2}


async def _patients_with_tags_and_locations(
    database: Database, passwords: Passwords, world: World, how_many: int
) -> list[str]:
    actor = builders.actor_of(world.a.provider)
    ids: list[str] = []
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
            ids.append(str(patient.id))
    return ids


async def _active(api: Api, world: World) -> Api:
    """The provider's client, after a first request: the first request of an activity window
    also writes the caller's last activity (carebook.users.activity), which is not the list's."""
    provider = api.with_key(world.a.provider.api_key)
    await provider.data("{ currentUser { id } }")
    return provider


async def test_listing_patients_with_tags_and_locations_takes_a_constant_number_of_queries(
    api: Api, world: World, database: Database, passwords: Passwords, backend: str
) -> None:
    ids = await _patients_with_tags_and_locations(database, passwords, world, 50)
    provider = await _active(api, world)
    counts = {}
    for size in (10, 50):
        with statements_sent(database) as statements:
            data = await provider.data(LIST, {"ids": ids[:size]})
        payload = data["bulkUpdateClients"]
        assert payload["messages"] is None
        assert len(payload["users"]) == size
        for user in payload["users"]:
            assert [tag["name"] for tag in user["active_tags"]] == ["Diet", "VIP"]
            assert [location["line1"] for location in user["locations"]] == [
                "1 Home St",
                "2 Work Ave",
            ]
        counts[size] = len(statements)
    assert counts == {10: STATEMENTS[backend], 50: STATEMENTS[backend]}, statements
    with statements_sent(database) as bare:
        await provider.data(BARE, {"ids": ids})
    assert counts[50] - len(bare) == LOADER_STATEMENTS[backend], (statements, bare)


USERS = """query($n: Int) { users(page_size: $n, sort_by: "first_name_asc") {
  id active_tags { id name } locations { id line1 } } }"""
# The users list itself: authentication and the page, then ONE query for the page's tags and ONE
# for their locations, and the audit trail's batch of read events (INSERT, plus BEGIN IMMEDIATE
# on SQLite).
USERS_STATEMENTS = {"sqlite": 6, "postgresql": 5}


async def test_users_list_with_tags_and_locations_takes_a_constant_number_of_queries(
    api: Api, world: World, database: Database, passwords: Passwords, backend: str
) -> None:
    await _patients_with_tags_and_locations(database, passwords, world, 50)
    provider = await _active(api, world)
    counts = {}
    for size in (10, 50):
        with statements_sent(database) as statements:
            users = (await provider.data(USERS, {"n": size}))["users"]
        assert len(users) == size
        tagged = [u for u in users if u["active_tags"]]
        assert all(len(u["locations"]) == 2 for u in tagged) and len(tagged) >= size - 2
        counts[size] = len(statements)
    assert counts == {10: USERS_STATEMENTS[backend], 50: USERS_STATEMENTS[backend]}, statements
