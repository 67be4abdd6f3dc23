"""The runner: generate, start ``carebook serve``, drive it over HTTP, measure each layer, report.

    python -m bench --database sqlite --patients 1000000 --workers 2
    python -m bench --quick              # smoke run, well under 2 minutes

For every read it measures three layers on the same requests: GraphQL (``carebook serve``), the
bare Starlette endpoint of ``bench/bare.py`` (same SQL, same JSON, no GraphQL) and the SQL alone
(carebook's statements replayed on carebook's engine, in this process). On PostgreSQL, ``user(id)``
and the first page are also sent to a peer, PostGraphile 4 on the same database (``bench/peer.py``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench import app_import, load, memory, peer, report, spread, write_floor
from bench.client import HttpCaller, RssSampler, ServerCpu, Stats, run_driver, run_load
from bench.generate import (
    Generated,
    Options,
    analyze,
    asyncpg_dsn,
    generate,
    settle_events,
    vacuum_analyze,
)
from bench.hashing import measure_hashing
from bench.operations import Operation, capture_sql, extra_reads, read_operations, write_operations
from carebook.config import Settings
from carebook.db.engine import create_database

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
# The source of the build the bench belongs to (what it starts unless told otherwise).
SRC = ROOT / "src"
POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/carebook_bench"


@dataclass(frozen=True)
class Config:
    """The command line, resolved."""

    database: str
    database_url: str
    patients: int
    workers: int
    duration: float
    write_duration: float
    concurrency: int
    max_requests: int
    warmup: int
    seed: int
    skip_generate: bool
    quick: bool
    docs: bool
    command: str
    peer: bool = True
    load_clients: int = load.CLIENTS
    load_duration: float = 5.0


def default_database_url(database: str, *, quick: bool) -> str:
    """Where runs keep their data: a file in bench/results/ for SQLite, carebook_bench otherwise."""
    if database == "sqlite":
        return f"sqlite+aiosqlite:///{RESULTS / ('quick.db' if quick else 'bench.db')}"
    return POSTGRES_URL


def world_file(database: str, *, quick: bool) -> Path:
    """The generated world (ids, API key) of the last run on that database."""
    return RESULTS / f"world-{database}{'-quick' if quick else ''}.json"


def parse(argv: list[str] | None = None) -> Config:
    """Options of ``python -m bench``."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--database-url", help="Override the bench database URL.")
    parser.add_argument("--patients", type=int, help="Patients to generate (default 10,000).")
    parser.add_argument("--workers", type=int, default=2, help="carebook serve --workers.")
    parser.add_argument("--duration", type=float, help="Seconds per read operation and layer.")
    parser.add_argument("--concurrency", type=int, default=16, help="Requests in flight.")
    parser.add_argument("--max-requests", type=int, default=200_000, help="Cap per operation.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="Smoke run: small N, short runs.")
    parser.add_argument("--skip-generate", action="store_true", help="Reuse the last database.")
    parser.add_argument("--docs", action="store_true", help="Write docs/performance.md.")
    parser.add_argument(
        "--no-peer", action="store_true", help="Skip the PostGraphile layer (PostgreSQL)."
    )
    parser.add_argument(
        "--load-clients", type=int, default=load.CLIENTS, help="Under-load phase (0: skip it)."
    )
    parser.add_argument("--load-duration", type=float, help="Seconds per read under load.")
    args = parser.parse_args(argv)
    patients = args.patients or (2_000 if args.quick else 10_000)
    duration = args.duration or (1.0 if args.quick else 10.0)
    return Config(
        database=args.database,
        database_url=args.database_url or default_database_url(args.database, quick=args.quick),
        patients=patients,
        workers=args.workers,
        duration=duration,
        write_duration=duration if args.quick else min(duration, 10.0),
        concurrency=args.concurrency,
        max_requests=args.max_requests,
        warmup=5 if args.quick else 50,
        seed=args.seed,
        skip_generate=args.skip_generate,
        quick=args.quick,
        docs=args.docs,
        peer=not args.no_peer,
        command="python -m bench " + " ".join(argv if argv is not None else sys.argv[1:]),
        load_clients=args.load_clients,
        load_duration=args.load_duration or (1.0 if args.quick else 5.0),
    )


def log(message: str) -> None:
    """Progress on stderr, timestamped."""
    print(f"[{datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


# --- servers --------------------------------------------------------------------------------


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def server(
    command: list[str],
    env: dict[str, str],
    port: int,
    name: str,
    *,
    ready: Callable[[int], bool] | None = None,
) -> Iterator[int]:
    """Start a server process (its own process group), wait for /healthz (or ``ready(port)``),
    stop it at the end."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    with open(RESULTS / f"{name}.log", "w", encoding="utf-8") as output:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=output,
            stderr=output,
            start_new_session=True,
        )
        try:
            _wait_healthy(process, port, name, ready or _healthz)
            yield process.pid
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _healthz(port: int) -> bool:
    return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200


def _wait_healthy(
    process: subprocess.Popen[bytes], port: int, name: str, ready: Callable[[int], bool]
) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"{name} exited ({process.returncode}); see bench/results/{name}.log"
            )
        with contextlib.suppress(httpx.HTTPError):
            if ready(port):
                return
        time.sleep(0.2)
    raise RuntimeError(f"{name} was not ready in 120 s")


def carebook_command(database_url: str, workers: int, port: int) -> list[str]:
    """``carebook serve`` of the interpreter running the bench, as a module.

    Never the ``carebook`` script first on PATH: that can be another checkout's build (or
    another virtualenv's). Start it with :func:`carebook_env`, which puts the build's source
    first on PYTHONPATH, so the package imported is the one meant.
    """
    return [
        sys.executable,
        "-m",
        "carebook.cli.main",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--database-url",
        database_url,
        "--workers",
        str(workers),
    ]


def carebook_env(src: str | Path | None = None) -> dict[str, str]:
    """PYTHONPATH for :func:`carebook_command`: ``src`` (another build's source folder, for A/B
    runs), by default the bench's own checkout's ``src``, ahead of whatever the caller had, so
    an editable install of another checkout is not the one imported (workers inherit it)."""
    first = str(Path(src).resolve()) if src else str(SRC)
    rest = os.environ.get("PYTHONPATH")
    return {"PYTHONPATH": first + (os.pathsep + rest if rest else "")}


def bare_command(config: Config, port: int) -> list[str]:
    """The bare endpoint, under uvicorn with the same worker count."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "bench.bare:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(config.workers),
        "--no-access-log",
        "--log-level",
        "warning",
    ]


# --- measuring ------------------------------------------------------------------------------


def api_headers(world: Generated) -> dict[str, str]:
    """Healthie's API-key headers."""
    return {"Authorization": f"Basic {world.api_key}", "AuthorizationSource": "API"}


def root_fields(port: int, world: Generated) -> set[str]:
    """Root query and mutation field names of the live schema (introspection)."""
    query = "{ __schema { queryType { fields { name } } mutationType { fields { name } } } }"
    answer = httpx.post(
        f"http://127.0.0.1:{port}/graphql", json={"query": query}, headers=api_headers(world)
    ).json()["data"]["__schema"]
    return {f["name"] for kind in ("queryType", "mutationType") for f in answer[kind]["fields"]}


def graphql_caller(port: int, world: Generated, operation: Operation) -> HttpCaller:
    """Keep-alive POSTs of ``operation``'s documents, each answer checked."""
    return HttpCaller(
        port,
        api_headers(world),
        lambda i: ("/graphql", operation.body(i)),
        lambda _s, payload: operation.check(payload),
    )


async def measure_graphql(
    config: Config,
    port: int,
    world: Generated,
    operation: Operation,
    sampler: RssSampler,
    duration: float,
) -> Stats:
    """One operation against ``carebook serve``."""
    caller = graphql_caller(port, world, operation)
    concurrency = operation.concurrency or config.concurrency
    await spread.fill(caller, concurrency, sampler.pid, config.workers)
    sampler.reset()
    warmup = 0 if operation.write else config.warmup
    cpu = ServerCpu(sampler.pid)
    stats = await run_load(
        operation.name,
        "graphql",
        caller,
        concurrency=concurrency,
        duration=duration,
        max_requests=config.max_requests,
        warmup=warmup,
    )
    stats.server_cpu_ms = cpu.ms_per_request(stats.requests + warmup)
    stats.peak_rss_mb = sampler.peak_mb()
    await caller.close()
    return stats


async def measure_bare(config: Config, port: int, pid: int, operation: Operation) -> Stats:
    """The same requests against the bare endpoint (process ``pid``)."""
    bodies = [json.dumps({"variant": i}).encode() for i in range(len(operation.variants))]
    path = f"/bare/{operation.name}"

    def check(_s: int, payload: bytes) -> bool:
        return operation.check(payload)

    caller = HttpCaller(port, {}, lambda i: (path, bodies[i % len(bodies)]), check)
    await spread.fill(caller, config.concurrency, pid, config.workers)
    stats = await run_load(
        operation.name,
        "bare",
        caller,
        concurrency=config.concurrency,
        duration=config.duration,
        max_requests=config.max_requests,
        warmup=config.warmup,
    )
    await caller.close()
    return stats


async def measure_sql(
    config: Config, captures: dict[str, dict[str, Any]], names: list[str]
) -> list[Stats]:
    """carebook's captured statements replayed on carebook's engine, from this process."""
    settings = Settings(database_url=config.database_url)
    database = create_database(settings)
    results = []
    try:
        for name in names:
            variants = captures[name]["variants"]

            async def call(
                index: int, variants: list[Any] = variants, name: str = name
            ) -> tuple[bool, str | None]:
                async with database.read_engine.connect() as connection:
                    rows: list[Any] = []
                    for sql, params in variants[index % len(variants)]:
                        rows = list((await connection.exec_driver_sql(sql, tuple(params))).all())
                # Only user(id) must find a row; a rare search may rightly match no one.
                found = bool(rows) or name != "user"
                return found, None if found else "no rows"

            results.append(
                await run_load(
                    name,
                    "sql",
                    call,
                    concurrency=config.concurrency,
                    duration=config.duration,
                    max_requests=config.max_requests,
                    warmup=config.warmup,
                )
            )
    finally:
        await database.dispose()
    return results


# --- the peer (bench/peer.py) -----------------------------------------------------------------


@dataclass(frozen=True)
class PeerServer:
    """PostGraphile, started: where it listens and what it is sent."""

    port: int
    pid: int
    queries: dict[str, peer.PeerQuery]


@contextlib.contextmanager
def peer_server(
    config: Config, world: Generated, reads: list[Operation], about: dict[str, Any]
) -> Iterator[PeerServer | None]:
    """PostGraphile on the bench database with carebook's worker count, or None (SQLite,
    ``--no-peer``); ``about`` records which, and how it was started, for the report."""
    if config.database != "postgresql" or not config.peer:
        about["skipped"] = peer.SKIPPED_ON_SQLITE if config.peer else "skipped (--no-peer)"
        yield None
        return
    about["version"] = peer.install(log)
    port = free_port()
    command = peer.command(config.database_url, config.workers, port)
    about.update(command=peer.shown(command), workers=config.workers)
    log(f"starting {peer.NAME} {about['version']}, {config.workers} worker(s), on port {port}")
    log_file = RESULTS / "peer.log"
    with server(
        command, peer.ENV, port, "peer", ready=lambda p: peer.ready(p, log_file, config.workers)
    ) as pid:
        about["idle_rss_mb"] = round(_rss_now(pid), 1)
        yield PeerServer(port, pid, peer.queries(world, reads))


async def measure_peer(
    config: Config,
    port: int,
    world: Generated,
    operation: Operation,
    running: PeerServer,
    about: dict[str, Any],
) -> Stats:
    """The peer's version of ``operation``, after checking it answers the same rows."""
    query = running.queries[operation.name]
    differs = peer.compare(port, api_headers(world), running.port, operation, query)
    if differs:
        about.setdefault("differences", {})[operation.name] = differs
        log(f"{operation.name}: {peer.NAME} and Carebook answer differently: {differs}")
    load = peer.Load(
        config.concurrency,
        config.duration,
        config.max_requests,
        config.warmup,
        # A smoke run only checks the layer works; full runs let Node's compiler warm up.
        warm_requests=config.warmup if config.quick else peer.WARM_REQUESTS,
    )
    return await peer.measure(running.port, running.pid, config.workers, query, load)


async def measure_write_floor(
    config: Config, operation: Operation, floors: dict[str, list[write_floor.Captured]]
) -> Stats:
    """A write's captured statements replayed on carebook's engine, from this process."""
    return await write_floor.measure(
        config.database_url,
        operation.name,
        floors[operation.name],
        concurrency=operation.concurrency or config.concurrency,
        duration=config.write_duration,
        max_requests=config.max_requests,
    )


# --- the run --------------------------------------------------------------------------------


async def _world(config: Config) -> Generated:
    path = world_file(config.database, quick=config.quick)
    if config.skip_generate:
        # As the generator leaves it: vacuumed. Autovacuum is off on these machines, so a
        # database run on before holds every earlier run's dead rows (4,100,000 in users after
        # a day's runs and probes), and the offset reads, which count index entries whose
        # pages' visibility those writes had cleared, read the heap too: 15-50 req/s instead
        # of 480-720 (docs/performance.md). About 10 s.
        world = Generated(**json.loads(path.read_text()))
        if config.database == "postgresql":
            log("vacuuming the reused database, as autovacuum would have")
            await vacuum_analyze(config.database_url)
        return world
    log(f"generating {config.patients:,} patients on {config.database}")
    world = await generate(
        Options(config.database_url, config.patients, config.seed), log=lambda m: log(m)
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(world), indent=2))
    log(f"generated in {world.seconds['total']:.1f} s: {world.counts}")
    return world


async def machine(config: Config) -> dict[str, Any]:
    """Cores, RAM, CPU, Python, SQLite and PostgreSQL versions."""
    meminfo = Path("/proc/meminfo").read_text().split("\n")[0].split()  # noqa: ASYNC240
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()  # noqa: ASYNC240
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    postgres = "unavailable"
    with contextlib.suppress(OSError, asyncpg.PostgresError):
        connection = await asyncpg.connect(asyncpg_dsn(POSTGRES_URL.rsplit("/", 1)[0] + "/test"))
        postgres = str(await connection.fetchval("SHOW server_version"))
        await connection.close()
    return {
        "cores": os.cpu_count(),
        "ram_gb": round(int(meminfo[1]) / 2**20, 1),
        "cpu": cpu,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": postgres,
        "os": platform.platform(),
    }


async def run(config: Config) -> dict[str, Any]:
    """The whole benchmark; returns the results document."""
    started = time.monotonic()
    world = await _world(config)
    generation = world.seconds.get("total")
    await settle_events(config.database_url, log=log)  # no earlier run's backlog
    reads = read_operations(world, config.seed)
    captures = await capture_sql(world, reads)
    RESULTS.mkdir(parents=True, exist_ok=True)
    captures_file = RESULTS / f"captures-{config.database}.json"
    captures_file.write_text(json.dumps(captures))
    results: list[Stats] = []
    # Before any server starts: the quietest moment of the run (bench/app_import.py).
    imported: dict[str, Any] | None = None
    try:
        imported = app_import.measure()
        log(app_import.line(imported))
    except RuntimeError as failed:  # reported, not fatal: the world is generated already
        log(f"the application's import was not measured: {failed}")
    port = free_port()
    # The benchmark signs up thousands of patients from one address, all with the same
    # provider: no sign-up rate limit, per address or per provider (200 an hour by default:
    # a 1,000,000-patient SQLite run of 6 December 2026 got 1,411 answers RATE_LIMITED of
    # 1,611, and reported them as signUp's rate).
    env = {
        **load.with_gc_probe(carebook_env()),
        **load.gc_env(RESULTS / "gc"),
        "CAREBOOK_DATABASE_URL": config.database_url,
        "CAREBOOK_SIGN_UP_ADDRESS_LIMIT": "0",
        "CAREBOOK_ENROLLMENT_TARGET_LIMIT": "0",
    }
    log(f"starting carebook serve --workers {config.workers} on port {port}")
    bare_port = free_port()
    bare_env = {"BENCH_DATABASE_URL": config.database_url, "BENCH_CAPTURES": str(captures_file)}
    peer_about: dict[str, Any] = {}
    with (
        server(
            carebook_command(config.database_url, config.workers, port), env, port,
            "carebook-serve",
        ) as pid,
        server(bare_command(config, bare_port), bare_env, bare_port, "bare") as bare_pid,
        peer_server(config, world, reads, peer_about) as peer_running,
    ):  # fmt: skip
        sampler = RssSampler(pid)
        idle_per_process = await memory.idle_rss(port, pid, config.workers)
        idle_rss = round(_rss_now(pid), 1)
        fields = root_fields(port, world)
        graphql_reads = reads + extra_reads(fields)
        for operation in graphql_reads:
            results.append(
                await measure_graphql(config, port, world, operation, sampler, config.duration)
            )
            log(_line(results[-1]))
            # The bare endpoint right after, while the machine is in the same phase: on a shared
            # machine the speed drifts by a third within minutes, and the ratio is what counts.
            if operation in reads:
                results.append(await measure_bare(config, bare_port, bare_pid, operation))
                log(_line(results[-1]))
            if peer_running and operation.name in peer_running.queries:
                results.append(
                    await measure_peer(config, port, world, operation, peer_running, peer_about)
                )
                log(_line(results[-1]))
        for stats in await measure_sql(config, captures, [op.name for op in reads]):
            results.append(stats)
            log(_line(stats))
        under_load = await _under_load(config, port, pid, world, graphql_reads)
        run_id = f"{int(time.time())}"
        # The writes' floor: their statements, captured through carebook's app in this process.
        floors = await write_floor.capture(world, config.database_url, run_id)
        for operation in write_operations(world, run_id, config.concurrency):
            # Statistics as autovacuum would keep them after the phases before, and none of the
            # last phase's events left to this one's fan-out (a bulkUpdateClients phase writes
            # twice what the fan-out takes a second: bench.generate.settle_events).
            await settle_events(config.database_url, log=log)
            await analyze(config.database_url)
            results.append(
                await measure_graphql(
                    config, port, world, operation, sampler, config.write_duration
                )
            )
            log(_line(results[-1]))
            if operation.name in floors:  # right after, in the same phase of the machine
                results.append(await measure_write_floor(config, operation, floors))
                log(_line(results[-1]))
            if operation.name == "signUp":  # its ceiling, in the same phase of the machine
                results.append(
                    await measure_hashing(
                        concurrency=operation.concurrency or config.concurrency,
                        duration=config.write_duration,
                        max_requests=config.max_requests,
                    )
                )
                log(_line(results[-1]))
        sampler.stop()
    document = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": config.command,
        "config": asdict(config),
        "machine": await machine(config),
        "patients": world.patients,
        "generation_seconds": generation,
        "generation_detail": world.seconds,
        "generation_reused": config.skip_generate,
        "counts": world.counts,
        "idle_rss_mb": idle_rss,
        "idle_rss": idle_per_process,
        "app_import": imported,
        "under_load": under_load,
        "run_seconds": round(time.monotonic() - started, 1),
        "operations": [op.name for op in graphql_reads]
        + [op.name for op in write_operations(world, run_id, 1)],
        "labels": {op.name: op.label for op in graphql_reads + write_operations(world, "", 1)},
        "offsets": {op.name: op.offset for op in graphql_reads if op.offset is not None},
        "results": [s.summary() for s in results],
        "peer": peer_about,
    }
    return document


async def _under_load(
    config: Config, port: int, pid: int, world: Generated, reads: list[Operation]
) -> list[dict[str, Any]]:
    """The reads again, ``config.load_clients`` at once (bench/load.py)."""
    if config.load_clients <= 0:
        return []
    log(f"under load: {config.load_clients} clients, {config.load_duration:g} s per read")
    return await load.measure_under_load(
        port, pid, reads, lambda operation: graphql_caller(port, world, operation),
        workers=config.workers, seconds=config.load_duration, gc_folder=RESULTS / "gc",
        clients=config.load_clients,
    )  # fmt: skip


def _rss_now(pid: int) -> float:
    from bench.client import process_tree, rss_bytes

    return rss_bytes(process_tree(pid)) / 2**20


def _line(stats: Stats) -> str:
    return (
        f"{stats.operation:18} {stats.layer:7} {stats.rps:8.1f} req/s  median "
        f"{stats.median_ms:7.2f} ms  p99 {stats.p99_ms:7.2f} ms  errors {stats.errors}"
        + (f"  ({stats.first_error[:200]})" if stats.first_error else "")
    )


def main(argv: list[str] | None = None) -> None:
    """``python -m bench``."""
    config = parse(argv)
    document = run_driver(run(config))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    tag = f"{config.database}{'-quick' if config.quick else ''}"
    (RESULTS / f"{tag}-{stamp}.json").write_text(json.dumps(document, indent=2))
    (RESULTS / f"latest-{tag}.json").write_text(json.dumps(document, indent=2))
    markdown = report.markdown(document)
    (RESULTS / f"latest-{tag}.md").write_text(markdown)
    print(markdown)
    if config.docs:
        report.write_docs(ROOT / "docs" / "performance.md", RESULTS)
        log("docs/performance.md updated")
    log(f"done in {document['run_seconds']:.0f} s")
