"""Reads of requested form completions, scoped like every read of patient data."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.auth.actor import Actor
from carebook.forms.models import RequestedFormCompletion
from carebook.users import validation as v


def visible_requests(actor: Actor) -> Select[RequestedFormCompletion]:
    """The form requests ``actor`` may read: the organization's, or a patient's own."""
    query = select(RequestedFormCompletion).where(
        RequestedFormCompletion.organization_id == actor.organization_id
    )
    if actor.is_patient:
        query = query.where(RequestedFormCompletion.recipient_id == actor.user_id)
    return query


async def get_request_of_patient(
    session: AsyncSession, actor: Actor, patient_id: int, raw_id: Any
) -> RequestedFormCompletion | None:
    """The visible form request with this id, if it was asked of this patient."""
    request_id = v.parse_id(raw_id, "requested_form_completion_id")
    if request_id is None:
        return None
    query = visible_requests(actor).where(
        RequestedFormCompletion.id == request_id,
        RequestedFormCompletion.recipient_id == patient_id,
    )
    return (await session.execute(query)).scalar_one_or_none()


async def list_requests(
    session: AsyncSession,
    actor: Actor,
    *,
    user_id: int | None,
    status: str | None,
    keywords: str | None,
    offset: int,
    limit: int,
) -> list[RequestedFormCompletion]:
    """Visible form requests, newest first, filtered as ``requestedFormCompletions`` asks.

    ``offset`` and ``limit`` come checked from the GraphQL layer (graphql/pagination.py).
    """
    query = visible_requests(actor)
    if user_id is not None:
        query = query.where(RequestedFormCompletion.recipient_id == user_id)
    if status:
        query = query.where(RequestedFormCompletion.status == status)
    if keywords:
        query = query.where(RequestedFormCompletion.custom_module_form_id == keywords.strip())
    query = query.order_by(RequestedFormCompletion.id.desc()).offset(offset).limit(limit)
    return list((await session.execute(query)).scalars())


async def get_request(session: AsyncSession, request_id: int) -> RequestedFormCompletion | None:
    """A form request by id, unscoped: for the delivery worker, which acts for no one."""
    return await session.get(RequestedFormCompletion, request_id)
