"""One PostgreSQL connection a server process holds, for statements sent straight to asyncpg.

The hottest statements (``user(id)``'s look-up, the read trail's one INSERT per batch) cost
several times more CPU through a pooled checkout and SQLAlchemy's async adapter than through
asyncpg itself: a checkout ~55 us, Core's execution with the greenlet hop ~60 us more, asyncpg's
own call ~15 us. Each user of this class holds a connection of its own engine (so the engine's
connect-time settings apply) and sends one statement at a time on it (asyncpg serves one
operation per connection).

A connection asyncpg knows to be closed (the server restarted or ended the backend: it closes
the socket) is replaced before use, so a restart costs no statement. One whose statement failed,
or whose caller was cancelled mid-statement, is invalidated: its state is unknown.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from carebook.db.observers import Observer, Observers


class HeldConnection:
    """An engine's connection kept open, lent to one statement at a time."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._connection: AsyncConnection | None = None
        self._driver: Any = None  # the asyncpg connection under it
        self._lock: asyncio.Lock | None = None  # made in the loop that first uses it
        self._observers = Observers()

    @property
    def lock(self) -> asyncio.Lock:
        """Held by whoever is using the connection."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    async def connection(self) -> AsyncConnection:
        """The held connection (a fresh one if there was none or the server closed it)."""
        if self._connection is not None and self._driver.is_closed():
            await self.drop()
        if self._connection is None:
            connection = await self.engine.connect()
            self._driver = (await connection.get_raw_connection()).driver_connection
            self._connection = connection
        return self._connection

    async def driver(self, sql: str) -> Any:
        """The asyncpg connection, for sending ``sql`` (told to the observers)."""
        await self.connection()
        self._observers.tell(sql)
        return self._driver

    async def execute(self, sql: str, *arguments: Any) -> None:
        """Send one statement, after the ones before it; a failure invalidates the connection."""
        async with self.lock:
            driver = await self.driver(sql)
            try:
                await driver.execute(sql, *arguments)
            except BaseException:
                await self.drop()
                raise

    async def drop(self) -> None:
        """Invalidate the connection: the next use opens a fresh one."""
        connection, self._connection, self._driver = self._connection, None, None
        if connection is not None:
            await asyncio.shield(connection.invalidate())

    def observe(self, observer: Observer) -> Callable[[], None]:
        """Call ``observer`` with every statement sent straight to the driver from now on."""
        return self._observers.observe(observer)

    async def close(self) -> None:
        """Close the connection and the engine."""
        connection, self._connection, self._driver = self._connection, None, None
        if connection is not None:
            await connection.close()
        await self.engine.dispose()
