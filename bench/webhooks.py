"""Webhook delivery under load: updateClient calls, each event sent to 3 webhooks, all counted.

    python -m bench.webhooks                      # 10,000 updateClient calls, SQLite
    python -m bench.webhooks --quick              # 300 calls, a smoke run
    python -m bench.webhooks --database postgresql --updates 10000

It generates a small organization of its own (a database of its own: it never touches the
``python -m bench`` data), starts ``carebook serve`` with private webhook URLs allowed, and a
receiver in a process of its own (:mod:`bench.webhook_receiver`, on 127.0.0.1) that counts
every POST by webhook and event id (the ``X-Carebook-Event-Id`` header). It warms the server
up with 1,000 unmeasured updateClient calls, and on PostgreSQL runs ``VACUUM (ANALYZE)``
before each phase (what autovacuum would do: :func:`vacuumed`). Then:

1. updateClient with no webhook (the baseline latency: events are still written, none sent);
2. three webhooks of the organization subscribing to ``patient.updated``, all pointing at the
   receiver; the same number of updateClient calls again;
3. it waits (bounded) until every ``patient.updated`` event of phase 2 reached each of the 3
   webhooks, and reports deliveries per second, missing deliveries (must be 0) and duplicates
   (must be 0: no faults are injected);
4. it turns the webhooks off and runs the baseline again. The machine's speed drifts within a
   run (and the database grows), so phase 2 is compared with the mean of the baselines before
   and after it, as builds are compared by alternating them: the "added latency" is phase 2's
   median over that mean, and the drift (phase 3 against phase 1) is reported beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from dataclasses import asdict, dataclass, replace
from typing import Any

from sqlalchemy import func, select, update

from bench.client import Stats, run_driver, run_load
from bench.generate import Generated, Options, generate, vacuum_analyze
from bench.names import LAST_NAMES
from bench.operations import Operation, write_operations
from bench.run import (
    RESULTS,
    ROOT,
    carebook_command,
    carebook_env,
    free_port,
    graphql_caller,
    log,
    server,
)
from carebook.config import Settings
from carebook.db.engine import Database, create_database
from carebook.events.models import Event, Webhook
from carebook.webhooks.fanout import UNDISPATCHED
from carebook.webhooks.secrets import new_secret, seal

EVENT_TYPE = "patient.updated"
WARMUP = 1000  # updateClient calls before the first phase, not measured
WEBHOOKS = 3
POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/carebook_bench_webhooks"


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (None when the process is gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _is_delivery(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return b"carebook.cli.delivery" in cmdline.read()
    except OSError:
        return False


def cpu_seconds(root: int) -> tuple[float, float]:
    """CPU time (user + system) used so far by ``carebook serve``'s processes: its server
    processes (the serve process and its workers), and its webhook delivery process (0 in the
    inline mode). CPU time, unlike latency, hardly depends on what else the machine runs."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := _stat(int(entry))) is not None:
            children.setdefault(int(fields[1]), []).append(int(entry))
    tick = os.sysconf("SC_CLK_TCK")
    server = delivery = 0.0
    todo = [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        fields = _stat(pid)
        if fields is None:
            continue
        used = (int(fields[11]) + int(fields[12])) / tick  # utime, stime
        if _is_delivery(pid):
            delivery += used
        else:
            server += used
    return server, delivery


class Receiver:
    """The receiver, in a process of its own (:mod:`bench.webhook_receiver`): answers 200 to
    every POST and counts it by webhook path and event id. Not a thread of this process: its
    work would share this process's interpreter lock with the load generator and add to the
    latencies measured while webhooks are sent (the effect measured on the server, not on the
    bench, is what counts)."""

    def __init__(self) -> None:
        self.port = free_port()
        # A session of its own, as the server has: with the kernel's autogroups, CPU is shared
        # between sessions first, so the receiver does not take its CPU from the load
        # generator's session (which would add to the latencies it measures).
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.webhook_receiver", str(self.port)],
            cwd=ROOT,
            env={**os.environ, **carebook_env()},
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                self.snapshot()
                return
            except OSError:
                time.sleep(0.1)
        self.close()
        raise RuntimeError("the webhook receiver did not start")

    def snapshot(self) -> tuple[Counter[tuple[str, str]], float]:
        """POSTs per (webhook path, event id) so far, and when the last came
        (``time.monotonic()``, the same clock in every process)."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/counts", timeout=30) as answer:
            data = json.loads(answer.read())
        return Counter({(path, event): n for path, event, n in data["posts"]}), data["last_at"]

    def distinct(self) -> int:
        """How many (webhook path, event id) pairs came so far."""
        url = f"http://127.0.0.1:{self.port}/counts?summary=1"
        with urllib.request.urlopen(url, timeout=30) as answer:
            return int(json.loads(answer.read())["distinct"])

    def close(self) -> None:
        """Stop the receiver's process."""
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


async def add_webhooks(database: Database, settings: Settings, org: int, port: int) -> list[str]:
    """Three webhooks of the organization pointing at the receiver; their URL paths."""
    paths = []
    async with database.write_sessions() as session, session.begin():
        for number in range(1, WEBHOOKS + 1):
            path = f"/hook/{number}"
            webhook = Webhook(
                organization_id=org,
                url=f"http://127.0.0.1:{port}{path}",
                event_type=EVENT_TYPE,
                secret_sealed="",
            )
            session.add(webhook)
            await session.flush()
            webhook.secret_sealed = seal(
                new_secret(), secret_key=settings.secret_key, webhook_id=webhook.id
            )
            paths.append(path)
    return paths


async def scalar(database: Database, query: Any) -> int:
    """One number read from the database."""
    async with database.read_sessions() as session:
        return int((await session.execute(query)).scalar() or 0)


async def wait_until(check: Any, *, seconds: float, what: str) -> bool:
    """Poll ``check()`` (async) every 0.2 s until true or ``seconds`` pass; False on timeout."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.2)
    log(f"gave up waiting for {what} after {seconds:.0f} s")
    return False


@dataclass
class Result:
    """The figures of one run."""

    database: str
    updates: int
    baseline: dict[str, Any]
    with_webhooks: dict[str, Any]
    baseline_after: dict[str, Any]
    events: int
    expected_deliveries: int
    received: int
    missing: int
    duplicates: int
    deliveries_per_second: float
    events_per_second: float
    seconds_after_last_update: float
    command: str
    delivery: str  # CAREBOOK_WEBHOOK_DELIVERY of the server: "process" or "inline"
    cpu: dict[str, float]  # CPU milliseconds, see _cpu


def update_client(world: Generated, phase: int) -> Operation:
    """updateClient as the full benchmark sends it, with values of this phase's own: phase 2
    repeating phase 1's values would change nothing, and an unchanged patient emits no event."""
    base = next(op for op in write_operations(world, "", 1) if op.name == "updateClient")
    span = world.last_patient_id - world.first_patient_id + 1
    area = ("1305", "1212", "1415")[phase - 1]

    def make(i: int) -> dict[str, Any]:
        patient = world.first_patient_id + (i * 7919) % span
        return {
            "input": {
                "id": str(patient),
                "last_name": LAST_NAMES[(i + phase) % len(LAST_NAMES)],
                "phone_number": f"+{area}555{i % 10000:04d}",
            }
        }

    return replace(base, make=make)


async def _updates(port: int, world: Generated, count: int, concurrency: int, phase: int) -> Stats:
    operation = update_client(world, phase)
    caller = graphql_caller(port, world, operation)
    tag = ("baseline", "webhooks", "after")[phase - 1]
    stats = await run_load(
        "updateClient", tag, caller, concurrency=concurrency, duration=3600,
        max_requests=count, warmup=0,
    )  # fmt: skip
    await caller.close()
    return stats


async def vacuumed(url: str) -> None:
    """On PostgreSQL, ``VACUUM (ANALYZE)`` before a phase, as autovacuum would have done (this
    machine's server runs with it off): without it each phase started on the dead rows of the
    phases before, and in a run of 6 December 2026 the baseline after the webhooks cost 30 %
    more server CPU per call than the one before (5.51 ms against 4.25; its median latency was
    40 % higher), as much as the phase with webhooks, which then seemed to add 22 %."""
    await vacuum_analyze(url)


async def measure(args: argparse.Namespace, url: str, world: Generated) -> Result:
    """Both phases against one ``carebook serve``; the receiver's counts at the end."""
    settings = Settings(database_url=url)
    database = create_database(settings)
    receiver = Receiver()
    port = free_port()
    env = {
        **carebook_env(),
        "CAREBOOK_DATABASE_URL": url,
        "CAREBOOK_WEBHOOK_ALLOW_PRIVATE_URLS": "true",
        "CAREBOOK_SIGN_UP_ADDRESS_LIMIT": "0",
    }
    undispatched = select(func.count()).select_from(Event).where(UNDISPATCHED)
    try:
        with server(
            carebook_command(url, args.workers, port), env, port, "webhooks-serve"
        ) as serve_pid:
            # A warm-up first, unmeasured: the first thousand calls of a new server cost more
            # (a PostgreSQL run's phase 1 took 5.0 ms of server CPU a call, its phase 3 3.7 ms,
            # 6 December 2026), which the baseline before would count against phase 2.
            # (With phase 3's values, which phases 1 and 2 change again before phase 3 sends
            # them: every call of every phase changes the patient and emits an event.)
            warm = await _updates(port, world, min(WARMUP, args.updates), args.concurrency, 3)
            if warm.errors:
                raise RuntimeError(f"the warm-up had {warm.errors} errors")
            await vacuumed(url)
            marks = [cpu_seconds(serve_pid)]
            baseline = await _updates(port, world, args.updates, args.concurrency, 1)
            marks.append(cpu_seconds(serve_pid))
            log(_line(baseline))
            # Phase 1's events must be fanned out (to no one) before the webhooks exist.
            await wait_until(
                lambda: _zero(database, undispatched), seconds=300, what="phase 1's fan-out"
            )
            start = await scalar(database, select(func.max(Event.id)))
            paths = await add_webhooks(database, settings, world.organization_id, receiver.port)
            await vacuumed(url)
            began = time.monotonic()
            marks.append(cpu_seconds(serve_pid))
            loaded = await _updates(port, world, args.updates, args.concurrency, 2)
            marks.append(cpu_seconds(serve_pid))
            log(_line(loaded))
            load_end = time.monotonic()
            ids = await _event_ids(database, world.organization_id, start)
            expected = {(path, str(event_id)) for path in paths for event_id in ids}
            log(f"{len(ids)} events, waiting for {len(expected)} deliveries")

            async def all_in() -> bool:
                if await asyncio.to_thread(receiver.distinct) < len(expected):
                    return False  # the cheap check first: the full counts are large
                posts, _ = await asyncio.to_thread(receiver.snapshot)
                return expected <= set(posts)

            await wait_until(all_in, seconds=args.wait, what="every delivery")
            posts, last_at = await asyncio.to_thread(receiver.snapshot)
            marks.append(cpu_seconds(serve_pid))
            await disable_webhooks(database, world.organization_id)
            await wait_until(
                lambda: _zero(database, undispatched), seconds=300, what="phase 2's fan-out"
            )
            await vacuumed(url)
            marks.append(cpu_seconds(serve_pid))
            after = await _updates(port, world, args.updates, args.concurrency, 3)
            marks.append(cpu_seconds(serve_pid))
            log(_line(after))
    finally:
        receiver.close()
        await database.dispose()
    received = sum(posts[pair] for pair in expected)
    span = max(last_at - began, 1e-9)
    return Result(
        database=args.database,
        updates=args.updates,
        baseline=baseline.summary(),
        with_webhooks=loaded.summary(),
        baseline_after=after.summary(),
        events=len(ids),
        expected_deliveries=len(expected),
        received=received,
        missing=len(expected - set(posts)),
        duplicates=sum(n - 1 for n in posts.values() if n > 1),
        deliveries_per_second=round(received / span, 1),
        events_per_second=round(len(ids) / span, 1),
        seconds_after_last_update=round(max(last_at - load_end, 0.0), 1),
        command=args.command,
        delivery=os.environ.get("CAREBOOK_WEBHOOK_DELIVERY", "process"),
        cpu=_cpu(marks, args.updates, len(expected)),
    )


async def disable_webhooks(database: Database, org: int) -> None:
    """Turn the organization's webhooks off: phase 3's events are sent to no one."""
    async with database.write_sessions() as session, session.begin():
        await session.execute(
            update(Webhook).where(Webhook.organization_id == org).values(is_enabled=False)
        )


def _cpu(marks: list[tuple[float, float]], calls: int, deliveries: int) -> dict[str, float]:
    """CPU milliseconds of the server processes per updateClient call in each phase, and of
    the delivery process per delivery (phase 2 and the wait for the last deliveries).
    ``marks``: :func:`cpu_seconds` before and after phase 1, before and after phase 2, after
    the wait, before and after phase 3."""
    (s0, _), (s1, _), (s2, d2), (s3, _), (s4, d4), (s5, _), (s6, _) = marks
    baseline = ((s1 - s0) + (s6 - s5)) / 2 / calls
    return {
        "server_ms_per_call_before": round((s1 - s0) / calls * 1000, 2),
        "server_ms_per_call_with_webhooks": round((s3 - s2) / calls * 1000, 2),
        "server_ms_per_call_after": round((s6 - s5) / calls * 1000, 2),
        "delivery_ms_per_delivery": round((d4 - d2) / max(deliveries, 1) * 1000, 2),
        # What the server processes spent from phase 2's start to the last delivery beyond
        # the baselines' CPU per call: the in-process worker's cost in the inline mode.
        "server_ms_per_delivery_beyond_baseline": round(
            ((s4 - s2) - baseline * calls) / max(deliveries, 1) * 1000, 2
        ),
    }


def added(result: Result, key: str) -> float:
    """Phase 2's ``key`` (median_ms or rps) against the mean of the two baselines, as a
    fraction (+0.1: 10 % more)."""
    mean = (result.baseline[key] + result.baseline_after[key]) / 2
    return float(result.with_webhooks[key] / mean - 1) if mean else 0.0


async def _zero(database: Database, query: Any) -> bool:
    return await scalar(database, query) == 0


async def _event_ids(database: Database, org: int, after: int) -> list[int]:
    async with database.read_sessions() as session:
        query = select(Event.id).where(
            Event.organization_id == org, Event.id > after, Event.event_type == EVENT_TYPE
        )
        return list((await session.execute(query)).scalars())


def _line(stats: Stats) -> str:
    return (
        f"updateClient ({stats.layer}): {stats.requests} calls, {stats.rps:.1f}/s, median "
        f"{stats.median_ms:.2f} ms, p99 {stats.p99_ms:.2f} ms, errors {stats.errors}"
        + (f" ({stats.first_error[:200]})" if stats.first_error else "")
    )


def _phase(name: str, stats: dict[str, Any]) -> str:
    return (
        f"- updateClient {name}: {stats['requests']} calls, {stats['rps']:.1f}/s, median "
        f"{stats['median_ms']:.2f} ms, p99 {stats['p99_ms']:.2f} ms, errors {stats['errors']}"
    )


def report(result: Result) -> str:
    """The figures as the lines docs/webhooks.md quotes."""
    drift = result.baseline_after["median_ms"] / result.baseline["median_ms"] - 1
    cpu = result.cpu
    return "\n".join(
        [
            f"`{result.command}` ({result.database}, CAREBOOK_WEBHOOK_DELIVERY={result.delivery})",
            _phase("without webhooks (before)", result.baseline),
            _phase(f"with {WEBHOOKS} webhooks", result.with_webhooks),
            _phase("without webhooks (after)", result.baseline_after),
            f"- added by delivery, against the mean of the baselines: median "
            f"{added(result, 'median_ms'):+.1%}, rate {added(result, 'rps'):+.1%} (drift of "
            f"the baseline's median during the run: {drift:+.1%})",
            f"- {result.events} patient.updated events x {WEBHOOKS} webhooks = "
            f"{result.expected_deliveries} deliveries: received {result.received}, missing "
            f"{result.missing}, duplicates {result.duplicates}",
            f"- CPU of the server processes per updateClient call: "
            f"{cpu['server_ms_per_call_before']} ms before, "
            f"{cpu['server_ms_per_call_with_webhooks']} ms with webhooks, "
            f"{cpu['server_ms_per_call_after']} ms after; per delivery, the delivery process "
            f"{cpu['delivery_ms_per_delivery']} ms and the server processes "
            f"{cpu['server_ms_per_delivery_beyond_baseline']} ms beyond their baseline (from "
            f"phase 2's start to the last delivery)",
            f"- {result.deliveries_per_second} deliveries/s ({result.events_per_second} events/s "
            f"to all {WEBHOOKS} webhooks), from the first update to the last delivery; the "
            f"last arrived {result.seconds_after_last_update} s after the last update",
        ]
    )


def parse(argv: list[str] | None) -> argparse.Namespace:
    """Options of ``python -m bench.webhooks``."""
    parser = argparse.ArgumentParser(prog="python -m bench.webhooks", description=__doc__)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--quick", action="store_true", help="300 calls, 200 patients.")
    parser.add_argument("--updates", type=int, help="updateClient calls per phase (10,000).")
    parser.add_argument("--patients", type=int, help="Patients to generate (2,000).")
    parser.add_argument("--workers", type=int, default=1, help="carebook serve --workers.")
    parser.add_argument("--concurrency", type=int, default=8, help="Requests in flight.")
    parser.add_argument("--wait", type=float, default=600, help="Longest wait for deliveries.")
    parser.add_argument(
        "--database-url",
        help="The database to generate and use (default: bench/results/webhooks.db, or "
        "the carebook_bench_webhooks PostgreSQL database); it is rebuilt.",
    )
    args = parser.parse_args(argv)
    args.updates = args.updates or (300 if args.quick else 10_000)
    args.patients = args.patients or (200 if args.quick else 2_000)
    args.command = "python -m bench.webhooks " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    return args


def main(argv: list[str] | None = None) -> Result:
    """``python -m bench.webhooks``: prints the report, writes the JSON to bench/results/."""
    args = parse(argv)
    RESULTS.mkdir(parents=True, exist_ok=True)
    url = args.database_url or (
        f"sqlite+aiosqlite:///{RESULTS / 'webhooks.db'}"
        if args.database == "sqlite"
        else POSTGRES_URL
    )

    async def run() -> Result:
        log(f"generating {args.patients:,} patients on {args.database}")
        world = await generate(Options(url, args.patients, 1), log=lambda _: None)
        return await measure(args, url, world)

    result = run_driver(run())
    out = RESULTS / f"webhooks-{args.database}{'-quick' if args.quick else ''}.json"
    out.write_text(json.dumps(asdict(result), indent=2))
    print(report(result))
    return result


if __name__ == "__main__":
    main()
