"""A SELECT compiled once, for sending straight to the driver on a held connection.

Executing even a cached statement through SQLAlchemy Core costs more than the driver's own call
for a one-row look-up (Core's execution context, the result's metadata, on PostgreSQL the async
adapter's greenlet hop and cursor): ~110 us of CPU against ~40 us for asyncpg's ``fetchrow``,
~75 against ~25 for sqlite3. :class:`Prepared` keeps what Core would derive from the compiled
statement at each execution, derived once with SQLAlchemy's public API: the SQL text, the order
of its bound parameters and the dialect's processing of each value in and each column out.
Values come out exactly as Core gives them (the tests compare both, value and type).

Only a SELECT whose SQL is final once compiled qualifies: statements with parameters expanded
at execution (``IN`` of a Python list, literal-execute values) go through Core.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.sql import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.selectable import SelectBase

from carebook.db.rows import HeldRow, result_columns

Processor = Callable[[Any], Any] | None


class Prepared:
    """A SELECT compiled for one dialect, with its parameters' and columns' processing."""

    def __init__(self, compiled: SQLCompiler, columns: Sequence[Any], dialect: Dialect) -> None:
        assert compiled.positiontup is not None
        self.sql = compiled.string
        self._compiled = compiled
        self._binds = tuple(
            (name, compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect))
            for name in compiled.positiontup
        )
        self._processors: tuple[Processor, ...] = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
        )
        index: dict[Any, int] = {}
        for position, column in enumerate(columns):
            index[column] = position
            index.setdefault(column.key, position)
        self.index = index
        # What each row's values fill of an entity, by entity (carebook.db.rows.detached):
        # worked out for the first row, kept with the statement (and bounded with it).
        self.fillers: dict[type, Any] = {}

    @classmethod
    def of(cls, statement: Executable, dialect: Dialect) -> Prepared | None:
        """``statement`` prepared, or None if it is not a SELECT whose SQL is final once
        compiled (those go through Core)."""
        if not isinstance(statement, SelectBase):
            return None
        compiled = statement.compile(dialect=dialect)
        final = (
            isinstance(compiled, SQLCompiler)
            and compiled.positiontup is not None
            and not compiled.literal_execute_params
            and not compiled.post_compile_params
        )
        if not final:
            return None
        columns = result_columns(compiled)
        return cls(compiled, columns, dialect) if columns is not None else None

    def arguments(self, parameters: Mapping[str, Any]) -> list[Any]:
        """The driver's positional arguments: the statement's own values and ``parameters``."""
        values = self._compiled.construct_params(parameters)
        return [
            values[name] if process is None else process(values[name])
            for name, process in self._binds
        ]

    def row(self, values: Sequence[Any]) -> HeldRow:
        """The driver's row with each column converted as Core converts it."""
        converted = [
            value if process is None else process(value)
            for value, process in zip(values, self._processors, strict=True)
        ]
        return HeldRow(converted, self.index, fillers=self.fillers)


class PreparedCache:
    """Statements prepared so far, by identity (callers build each statement once and reuse it).

    Bounded: entries keep their statements alive, so an identity is never reused while cached.
    """

    def __init__(self, dialect: Dialect, size: int = 1024) -> None:
        self._dialect = dialect
        self._size = size
        self._entries: OrderedDict[int, tuple[Executable, Prepared | None]] = OrderedDict()

    def get(self, statement: Executable) -> Prepared | None:
        """The prepared form of ``statement``, or None if it must go through Core."""
        entry = self._entries.get(id(statement))
        if entry is not None and entry[0] is statement:
            return entry[1]
        prepared = Prepared.of(statement, self._dialect)
        self._entries[id(statement)] = (statement, prepared)
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)
        return prepared
