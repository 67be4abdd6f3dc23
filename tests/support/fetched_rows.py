"""How many rows each matching SELECT fetched from the database (tests of what a read loads)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event

from carebook.db.engine import Database


@contextmanager
def cursor_events(
    engines: Iterable[Engine], name: str, listener: Callable[..., None]
) -> Iterator[None]:
    """``listener`` on the cursor event ``name`` of each of ``engines`` while the block runs."""
    engines = list(engines)
    for engine in engines:
        event.listen(engine, name, listener)
    try:
        yield
    finally:
        for engine in engines:
            event.remove(engine, name, listener)


def database_engines(database: Database) -> list[Engine]:
    """The engines whose listeners see every statement of ``database``: the write engine, and
    the read engine when it has a pool of its own (one made from the write engine with
    ``execution_options`` shares its pool and fires the write engine's listeners as well)."""
    engines: dict[int, Engine] = {}
    for engine in (database.engine.sync_engine, database.read_engine.sync_engine):
        engines.setdefault(id(engine.pool), engine)
    return list(engines.values())


@contextmanager
def fetched_rows(database: Database, matches: Callable[[str], bool]) -> Iterator[list[int]]:
    """The row count of each statement ``matches`` accepts, on the write and read engines.

    Both async adapters buffer a SELECT's rows on execute, in the cursor's private ``_rows``.
    """
    fetched: list[int] = []

    def after(_conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if matches(statement):
            fetched.append(len(cursor._rows))

    # One engine per pool: on PostgreSQL the read engine shares the write engine's pool, and
    # the reads measured go through the read engine.
    engines = {
        id(e.sync_engine.pool): e.sync_engine for e in (database.engine, database.read_engine)
    }
    with cursor_events(engines.values(), "after_cursor_execute", after):
        yield fetched
