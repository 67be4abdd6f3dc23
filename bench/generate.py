"""The data generator: one organization with N realistic patients, deterministic for a seed.

    python -m bench.generate --database-url sqlite+aiosqlite:///bench/results/bench.db -n 10000

Steps: migrate (``carebook.db.migrate``), create the provider and its API key through carebook's
own service, then load patients, groups, tags, taggings, locations, care teams and the search
tokens in bulk: executemany on SQLite's driver, COPY on PostgreSQL (asyncpg). Secondary indexes
and foreign keys of the bulk-loaded tables are dropped first and recreated afterwards from the
exact DDL the migrations created, so the database ends as the migrations define it. ANALYZE last.

The tokens are computed here with carebook's own matching rules (``carebook.search.text``), which
is what ``reindex_users`` would write, only without reading the rows back.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import random
import sqlite3
import sys
import time
import unicodedata
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import Table, and_, func, inspect, select, update
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import SAWarning
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from bench import names
from carebook.accounts.staff import create_provider, create_staff_user
from carebook.auth.passwords import Passwords
from carebook.auth.roles import Role
from carebook.config import Settings
from carebook.db.engine import create_database
from carebook.db.migrate import upgrade_async
from carebook.events.models import Event, Webhook
from carebook.search.counters import RECOUNT_ALL
from carebook.search.text import DOB_PREFIX, shared_prefixes, whole_value, word_suffixes
from carebook.users.inputs import Profile
from carebook.users.models import User
from carebook.webhooks.fanout import UNDISPATCHED

BATCH = 20_000
EPOCH = datetime(2018, 1, 1, tzinfo=UTC)  # created_at of the first patient; fixed for determinism
PROVIDER_EMAIL = "bench.provider@example.com"

USER_COLUMNS = (
    "id", "organization_id", "role", "first_name", "last_name", "legal_name", "preferred_name",
    "pronouns", "email", "email_key", "skipped_email", "phone_number", "dob", "gender", "sex",
    "timezone", "record_identifier", "additional_record_identifier", "dietitian_id",
    "user_group_id", "active", "archived_at", "created_at", "updated_at",
)  # fmt: skip
LOCATION_COLUMNS = (
    "id",
    "organization_id",
    "user_id",
    "name",
    "line1",
    "city",
    "state",
    "zip",
    "country",
    "created_at",
    "updated_at",
)
TAGGING_COLUMNS = ("tag_id", "user_id", "created_at")
# Each tagging's application record (appliedTag(s), tags' history), as the services write it.
APPLIED_TAG_COLUMNS = ("tag_id", "user_id", "created_at", "updated_at")
TOKEN_COLUMNS = ("organization_id", "token", "user_id", "last_name", "role", "active", "shared")
CARE_TEAM_COLUMNS = ("patient_id", "provider_id")
# Tables loaded in bulk, whose indexes are dropped during the load (parents before children).
BULK_TABLES = (
    "users",
    "care_team_members",
    "search_tokens",
    "taggings",
    "applied_tags",
    "locations",
)


@dataclass(frozen=True)
class Options:
    """What to generate, and where."""

    database_url: str
    patients: int
    seed: int = 1
    recreate: bool = True
    drop_indexes: bool = True
    migrate: bool = True


@dataclass
class Generated:
    """What the runner needs to know about the generated organization."""

    database_url: str
    organization_id: int
    provider_id: int
    provider_ids: list[int]
    api_key: str
    patients: int
    first_patient_id: int
    last_patient_id: int
    group_ids: list[int]
    tag_ids: list[int]
    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


# --- the database: recreate, migrate ----------------------------------------------------------


def is_sqlite(url: str) -> bool:
    """True for SQLite URLs."""
    return url.startswith("sqlite")


def sqlite_path(url: str) -> Path:
    """The file of a sqlite URL."""
    database = make_url(url).database
    assert database, url
    return Path(database)


def asyncpg_dsn(url: str) -> str:
    """A plain postgresql:// DSN for asyncpg."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def vacuum_analyze(url: str, *tables: str) -> None:
    """On PostgreSQL, ``VACUUM (ANALYZE)`` of ``tables`` (all of them when none is named), what
    autovacuum would do (this machine's server runs with it off); nothing on SQLite."""
    await _on_postgresql(url, f"VACUUM (ANALYZE) {', '.join(tables)}")


async def analyze(url: str) -> None:
    """On PostgreSQL, ``ANALYZE`` of every table: the statistics autovacuum would keep (this
    machine's server runs with it off); nothing on SQLite.

    Before each write phase: the blocking keys start empty (the generator writes none) and the
    creations fill them, and on statistics that still said "empty" PostgreSQL joined a patient's
    keys to all of the organization's by hash (15 ms a check at 40,000 keys) where it probes the
    index once it knows the table's size (under 1 ms): an in-process run of 200 updateClients at
    1,000,000 patients took 30.6 ms each before an ANALYZE, 12.2 ms after (docs/performance.md).
    """
    await _on_postgresql(url, "ANALYZE")


# Settled rows past which the events table is vacuumed (autovacuum is off on these machines):
# the fan-out's look-up of waiting events would otherwise step over their dead index entries.
_VACUUM_AFTER = 10_000


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr)


async def settle_events(
    url: str, after: int = 0, *, log: Callable[[str], None] = _to_stderr
) -> int:
    """Mark the events newer than ``after`` that wait for the webhook fan-out as fanned out, as
    a server's delivery worker does while no webhook is enabled; the count still waiting.

    A server's delivery process fans out at most 5,000 events a second, and a bulkUpdateClients
    phase writes 10,000 a second, so a run's or a probe's events outlived its server (or its
    phase) and the next one spent its measured phases working through them (two million after
    in-process runs; 143,670 after four probes, which then took 212-244 ms a move against
    124-144 with none: docs/performance.md, 2026-12-07 evening). Called before a probe's or
    run's server starts and, in a full run, between its write phases (the server's fan-out
    skips rows this locks, and this skips rows it has marked). One statement: with a webhook
    enabled when it runs, nothing is marked. Waiting events are found as the fan-out finds them
    (the partial index's own condition, ``= 0`` on SQLite).
    """
    enabled = select(Webhook.id).where(Webhook.is_enabled.is_(True)).exists()
    waiting = and_(Event.id > after, UNDISPATCHED)
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            marked = await connection.execute(
                update(Event).where(waiting, ~enabled).values(dispatched=True)
            )
            left = int(await connection.scalar(select(func.count()).where(waiting)) or 0)
    finally:
        await engine.dispose()
    if marked.rowcount > _VACUUM_AFTER:
        await vacuum_analyze(url, "events")
    if left:
        log(f"{left} events wait for a server's webhook fan-out (webhooks are enabled)")
    return left


async def settle(url: str) -> None:
    """A reused database as an idle server and autovacuum would have left it (these machines run
    neither between bench runs): no earlier run's events waiting for a server's webhook fan-out
    (:func:`settle_events`), no earlier run's dead rows (:func:`vacuum_analyze`, about 10 s after
    a day of bulk moves, which had left 4,100,000 in users). For every tool that measures."""
    await settle_events(url)
    await vacuum_analyze(url)


async def _on_postgresql(url: str, statement: str) -> None:
    """Run ``statement`` on its own connection when ``url`` is PostgreSQL's."""
    if is_sqlite(url):
        return
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def recreate_database(url: str) -> None:
    """Drop and create the bench database (a file for SQLite, a database for PostgreSQL)."""
    if is_sqlite(url):
        path = sqlite_path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)  # noqa: ASYNC240 - a CLI step
        return
    parsed = make_url(url)
    name = parsed.database
    assert name and name not in ("postgres", "test", "template0", "template1"), name
    admin = asyncpg_dsn(parsed.set(database="postgres").render_as_string(hide_password=False))
    connection = await asyncpg.connect(admin)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


# --- rows ---------------------------------------------------------------------------------------


def _zipf_weights(count: int, offset: int) -> list[float]:
    """Zipf-like weights flattened by ``offset``, so the most common name is not a fifth of all."""
    return [1.0 / (rank + offset) for rank in range(count)]


def _synthetic_name(rng: random.Random) -> str:
    """A plausible, rarely repeated name (about 70,000 possibilities) for the long tail."""
    parts = [rng.choice(names.SYLLABLES) for _ in range(rng.choice((2, 2, 3)))]
    return "".join(parts).capitalize()


@functools.lru_cache(maxsize=4096)
def _name_tokens(value: str) -> frozenset[str]:
    return frozenset(word_suffixes(value))


@functools.lru_cache(maxsize=4096)
def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum())


def user_tokens(row: Sequence[Any]) -> set[str]:
    """``carebook.search.text.tokens_of`` for a generated user row (names memoised)."""
    first, last, legal, email = row[3], row[4], row[5], row[8]
    tokens = set(_name_tokens(first)) | _name_tokens(last)
    if legal:
        tokens |= _name_tokens(legal)
    tokens |= word_suffixes(email) | whole_value(row[16])
    if row[12] is not None:
        tokens.add(f"{DOB_PREFIX}{row[12].isoformat()}")
    return tokens


def _phone(rng: random.Random) -> str | None:
    kind = rng.random()
    if kind < 0.05:
        return None
    if kind < 0.85:
        area = rng.choice(names.US_AREA_CODES)
        return f"+1{area}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"
    if kind < 0.90:
        return f"+447700900{rng.randint(0, 999):03d}"
    if kind < 0.95:
        return f"+4915{rng.randint(1, 9)}{rng.randint(0, 99_999_999):08d}"
    return f"+336{rng.randint(0, 99_999_999):08d}"


@dataclass
class World:
    """Ids created before the patients, which the patient rows refer to."""

    organization_id: int
    provider_ids: list[int]
    group_ids: list[int]
    tag_ids: list[int]
    first_patient_id: int
    first_location_id: int
    has_tags: bool
    has_locations: bool


@dataclass
class Chunk:
    """One batch of rows of every bulk table."""

    users: list[tuple[Any, ...]] = field(default_factory=list)
    tokens: list[tuple[Any, ...]] = field(default_factory=list)
    taggings: list[tuple[Any, ...]] = field(default_factory=list)
    locations: list[tuple[Any, ...]] = field(default_factory=list)
    care_team: list[tuple[Any, ...]] = field(default_factory=list)


# Shares of patients whose name comes from the long tail instead of the listed common names.
TAIL_FIRST = 0.35
TAIL_LAST = 0.55


class PatientFactory:
    """Draws patients from one seeded random stream, so a seed always gives the same rows."""

    def __init__(self, world: World, total: int, seed: int) -> None:
        self.world = world
        self.total = total
        self.rng = random.Random(seed)
        # Census-like shape: the listed names are the common head (the top last name is about 2%
        # of patients, the top first name about 4%), the rest a long tail of rarer names.
        self.first_weights = list(_cumulative(_zipf_weights(len(names.FIRST_NAMES), 5)))
        self.last_weights = list(_cumulative(_zipf_weights(len(names.LAST_NAMES), 8)))
        self.dob_start = date(1930, 1, 1).toordinal()
        self.dob_span = date(2020, 12, 31).toordinal() - self.dob_start
        self.step = timedelta(days=7 * 365) / max(total, 1)
        self.next_location_id = world.first_location_id

    def chunk(self, start: int, count: int) -> Chunk:
        """Rows for patients number ``start`` .. ``start + count - 1``."""
        out = Chunk()
        for number in range(start, start + count):
            self._patient(number, out)
        return out

    def _patient(self, number: int, out: Chunk) -> None:
        rng, world = self.rng, self.world
        uid = world.first_patient_id + number
        first = rng.choices(names.FIRST_NAMES, cum_weights=self.first_weights)[0]
        if rng.random() < TAIL_FIRST:
            first = _synthetic_name(rng)
        last = rng.choices(names.LAST_NAMES, cum_weights=self.last_weights)[0]
        if rng.random() < TAIL_LAST:
            last = _synthetic_name(rng)
        if rng.random() < 0.001:
            last = rng.choice(names.RARE_LAST_NAMES)
        skipped = rng.random() < 0.02
        email = None
        if not skipped:
            domain = names.EMAIL_DOMAINS[number % len(names.EMAIL_DOMAINS)]
            email = f"{_ascii(first)}.{_ascii(last)}{number}@{domain}"
        created = EPOCH + self.step * number + timedelta(seconds=rng.randrange(3600))
        updated = created + timedelta(days=rng.randrange(400))
        active = rng.random() >= 0.05
        archived_at = None if active else updated
        gender = rng.choice(("Female", "Female", "Male", "Male", "Non-binary", None))
        row = (
            uid,
            world.organization_id,
            "patient",
            first,
            last,
            rng.choice(names.FIRST_NAMES) if rng.random() < 0.03 else None,  # legal_name
            first.split("-")[0] if rng.random() < 0.05 else None,  # preferred_name
            rng.choice(("she/her", "he/him", "they/them")) if rng.random() < 0.3 else None,
            email,
            email,  # email_key: the generated emails are already lower-case
            skipped,
            _phone(rng),
            date.fromordinal(self.dob_start + rng.randrange(self.dob_span)),
            gender,
            {"Female": "Female", "Male": "Male"}.get(gender or ""),
            rng.choice(names.TIMEZONES),
            f"MRN{number:08d}",
            f"EXT-{rng.randrange(10**9):09d}" if rng.random() < 0.3 else None,
            rng.choice(world.provider_ids),
            rng.choice(world.group_ids) if world.group_ids and rng.random() < 0.6 else None,
            active,
            archived_at,
            created,
            updated,
        )
        out.users.append(row)
        org = world.organization_id
        tokens = sorted(user_tokens(row))
        out.tokens.extend(
            (org, token, uid, last, "patient", active, shared)
            for token, shared in zip(tokens, shared_prefixes(tokens), strict=True)
        )
        if world.has_tags and world.tag_ids:
            picked = rng.sample(world.tag_ids, rng.choice((0, 0, 1, 1, 1, 2, 3)))
            out.taggings.extend((tag_id, uid, created) for tag_id in sorted(picked))
        if world.has_locations and rng.random() < 0.3:
            city, state, zip3 = rng.choice(names.CITIES)
            street = f"{rng.randint(1, 9999)} {rng.choice(names.STREETS)}"
            zip_code = f"{zip3}{rng.randint(0, 99):02d}"
            out.locations.append(
                (
                    self.next_location_id,
                    org,
                    uid,
                    "Home",
                    street,
                    city,
                    state,
                    zip_code,
                    "US",
                    created,
                    created,
                )
            )
            self.next_location_id += 1
        if len(world.provider_ids) > 1 and rng.random() < 0.05:
            others = [p for p in world.provider_ids if p != row[18]]
            out.care_team.append((uid, rng.choice(others)))


def _cumulative(weights: list[float]) -> Iterator[float]:
    total = 0.0
    for weight in weights:
        total += weight
        yield total


# --- sinks: how rows reach each database ------------------------------------------------------


def _sqlite_value(value: Any) -> Any:
    """Values as SQLAlchemy stores them on SQLite (see carebook.db.types.UTCDateTime)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


class SqliteSink:
    """executemany on the sqlite3 driver, in one transaction with the journal off."""

    def __init__(self, url: str, journal_off: bool) -> None:
        self.connection = sqlite3.connect(sqlite_path(url), isolation_level=None, timeout=30)
        self.saved_indexes: list[tuple[str, str]] = []
        self.saved_triggers: list[tuple[str, str]] = []
        # Leaving WAL needs the only connection: only on a database this run just created.
        self.journal_off = journal_off

    async def begin(self, drop_indexes: bool) -> None:
        execute = self.connection.execute
        if self.journal_off:
            execute("PRAGMA journal_mode=OFF")
        for pragma in (
            "synchronous=OFF",
            "cache_size=-1000000",
            "temp_store=MEMORY",
            "foreign_keys=OFF",
        ):
            execute(f"PRAGMA {pragma}")
        if drop_indexes:
            marks = ",".join("?" * len(BULK_TABLES))
            self.saved_indexes = execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"  # noqa: S608 - constant table names
                f" AND tbl_name IN ({marks})",
                BULK_TABLES,
            ).fetchall()
            for name, _ in self.saved_indexes:
                execute(f'DROP INDEX "{name}"')
        # The counters' triggers would run once per row: recounted in one pass instead.
        self.saved_triggers = execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'users'"
        ).fetchall()
        for name, _ in self.saved_triggers:
            execute(f'DROP TRIGGER "{name}"')
        execute("BEGIN")

    async def load(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"  # noqa: S608 - constant table names
        converted = [tuple(map(_sqlite_value, row)) for row in rows]
        self.connection.executemany(sql, converted)

    async def finish(self) -> None:
        execute = self.connection.execute
        for _, sql in self.saved_indexes:
            execute(sql)
        for _, sql in self.saved_triggers:
            execute(sql)
        for statement in RECOUNT_ALL:
            execute(statement)
        execute("COMMIT")
        execute("ANALYZE")
        if self.journal_off:
            execute("PRAGMA journal_mode=WAL")
        self.connection.close()


class PostgresSink:
    """COPY (binary, via asyncpg) with the bulk tables' foreign keys and indexes dropped."""

    def __init__(self, url: str) -> None:
        self.dsn = asyncpg_dsn(url)
        self.connection: asyncpg.Connection | None = None
        self.saved_indexes: list[tuple[str, str]] = []
        self.saved_constraints: list[tuple[str, str, str, str]] = []

    async def begin(self, drop_indexes: bool) -> None:
        self.connection = connection = await asyncpg.connect(self.dsn)
        await connection.execute("SET synchronous_commit = off")
        await connection.execute("SET maintenance_work_mem = '512MB'")
        # The counters' triggers would run once per row: recounted in one pass instead.
        await connection.execute("ALTER TABLE users DISABLE TRIGGER USER")
        if drop_indexes:
            tables = list(BULK_TABLES)
            # Foreign keys of the bulk tables, and the primary keys of the two link tables
            # (nothing references them): rebuilt in one pass after the load.
            constraints = await connection.fetch(
                "SELECT c.conname, t.relname, c.contype::text, pg_get_constraintdef(c.oid) AS def"
                " FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid"
                " WHERE t.relname = ANY($1::text[]) AND (c.contype = 'f' OR"
                " (c.contype = 'p' AND t.relname IN ('search_tokens', 'taggings')))"
                " ORDER BY c.contype",  # 'f' before 'p': drop foreign keys first
                tables,
            )
            self.saved_constraints = [(r[0], r[1], r[2], r[3]) for r in constraints]
            indexes = await connection.fetch(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = 'public'"
                " AND i.tablename = ANY($1::text[]) AND NOT EXISTS"
                " (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
                tables,
            )
            self.saved_indexes = [(r[0], r[1]) for r in indexes]
            for name, table, _, _ in self.saved_constraints:
                await connection.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
            for name, _ in self.saved_indexes:
                await connection.execute(f'DROP INDEX "{name}"')

    async def load(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        if rows:
            assert self.connection is not None
            await self.connection.copy_records_to_table(table, records=rows, columns=columns)

    async def finish(self) -> None:
        connection = self.connection
        assert connection is not None
        for name, table, kind, definition in reversed(self.saved_constraints):  # 'p' first
            if kind == "p":
                await connection.execute(
                    f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}'
                )
        for _, definition in self.saved_indexes:
            await connection.execute(definition)
        for name, table, kind, definition in self.saved_constraints:
            if kind == "f":
                await connection.execute(
                    f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}'
                )
        for table in ("users", "user_groups", "tags", "locations"):
            await connection.execute(
                "SELECT setval(pg_get_serial_sequence($1, 'id'),"  # noqa: S608 - constant table names
                f' (SELECT COALESCE(MAX(id), 0) + 1 FROM "{table}"), false)'
                f" WHERE to_regclass('{table}') IS NOT NULL",
                table,
            )
        await connection.execute("ALTER TABLE users ENABLE TRIGGER USER")
        for statement in RECOUNT_ALL:
            await connection.execute(statement)
        # VACUUM, not only ANALYZE: it sets the visibility map, without which PostgreSQL's
        # index-only scans (counts, deep pages, search ranges) visit the heap for every row.
        await connection.execute("VACUUM (ANALYZE)")
        await connection.close()


# --- the generator ------------------------------------------------------------------------------


def _table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


_EXPRESSION_INDEX = "Skipped unsupported reflection of expression-based index"


def _reflect(connection: Connection, name: str) -> Table:
    from sqlalchemy import MetaData

    metadata = MetaData()
    with warnings.catch_warnings():
        # SQLite's reflection skips users' index on an expression (uq_users_email): a few
        # INSERTs need the columns only.
        warnings.filterwarnings("ignore", _EXPRESSION_INDEX, SAWarning)
        return Table(name, metadata, autoload_with=connection)


async def _insert(connection: AsyncConnection, name: str, rows: list[dict[str, Any]]) -> None:
    """Insert a few rows into a reflected table (the schema as the migrations made it)."""
    if rows:
        table = await connection.run_sync(_reflect, name)
        await connection.execute(table.insert(), rows)


async def _setup(options: Options, settings: Settings, rng: random.Random) -> tuple[World, str]:
    """Provider (and API key) through carebook's service, then groups and tags."""
    database = create_database(settings)
    passwords = Passwords(settings)
    try:
        async with database.write_sessions() as session, session.begin():
            created = await create_provider(
                session,
                passwords=passwords,
                email=PROVIDER_EMAIL,
                first_name="Dana",
                last_name="Reyes",
                organization_name="Bench Clinic",
                new_organization=True,
            )
            provider_ids = [created.user_id]
            for index, (first, last) in enumerate(
                (
                    ("Kenji", "Watanabe"),
                    ("Amara", "Okonkwo"),
                    ("Lena", "Fischer"),
                    ("Tomás", "Silva"),
                )
            ):
                role = Role.STAFF if index == 3 else Role.PROVIDER
                staff = await create_staff_user(
                    session,
                    passwords=passwords,
                    fields=Profile(
                        first_name=first,
                        last_name=last,
                        email=f"bench.staff{index}@example.com",
                    ),
                    organization_id=created.organization_id,
                    role=role,
                )
                provider_ids.append(staff.id)
        org = created.organization_id
        async with database.engine.begin() as connection:
            tables = await connection.run_sync(_table_names)
            now = EPOCH
            groups = [
                {
                    "organization_id": org,
                    "name": name,
                    "name_key": name.casefold(),
                    "invite_code": f"g{rng.getrandbits(64):016x}",
                    "created_at": now,
                    "updated_at": now,
                }
                for name in names.GROUP_NAMES
            ]
            await _insert(connection, "user_groups", groups)
            group_ids = list(
                (await connection.execute(_ids_query("user_groups", org))).scalars().all()
            )
            tag_ids: list[int] = []
            if "tags" in tables:
                tags = [
                    {
                        "organization_id": org,
                        "user_id": created.user_id,
                        "name": name,
                        "name_key": name.casefold(),
                        "created_at": now,
                        "updated_at": now,
                    }
                    for name in names.TAG_NAMES
                ]
                await _insert(connection, "tags", tags)
                tag_ids = list((await connection.execute(_ids_query("tags", org))).scalars())
            max_user = (await connection.execute(select(User.id).order_by(User.id.desc()))).first()
            first_location = 1
            if "locations" in tables:
                from sqlalchemy import text

                found = (
                    await connection.execute(text("SELECT COALESCE(MAX(id), 0) FROM locations"))
                ).scalar_one()
                first_location = int(found) + 1
        world = World(
            organization_id=org,
            provider_ids=provider_ids,
            group_ids=group_ids,
            tag_ids=tag_ids,
            first_patient_id=(max_user[0] if max_user else 0) + 1,
            first_location_id=first_location,
            has_tags="taggings" in tables and bool(tag_ids),
            has_locations="locations" in tables,
        )
        return world, created.api_key
    finally:
        await database.dispose()


def _ids_query(table: str, organization_id: int) -> Any:
    from sqlalchemy import column
    from sqlalchemy import table as table_clause

    t = table_clause(table, column("id"), column("organization_id"))
    return select(t.c.id).where(t.c.organization_id == organization_id).order_by(t.c.id)


async def generate(options: Options, *, log: Any = print) -> Generated:
    """Create (or refill) the bench database; returns the API key and the ids to query."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    if options.recreate:
        await recreate_database(options.database_url)
    if options.migrate:
        await upgrade_async(options.database_url)
    timings["migrate"] = time.perf_counter() - started
    settings = Settings(database_url=options.database_url)
    rng = random.Random(options.seed)
    world, api_key = await _setup(options, settings, random.Random(rng.getrandbits(64)))
    factory = PatientFactory(world, options.patients, rng.getrandbits(64))
    sink: SqliteSink | PostgresSink = (
        SqliteSink(options.database_url, journal_off=options.recreate)
        if is_sqlite(options.database_url)
        else PostgresSink(options.database_url)
    )
    counts = dict.fromkeys(
        ("users", "search_tokens", "taggings", "applied_tags", "locations", "care_team"), 0
    )
    mark = time.perf_counter()
    await sink.begin(options.drop_indexes)
    build = 0.0
    for start in range(0, options.patients, BATCH):
        tick = time.perf_counter()
        chunk = factory.chunk(start, min(BATCH, options.patients - start))
        build += time.perf_counter() - tick
        await sink.load("users", USER_COLUMNS, chunk.users)
        await sink.load("care_team_members", CARE_TEAM_COLUMNS, chunk.care_team)
        await sink.load("search_tokens", TOKEN_COLUMNS, chunk.tokens)
        await sink.load("taggings", TAGGING_COLUMNS, chunk.taggings)
        applied = [(tag, user, at, at) for tag, user, at in chunk.taggings]
        await sink.load("applied_tags", APPLIED_TAG_COLUMNS, applied)
        await sink.load("locations", LOCATION_COLUMNS, chunk.locations)
        for key, rows in (
            ("users", chunk.users),
            ("search_tokens", chunk.tokens),
            ("taggings", chunk.taggings),
            ("applied_tags", chunk.taggings),
            ("locations", chunk.locations),
            ("care_team", chunk.care_team),
        ):
            counts[key] += len(rows)
        if start and start % 200_000 == 0:
            log(f"  {start:,} patients, {time.perf_counter() - mark:.0f} s")
    timings["rows_python"] = build
    timings["load"] = time.perf_counter() - mark - build
    tick = time.perf_counter()
    await sink.finish()
    timings["indexes_analyze"] = time.perf_counter() - tick
    timings["total"] = time.perf_counter() - started
    return Generated(
        database_url=options.database_url,
        organization_id=world.organization_id,
        provider_id=world.provider_ids[0],
        provider_ids=world.provider_ids,
        api_key=api_key,
        patients=options.patients,
        first_patient_id=world.first_patient_id,
        last_patient_id=world.first_patient_id + options.patients - 1,
        group_ids=world.group_ids,
        tag_ids=world.tag_ids,
        counts=counts,
        seconds=timings,
    )


def main(argv: list[str] | None = None) -> None:
    """``python -m bench.generate``: fill a database and print the API key."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("-n", "--patients", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep-indexes", action="store_true", help="Load with indexes in place.")
    args = parser.parse_args(argv)
    options = Options(
        args.database_url, args.patients, args.seed, drop_indexes=not args.keep_indexes
    )
    generated = asyncio.run(generate(options))
    print(f"counts: {generated.counts}")
    print(f"seconds: { {k: round(v, 1) for k, v in generated.seconds.items()} }")
    print(f"organization {generated.organization_id}, provider {generated.provider_id}")
    print(f"API key: {generated.api_key}")


if __name__ == "__main__":
    main()
