"""Reads of organizations."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.organizations.models import Organization


async def load_organizations(
    session: AsyncSession, ids: Sequence[int]
) -> list[Organization | None]:
    """Organizations by id in key order."""
    rows = await session.execute(select(Organization).where(Organization.id.in_(ids)))
    by_id = {org.id: org for org in rows.scalars()}
    return [by_id.get(org_id) for org_id in ids]
