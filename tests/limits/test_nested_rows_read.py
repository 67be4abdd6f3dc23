"""A User's tags, addresses and care team are read one past the nested cap, not whole.

@capped refuses a list over CAREBOOK_NESTED_LIST_MAX_ROWS; the loaders behind it read at most
one row past it per user in SQL (as a group's patients are), so a refused list costs little.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

from tests.limits.conftest import MakeApi
from tests.support.fetched_rows import fetched_rows
from tests.support.world import World

from carebook import builders
from carebook.accounts import service as accounts
from carebook.auth.passwords import Passwords
from carebook.db.engine import Database
from carebook.locations import service as locations
from carebook.tags import service as tags

MANY = 4  # each list's length; the test's cap is 1


def rows_from(database: Database, table: str) -> AbstractContextManager[list[int]]:
    """How many rows each SELECT from ``table`` fetched."""
    return fetched_rows(
        database,
        lambda statement: (
            statement.lstrip().upper().startswith("SELECT") and f"FROM {table}" in statement
        ),
    )


async def _long_lists(database: Database, passwords: Passwords, world: World) -> None:
    actor = builders.actor_of(world.a.provider)
    patient_id = world.a.patient_id
    async with database.write_sessions() as session, session.begin():
        made = [await tags.create_tag(session, actor=actor, name=f"T{i}") for i in range(MANY)]
        await tags.bulk_apply(
            session,
            actor=actor,
            ids=[tag.id for tag in made],
            taggable_user_id=patient_id,
            max_ids=MANY,
        )
        for index in range(MANY):
            await locations.create_location(
                session, actor=actor, fields={"user_id": patient_id, "line1": f"{index} Main St"}
            )
    team = []
    async with database.write_sessions() as session, session.begin():
        for index in range(MANY):
            colleague = await builders.provider(
                session,
                passwords,
                email=f"colleague{index}@example.com",
                organization_id=world.a.provider.organization_id,
            )
            team.append(str(colleague.user_id))
    async with database.write_sessions() as session, session.begin():
        await accounts.update_client(
            session,
            actor=actor,
            passwords=passwords,
            fields={"id": patient_id, "other_provider_ids": team},
        )


async def test_a_users_lists_are_read_one_past_the_cap(
    api_with: MakeApi, world: World, database: Database, passwords: Passwords
) -> None:
    await _long_lists(database, passwords, world)
    api = (await api_with(nested_list_max_rows=1)).with_key(world.a.provider.api_key)
    for field, table in (
        ("active_tags { id }", "taggings"),
        ("locations { id }", "locations"),
        ("other_provider_ids", "care_team_members"),
    ):
        with rows_from(database, table) as fetched:
            body = await api.post(
                "query($id: ID) { user(id: $id) { " + field + " } }",
                {"id": str(world.a.patient_id)},
            )
        assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"], field
        assert fetched and max(fetched) <= 2, (field, fetched)
