"""Group lists read their relationships through DataLoaders: the number of SQL statements of a
request does not grow with the number of groups."""

from __future__ import annotations

from tests.support.api import Api
from tests.support.db import statements_sent
from tests.support.groups import add_patients, create_group
from tests.support.world import World

from carebook.auth.passwords import Passwords
from carebook.db.engine import Database

LIST = """query { userGroups {
  id users_count user_ids users(active_status: "active") { id user_group { id } }
  onboarding_flow { id name user_groups_count is_multiple_providers } } }"""
CREATE_FLOW = """mutation($name: String, $groups: String) {
  createOnboardingFlow(input: {name: $name, groups_to_use_onboarding_flow: $groups}) {
    messages { message } } }"""


async def _statements(api: Api, database: Database) -> int:
    with statements_sent(database) as statements:
        await api.data(LIST)
    return len(statements)


async def test_statements_do_not_grow_with_the_number_of_groups(
    api: Api, world: World, database: Database, passwords: Passwords
) -> None:
    provider = api.with_key(world.a.provider.api_key)

    async def more_groups(start: int, count: int) -> None:
        ids = []
        for index in range(start, start + count):
            group_id = await create_group(provider, f"Group {index}")
            await add_patients(database, passwords, world.a, 2, group_id=group_id, tag=f"g{index}")
            ids.append(group_id)
        await provider.data(CREATE_FLOW, {"name": f"Flow {start}", "groups": ",".join(ids)})

    await more_groups(0, 2)
    few = await _statements(provider, database)
    await more_groups(2, 6)
    many = await _statements(provider, database)
    assert many == few, (few, many)
    # Authentication, the list, and one statement per relationship: users_count, patients,
    # their groups, flows, the flows' groups, provider counts, and the audit trail's batch of
    # read events (INSERT, plus BEGIN IMMEDIATE on SQLite).
    assert few <= 12
