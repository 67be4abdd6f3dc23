"""Two organizations, so every visibility test can check that nothing crosses between them."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from sqlalchemy import DateTime, Table, exists, insert, literal_column, select, text, union_all
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import TypeDecorator

from carebook import builders
from carebook.accounts.staff import NewProvider
from carebook.audit.trail import load_without_trail
from carebook.auth.passwords import Passwords
from carebook.auth.roles import Role
from carebook.db.base import utcnow
from carebook.db.engine import Database
from carebook.users.credentials import issue_session_token
from tests.support import postgres_scripts

PATIENT_PASSWORD = "b@se3ball rocks"


@dataclass
class Org:
    """One organization's cast."""

    provider: NewProvider
    staff: NewProvider
    group_id: int
    patient_id: int
    patient_token: str
    other_patient_id: int


@dataclass
class World:
    """Organization A and organization B."""

    a: Org
    b: Org


async def _org(database: Database, passwords: Passwords, tag: str) -> Org:
    async with database.write_sessions() as session, session.begin():
        load_without_trail(session)  # fixture data: no one's activity
        provider = await builders.provider(
            session,
            passwords,
            email=f"provider.{tag}@example.com",
            first_name="Prov",
            last_name=tag.upper(),
        )
        staff = await builders.provider(
            session,
            passwords,
            email=f"staff.{tag}@example.com",
            organization_id=provider.organization_id,
            role=Role.STAFF,
            first_name="Staff",
            last_name=tag.upper(),
        )
        group = await builders.group(
            session, organization_id=provider.organization_id, name=f"Group {tag}"
        )
        actor = builders.actor_of(provider)
        patient = await builders.patient(
            session,
            passwords,
            actor=actor,
            first_name="Pat",
            last_name=f"Ient{tag.upper()}",
            email=f"patient.{tag}@example.com",
            password=PATIENT_PASSWORD,
        )
        other = await builders.patient(
            session,
            passwords,
            actor=actor,
            first_name="Other",
            last_name=f"Ient{tag.upper()}",
            email=f"other.{tag}@example.com",
        )
        token = await issue_session_token(session, user=patient, ttl=timedelta(hours=1))
        return Org(provider, staff, group.id, patient.id, token, other.id)


async def build_world(database: Database, passwords: Passwords) -> World:
    """Organization A and B, each with a provider, a staff member, a group and two patients."""
    return World(a=await _org(database, passwords, "a"), b=await _org(database, passwords, "b"))


# --- the world built once per module, then restored row for row ------------------------------
#
# Building the world goes through the services: some fifty statements in two transactions, on
# every test that asks for it. A module's later tests get the very rows the first one's build
# wrote instead, bulk inserted in one transaction (one statement per table), with PostgreSQL's
# sequences set where the build left them: the same ids, tokens, hashes and counters. Tables kept
# by triggers on users (the counters and list blocks) are written after the users, over what the
# triggers made, so they hold what the build left too. The first restore of each snapshot is
# compared with the snapshot, table by table: a restore that differs fails the test loudly.
#
# Every datetime column is moved on by the time since the snapshot was taken (just after the
# build): a restored world is as young as a world just built (sessions' expires_at an hour
# ahead, events just created), however long the module has run. Nothing hashes or chains on
# those times (the audit trail is a plain append-only table), and dates (a birth date) and the
# rate limiter's epoch seconds (no world row) are not datetimes, so they stay as built.


# Kept by triggers on users: restored after them, replacing what the triggers wrote.
_TRIGGER_FED = ("user_counts", "list_blocks")


@dataclass
class WorldSnapshot:
    """The rows a world's build left (dependents last, for inserting), and its sequences."""

    world: World
    rows: list[tuple[Table, list[dict[str, Any]]]]
    sequences: list[tuple[str, int]]
    taken_at: datetime  # after the build: every datetime of the rows is at most this
    # PostgreSQL: the rows as PostgreSQL renders them in JSON, by table, in the order of
    # ``rows``, with each table's datetime columns and whether triggers on users fill it
    # (tests/support/postgres_scripts.py writes them back in one round trip).
    documents: list[tuple[Table, str, frozenset[str], bool]] = field(default_factory=list)
    checked: bool = False

    def age_by(self, age: timedelta) -> None:
        """Makes this the snapshot of a build ``age`` ago: its moment and every datetime of its
        rows (and of their JSON documents) moved back by ``age``."""
        self.taken_at -= age
        self.rows = [(table, _shifted(table, rows, -age)) for table, rows in self.rows]
        self.documents = [
            (table, _shifted_document(document, datetimes, -age), datetimes, fed)
            for table, document, datetimes, fed in self.documents
        ]

    def rows_now(self, shift: timedelta) -> list[tuple[Table, list[dict[str, Any]]]]:
        """The rows with every datetime moved on by ``shift``."""
        return [(table, _shifted(table, rows, shift)) for table, rows in self.rows]


def _datetime_columns(table: Table) -> list[str]:
    # UTCDateTime is a TypeDecorator over DateTime (its python_type says object).
    return [
        c.name
        for c in table.columns
        if isinstance(c.type, DateTime)
        or (isinstance(c.type, TypeDecorator) and isinstance(c.type.impl_instance, DateTime))
    ]


def _shifted(table: Table, rows: list[dict[str, Any]], shift: timedelta) -> list[dict[str, Any]]:
    names = _datetime_columns(table)
    if not names:
        return rows
    return [{**row, **{n: row[n] + shift for n in names if row[n] is not None}} for row in rows]


def _shifted_document(document: str, names: frozenset[str], shift: timedelta) -> str:
    rows = json.loads(document)
    for row in rows:
        for name in names:
            if row[name] is not None:  # PostgreSQL's JSON renders them in ISO 8601
                row[name] = (datetime.fromisoformat(row[name]) + shift).isoformat()
    return json.dumps(rows)


async def database_is_empty(connection: AsyncConnection, tables: list[Table]) -> bool:
    """Whether every table is empty and (PostgreSQL) no sequence has been used: the state the
    world is built in, so the only state a snapshot of it may be restored in."""
    if await nonempty_tables(connection, tables):
        return False
    if connection.dialect.name != "postgresql":
        return True  # no AUTOINCREMENT: an empty table numbers from 1 again
    return not await used_sequences(connection, tables)


async def nonempty_tables(connection: AsyncConnection, tables: list[Table]) -> set[str]:
    """The names of the tables holding at least one row, read in one statement."""
    if not tables:
        return set()
    # The names written in the statement, not bound: no parameter for the driver to prepare.
    query = union_all(
        *(select(literal_column(f"'{t.name}'")).where(exists().select_from(t)) for t in tables)
    )
    return set((await connection.execute(query)).scalars())


async def used_sequences(connection: AsyncConnection, tables: list[Table]) -> list[tuple[str, int]]:
    """PostgreSQL: the sequences behind ``tables``' serial columns that have handed out a value,
    with the last one (reference data's sequences, used by migrations, are not among them)."""
    serials = [
        (t.name, t.autoincrement_column.name) for t in tables if t.autoincrement_column is not None
    ]
    used = await connection.execute(
        text(
            "SELECT seq, pg_sequence_last_value(CAST(seq AS regclass)) FROM ("
            " SELECT pg_get_serial_sequence(t, c) AS seq"
            " FROM unnest(CAST(:tables AS text[]), CAST(:columns AS text[])) AS u(t, c)"
            ") AS s WHERE seq IS NOT NULL"
        ),
        {"tables": [t for t, _ in serials], "columns": [c for _, c in serials]},
    )
    return sorted((name, int(value)) for name, value in used.all() if value is not None)


async def _table_rows(connection: AsyncConnection, table: Table) -> list[dict[str, Any]]:
    query = select(table).order_by(*table.primary_key.columns)
    return [dict(row) for row in (await connection.execute(query)).mappings()]


async def snapshot_world(database: Database, world: World, tables: list[Table]) -> WorldSnapshot:
    """The rows of a world just built on an empty database (``tables``: dependents first)."""
    taken_at = utcnow()
    async with database.write_sessions() as session, session.begin():
        connection = await session.connection()
        rows = [(t, await _table_rows(connection, t)) for t in reversed(tables)]
        sequences: list[tuple[str, int]] = []
        if connection.dialect.name == "postgresql":
            sequences = await used_sequences(connection, tables)
        kept = [(t, r) for t, r in rows if r]
        ordered = [e for e in kept if e[0].name not in _TRIGGER_FED]
        ordered += [e for e in kept if e[0].name in _TRIGGER_FED]
        documents = []
        if connection.dialect.name == "postgresql":
            for table, _ in ordered:
                document = await postgres_scripts.table_document(connection, table)
                datetimes = frozenset(_datetime_columns(table))
                documents.append((table, document, datetimes, table.name in _TRIGGER_FED))
    return WorldSnapshot(copy.deepcopy(world), ordered, sequences, taken_at, documents)


async def restore_world(
    database: Database, snapshot: WorldSnapshot, tables: list[Table]
) -> World | None:
    """The snapshot's rows written back in one transaction, if the database is empty (else
    None: nothing written), their datetimes moved on by the snapshot's age. ``tables``: every
    table of data."""
    shift = utcnow() - snapshot.taken_at
    if snapshot.documents:
        if not await _restore_postgres(database, snapshot, tables, shift):
            return None
        if not snapshot.checked:
            await _check_restore(database, snapshot, tables, shift)
        return copy.deepcopy(snapshot.world)
    rows_now = snapshot.rows_now(shift)
    async with database.write_sessions() as session, session.begin():
        connection = await session.connection()
        if not await database_is_empty(connection, tables):
            return None
        for table, rows in rows_now:
            if table.name in _TRIGGER_FED:
                await connection.execute(table.delete())
            await connection.execute(insert(table), rows)
        if snapshot.sequences:
            await connection.execute(
                text(
                    "SELECT setval(CAST(s AS regclass), v)"
                    " FROM unnest(CAST(:names AS text[]), CAST(:values AS bigint[])) AS u(s, v)"
                ),
                {
                    "names": [name for name, _ in snapshot.sequences],
                    "values": [value for _, value in snapshot.sequences],
                },
            )
        if not snapshot.checked:
            await _compare(connection, snapshot, tables, rows_now)
    return copy.deepcopy(snapshot.world)


async def _restore_postgres(
    database: Database, snapshot: WorldSnapshot, tables: list[Table], shift: timedelta
) -> bool:
    """The snapshot written back by one script (emptiness guard included): False, nothing
    written, if the database was not empty."""
    script = postgres_scripts.restore_script(
        tuple(tables), snapshot.documents, snapshot.sequences, shift
    )
    try:
        await postgres_scripts.run_script(database, script)
    except asyncpg.PostgresError as error:
        if error.sqlstate == postgres_scripts.NOT_EMPTY:
            return False
        raise
    return True


async def _check_restore(
    database: Database, snapshot: WorldSnapshot, tables: list[Table], shift: timedelta
) -> None:
    async with database.write_sessions() as session, session.begin():
        connection = await session.connection()
        await _compare(connection, snapshot, tables, snapshot.rows_now(shift))


async def _compare(
    connection: AsyncConnection,
    snapshot: WorldSnapshot,
    tables: list[Table],
    rows_now: list[tuple[Table, list[dict[str, Any]]]],
) -> None:
    """Fails unless the database holds exactly ``rows_now`` and the snapshot's sequences; marks
    the snapshot checked if it does."""
    restored = [(t, await _table_rows(connection, t)) for t, _ in snapshot.rows]
    sequences: list[tuple[str, int]] = []
    if connection.dialect.name == "postgresql":
        sequences = await used_sequences(connection, tables)
    expected = [(t, sorted_rows(r)) for t, r in rows_now]
    got = [(t, sorted_rows(r)) for t, r in restored]
    filled = await nonempty_tables(connection, tables)
    if filled != {t.name for t, _ in snapshot.rows}:
        raise AssertionError(f"the world restored fills other tables: {sorted(filled)}")
    if got != expected or sequences != snapshot.sequences:
        raise AssertionError("the world restored differs from the world built")
    snapshot.checked = True


def sorted_rows(rows: list[dict[str, Any]]) -> list[list[tuple[str, str]]]:
    """Rows comparable whatever their order (each as its sorted items, values as text)."""
    return sorted(sorted((k, repr(v)) for k, v in row.items()) for row in rows)
