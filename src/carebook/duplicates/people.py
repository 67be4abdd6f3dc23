"""Loading what the matcher compares of patients, in batches."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import replace

from sqlalchemy import BigInteger, bindparam, func, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from carebook.auth.roles import Role
from carebook.db.among import among
from carebook.duplicates.keys import tally_of
from carebook.duplicates.matcher import NAMESAKES_ALLOWED, Person, address_key
from carebook.duplicates.models import NameKey
from carebook.locations.models import Location
from carebook.users.models import User

# Ids per IN list: under SQLite's and asyncpg's bound-parameter limits.
ID_BATCH = 10_000
# Names shared by this many patients or fewer change no match (NAMESAKES_ALLOWED): their
# tallies are not counted exactly, nor kept.
RARE = min(NAMESAKES_ALLOWED.values())
# Nor does counting past the largest: a creation's or an import's check counts each of its
# names up to here (a generated million-patient organization has names shared by thousands:
# counted whole, 70-80 ms of PostgreSQL per import batch of 500, pg_stat_statements).
COUNTED_TO = max(NAMESAKES_ALLOWED.values()) + 1
# PostgreSQL: each name's rows read up to COUNTED_TO through the (organization_id, key) index.
_COUNTED_TO_PG = text(
    "SELECT given.key, counted.n FROM unnest(:keys) AS given(key) CROSS JOIN LATERAL ("
    " SELECT count(*) AS n FROM (SELECT 1 FROM duplicate_name_keys AS d"
    " WHERE d.organization_id = :org AND d.key = given.key LIMIT :cap) AS capped"
    ") AS counted WHERE counted.n > :rare"
).bindparams(bindparam("keys", type_=postgresql.ARRAY(BigInteger)))


def _chunks(ids: list[int]) -> list[list[int]]:
    return [ids[start : start + ID_BATCH] for start in range(0, len(ids), ID_BATCH)]


def common_names(
    connection: Connection, organization_id: int, tallies: Collection[int] | None = None
) -> dict[int, int]:
    """Name tally -> patients who share it, for names shared by more than RARE patients of the
    organization. Among ``tallies`` when given (a creation's or an import batch's check counts
    its own names), each counted up to COUNTED_TO only: a larger count changes no match."""
    query = (
        select(NameKey.key, func.count())
        .where(NameKey.organization_id == organization_id)
        .group_by(NameKey.key)
        .having(func.count() > RARE)
    )
    if tallies is None:
        return {key: count for key, count in connection.execute(query)}
    common: dict[int, int] = {}
    on_postgresql = connection.dialect.name == "postgresql"
    for chunk in _chunks(sorted(set(tallies))):
        if on_postgresql:
            values = {"keys": chunk, "org": organization_id, "cap": COUNTED_TO, "rare": RARE}
            rows = connection.execute(_COUNTED_TO_PG, values)
        else:  # SQLite: the whole count, capped the same (its cost there not measured)
            rows = connection.execute(query.where(NameKey.key.in_(chunk)))
        common.update({key: min(count, COUNTED_TO) for key, count in rows})
    return common


def _addresses(connection: Connection, ids: list[int]) -> dict[int, str | None]:
    """The first address of each patient (their earliest location), made comparable."""
    query = (
        select(Location.user_id, Location.line1, Location.zip)
        .where(among(connection.dialect, Location.user_id, ids))
        .order_by(Location.id)
    )
    found: dict[int, str | None] = {}
    for row in connection.execute(query):
        found.setdefault(row.user_id, address_key(row.line1, row.zip))
    return found


def load_people(connection: Connection, ids: Collection[int]) -> dict[int, Person]:
    """The active patients among ``ids``, by id (their names counted rare: :func:`counted`)."""
    people: dict[int, Person] = {}
    for chunk in _chunks(sorted(set(ids))):
        query = select(
            User.id, User.first_name, User.last_name, User.dob, User.email_key, User.phone_number
        ).where(among(connection.dialect, User.id, chunk), User.role == Role.PATIENT, User.active)
        rows = connection.execute(query).all()
        addresses = _addresses(connection, [row.id for row in rows])
        for row in rows:
            people[row.id] = Person(
                id=row.id,
                first_name=row.first_name or "",
                last_name=row.last_name or "",
                dob=row.dob,
                email=row.email_key,
                phone=row.phone_number,
                address=addresses.get(row.id),
            )
    return people


def counted(person: Person, common: Mapping[int, int]) -> Person:
    """The person with how many patients share their names (``common``: :func:`common_names`)."""
    tally = tally_of(person)
    namesakes = common.get(tally, 1) if tally is not None else 1
    return replace(person, namesakes=namesakes) if namesakes != person.namesakes else person
