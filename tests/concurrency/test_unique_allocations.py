"""Concurrent writes that allocate unique values: no CONFLICT, unique values, precise messages.

Every test fires its requests at once (asyncio.gather over the real ASGI app, one connection
each), on SQLite and PostgreSQL. On PostgreSQL the losers of a check-then-insert race hit the
unique index; write() re-runs them, and the re-run answers as a serial request would.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest
from sqlalchemy import select
from tests.support.api import Api
from tests.support.world import World

from carebook.db.engine import Database
from carebook.graphql.common import CONFLICT
from carebook.user_groups import service as group_service
from carebook.user_groups.models import UserGroup
from carebook.users.models import User

N = 12
_NAME = {"first_name": "Rosalind", "last_name": "Franklin"}
CREATE = """mutation($input: createClientInput) { createClient(input: $input) {
  user { id record_identifier } messages { field message } } }"""
CREATE_GROUP = """mutation($name: String) { createGroup(input: {name: $name}) {
  user_group { id invite_code } messages { field message } } }"""


async def _all(api: Api, query: str, inputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    bodies = await asyncio.gather(*(api.data(query, variables) for variables in inputs))
    return [next(iter(body.values())) for body in bodies]


def _messages(payloads: list[dict[str, Any]]) -> list[str]:
    return [m["message"] for p in payloads for m in p["messages"] or []]


async def test_concurrent_clients_all_get_unique_record_identifiers(
    api: Api, world: World, database: Database
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    inputs = [
        {"input": {**_NAME, "skipped_email": True, "record_identifier": f"MRN-{i}"}}
        for i in range(N)
    ]
    payloads = await _all(provider, CREATE, inputs)
    assert _messages(payloads) == []
    identifiers = {p["user"]["record_identifier"] for p in payloads}
    assert identifiers == {f"MRN-{i}" for i in range(N)}


@pytest.mark.parametrize("field", ["email", "record_identifier"])
async def test_a_value_wanted_by_many_at_once_goes_to_one_and_the_rest_are_told_why(
    api: Api, world: World, database: Database, field: str
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    value = "same@example.com" if field == "email" else "MRN-SAME"
    extra = {} if field == "email" else {"skipped_email": True}
    inputs = [{"input": {**_NAME, field: value, **extra}} for _ in range(N)]
    payloads = await _all(provider, CREATE, inputs)
    messages = _messages(payloads)
    assert CONFLICT not in messages
    assert sum(1 for p in payloads if p["user"] is not None) == 1
    taken = "Email" if field == "email" else "Record identifier"
    assert messages == [f"{taken} has already been taken"] * (N - 1)
    column = User.email_key if field == "email" else User.record_identifier
    async with database.read_sessions() as session:
        rows = (await session.execute(select(User.id).where(column == value))).all()
    assert len(rows) == 1


async def test_invite_codes_stay_unique_when_concurrent_draws_collide(
    api: Api, world: World, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every code is drawn twice in a row, so concurrent groups keep drawing the same one.
    counter = itertools.count()
    monkeypatch.setattr(group_service, "new_invite_code", lambda: f"code{next(counter) // 2}")
    staff = api.with_key(world.a.staff.api_key)
    payloads = await _all(staff, CREATE_GROUP, [{"name": f"Group {i}"} for i in range(N)])
    assert _messages(payloads) == []
    codes = [p["user_group"]["invite_code"] for p in payloads]
    assert len(set(codes)) == N
    async with database.read_sessions() as session:
        stored = (await session.execute(select(UserGroup.invite_code))).scalars().all()
    assert len(stored) == len(set(stored))
