"""An answered request leaves no reference cycle behind (app.py, graphql/execution.py).

Under load nearly every request is still in flight at two young collections; whatever of it
only a collection can free then waits in the oldest generation for the timed full collection,
which took 0.8-0.9 s a worker with 64 clients (docs/performance.md, "Requests freed when they
end"). Freed by reference counting, a request's objects never reach the collector.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from tests.support.api import Api
from tests.support.contexts import context_without_request
from tests.support.world import World

from carebook.auth.passwords import Passwords
from carebook.config import Settings
from carebook.db.engine import Database
from carebook.graphql.context import Context
from carebook.graphql.execution import CarebookExecutionContext

LIST = "{ users(offset: 0) { id first_name last_name email dob } }"
ONE = "query One($id: ID) { user(id: $id) { id first_name locations { id } } }"
RENAME = """mutation Rename($id: ID, $name: String) {
  updateClient(input: {id: $id, first_name: $name}) { user { id first_name } messages { field } }
}"""


@pytest.fixture
def collector_off() -> Iterator[None]:
    """Automatic collections off, so that only a cycle keeps anything past its request."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _left_in_cycles(database: Database) -> list[str]:
    """This test's request contexts and executors that only a collection would have freed,
    each with what in the garbage refers to it (the cycle's next links), for the message.

    Only this test's (its ``database``): an earlier test's request may finish its deferred
    work meanwhile and leave its own behind."""
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        gc.collect()
        inside = {id(o) for o in gc.garbage}
        return [
            f"{type(o).__name__} <- {_referrers(o, inside, depth=3)}"
            for o in gc.garbage
            if _of_this_test(o, database)
        ]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


def _of_this_test(found: object, database: Database) -> bool:
    if isinstance(found, CarebookExecutionContext):
        found = found.context_value
    return isinstance(found, Context) and found.database is database


def _referrers(target: object, inside: set[int], *, depth: int) -> list[object]:
    """What in the garbage refers to ``target``, ``depth`` links back."""
    found: list[object] = []
    for referrer in gc.get_referrers(target):
        if id(referrer) not in inside or referrer is target:
            continue
        name = type(referrer).__qualname__
        if isinstance(referrer, dict):
            name += str([key for key, value in referrer.items() if value is target][:2])
        found.append({name: _referrers(referrer, inside, depth=depth - 1)} if depth > 1 else name)
    return found[:4]


async def test_an_answered_request_leaves_nothing_to_collect(
    api: Api, world: World, database: Database, collector_off: None
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    patient_id = str(world.a.patient_id)
    for _ in range(3):
        assert (await provider.data(LIST))["users"]
        assert (await provider.data(ONE, {"id": patient_id}))["user"]["id"] == patient_id
        renamed = await provider.data(RENAME, {"id": patient_id, "name": "Ada"})
        assert renamed["updateClient"]["user"]["first_name"] == "Ada"
    assert _left_in_cycles(database) == []


async def test_a_released_context_opens_no_session(
    settings: Settings, database: Database, passwords: Passwords
) -> None:
    # What graphql-core lets finish in the background after the answer may still ask for its
    # loaders: after release they would be built anew and open a session nobody closes.
    context = context_without_request(settings, database, passwords)
    context.release()
    with pytest.raises(RuntimeError, match="the request is over"):
        await context.loaders.organization.load(1)
    assert context._session is None
