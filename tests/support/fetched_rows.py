"""How many rows each matching SELECT fetched from the database (tests of what a read loads)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from carebook.db.engine import Database


@contextmanager
def fetched_rows(database: Database, matches: Callable[[str], bool]) -> Iterator[list[int]]:
    """The row count of each statement ``matches`` accepts, on the write and read engines.

    Both async adapters buffer a SELECT's rows on execute, in the cursor's private ``_rows``.
    """
    fetched: list[int] = []

    def after(_conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if matches(statement):
            fetched.append(len(cursor._rows))

    engines = {
        id(e.sync_engine.pool): e.sync_engine for e in (database.engine, database.read_engine)
    }
    for engine in engines.values():
        event.listen(engine, "after_cursor_execute", after)
    try:
        yield fetched
    finally:
        for engine in engines.values():
            event.remove(engine, "after_cursor_execute", after)
