"""The one door to the database: :class:`Database` and the verbs every caller uses.

Callers never choose a connection path; they call one of its verbs and the Database runs it on
the fastest path it has (carebook.db.paths lists them, docs/performance.md says what each
bought):

- ``read_sessions()`` / ``write_sessions()``: ORM sessions (``CarebookSession``, where the ORM
  hooks hang) for reads and for write transactions; ``list_sessions()``: read sessions for the
  list and search reads that may lag the latest commit by a moment (on the read replica of
  ``CAREBOOK_DATABASE_READ_URL`` when one is set, else the very same as ``read_sessions``);
- ``read_row(statement, parameters)``: the first row of a single-row hot read, without a session;
- ``trail_batch(table, rows)``: a batch of the read audit trail, appended as one statement;
- ``stream_sessions()``: sessions for long streamed reads (exports), in one transaction.

``CAREBOOK_FAST_PATHS`` (default on) switches the paths: off, every verb runs through plain
SQLAlchemy sessions of one ``AsyncEngine`` (aiosqlite or asyncpg, its own pool), which is also
what an in-memory SQLite database always gets. The engine's connection hooks (carebook.db.hooks:
SQLite's WAL, busy timeout and BEGIN IMMEDIATE for writes; PostgreSQL's idle ping) hold both ways.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import Table, event, insert
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.sql import Executable

from carebook.config import Settings
from carebook.db import hooks
from carebook.db.group_commit import writes_alone as writes_alone  # for the slow writes
from carebook.db.observers import Observer
from carebook.db.paths import (
    FastPaths,
    postgres_paths,
    sqlite_group_commit,
    sqlite_paths,
    sqlite_write_creator,
)
from carebook.db.rows import HeldRow, from_core
from carebook.db.session import session_factory
from carebook.db.write_gate import WriteGate

S = TypeVar("S")
# How a caller lends its session: runs the work given on it and returns the work's result.
SessionRunner = Callable[
    [Callable[[AsyncSession], Awaitable[HeldRow | None]]], Awaitable[HeldRow | None]
]
# Statements a Database keeps built (see Database.statement): one per caller, a few hundred.
STATEMENT_CACHE_SIZE = 1024


class Database:
    """A process's engines, sessions and fast paths to one database, behind its verbs.

    ``engine`` is the one for writes, migrations and tools; ``read_engine`` backs the read
    sessions (the same engine's pool, except on a SQLite file with the fast paths on).
    ``paths`` holds the fast paths (None when they are off): only carebook.db and its tests look
    inside. ``replica`` (PostgreSQL only) backs ``list_sessions``: a streaming replica, which
    lags the primary by the replication delay; without it list sessions are read sessions.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        paths: FastPaths | None = None,
        replica: AsyncEngine | None = None,
    ) -> None:
        self.engine = engine
        self.paths = paths
        self.read_engine = (
            paths.read_engine
            if paths is not None
            else engine.execution_options(**{hooks.READ_OPTION: True})
        )
        self.read_sessions = session_factory(self.read_engine)
        # The same factory object when there is no replica, so a caller holding one session
        # per factory (a request, graphql/context.py) holds one connection, as before.
        self.replica = replica
        self.list_sessions = session_factory(replica) if replica is not None else self.read_sessions
        self.write_sessions = session_factory(
            engine.execution_options(**{hooks.WRITE_OPTION: True})
        )
        # Long reads that stream (exports): one ordinary transaction on the write engine's pool,
        # which PostgreSQL needs for a server-side cursor (read sessions autocommit there) and
        # which on SQLite is a deferred one, so writers go on while it reads.
        self.stream_sessions = session_factory(engine)
        self._statements: dict[Hashable, Any] = {}

    async def read_row(
        self,
        statement: Executable,
        parameters: Mapping[str, Any],
        *,
        within: SessionRunner | None = None,
    ) -> HeldRow | None:
        """The first row of ``statement`` (or None), read without an ORM session of its own.
        Make the entity with :func:`carebook.db.rows.detached`.

        Fast: on the held read connection, seeing every commit before it. Plain: on the
        session ``within`` runs work on (a request's read session, so a request never holds two
        pooled connections: sixty of them waiting for a second one emptied the pool), else on a
        connection of its own.
        """
        if self.paths is not None:
            return await self.paths.read_row(statement, parameters)

        async def first(session: AsyncSession) -> HeldRow | None:
            connection = await session.connection()
            return from_core(statement, (await connection.execute(statement, parameters)).first())

        if within is not None:
            return await within(first)
        async with self.read_sessions() as session:
            return await first(session)

    async def trail_batch(self, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
        """Append ``rows`` (column name -> value, every column but the primary key) to
        ``table``, committed when this returns, in one transaction of their own."""
        if not rows:
            return
        if self.paths is not None:
            await self.paths.trail_batch(table, rows)
            return
        async with self.write_sessions() as session, session.begin():
            await session.execute(insert(table), [dict(row) for row in rows])

    def statement(self, key: Hashable, build: Callable[[], S]) -> S:
        """The statement cached under ``key``, built by ``build`` on first use.

        For hot statements built per caller (building one and deriving its cache key can cost a
        tenth of a request). Bounded, oldest first out; one look-up per hit (``user(id)`` pays
        it on every request). Per Database, so two apps in one process never share one.
        """
        cache = self._statements
        try:
            return cache[key]  # type: ignore[no-any-return]
        except KeyError:
            pass
        if len(cache) >= STATEMENT_CACHE_SIZE:
            del cache[next(iter(cache))]
        built = cache[key] = build()
        return built

    def observe(self, observer: Observer) -> Callable[[], None]:
        """Call ``observer`` with every SQL statement sent from now on, whatever the path (the
        tests count statements with it); returns the way to stop."""

        def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            observer(statement)

        # One listener per pool: an engine made with execution_options shares its parent's pool
        # and fires the parent's listeners too, so it is not added again.
        engines: dict[int, Engine] = {}
        candidates = [self.engine.sync_engine, self.read_engine.sync_engine]
        if self.replica is not None:
            candidates.append(self.replica.sync_engine)
        if self.paths is not None:
            candidates += self.paths.engines()
        for engine in candidates:
            engines.setdefault(id(engine.pool), engine)
        for engine in engines.values():
            event.listen(engine, "before_cursor_execute", record)
        # Statements sent straight to a driver pass no engine event: their owners tell them.
        stops = self.paths.observe(observer) if self.paths is not None else []

        def stop() -> None:
            for engine in engines.values():
                event.remove(engine, "before_cursor_execute", record)
            for each in stops:
                each()

        return stop

    async def dispose(self) -> None:
        """Close every pooled and held connection."""
        if self.paths is not None:
            await self.paths.close()
        await self.engine.dispose()
        if self.read_engine.sync_engine.pool is not self.engine.sync_engine.pool:
            await self.read_engine.dispose()
        if self.replica is not None:
            await self.replica.dispose()


def create_database(settings: Settings, *, custom_plans: bool = False) -> Database:
    """The configured database's engine, with the dialect's hooks and (when on) the fast paths.

    ``custom_plans``: on PostgreSQL, the main engine's pool (read, write and stream sessions;
    not the fast paths' held connections, nor a replica's) plans every execution of a
    prepared statement for its parameters and the table as it is now (``plan_cache_mode =
    force_custom_plan``), never with a generic plan cached when the table was far smaller.
    For a long-lived process whose tables change size by orders of magnitude between its
    statements' first runs and later ones (the webhook delivery process), and where planning
    is cheap next to a wrong plan."""
    path = _sqlite_file(settings.database_url) if settings.is_sqlite else None
    fast = settings.fast_paths and (path is not None or not settings.is_sqlite)
    replica = _replica(settings, autocommit=fast)  # first: a SQLite one is refused
    kwargs: dict[str, Any] = {}
    if not settings.is_sqlite:
        kwargs.update(_pool(settings))
        if custom_plans:
            server_settings = {"plan_cache_mode": "force_custom_plan"}
            kwargs.update(connect_args={"server_settings": server_settings})
    # A SQLite file's writers in this process (write sessions, trail batches) queue on it.
    gate = WriteGate() if fast and path is not None else None
    group = None
    if gate is not None and path is not None:
        group = sqlite_group_commit(settings, path, gate)
        kwargs.update(async_creator=sqlite_write_creator(path, gate, group))
    engine = create_async_engine(settings.database_url, **kwargs)
    if settings.is_sqlite:
        hooks.install_sqlite_hooks(engine.sync_engine, settings, read_only=False)
    else:
        hooks.install_idle_ping(engine.sync_engine)
    if not fast:
        return Database(engine, replica=replica)
    if gate is not None and path is not None:
        return Database(engine, sqlite_paths(settings, path, gate, group))
    return Database(engine, postgres_paths(settings, engine), replica=replica)


def _replica(settings: Settings, *, autocommit: bool) -> AsyncEngine | None:
    """The read replica's engine (CAREBOOK_DATABASE_READ_URL), None when unset.

    Its own pool (:func:`_pool`), pinged when idle like the primary's.
    AUTOCOMMIT with the fast paths on, as the primary's read sessions (no BEGIN and ROLLBACK
    round trips); a hot standby refuses any write, whatever the session tries.
    """
    problem = settings.read_url_problem
    if problem is not None:  # settings changed after validation (a --database-url)
        raise ValueError(problem)
    if settings.database_read_url is None:
        return None
    kwargs: dict[str, Any] = _pool(settings)
    if autocommit:
        kwargs.update(isolation_level="AUTOCOMMIT")
    replica = create_async_engine(settings.database_read_url, **kwargs)
    hooks.install_idle_ping(replica.sync_engine)
    return replica


def _pool(settings: Settings) -> dict[str, Any]:
    """A PostgreSQL pool's size: up to ``database_pool_size`` connections, each kept once opened.

    No overflow: SQLAlchemy closes an overflow connection the moment it is checked in, so a
    worker serving more requests at once than its kept connections opened and closed one per
    request (64 clients on two workers: about 930 connections in 20 s, each a server process
    forked, authenticated and its statements prepared again): without them the lists served
    30-80 % more. The default, 20, is the most a process opened before (10 kept, 10 overflow).
    """
    return {"pool_size": settings.database_pool_size, "max_overflow": 0}


def _sqlite_file(database_url: str) -> str | None:
    """The file of a plain SQLite URL; None for memory databases and URI forms (one engine)."""
    url = make_url(database_url)
    if not url.database or url.database == ":memory:" or url.query:
        return None
    return url.database
