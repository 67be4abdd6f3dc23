"""Reads of locations, always through the actor's visibility scope, and DataLoader batches."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.auth.actor import Actor
from carebook.locations.models import Location
from carebook.users.models import User
from carebook.users.scoping import visible_users

SEARCHED = (
    Location.name,
    Location.line1,
    Location.line2,
    Location.city,
    Location.state,
    Location.zip,
)


def visible_locations(actor: Actor) -> Select[Location]:
    """A SELECT of the locations of the users ``actor`` may see."""
    owners = visible_users(actor).with_only_columns(User.id)
    return select(Location).where(Location.user_id.in_(owners))


async def get_visible_location(
    session: AsyncSession, actor: Actor, location_id: int
) -> Location | None:
    """The location with this id if ``actor`` may see its owner, else None."""
    query = visible_locations(actor).where(Location.id == location_id)
    return (await session.execute(query)).scalar_one_or_none()


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _matches(keywords: str | None) -> list[ColumnElement[bool]]:
    """One condition per keyword: it appears in the name or any address line, any case."""
    conditions = []
    for term in (keywords or "").split():
        pattern = f"%{_escape_like(term.casefold())}%"
        conditions.append(
            or_(*(func.lower(column).like(pattern, escape="\\") for column in SEARCHED))
        )
    return conditions


def _filtered(actor: Actor, user_id: int, keywords: str | None, has_name: bool) -> Select[Location]:
    query = visible_locations(actor).where(Location.user_id == user_id, *_matches(keywords))
    if has_name:
        query = query.where(Location.name.is_not(None))
    return query


async def list_locations(
    session: AsyncSession,
    actor: Actor,
    *,
    user_id: int,
    keywords: str | None = None,
    has_name: bool = False,
    offset: int = 0,
    limit: int | None = None,
) -> list[Location]:
    """A user's locations, oldest first; nothing when ``actor`` may not see the user."""
    query = _filtered(actor, user_id, keywords, has_name).order_by(Location.id)
    if offset:
        query = query.offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return list((await session.execute(query)).scalars())


async def count_locations(
    session: AsyncSession,
    actor: Actor,
    *,
    user_id: int,
    keywords: str | None = None,
    has_name: bool = False,
) -> int:
    """How many locations :func:`list_locations` would list without pagination."""
    query = _filtered(actor, user_id, keywords, has_name).with_only_columns(func.count())
    return int((await session.execute(query)).scalar_one())


# --- batch functions behind DataLoaders -------------------------------------------------------


async def load_user_locations(
    session: AsyncSession, user_ids: Sequence[int], *, per_key: int
) -> list[list[Location]]:
    """Each user's first ``per_key`` locations, oldest first, in key order. Callers pass
    visible user ids. The limit is applied in SQL (ROW_NUMBER per user)."""
    rank = func.row_number().over(partition_by=Location.user_id, order_by=Location.id)
    window = (
        select(Location.id, rank.label("rank")).where(Location.user_id.in_(user_ids)).subquery()
    )
    rows = await session.execute(
        select(Location)
        .join(window, window.c.id == Location.id)
        .where(window.c.rank <= per_key)
        .order_by(Location.id)
    )
    by_user: dict[int, list[Location]] = defaultdict(list)
    for location in rows.scalars():
        by_user[location.user_id].append(location)
    return [by_user.get(user_id, []) for user_id in user_ids]
