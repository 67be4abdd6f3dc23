"""Loading what the matcher compares of patients, in batches."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.engine import Connection

from carebook.auth.roles import Role
from carebook.duplicates.matcher import Person, address_key
from carebook.locations.models import Location
from carebook.users.models import User

# Ids per IN list: under SQLite's and asyncpg's bound-parameter limits.
ID_BATCH = 10_000


def _chunks(ids: list[int]) -> list[list[int]]:
    return [ids[start : start + ID_BATCH] for start in range(0, len(ids), ID_BATCH)]


def _addresses(connection: Connection, ids: list[int]) -> dict[int, str | None]:
    """The first address of each patient (their earliest location), made comparable."""
    query = (
        select(Location.user_id, Location.line1, Location.zip)
        .where(Location.user_id.in_(ids))
        .order_by(Location.id)
    )
    found: dict[int, str | None] = {}
    for row in connection.execute(query):
        found.setdefault(row.user_id, address_key(row.line1, row.zip))
    return found


def load_people(connection: Connection, ids: Collection[int]) -> dict[int, Person]:
    """The active patients among ``ids``, by id."""
    people: dict[int, Person] = {}
    for chunk in _chunks(sorted(set(ids))):
        query = select(
            User.id, User.first_name, User.last_name, User.dob, User.email_key, User.phone_number
        ).where(User.id.in_(chunk), User.role == Role.PATIENT, User.active)
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
