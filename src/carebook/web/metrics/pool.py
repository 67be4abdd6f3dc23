"""Database pool use: connections checked out of SQLAlchemy's pools, and their size.

Counted by the pools' own checkout and checkin events, so each process's gauge is exact at any
moment and a scrape of one worker sums every live worker's. SQLite's write gate (its writers'
queue) stays inside carebook.db's fast paths and is not exported.
"""

from __future__ import annotations

import weakref
from typing import Any

from sqlalchemy import event
from sqlalchemy.pool import Pool

from carebook.db.engine import Database
from carebook.web.metrics.instruments import POOL_CHECKED_OUT, POOL_SIZE

# A pool counted once however many apps share its Database (tests build one app per test).
_counted: weakref.WeakSet[Pool] = weakref.WeakSet()


def count_pools(database: Database) -> None:
    """Keep the pool gauges of ``database``'s write pool, (when apart) its read pool, and its
    read replica's (CAREBOOK_DATABASE_READ_URL)."""
    write = database.engine.sync_engine.pool
    _count(write, "write")
    read = database.read_engine.sync_engine.pool
    if read is not write:
        _count(read, "read")
    if database.replica is not None:
        _count(database.replica.sync_engine.pool, "replica")


def _count(pool: Pool, label: str) -> None:
    if pool in _counted:
        return
    _counted.add(pool)
    checked_out = POOL_CHECKED_OUT.labels(pool=label)
    size = getattr(pool, "size", None)
    if callable(size):
        POOL_SIZE.labels(pool=label).set(size())

    def checkout(*_: Any) -> None:
        checked_out.inc()

    def checkin(*_: Any) -> None:
        checked_out.dec()

    event.listen(pool, "checkout", checkout)
    event.listen(pool, "checkin", checkin)
