"""Rows read outside an ORM session (the single-row read of carebook.db.engine.Database).

A :class:`HeldRow` is indexed by the statement's selected columns and by their keys, whichever
path read it (a prepared statement on a held connection, or Core); :func:`detached` turns it
into the entity a closed session would have left.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

from sqlalchemy import Row, Select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapper, Session
from sqlalchemy.orm.base import instance_state
from sqlalchemy.sql import ColumnElement, Executable
from sqlalchemy.sql.compiler import SQLCompiler

from carebook.db.base import Base

E = TypeVar("E", bound=Base)


class HeldRow:
    """One row: its values by the statement's selected column or by the column's key."""

    __slots__ = ("_fillers", "_index", "_values")

    def __init__(
        self,
        values: Sequence[Any],
        index: Mapping[Any, int],
        *,
        fillers: dict[type, Any] | None = None,
    ) -> None:
        self._values = values
        self._index = index
        # A prepared statement's rows share its index and its fillers (by entity, made by
        # :func:`detached` for the first row); a row through Core has neither to share.
        self._fillers = fillers

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

    Made by hand, as :func:`entities` makes a page's: ``make_transient_to_detached`` worked out
    and expired each unloaded attribute one by one, three quarters of this function's cost
    (26 -> 8 us a row; every ``user(id)`` reads one). Which attribute each held value fills
    is worked out once per prepared statement, as for a page, and kept with it.
    """
    fillers = row._fillers
    filler = fillers.get(entity) if fillers is not None else None
    if filler is None:
        filler = _Filler(entity, _columns_of(row._index))
        if fillers is not None:
            fillers[entity] = filler
    instance: E = filler.mapper.class_manager.new_instance()
    values, held = instance.__dict__, row._values
    for key, position in filler.keys:
        values[key] = held[position]
    # The primary key is always read (load_only adds it): without it there is no identity.
    identity = tuple(held[position] for position in filler.identity)
    _mark_detached(instance, filler.mapper, identity, filler.unloaded)
    return instance


def _columns_of(index: Mapping[Any, int]) -> dict[Any, int]:
    """The columns an index holds (it holds their keys too), by position."""
    return {c: position for c, position in index.items() if isinstance(c, ColumnElement)}


def _mark_detached(
    instance: Base, mapper: Mapper[Any], identity: tuple[Any, ...], unloaded: Iterable[str]
) -> None:
    """What make_transient_to_detached leaves on a new instance whose loaded values are in its
    ``__dict__``: its identity key, and the other columns expired (reading one raises)."""
    state = instance_state(instance)
    # Keyed as the ORM keys it: by the hierarchy's base class (the same class for Carebook's
    # entities, none of which inherits another).
    state.key = (mapper._identity_class, identity, None)
    state.expired_attributes = set(unloaded)


class _Filler:
    """How a statement's Core rows become ``entity``'s attributes: (attribute key, position)
    pairs, and the position of each primary key column (built once per statement)."""

    __slots__ = ("identity", "keys", "mapper", "unloaded")

    def __init__(self, entity: type[Base], position: Mapping[Any, int]) -> None:
        """``position``: each column the rows hold, by its place in a row."""
        mapper = self.mapper = entity.__mapper__
        by_column: dict[Any, str] = {prop.columns[0]: prop.key for prop in mapper.column_attrs}
        self.keys = tuple((by_column[c], i) for c, i in position.items() if c in by_column)
        self.identity = tuple(position[column] for column in mapper.primary_key)
        # Expired, as make_transient_to_detached leaves them: reading one raises.
        loaded = {key for key, _ in self.keys}
        self.unloaded = frozenset(p.key for p in mapper.column_attrs if p.key not in loaded)


async def entities(
    session: AsyncSession,
    entity: type[E],
    statement: Select[Any],
    parameters: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
) -> list[E]:
    """The ``entity`` rows ``statement`` (a SELECT of the entity, some of its columns or all)
    returns, read as Core rows on the session's connection, each made detached by hand.

    A page of patients loaded through the ORM (``session.execute(...).scalars()``) cost about
    twice the statement's own execution through Core: the ORM's compile step, its loading and
    identity map, an InstanceState per row (issue 28, lists). Here an instance gets its state,
    its loaded values and its identity key, and no more: it is detached as a closed session
    leaves one, and reading an attribute that was not read raises (DetachedInstanceError)
    instead of loading it, as the raiseload of the list's ``load_only`` did. The statement runs
    on the session's connection (a request's read session, a list session on the read replica,
    or a write's session: bulkUpdateClients' patients), without the session's autoflush, and the
    rows are not the session's: a change made to one is not flushed (write it with a
    statement).
    """
    return await session.run_sync(_entities, entity, statement, parameters)


def _entities(
    session: Session,
    entity: type[E],
    statement: Select[Any],
    parameters: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None,
) -> list[E]:
    # Inside the session's greenlet: the execution and the rows in one hop from the loop.
    result = session.connection().execute(statement, parameters)
    compiled = result.context.compiled  # SQLAlchemy's cached compilation: it recurs
    filler = _FILLERS.get(compiled) if compiled is not None else None
    if filler is None:
        columns = result_columns(compiled) if isinstance(compiled, SQLCompiler) else None
        if columns is None:
            raise ValueError("entities() reads plain columns of the entity only")
        position = {column: index for index, column in enumerate(columns)}
        filler = _FILLERS[compiled] = _Filler(entity, position)
    mapper, keys, identity, unloaded = filler.mapper, filler.keys, filler.identity, filler.unloaded
    new_instance = mapper.class_manager.new_instance
    found: list[E] = []
    for row in result:
        instance: E = new_instance()
        values = instance.__dict__
        for key, index in keys:
            values[key] = row[index]
        _mark_detached(instance, mapper, tuple(row[i] for i in identity), unloaded)
        found.append(instance)
    return found


# Fillers by compiled statement (SQLAlchemy's compiled cache hands the same one to every
# execution of a statement of the same shape); weakly held, so they go with that cache's entries.
_FILLERS: WeakKeyDictionary[Any, _Filler] = WeakKeyDictionary()


async def core_rows(
    session: AsyncSession,
    statement: Executable,
    parameters: Mapping[str, Any] | None = None,
) -> Sequence[Row[Any]]:
    """Every row of ``statement`` (a SELECT of columns) through Core on the session's
    connection, in one hop from the event loop: ``session.execute`` runs a SELECT of mapped
    columns through the ORM's execution and loading, which cost more than the statement for the
    list's small, hot reads (sort keys, ids, counts)."""
    return await session.run_sync(_core_rows, statement, parameters)


def _core_rows(
    session: Session, statement: Executable, parameters: Mapping[str, Any] | None
) -> Sequence[Row[Any]]:
    return session.connection().execute(statement, parameters).all()
