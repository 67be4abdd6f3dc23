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
from tests.support.world import World

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


def _left_in_cycles(kinds: tuple[type, ...]) -> list[str]:
    """The objects of ``kinds`` that only a collection would have freed."""
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        gc.collect()
        return [type(o).__name__ for o in gc.garbage if isinstance(o, kinds)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


async def test_an_answered_request_leaves_nothing_to_collect(
    api: Api, world: World, collector_off: None
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    patient_id = str(world.a.patient_id)
    for _ in range(3):
        assert (await provider.data(LIST))["users"]
        assert (await provider.data(ONE, {"id": patient_id}))["user"]["id"] == patient_id
        renamed = await provider.data(RENAME, {"id": patient_id, "name": "Ada"})
        assert renamed["updateClient"]["user"]["first_name"] == "Ada"
    assert _left_in_cycles((Context, CarebookExecutionContext)) == []
