"""Reading rows straight from the database, to prove what a mutation did or did not write, and
counting the statements a request sends."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import func, inspect, select

from carebook.db.engine import Database
from carebook.notifications.models import OutboxMessage
from carebook.users.models import CareTeamMember, User


async def count(database: Database, model: Any) -> int:
    """How many rows ``model``'s table holds."""
    async with database.read_sessions() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def user_row(database: Database, user_id: int) -> User:
    """The user row as committed (a fresh session, so nothing cached)."""
    async with database.read_sessions() as session:
        return await session.get_one(User, user_id)


# Bookkeeping of when a user signed in and used the account (carebook.users.activity): moved by
# the requests themselves, never a change of the record.
ACTIVITY_COLUMNS = frozenset({"last_sign_in_at", "last_active_at", "last_activity_at"})


async def user_snapshot(database: Database, user_id: int) -> dict[str, Any]:
    """Every column of a user (but the activity bookkeeping) plus their care team: equal
    snapshots mean nothing changed."""
    async with database.read_sessions() as session:
        row = await session.get_one(User, user_id)
        values: dict[str, Any] = {
            attr.key: getattr(row, attr.key)
            for attr in inspect(User).column_attrs
            if attr.key not in ACTIVITY_COLUMNS
        }
        team = await session.execute(
            select(CareTeamMember.provider_id)
            .where(CareTeamMember.patient_id == user_id)
            .order_by(CareTeamMember.provider_id)
        )
        values["care_team"] = list(team.scalars())
    return values


async def users_snapshot(database: Database, user_ids: list[int]) -> list[dict[str, Any]]:
    """Snapshots of several users, in the order given."""
    return [await user_snapshot(database, user_id) for user_id in user_ids]


async def outbox(database: Database) -> list[tuple[int, str]]:
    """(recipient_user_id, kind) of every queued email, oldest first."""
    async with database.read_sessions() as session:
        rows = await session.execute(
            select(OutboxMessage.recipient_user_id, OutboxMessage.kind).order_by(OutboxMessage.id)
        )
        return [(recipient, kind) for recipient, kind in rows]


async def care_team(database: Database, patient_id: int) -> list[int]:
    """The further providers of a patient, by id."""
    async with database.read_sessions() as session:
        rows = await session.execute(
            select(CareTeamMember.provider_id)
            .where(CareTeamMember.patient_id == patient_id)
            .order_by(CareTeamMember.provider_id)
        )
        return list(rows.scalars())


@contextmanager
def statements_sent(database: Database) -> Iterator[list[str]]:
    """Every SQL statement sent while the block runs, whatever the path: read and write
    sessions, trail batches, single-row reads (carebook.db.engine.Database.observe)."""
    statements: list[str] = []
    stop = database.observe(statements.append)
    try:
        yield statements
    finally:
        stop()
