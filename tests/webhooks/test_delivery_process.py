"""The delivery process of ``carebook serve`` (CAREBOOK_WEBHOOK_DELIVERY=process): it delivers
from a process of its own at a lower CPU priority, is started again when it dies, stops with its
server; the server processes then deliver nothing themselves."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from carebook.app import create_app
from carebook.cli.delivery import STOP_SECONDS, DeliveryProcess
from carebook.cli.serve import _delivery
from carebook.config import Settings
from carebook.db.engine import Database, create_database
from carebook.webhooks import process
from carebook.webhooks.process import STOP_BUDGET_SECONDS
from carebook.webhooks.worker import DELIVERY_PROCESS_MARK
from tests.support.webhook_receiver import receiving
from tests.support.world import World
from tests.webhooks.helpers import add_event, add_webhook, poll_until

ROOT = Path(__file__).resolve().parents[2]
WORKER_TASK = "carebook-webhook-worker"  # carebook.webhooks.worker.start_worker's task


def _env(settings: Settings) -> dict[str, str]:
    """The child's environment: this test's database and secret, loopback receivers allowed,
    this checkout's source first (as carebook serve's children inherit it)."""
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), *sys.path]),
        "CAREBOOK_DATABASE_URL": settings.database_url,
        "CAREBOOK_SECRET_KEY": settings.secret_key,
        "CAREBOOK_WEBHOOK_ALLOW_PRIVATE_URLS": "true",
        "CAREBOOK_WEBHOOK_POLL_SECONDS": "0.1",
    }


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _nice(pid: int) -> int:
    """The nice value of a process (field 19 of /proc/PID/stat)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[16])


async def test_the_process_delivers_and_is_started_again_after_a_kill(
    database: Database, settings: Settings, world: World
) -> None:
    org = world.a.provider.organization_id
    async with receiving() as receiver:
        await add_webhook(database, settings, organization_id=org, url=receiver.url("/hook"))
        with DeliveryProcess(_env(settings)) as delivery:

            async def started() -> bool:
                return delivery.pid is not None

            await poll_until(started)
            first = delivery.pid
            assert first is not None
            lowered = min(os.nice(0) + 10, 19)  # the server's priority lowered by 10

            async def niced() -> bool:  # the child lowers it once it has imported its code
                return _nice(first) == lowered

            await poll_until(niced)
            before = await add_event(database, organization_id=org, resource_id=11)

            async def sent(count: int) -> bool:
                return len(receiver.requests) >= count

            await poll_until(lambda: sent(1))
            os.kill(first, signal.SIGKILL)  # no shutdown at all

            async def replaced() -> bool:
                return delivery.pid not in (None, first) and delivery.starts == 2

            await poll_until(replaced)
            after = await add_event(database, organization_id=org, resource_id=12)
            await poll_until(lambda: sent(2))
            second = delivery.pid
            assert second is not None
        assert not _alive(second)  # stopped with its server
    ids = [request.headers["x-carebook-event-id"] for request in receiver.requests]
    assert ids == [str(before), str(after)]
    assert [json.loads(r.body)["resource_id"] for r in receiver.requests] == [11, 12]


def _worker_tasks() -> list[str]:
    return [t.get_name() for t in asyncio.all_tasks() if t.get_name() == WORKER_TASK]


async def test_with_a_delivery_process_the_server_runs_no_worker_of_its_own(
    database: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # (mode, carebook serve's delivery process runs, the server's own worker tasks)
    cases = [
        ("process", True, []),
        # Another ASGI server (no carebook serve): nobody else would deliver.
        ("process", False, [WORKER_TASK]),
        ("inline", True, [WORKER_TASK]),
        ("inline", False, [WORKER_TASK]),
    ]
    for mode, marked, expected in cases:
        if marked:
            monkeypatch.setenv(DELIVERY_PROCESS_MARK, "1")
        else:
            monkeypatch.delenv(DELIVERY_PROCESS_MARK, raising=False)
        app = create_app(settings.model_copy(update={"webhook_delivery": mode}), database)
        async with app.router.lifespan_context(app):
            assert _worker_tasks() == expected, (mode, marked)


async def test_carebook_serve_marks_the_environment_while_its_delivery_process_runs(
    database: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in _env(settings).items():
        monkeypatch.setenv(key, value)  # what the delivery process started here inherits
    monkeypatch.delenv(DELIVERY_PROCESS_MARK, raising=False)
    process = settings.model_copy(update={"webhook_delivery": "process"})
    with _delivery("process"):
        app = create_app(process, database)
        async with app.router.lifespan_context(app):
            assert _worker_tasks() == []
    assert DELIVERY_PROCESS_MARK not in os.environ  # a server built afterwards delivers again


def test_the_server_waits_for_its_delivery_process_longer_than_its_stop_may_take() -> None:
    # Past its budget the delivery process ends itself; a SIGKILL from its server before then
    # would cut short a stop still within its bounds (the claims then wait for their leases).
    assert STOP_SECONDS > STOP_BUDGET_SECONDS


async def _plan_cache_mode(database: Database) -> str:
    """plan_cache_mode of a read and of a write session of ``database`` (PostgreSQL)."""
    modes: set[str] = set()
    for sessions in (database.read_sessions, database.write_sessions):
        async with sessions() as session:
            modes.add(str((await session.execute(text("SHOW plan_cache_mode"))).scalar_one()))
    assert len(modes) == 1, modes
    return modes.pop()


@pytest.mark.only_on("postgresql", reason="plan_cache_mode is PostgreSQL's; SQLite caches no plan")
async def test_the_delivery_process_plans_for_the_queue_as_it_is(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sessions the delivery process's worker gets never run a generic plan cached while
    the queue was small; the server's keep PostgreSQL's default (planning every request's
    statements again would cost every request)."""
    seen: list[str] = []

    def probe(database: Database, _: Settings, *__: object) -> asyncio.Task[None]:
        """In place of the worker: what its sessions plan with."""

        async def show() -> None:
            seen.append(await _plan_cache_mode(database))

        return asyncio.create_task(show())

    monkeypatch.setattr(process, "start_worker", probe)
    lifeline, held = os.pipe()  # the server's lifeline, kept open: only the probe ends run()
    try:
        with pytest.raises(SystemExit):  # a worker that ends is a fault: the process exits 1
            await process.run(settings, lifeline)
    finally:
        os.close(lifeline)
        os.close(held)
    assert seen == ["force_custom_plan"]
    served = create_database(settings)
    try:
        assert await _plan_cache_mode(served) == "auto"
    finally:
        await served.dispose()


async def _synchronous(database: Database) -> int:
    """PRAGMA synchronous of ``database``'s write transactions (1 NORMAL, 2 FULL)."""
    async with database.write_sessions() as session, session.begin():
        return int((await session.execute(text("PRAGMA synchronous"))).scalar_one())


@pytest.mark.only_on("sqlite", reason="PRAGMA synchronous is SQLite's")
async def test_the_delivery_process_commits_without_fsync_unless_told_otherwise(
    settings: Settings,
) -> None:
    """Its claims and records are redone when a power cut undoes them (delivery is at least
    once), so by default they commit without the fsync that held SQLite's write lock, which the
    server's writes wait for; the server's own commits stay as durable as configured."""
    assert settings.sqlite_synchronous == "FULL"
    for own, expected in (("NORMAL", 1), ("FULL", 2)):
        told = settings.model_copy(update={"webhook_delivery_sqlite_synchronous": own})
        delivering = process.delivery_database(told)
        try:
            assert await _synchronous(delivering) == expected, own
        finally:
            await delivering.dispose()
    served = create_database(settings)
    try:
        assert await _synchronous(served) == 2
    finally:
        await served.dispose()
