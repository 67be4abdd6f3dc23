"""Reading the audit trail: always within one organization, newest first."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.audit.models import AuditEvent
from carebook.audit.service import PATIENT


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Which events to list. ``organization_id`` is always the caller's own."""

    organization_id: int | None
    patient_id: int | None = None
    actor_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None


def _matching(wanted: EventFilter) -> Select[AuditEvent]:
    query = select(AuditEvent)
    if wanted.organization_id is not None:
        query = query.where(AuditEvent.organization_id == wanted.organization_id)
    if wanted.patient_id is not None:
        query = query.where(
            AuditEvent.record_id == wanted.patient_id, AuditEvent.record_type == PATIENT
        )
    if wanted.actor_id is not None:
        query = query.where(AuditEvent.actor_user_id == wanted.actor_id)
    if wanted.since is not None:
        query = query.where(AuditEvent.occurred_at >= wanted.since)
    if wanted.until is not None:
        query = query.where(AuditEvent.occurred_at < wanted.until)
    return query


async def list_events(
    session: AsyncSession, wanted: EventFilter, *, offset: int, limit: int
) -> list[AuditEvent]:
    """A page of matching events, newest first."""
    query = (
        _matching(wanted)
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return list((await session.scalars(query)).all())


async def count_events(session: AsyncSession, wanted: EventFilter) -> int:
    """How many events match."""
    query = select(func.count()).select_from(_matching(wanted).subquery())
    return int((await session.execute(query)).scalar_one())


async def stream_events(
    session: AsyncSession, wanted: EventFilter, *, chunk: int = 1000
) -> AsyncIterator[AuditEvent]:
    """Every matching event, oldest first, fetched ``chunk`` rows at a time (exports)."""
    query = _matching(wanted).order_by(AuditEvent.id).execution_options(yield_per=chunk)
    result = await session.stream_scalars(query)
    async for row in result:
        yield row
