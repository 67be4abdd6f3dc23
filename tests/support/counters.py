"""The trigger-kept counters (``user_counts``, ``list_blocks``) against a count of the users."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.search.counters import BLOCK_OF_USER, ListBlock, UserCount
from carebook.users.models import User


async def kept_and_counted(session: AsyncSession) -> tuple[dict[Any, Any], dict[Any, Any]]:
    """Both counters as kept (counters at zero left out) and as counted from the users table,
    keyed alike: ``("count", organization, role, active)`` -> total and ``("block",
    organization, role, start)`` -> (active, all)."""
    kept: dict[Any, Any] = {}
    counted: dict[Any, Any] = {}
    key = (UserCount.organization_id, UserCount.role, UserCount.active)
    # A counter is the sum of its shards (one per PostgreSQL connection that wrote it).
    totals = select(*key, func.sum(UserCount.total)).group_by(*key)
    for org, role, active, total in await session.execute(totals):
        if total:
            kept["count", org, role, active] = total
    grouped = select(User.organization_id, User.role, User.active, func.count()).group_by(
        User.organization_id, User.role, User.active
    )
    for org, role, active, total in await session.execute(grouped):
        counted["count", org, role, active] = total
    blocks = select(
        ListBlock.organization_id,
        ListBlock.role,
        ListBlock.start,
        ListBlock.active_total,
        ListBlock.active_total + ListBlock.archived_total,
    )
    for org, role, start, active, every in await session.execute(blocks):
        if every:
            kept["block", org, role, start] = (active, every)
    placed = text(
        "SELECT organization_id, role, block, SUM(CASE WHEN active THEN 1 ELSE 0 END),"  # noqa: S608 - constant SQL
        " COUNT(*) FROM (SELECT organization_id, role, active,"
        f" {BLOCK_OF_USER.format(row='users')} AS block FROM users) AS placed"
        " GROUP BY organization_id, role, block"
    )
    for org, role, start, active, every in await session.execute(placed):
        counted["block", org, role, start] = (active, every)
    return kept, counted


async def assert_counters_match(session: AsyncSession) -> None:
    """Every counter equals a count of the users it counts, and no counter is below zero."""
    kept, counted = await kept_and_counted(session)
    assert kept == counted
    # A shard may be below zero (a user counted by one connection, deleted on another); a
    # counter, the sum of its shards, may not.
    key = (UserCount.organization_id, UserCount.role, UserCount.active)
    sums = select(*key).group_by(*key).having(func.sum(UserCount.total) < 0)
    assert (await session.execute(sums)).all() == []
    below = await session.execute(
        select(func.count())
        .select_from(ListBlock)
        .where((ListBlock.active_total < 0) | (ListBlock.archived_total < 0))
    )
    assert below.scalar_one() == 0
