"""What was emailed to whom: the outbox read as Healthie's sent notification records.

Only references and outcomes are read (kind, status, times, recipient); an email's text is never
stored, so it cannot be listed. Visibility: a patient reads their own records; providers and
staff their organization's patients' and their own (users/scoping.py decides who is visible).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.auth.actor import Actor
from carebook.notifications.inputs import RecordFilter
from carebook.notifications.models import EmailKind, OutboxMessage
from carebook.notifications.preferences import REPRESENTATION
from carebook.users.scoping import recipients_where


def _recipients(actor: Actor, wanted: RecordFilter) -> ColumnElement[bool]:
    """The condition on the recipient that the filter and the caller's view allow."""
    return recipients_where(
        actor,
        OutboxMessage.recipient_user_id,
        patient_id=wanted.patient_id,
        provider_id=wanted.provider_id,
        org_level=bool(wanted.org_level),
    )


def _kinds(kind: str) -> list[str]:
    """The email kinds a ``type`` names: one kind, or every kind of a group (``forms``)."""
    grouped = [k.value for k, group in REPRESENTATION.items() if group == kind]
    return grouped or [kind]


def _records(actor: Actor, wanted: RecordFilter) -> Select[OutboxMessage]:
    query = select(OutboxMessage).where(
        OutboxMessage.organization_id == actor.organization_id, _recipients(actor, wanted)
    )
    if wanted.statuses is not None:
        query = query.where(OutboxMessage.status.in_(wanted.statuses))
    if wanted.kind is not None:
        query = query.where(OutboxMessage.kind.in_(_kinds(wanted.kind)))
    if wanted.since is not None:
        query = query.where(OutboxMessage.created_at >= wanted.since)
    if wanted.until is not None:
        query = query.where(OutboxMessage.created_at < wanted.until)
    return query


async def list_records(
    session: AsyncSession, actor: Actor, wanted: RecordFilter, *, offset: int, limit: int
) -> list[OutboxMessage]:
    """The records the filter names, newest first."""
    query = _records(actor, wanted).order_by(OutboxMessage.id.desc()).offset(offset).limit(limit)
    return list((await session.execute(query)).scalars())


async def count_records(session: AsyncSession, actor: Actor, wanted: RecordFilter) -> int:
    """How many records the filter names."""
    query = select(func.count()).select_from(_records(actor, wanted).subquery())
    return int((await session.execute(query)).scalar_one())


def representation(kind: str) -> str | None:
    """Healthie's representation_type of an email kind (None for account emails)."""
    try:
        return REPRESENTATION.get(EmailKind(kind))
    except ValueError:
        return None
