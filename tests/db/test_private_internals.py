"""Every private attribute of SQLAlchemy, aiosqlite and Strawberry the code relies on still exists.

An upgrade that renames one must fail here, loudly, rather than silently send a fast path down
its fallback (or break a test helper). Each check names the file that relies on the attribute.
"""

from __future__ import annotations

import inspect
from typing import Any

import aiosqlite
import strawberry
from graphql import GraphQLSchema
from sqlalchemy import bindparam, event, select
from sqlalchemy.dialects.postgresql import asyncpg as sqlalchemy_asyncpg
from sqlalchemy.dialects.sqlite import aiosqlite as sqlalchemy_aiosqlite
from sqlalchemy.engine import Row
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.types import TypeEngine

from carebook.db.engine import Database
from carebook.graphql.schema import build_schema
from carebook.users.models import User

SCHEMA = build_schema()


def test_sqlite_inline_speaks_the_aiosqlite_internals_sqlalchemy_uses() -> None:
    """src/carebook/db/sqlite_inline.py hands SQLAlchemy's aiosqlite adapter connections that
    mimic aiosqlite's: the adapter reads ``_connection`` (open?), puts isolation-level changes on
    ``_tx`` and reads ``_conn``, and force-closes with ``stop()``."""
    adapter = inspect.getsource(sqlalchemy_aiosqlite)
    for used in (
        "self._connection._conn",
        "self._connection._tx.put_nowait",
        "self._connection._connection",
        "self._connection.stop",
    ):
        assert used in adapter, used
    own = inspect.getsource(aiosqlite.Connection)
    for name in ("self._conn", "self._tx", "self._connection", "def stop"):
        assert name in own, name


async def test_the_async_adapters_cursors_buffer_rows_in_rows(database: Database) -> None:
    """tests/support/fetched_rows.py counts a SELECT's rows in its cursor's ``_rows``, on the
    write and the read engine (both adapters buffer on execute)."""
    seen: list[Any] = []

    def after(_conn: Any, cursor: Any, *_: Any) -> None:
        seen.append(cursor._rows)

    engines: dict[int, Any] = {}
    for each in (database.engine, database.read_engine):  # a view shares its parent's pool
        engines.setdefault(id(each.sync_engine.pool), each.sync_engine)
    for engine in engines.values():
        event.listen(engine, "after_cursor_execute", after)
    try:
        async with database.read_sessions() as session:
            await session.execute(select(User.id).limit(1))
        async with database.write_sessions() as session, session.begin():
            await session.execute(select(User.id).limit(1))
    finally:
        for engine in engines.values():
            event.remove(engine, "after_cursor_execute", after)
    assert len(seen) >= 2 and all(hasattr(rows, "__len__") for rows in seen)


def test_a_compiled_select_keeps_what_prepared_statements_read() -> None:
    """src/carebook/db/prepared.py derives a prepared statement from SQLCompiler's
    ``positiontup``, ``binds``, ``literal_execute_params``, ``post_compile_params``,
    ``construct_params`` and ``string``, and each type's ``dialect_impl`` processors
    (src/carebook/db/trail.py too)."""
    statement = select(User.id, User.dob).where(User.id == bindparam("id"))
    # The positional dialects of the engines (prepared statements are sent positionally).
    for dialect in (sqlalchemy_aiosqlite.dialect(), sqlalchemy_asyncpg.dialect()):  # type: ignore[no-untyped-call]
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        assert compiled.positiontup is not None and "id" in compiled.binds
        assert not compiled.literal_execute_params and not compiled.post_compile_params
        assert isinstance(compiled.string, str) and compiled.construct_params({"id": 1})
        column_type: TypeEngine[Any] = User.__table__.c.dob.type
        implementation = column_type.dialect_impl(dialect)
        implementation.bind_processor(dialect)
        implementation.result_processor(dialect, None)


def test_a_compiled_select_lists_the_columns_its_sql_returns() -> None:
    """src/carebook/db/rows.py (``result_columns``) reads SQLCompiler's ``_result_columns``:
    one entry per column of the SQL, its ``objects`` holding the column. An entity's deferred
    columns are left out there, though ``selected_columns`` names them."""
    statement = select(User).where(User.id == bindparam("id"))
    compiled = statement.compile(dialect=sqlalchemy_aiosqlite.dialect())  # type: ignore[no-untyped-call]
    assert isinstance(compiled, SQLCompiler)
    returned = [entry.objects[0] for entry in compiled._result_columns]
    assert User.__table__.c.id in returned and User.__table__.c.quick_notes not in returned
    assert len(returned) < len(statement.selected_columns)


def test_a_mapper_still_makes_instances_without_init() -> None:
    """src/carebook/db/rows.py (``detached``) makes an entity through
    ``mapper.class_manager.new_instance()``."""
    instance = User.__mapper__.class_manager.new_instance()
    assert isinstance(instance, User)


def test_rows_keep_their_fields_and_mapping() -> None:
    """src/carebook/db/rows.py reads ``Row._fields``; tests/support/auth_helpers.py
    ``Row._mapping``."""
    for name in ("_fields", "_mapping"):
        assert hasattr(Row, name), name


def test_types_keep_their_affinity() -> None:
    """src/carebook/db/migrations/env.py compares column types by ``_type_affinity``."""
    assert hasattr(User.__table__.c.id.type, "_type_affinity")


def test_a_strawberry_schema_keeps_its_graphql_core_schema() -> None:
    """src/carebook/graphql/limits/extension.py costs a document on ``schema._schema``, as do
    the tests (tests/support/schema_walk.py, tests/test_schema_snapshot.py, tests/audit/...)."""
    assert isinstance(SCHEMA._schema, GraphQLSchema)


def test_strawberry_reads_a_wrapped_resolver_s_signature() -> None:
    """src/carebook/graphql/users/types.py (``_record_only``) wraps resolvers and relies on
    Strawberry reading the arguments through ``__wrapped__``: ``providers`` keeps its own."""
    user_type = SCHEMA._schema.type_map["User"]
    providers = user_type.fields["providers"]  # type: ignore[attr-defined]
    assert "can_be_scheduled_with" in providers.args


def test_a_strawberry_schema_still_builds_its_middleware_in_one_method() -> None:
    """src/carebook/graphql/extensions.py overrides ``Schema._get_middleware_manager`` (pacing
    only heavy requests) and src/carebook/graphql/users/columns.py reads ``Info._raw_info``."""
    assert "_get_middleware_manager" in vars(strawberry.Schema)
    parameters = inspect.signature(strawberry.Schema._get_middleware_manager).parameters
    assert list(parameters) == ["self", "extensions"]
    assert "_raw_info" in strawberry.Info.__annotations__
