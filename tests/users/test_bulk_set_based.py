"""bulkUpdateClients writes its column with set-based SQL (issue 28): one UPDATE however many
patients, and what the flush hooks kept in step (search tokens, duplicate keys) still is."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from tests.support.api import Api
from tests.support.db import statements_sent
from tests.support.world import World

from carebook import builders
from carebook.audit.trail import load_without_trail
from carebook.auth.passwords import Passwords
from carebook.db.engine import Database
from carebook.duplicates.models import MatchKey
from carebook.search.models import SearchToken

BULK = """mutation($input: bulkUpdateClientsInput) { bulkUpdateClients(input: $input) {
  users { id active user_group_id }
  messages { field message } } }"""
SEARCH = """query($k: String) { users(keywords: $k, active_status: "active") { id } }"""


async def _bulk(api: Api, world: World, **fields: Any) -> dict[str, Any]:
    data = await api.with_key(world.a.provider.api_key).data(BULK, {"input": fields})
    payload: dict[str, Any] = data["bulkUpdateClients"]
    assert payload["messages"] is None
    return payload


async def _patients(database: Database, passwords: Passwords, world: World, n: int) -> list[int]:
    """``n`` more patients of organization A, all named alike (so they are likely duplicates)."""
    actor = builders.actor_of(world.a.provider)
    async with database.write_sessions() as session, session.begin():
        load_without_trail(session)  # fixture data: no one's activity
        return [
            (
                await builders.patient(
                    session, passwords, actor=actor, first_name="Quillon", last_name="Bramwell",
                    dob="1980-01-02", phone_number="+12125550100",
                    email=f"quillon.{k}@example.com",
                )
            ).id
            for k in range(n)
        ]  # fmt: skip


def _user_updates(statements: list[str]) -> list[str]:
    return [s for s in statements if s.lstrip().upper().startswith("UPDATE USERS")]


async def test_one_update_of_users_however_many_patients(
    api: Api, world: World, database: Database, passwords: Passwords
) -> None:
    ids = await _patients(database, passwords, world, 12)
    group = str(world.a.group_id)
    await _bulk(api, world, ids=[str(ids[0])], user_group_id=group)  # the caller's activity noted
    with statements_sent(database) as one:
        await _bulk(api, world, ids=[str(ids[1])], user_group_id=group)
    with statements_sent(database) as many:
        await _bulk(api, world, ids=[str(i) for i in ids[2:]], user_group_id=group)
    assert len(_user_updates(one)) == len(_user_updates(many)) == 1
    # One statement for the set (WHERE id IN ..., or = ANY(array) on PostgreSQL), not one row
    # at a time (WHERE id = ?).
    statement = _user_updates(many)[0].upper()
    assert " IN (" in statement or "= ANY (" in statement
    # Nothing else grows with the number of patients either.
    assert len(many) == len(one)


async def test_patients_already_in_the_group_are_not_written(
    api: Api, world: World, database: Database, passwords: Passwords
) -> None:
    ids = await _patients(database, passwords, world, 2)
    await _bulk(api, world, ids=[str(i) for i in ids], user_group_id=str(world.a.group_id))
    with statements_sent(database) as again:
        payload = await _bulk(
            api, world, ids=[str(i) for i in ids], user_group_id=str(world.a.group_id)
        )
    assert _user_updates(again) == []
    assert [u["user_group_id"] for u in payload["users"]] == [str(world.a.group_id)] * 2


async def _tokens_active(database: Database, ids: list[int]) -> set[bool]:
    async with database.read_sessions() as session:
        query = select(SearchToken.active).where(SearchToken.user_id.in_(ids))
        return set((await session.execute(query)).scalars())


async def _keyed(database: Database, ids: list[int]) -> set[int]:
    async with database.read_sessions() as session:
        query = select(MatchKey.user_id).where(MatchKey.user_id.in_(ids))
        return set((await session.execute(query)).scalars())


async def test_archiving_and_reactivating_keep_search_and_duplicate_keys_in_step(
    api: Api, world: World, database: Database, passwords: Passwords
) -> None:
    ids = await _patients(database, passwords, world, 3)
    provider = api.with_key(world.a.provider.api_key)
    assert await _keyed(database, ids) == set(ids)

    await _bulk(api, world, ids=[str(i) for i in ids], active_status=False)
    assert await _tokens_active(database, ids) == {False}
    assert await _keyed(database, ids) == set()  # archived patients are never duplicates
    found = await provider.data(SEARCH, {"k": "Quillon Bramwell"})
    assert found["users"] == []

    await _bulk(api, world, ids=[str(i) for i in ids], active_status=True)
    assert await _tokens_active(database, ids) == {True}
    assert await _keyed(database, ids) == set(ids)
    found = await provider.data(SEARCH, {"k": "Quillon Bramwell"})
    assert sorted(int(u["id"]) for u in found["users"]) == sorted(ids)
