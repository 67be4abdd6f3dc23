"""PostgreSQL: the fixtures' emptying and world restore, each sent as one script.

Sent through SQLAlchemy, emptying a database and restoring the world took a dozen statements
or more each, and on asyncpg every statement is two round trips (prepare, then execute) on a
connection that prepared nothing yet (every test has its own engine): some 1,450 PostgreSQL
tests pay for them. A script of several statements sent with no parameters goes by the simple
query protocol, in one round trip, and PostgreSQL runs it as one implicit transaction: all of
it or (on any error) none of it, as the single transaction it replaces.

The values go in the script as text: each table's rows as one JSON document (PostgreSQL's own
rendering of them, read by :func:`table_document`), turned back into rows by
``json_populate_recordset``; the first restore of each snapshot is still compared with the
snapshot, column by column (tests/support/world.py), so a value that did not survive the trip
fails loudly.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cache

from sqlalchemy import Table, text
from sqlalchemy.ext.asyncio import AsyncConnection

from carebook.db.engine import Database

# The SQLSTATE the restore script raises when the database is not empty (class "CB": ours).
NOT_EMPTY = "CB001"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    """``value`` as a dollar-quoted literal, whose tag is nowhere in it (no escaping needed)."""
    tag = "cb"
    while f"${tag}$" in value:
        tag += "x"
    return f"${tag}${value}${tag}$"


def _serials(tables: tuple[Table, ...]) -> str:
    """The (table, column) pairs of ``tables``' serial columns, as two SQL text arrays."""
    pairs = [
        (t.name, t.autoincrement_column.name) for t in tables if t.autoincrement_column is not None
    ]
    names = ",".join(_literal(t) for t, _ in pairs)
    columns = ",".join(_literal(c) for _, c in pairs)
    return f"ARRAY[{names}]::text[], ARRAY[{columns}]::text[]"


@cache
def emptying_script(tables: tuple[Table, ...]) -> str:
    """Every table of ``tables`` (dependents first) that holds a row emptied, and every sequence
    behind their serial columns restarted: what TRUNCATE ... RESTART IDENTITY did, without its
    cost (TRUNCATE gives a table new files: 0.4-1 s a test for 26 tables holding a few rows).

    A superuser deletes as a replica applying changes does (session_replication_role), which
    fires no trigger: neither the foreign keys' (every table with rows goes) nor the append-only
    trail's nor the users' counters (their tables go too). Another role deletes dependents first
    with the row triggers firing (users' counters, on tables emptied after them), and truncates
    the append-only trail, whose trigger refuses DELETE (TRUNCATE fires no row trigger)."""
    lines = [
        "DO $empty$ DECLARE superuser boolean := current_setting('is_superuser') = 'on';",
        "BEGIN",
        "IF superuser THEN SET LOCAL session_replication_role = replica; END IF;",
    ]
    for table in tables:
        name = _quote(table.name)
        delete = f"DELETE FROM {name};"  # noqa: S608 - names of the metadata's tables
        if table.name == "audit_events":
            delete = f"IF superuser THEN {delete} ELSE TRUNCATE {name}; END IF;"
        lines.append(f"IF EXISTS (SELECT FROM {name}) THEN {delete} END IF;")
    serials = _serials(tables)
    lines.append(
        "PERFORM setval(seq, 1, false) FROM ("  # noqa: S608 - names of the metadata's tables
        f" SELECT pg_get_serial_sequence(t, c) AS seq FROM unnest({serials}) AS u(t, c)"
        ") AS s WHERE seq IS NOT NULL;"
    )
    lines.append("END $empty$;")
    return "\n".join(lines)


@cache
def _emptiness_guard(tables: tuple[Table, ...]) -> str:
    """Raises NOT_EMPTY unless every table is empty and no sequence behind their serial
    columns has handed out a value: the only state a world's snapshot may be restored in."""
    filled = " OR ".join(f"EXISTS (SELECT FROM {_quote(t.name)})" for t in tables)
    used = (
        "EXISTS (SELECT FROM unnest("
        + _serials(tables)
        + ") AS u(t, c) WHERE pg_sequence_last_value("
        "CAST(pg_get_serial_sequence(t, c) AS regclass)) IS NOT NULL)"
    )
    return (
        f"DO $guard$ BEGIN IF {filled} OR {used} THEN"
        f" RAISE EXCEPTION USING ERRCODE = '{NOT_EMPTY}', MESSAGE = 'the database is not empty';"
        " END IF; END $guard$;"
    )


def _insert(table: Table, document: str, datetimes: frozenset[str], shift: str) -> str:
    """One table's rows written back from their JSON document, datetimes moved on by
    ``shift`` (an interval literal)."""
    names = [_quote(c.name) for c in table.columns]
    values = [
        f"{n} + {shift}" if c.name in datetimes else n
        for n, c in zip(names, table.columns, strict=True)
    ]
    # Names of the metadata's tables and columns; the rows as one dollar-quoted literal.
    return (
        f"INSERT INTO {_quote(table.name)} ({', '.join(names)})"  # noqa: S608
        f" SELECT {', '.join(values)}"
        f" FROM json_populate_recordset(NULL::{_quote(table.name)}, {_literal(document)});"
    )


def restore_script(
    tables: tuple[Table, ...],
    documents: list[tuple[Table, str, frozenset[str], bool]],
    sequences: list[tuple[str, int]],
    shift: timedelta,
) -> str:
    """The emptiness guard, then each table's rows (``documents``: table, its rows as JSON, its
    datetime columns, whether triggers on users fill it, so it is emptied first), then the
    sequences set where the build left them. ``shift``: added to every datetime."""
    micros = (shift.days * 86_400 + shift.seconds) * 1_000_000 + shift.microseconds
    interval = f"interval '{micros} microseconds'"
    lines = [_emptiness_guard(tables)]
    for table, document, datetimes, trigger_fed in documents:
        if trigger_fed:
            lines.append(f"DELETE FROM {_quote(table.name)};")  # noqa: S608 - a table's name
        lines.append(_insert(table, document, datetimes, interval))
    if sequences:
        pairs = ", ".join(f"({_literal(name)}, {value})" for name, value in sequences)
        setval = "SELECT setval(CAST(s AS regclass), v) FROM (VALUES {}) AS u(s, v);"
        lines.append(setval.format(pairs))
    return "\n".join(lines)


async def table_document(connection: AsyncConnection, table: Table) -> str:
    """``table``'s rows as PostgreSQL renders them in JSON (every column, by its name)."""
    name = _quote(table.name)
    query = text(f"SELECT CAST(coalesce(json_agg(r), '[]') AS text) FROM {name} AS r")  # noqa: S608
    return str((await connection.execute(query)).scalar_one())


async def run_script(database: Database, script: str) -> None:
    """``script`` sent on a connection of the write pool (the one the test goes on with) as
    one simple query: one round trip, one transaction. Raises asyncpg's error if it fails."""
    async with database.engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        # No transaction of SQLAlchemy's is open on it (connect() begins none until a statement
        # runs), so the script's implicit transaction is the only one: it commits on its own.
        await driver.execute(script)
