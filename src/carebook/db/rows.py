"""Rows read outside an ORM session (the single-row read of carebook.db.engine.Database).

A :class:`HeldRow` is indexed by the statement's selected columns and by their keys, whichever
path read it (a prepared statement on a held connection, or Core); :func:`detached` turns it
into the entity a closed session would have left.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import Row
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.sql import ColumnElement, Executable
from sqlalchemy.sql.compiler import SQLCompiler

from carebook.db.base import Base

E = TypeVar("E", bound=Base)


class HeldRow:
    """One row: its values by the statement's selected column or by the column's key."""

    __slots__ = ("_index", "_values")

    def __init__(self, values: Sequence[Any], index: Mapping[Any, int]) -> None:
        self._values = values
        self._index = index

    def __getitem__(self, key: Any) -> Any:
        return self._values[self._index[key]]

    def __contains__(self, key: Any) -> bool:
        return key in self._index

    def __getattr__(self, key: str) -> Any:
        try:
            return self._values[self._index[key]]
        except KeyError:
            raise AttributeError(key) from None


def from_core(statement: Executable, row: Row[Any] | None) -> HeldRow | None:
    """A row that came through Core, by its keys and (as a prepared one) by selected column.

    A selected column is found by its key, not its position: an entity's deferred columns are
    among ``selected_columns`` but not in the row, so positions after them would be wrong.
    """
    if row is None:
        return None
    index: dict[Any, int] = {key: position for position, key in enumerate(row._fields)}
    for column in getattr(statement, "selected_columns", ()):
        position = index.get(column.key)
        if position is not None:
            index[column] = position
    return HeldRow(tuple(row), index)


def result_columns(compiled: SQLCompiler) -> list[ColumnElement[Any]] | None:
    """The columns a compiled SELECT returns, in order; None when one is not a column.

    Read from the compiled statement, not from ``selected_columns``: an entity's deferred
    columns are selected in name but left out of the SQL, and the rows follow the SQL.
    """
    columns = []
    for entry in compiled._result_columns:
        column = next((o for o in entry.objects if isinstance(o, ColumnElement)), None)
        if column is None:
            return None
        columns.append(column)
    return columns


def detached(entity: type[E], row: HeldRow) -> E:
    """``entity`` with the column values ``row`` holds, as a closed session leaves it.

    The instance is detached (it has its identity, no session): reading its attributes works as
    on one loaded by a session that has since closed; adding it to a session would update that
    row, never insert another. Columns the row lacks are expired (reading one raises, as for a
    detached instance loaded without them).
    """
    mapper = entity.__mapper__
    instance: E = mapper.class_manager.new_instance()
    values = instance.__dict__
    for prop in mapper.column_attrs:
        column = prop.columns[0]
        if column in row:
            values[prop.key] = row[column]
    make_transient_to_detached(instance)
    return instance
