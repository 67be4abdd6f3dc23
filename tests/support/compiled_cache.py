"""One cache of compiled SQL for every engine a test process makes (installed by tests/conftest.py).

Each test makes a Database of its own (the ``database`` fixture), so its engines start with empty
statement caches: the world's restore, the emptying after the test and the test's own requests
compiled every statement again in every test, some 50 ms of CPU per test on each database, a
tenth of the suite. A server compiles each statement once; the tests now do too.

SQLAlchemy keys its cache by the dialect object, one per engine. This cache keys by what the
compiled SQL of a dialect depends on instead: its class and its plain settings (server version,
parameter style, feature flags set from the server, name lengths...), so two engines of the same
kind on the same server share entries and engines of another kind never do. Nothing else
changes: every statement is still compiled by the dialect it runs on the first time, and the
Database's own caches (``Database.statement``, the held connections' prepared statements) are
still per test.
"""

from __future__ import annotations

import types
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import event
from sqlalchemy.engine import Connection, Dialect, Engine

# Four times SQLAlchemy's default per engine (500): the statements of the world's restore, the
# emptying and a module's requests stay in it, and the generated walks, whose documents select
# ever other columns, cannot make it grow without bound (a compiled statement is tens of kB).
CAPACITY = 2_000
_PLAIN = (bool, int, float, str, type(None))
# Module-level functions (a JSON serializer given to create_engine) are the same objects in
# every engine; methods and other objects are per engine, and not settings.
_FUNCTIONS = (types.FunctionType, types.BuiltinFunctionType)


def _plain(value: Any) -> bool:
    if isinstance(value, tuple):
        return all(_plain(each) for each in value)
    return isinstance(value, _PLAIN)


class SharedCompiledCache:
    """A bounded mapping for SQLAlchemy's ``compiled_cache`` execution option, shared by
    engines whose dialects compile alike."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._dialects: WeakKeyDictionary[Dialect, Hashable] = WeakKeyDictionary()

    def dialect_key(self, dialect: Dialect) -> Hashable:
        """What a dialect's compiled SQL depends on (computed once per dialect object, after the
        engine's first connection set its server-dependent flags)."""
        found = self._dialects.get(dialect)
        if found is None:
            settings = sorted(
                (name, value if _plain(value) else id(value))
                for name, value in vars(dialect).items()
                if _plain(value) or isinstance(value, _FUNCTIONS)
            )
            found = self._dialects[dialect] = (type(dialect), tuple(settings))
        return found

    def _key(self, key: tuple[Any, ...]) -> Hashable:
        # SQLAlchemy's key: (dialect, statement's cache key, column keys, schema map?, many?).
        if not isinstance(key, tuple) or not isinstance(key[0], Dialect):
            raise TypeError(f"SQLAlchemy's compiled-cache key changed shape: {type(key)}")
        return (self.dialect_key(key[0]), *key[1:])

    def get(self, key: tuple[Any, ...], default: Any = None) -> Any:
        shared = self._key(key)
        found = self._entries.get(shared, default)
        if found is not default:
            self._entries.move_to_end(shared)  # least recently used out first
        return found

    def __setitem__(self, key: tuple[Any, ...], value: Any) -> None:
        self._entries[self._key(key)] = value
        if len(self._entries) > self.capacity:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        self._entries.clear()


def share_compiled_sql(cache: SharedCompiledCache) -> None:
    """Every Connection of every engine of this process compiles into ``cache`` (a connection
    whose engine was given a cache of its own, or none, keeps it)."""

    @event.listens_for(Engine, "engine_connect")
    def _share(connection: Connection) -> None:
        if "compiled_cache" not in connection.get_execution_options():
            connection.execution_options(compiled_cache=cache)
