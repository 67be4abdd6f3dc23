"""A real PostgreSQL primary and streaming replica of its own, for CAREBOOK_DATABASE_READ_URL.

:func:`start_replica` makes both in one temporary directory, independent of the test server's
cluster (its pg_hba.conf, its size, its other databases): ``initdb`` a small primary (trust from
127.0.0.1, replication allowed), ``pg_basebackup -R`` the replica from it, each started with
``pg_ctl`` on a free port of 127.0.0.1, and returns once the replica streams. The app under test
uses that primary as its primary (:meth:`Replica.primary_url`). It takes a few seconds, where a
copy of the test server took as long as that server was large. :meth:`Replica.stop` stops both
at once and deletes the directory; it also runs at exit, and a run killed before either (its
test process gone) is cleaned up by the next :func:`start_replica`. As root (CI), the clusters
run as the ``postgres`` OS user: PostgreSQL refuses to run as root.

Tests make lag on purpose with :meth:`Replica.pause` (the replica stops replaying WAL, so it
shows the state of that moment) and end it with :meth:`Replica.catch_up`: no test waits on the
clock for replication.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import asyncpg

# A liveness bound only: the replica streams within a second or two of starting.
STREAMING_DEADLINE = 120.0
CATCH_UP_DEADLINE = 120.0
_PREFIX = "carebook-pg-"
_OWNER = "owner.pid"  # the test process that made the directory
_START_TRIES = 5  # a port taken between picking it and binding it: pick another
# Both clusters' settings (a standby needs max_connections etc. at least the primary's: equal).
_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "wal_level": "replica",
    "max_wal_senders": "4",
    "hot_standby": "on",
    "fsync": "off",  # throwaway clusters
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "shared_buffers": "'32MB'",
    "max_connections": "100",
}
_HBA = (
    "local all all trust\n"
    "host all all 127.0.0.1/32 trust\n"
    "host replication all 127.0.0.1/32 trust\n"
)


@dataclass
class Cluster:
    """One PostgreSQL cluster in ``directory`` (its data, socket and log)."""

    directory: Path
    bindir: Path
    port: int = 0

    @property
    def data(self) -> Path:
        return self.directory / "data"

    def dsn(self, database: str = "postgres") -> str:
        """A libpq DSN of ``database`` on this cluster."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def url(self, database: str) -> str:
        """The SQLAlchemy URL of ``database`` on this cluster."""
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def log(self) -> str:
        """The end of the cluster's server log (for failure messages)."""
        path = self.directory / "server.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def start(self) -> None:
        """Start on a port picked just now; another one if that was taken before the bind."""
        log = self.directory / "server.log"
        for attempt in range(_START_TRIES):
            self.port = _free_port()
            seen = log.stat().st_size if log.exists() else 0
            options = f"-p {self.port} -k {self.directory}"
            command = [*self._pg_ctl(), "-l", str(log), "-o", options, "-w", "-t", "60", "start"]
            result = subprocess.run(_as_postgres(command), capture_output=True, text=True)
            if result.returncode == 0:
                return
            tail = log.read_text(errors="replace")[seen:] if log.exists() else ""
            if "could not bind" not in tail or attempt == _START_TRIES - 1:
                raise AssertionError(f"pg_ctl start failed: {result.stderr.strip()} {tail}")

    def stop(self) -> None:
        """Stop at once (nothing in it is kept), if it runs."""
        if (self.data / "postmaster.pid").exists():
            command = [*self._pg_ctl(), "-m", "immediate", "-w", "stop"]
            subprocess.run(_as_postgres(command), capture_output=True)

    def _pg_ctl(self) -> list[str]:
        return [str(self.bindir / "pg_ctl"), "-D", str(self.data)]


@dataclass
class Replica:
    """A running primary and its streaming replica, in ``directory``."""

    directory: Path
    primary: Cluster
    standby: Cluster

    @property
    def port(self) -> int:
        return self.standby.port

    def dsn(self, database: str = "postgres") -> str:
        """A libpq DSN of ``database`` on the replica."""
        return self.standby.dsn(database)

    def primary_url(self, database: str) -> str:
        """The SQLAlchemy URL of ``database`` on the primary."""
        return self.primary.url(database)

    def url_for(self, primary_url: str) -> str:
        """The replica's SQLAlchemy URL of the database ``primary_url`` names."""
        return self.standby.url(primary_url.rsplit("/", 1)[1])

    async def pause(self) -> None:
        """Stop replaying WAL: from now the replica shows the primary as it is at this moment.

        Returns once the replay has stopped: pg_wal_replay_pause() only asks for it, and a commit
        made just after the request could still be replayed (CI saw a delete replayed that way)."""
        await _execute(self.dsn(), "SELECT pg_wal_replay_pause()")
        query = "SELECT pg_get_wal_replay_pause_state() = 'paused'"
        await _poll(lambda: _fetchval(self.dsn(), query), CATCH_UP_DEADLINE, self.log)

    async def catch_up(self) -> None:
        """Replay again, and return once the replica has replayed every commit the primary had
        made when this was called."""
        target = await _fetchval(self.primary.dsn(), "SELECT pg_current_wal_lsn()")
        await _execute(self.dsn(), "SELECT pg_wal_replay_resume()")
        query = "SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn"
        await _poll(lambda: _fetchval(self.dsn(), query, target), CATCH_UP_DEADLINE, self.log)

    def stop(self) -> None:
        """Stop both clusters at once and delete their directory (again: nothing happens)."""
        try:
            self.standby.stop()
            self.primary.stop()
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)

    def log(self) -> str:
        """The end of both server logs (for failure messages)."""
        return f"primary: {self.primary.log()}\nreplica: {self.standby.log()}"


async def start_replica() -> Replica:
    """A new primary and its replica, the replica streaming."""
    bindir = _bindir()
    _clean_up_after_killed_runs(bindir)
    directory = Path(tempfile.mkdtemp(prefix=_PREFIX))
    (directory / _OWNER).write_text(str(os.getpid()))
    replica = Replica(
        directory, Cluster(directory / "primary", bindir), Cluster(directory / "replica", bindir)
    )
    atexit.register(replica.stop)  # a test process that ends without its fixture's teardown
    try:
        for cluster in (replica.primary, replica.standby):
            cluster.directory.mkdir()
        if os.geteuid() == 0:
            for path in (directory, replica.primary.directory, replica.standby.directory):
                shutil.chown(path, "postgres", "postgres")
        _init_primary(replica.primary)
        replica.primary.start()
        _base_backup(replica)
        replica.standby.start()
        streaming = "SELECT count(*) = 1 FROM pg_stat_wal_receiver WHERE status = 'streaming'"
        await _poll(lambda: _fetchval(replica.dsn(), streaming), STREAMING_DEADLINE, replica.log)
    except BaseException:
        replica.stop()
        raise
    return replica


def _init_primary(primary: Cluster) -> None:
    """An empty cluster whose superuser is ``postgres``, trusted from 127.0.0.1 (replication
    too), configured to feed a streaming replica."""
    command = [
        str(primary.bindir / "initdb"), "-D", str(primary.data), "-U", "postgres",
        "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync",
    ]  # fmt: skip
    _run(_as_postgres(command))
    conf = "".join(f"{name} = {value}\n" for name, value in _SETTINGS.items())
    with (primary.data / "postgresql.conf").open("a") as file:
        file.write(conf)
    (primary.data / "pg_hba.conf").write_text(_HBA)


def _base_backup(replica: Replica) -> None:
    """The primary's data directory, copied as a standby (-R: standby.signal and
    primary_conninfo); a fast checkpoint so it starts at once. Its configuration files came with
    the copy (initdb keeps them in the data directory)."""
    conninfo = f"host=127.0.0.1 port={replica.primary.port} user=postgres"
    command = [
        str(replica.standby.bindir / "pg_basebackup"), "-d", conninfo,
        "-D", str(replica.standby.data), "-R", "-X", "stream", "--checkpoint=fast", "--no-sync",
    ]  # fmt: skip
    _run(_as_postgres(command))


def _clean_up_after_killed_runs(bindir: Path) -> None:
    """Stop and delete the clusters of test processes that are gone (killed before their
    teardown and their exit hooks ran)."""
    for directory in Path(tempfile.gettempdir()).glob(f"{_PREFIX}*"):
        try:
            owner = int((directory / _OWNER).read_text())
        except (OSError, ValueError):
            continue  # being made right now, or not ours
        if _alive(owner):
            continue
        for name in ("replica", "primary"):
            Cluster(directory / name, bindir).stop()
        shutil.rmtree(directory, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _bindir() -> Path:
    """CAREBOOK_TEST_PG_BINDIR, else the newest PostgreSQL server binaries in Debian's layout,
    else those on the PATH."""
    given = os.environ.get("CAREBOOK_TEST_PG_BINDIR")
    debian = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
        reverse=True,
    )
    candidates = [Path(given)] if given else debian
    found = shutil.which("pg_ctl")
    if found and not given:
        candidates.append(Path(found).parent)
    tools = ("initdb", "pg_ctl", "pg_basebackup")
    for candidate in candidates:
        if all((candidate / tool).exists() for tool in tools):
            return candidate
    raise AssertionError(
        f"PostgreSQL's {', '.join(tools)} were not found (looked in "
        f"{', '.join(map(str, candidates)) or 'no directory'}): install the PostgreSQL server "
        "or set CAREBOOK_TEST_PG_BINDIR"
    )


def _as_postgres(command: list[str]) -> list[str]:
    """``command`` run as the postgres OS user when this is root (PostgreSQL refuses root)."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        name = Path(command[4 if command[0] == "runuser" else 0]).name
        raise AssertionError(f"{name} failed: {result.stderr.strip()}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _execute(dsn: str, sql: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def _fetchval(dsn: str, sql: str, *args: object) -> object:
    connection = await asyncpg.connect(dsn)
    try:
        return await connection.fetchval(sql, *args)
    finally:
        await connection.close()


async def _poll(
    check: Callable[[], Awaitable[object]], deadline_seconds: float, log: Callable[[], str]
) -> None:
    """Return once ``check()`` (a coroutine function) answers true; fail after the deadline."""
    deadline = time.monotonic() + deadline_seconds
    while True:
        try:
            if await check():
                return
        except (OSError, asyncpg.PostgresError):
            pass  # starting up
        if time.monotonic() >= deadline:
            extra = log()
            raise AssertionError(f"the replica did not get there in {deadline_seconds} s: {extra}")
        await asyncio.sleep(0.05)
