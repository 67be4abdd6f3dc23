"""The group-commit writer: one transaction per batch, and no answer without the trail."""

from __future__ import annotations

import asyncio

import pytest

from carebook.audit.writer import WINDOW_TURNS, AuditUnavailable, AuditWriter
from carebook.db.engine import Database
from tests.audit.events import break_audit_storage, stored
from tests.audit.test_append_only import ROW
from tests.support.api import Api
from tests.support.world import World


async def test_events_submitted_together_share_one_transaction(database: Database) -> None:
    writer = AuditWriter(database)
    waiters = [writer.submit([{**ROW, "record_id": i}], wait=True) for i in range(50)]
    await asyncio.gather(*[w for w in waiters if w is not None])
    assert writer.batches == 1
    assert [e.record_id for e in await stored(database)] == list(range(50))


async def test_events_arriving_during_a_commit_go_in_the_next_batch(database: Database) -> None:
    writer = AuditWriter(database)
    first = writer.submit([ROW], wait=True)
    for _ in range(WINDOW_TURNS + 1):
        await asyncio.sleep(0)  # the first batch has started
    later = [writer.submit([{**ROW, "record_id": i}], wait=True) for i in range(20)]
    await asyncio.gather(first, *later)  # type: ignore[arg-type]
    assert writer.batches == 2
    assert len(await stored(database)) == 21


async def test_events_submitted_a_loop_turn_apart_share_one_transaction(
    database: Database,
) -> None:
    """Two requests answered in consecutive turns: the batch waits a turn, so one commit."""
    writer = AuditWriter(database)

    async def request(record_id: int, turns: int) -> None:
        for _ in range(turns):
            await asyncio.sleep(0)
        waiter = writer.submit([{**ROW, "record_id": record_id}], wait=True)
        assert waiter is not None
        await waiter

    await asyncio.gather(request(1, 0), request(2, 1))
    assert writer.batches == 1
    assert sorted(e.record_id or 0 for e in await stored(database)) == [1, 2]


async def test_without_waiting_close_still_stores_everything(database: Database) -> None:
    writer = AuditWriter(database)
    assert writer.submit([ROW], wait=False) is None
    await writer.close()
    assert len(await stored(database)) == 1


async def test_a_failed_batch_fails_its_waiters(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    break_audit_storage(monkeypatch, OSError("disk full"))
    waiter = AuditWriter(database).submit([ROW], wait=True)
    with pytest.raises(AuditUnavailable):
        await waiter  # type: ignore[misc]


async def test_no_patient_data_leaves_without_its_audit_trail(
    api: Api, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    break_audit_storage(monkeypatch, OSError("disk full"))
    body = await api.with_key(world.a.provider.api_key).post(
        "query($id: ID) { user(id: $id) { first_name } }", {"id": str(world.a.patient_id)}
    )
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["INTERNAL_SERVER_ERROR"]
    assert "Pat" not in str(body)


async def test_many_concurrent_readers_do_not_starve_the_writer(
    api: Api, world: World, database: Database
) -> None:
    """Waiting requests give their connection back first: more readers than pooled
    connections must not leave the writer without one (that deadlocked until the pool timeout).
    """
    caller = api.with_key(world.a.provider.api_key)
    query = "query($id: ID) { user(id: $id) { id } }"

    async def read() -> None:
        await caller.data(query, {"id": str(world.a.patient_id)})

    await asyncio.wait_for(asyncio.gather(*[read() for _ in range(60)]), timeout=25)
    assert len(await stored(database, record_id=world.a.patient_id)) == 60
