"""A real PostgreSQL streaming replica of the test server, for CAREBOOK_DATABASE_READ_URL.

:func:`start_replica` makes a second cluster with ``pg_basebackup -R`` from the test server
(``CAREBOOK_TEST_POSTGRES_URL``), starts it with ``pg_ctl`` on a free port of 127.0.0.1 in a
temporary directory, and returns once it streams; :meth:`Replica.stop` stops it at once and
deletes its directory. The server must accept replication connections from 127.0.0.1
(``.ci/run`` adds the pg_hba.conf line; Debian's default has none). As root (CI), the cluster
runs as the ``postgres`` OS user: PostgreSQL refuses to run as root.

Tests make lag on purpose with :meth:`Replica.pause` (the replica stops replaying WAL, so it
shows the state of that moment) and end it with :meth:`Replica.catch_up`: no test waits on the
clock for replication.
"""

from __future__ import annotations

import asyncio
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
from sqlalchemy.engine import make_url

# A liveness bound only: the replica streams within a second or two of starting.
STREAMING_DEADLINE = 120.0
CATCH_UP_DEADLINE = 120.0
# What the replica must match or exceed for a hot standby to start (PostgreSQL refuses to
# start one whose value is below the primary's).
_AT_LEAST_PRIMARY = (
    "max_connections",
    "max_worker_processes",
    "max_wal_senders",
    "max_prepared_transactions",
    "max_locks_per_transaction",
)


@dataclass
class Replica:
    """A running streaming replica of the test server."""

    port: int
    directory: Path
    bindir: Path
    primary_dsn: str

    @property
    def data(self) -> Path:
        return self.directory / "data"

    def dsn(self, database: str = "postgres") -> str:
        """A libpq DSN of ``database`` on the replica."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def url_for(self, primary_url: str) -> str:
        """The replica's SQLAlchemy URL of the database ``primary_url`` names."""
        url = make_url(primary_url)
        return url.set(host="127.0.0.1", port=self.port).render_as_string(hide_password=False)

    async def pause(self) -> None:
        """Stop replaying WAL: from now the replica shows the primary as it is at this moment."""
        await _execute(self.dsn(), "SELECT pg_wal_replay_pause()")

    async def catch_up(self) -> None:
        """Replay again, and return once the replica has replayed every commit the primary had
        made when this was called."""
        target = await _fetchval(self.primary_dsn, "SELECT pg_current_wal_lsn()")
        await _execute(self.dsn(), "SELECT pg_wal_replay_resume()")
        query = "SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn"
        await _poll(lambda: _fetchval(self.dsn(), query, target), CATCH_UP_DEADLINE, self.log)

    def stop(self) -> None:
        """Stop the cluster at once (nothing in it is kept) and delete its directory."""
        try:
            if (self.data / "postmaster.pid").exists():
                pg_ctl = [str(self.bindir / "pg_ctl"), "-D", str(self.data)]
                _run(_as_postgres([*pg_ctl, "-m", "immediate", "-w", "stop"]))
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)

    def log(self) -> str:
        """The end of the replica's server log (for failure messages)."""
        path = self.directory / "replica.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""


async def start_replica(primary_url: str) -> Replica:
    """A streaming replica of the server of ``primary_url`` (a SQLAlchemy URL), streaming."""
    url = make_url(primary_url)
    primary_dsn = (
        f"postgresql://{url.username or 'postgres'}@{url.host or '127.0.0.1'}"
        f":{url.port or 5432}/postgres"
    )
    version = int(str(await _fetchval(primary_dsn, "SHOW server_version_num")))
    bindir = _bindir(version // 10000)
    limits = {name: str(await _fetchval(primary_dsn, f"SHOW {name}")) for name in _AT_LEAST_PRIMARY}
    directory = Path(tempfile.mkdtemp(prefix="carebook-replica-"))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    replica = Replica(_free_port(), directory, bindir, primary_dsn)
    try:
        _base_backup(replica, url.host or "127.0.0.1", url.port or 5432, url.username)
        _configure(replica, limits)
        pg_ctl = [str(bindir / "pg_ctl"), "-D", str(replica.data)]
        log = ["-l", str(directory / "replica.log")]
        _run(_as_postgres([*pg_ctl, *log, "-w", "-t", "60", "start"]), log=replica.log)
        streaming = "SELECT count(*) = 1 FROM pg_stat_wal_receiver WHERE status = 'streaming'"
        await _poll(lambda: _fetchval(replica.dsn(), streaming), STREAMING_DEADLINE, replica.log)
    except BaseException:
        replica.stop()
        raise
    return replica


def _base_backup(replica: Replica, host: str, port: int, user: str | None) -> None:
    """The primary's data directory, copied as a standby (-R: standby.signal and
    primary_conninfo); a fast checkpoint so it starts at once."""
    conninfo = (
        f"host={host} port={port} user={user or 'postgres'} "
        f"application_name=carebook_test_replica_{replica.port}"
    )
    command = [
        str(replica.bindir / "pg_basebackup"), "-d", conninfo, "-D", str(replica.data),
        "-R", "-X", "stream", "--checkpoint=fast", "--no-sync",
    ]  # fmt: skip
    result = subprocess.run(_as_postgres(command), capture_output=True, text=True)
    if result.returncode != 0:
        hint = (
            " The test server must accept replication connections from 127.0.0.1: add"
            " 'host replication all 127.0.0.1/32 trust' to its pg_hba.conf and reload"
            " (.ci/run does)."
            if "replication" in result.stderr
            else ""
        )
        raise AssertionError(f"pg_basebackup failed: {result.stderr.strip()}{hint}")


def _configure(replica: Replica, limits: dict[str, str]) -> None:
    """The replica's own configuration files (Debian keeps the primary's in /etc, so none were
    copied): its port, a socket in its directory, trust from 127.0.0.1, hot standby."""
    settings = {
        "port": str(replica.port),
        "listen_addresses": "'127.0.0.1'",
        "unix_socket_directories": f"'{replica.directory}'",
        "hot_standby": "on",
        "fsync": "off",  # a throwaway cluster
        "shared_buffers": "'32MB'",
        **limits,
    }
    conf = "".join(f"{name} = {value}\n" for name, value in settings.items())
    files = {
        "postgresql.conf": conf,
        "pg_hba.conf": "local all all trust\nhost all all 127.0.0.1/32 trust\n",
        "pg_ident.conf": "",
    }
    for name, text in files.items():
        path = replica.data / name
        path.write_text(text)
        if os.geteuid() == 0:
            shutil.chown(path, "postgres", "postgres")
    # The primary's ALTER SYSTEM settings came with the copy: the port and socket must be ours.
    auto = replica.data / "postgresql.auto.conf"
    kept = [
        line
        for line in auto.read_text().splitlines()
        if line.split("=", 1)[0].strip() not in settings
    ]
    auto.write_text("\n".join(kept) + "\n")


def _bindir(major: int) -> Path:
    """The server binaries of the test server's major version (Debian's layout), or
    CAREBOOK_TEST_PG_BINDIR."""
    given = os.environ.get("CAREBOOK_TEST_PG_BINDIR")
    candidates = [Path(given)] if given else [Path(f"/usr/lib/postgresql/{major}/bin")]
    found = shutil.which("pg_ctl")
    if found and not given:
        candidates.append(Path(found).parent)
    for candidate in candidates:
        if (candidate / "pg_ctl").exists() and (candidate / "pg_basebackup").exists():
            return candidate
    raise AssertionError(
        f"PostgreSQL {major}'s pg_ctl and pg_basebackup were not found (looked in "
        f"{', '.join(map(str, candidates))}): install postgresql-{major} or set "
        "CAREBOOK_TEST_PG_BINDIR"
    )


def _as_postgres(command: list[str]) -> list[str]:
    """``command`` run as the postgres OS user when this is root (PostgreSQL refuses root)."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _run(command: list[str], log: Callable[[], str] | None = None) -> None:
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        extra = log() if log is not None else ""
        raise AssertionError(f"{command[-1]} failed: {result.stderr.strip()} {extra}")


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
