"""Reads of requested form completions, scoped like every read of patient data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.auth.actor import Actor
from carebook.forms.models import FormRequestStatus, RequestedFormCompletion
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


@dataclass(frozen=True)
class FormCounts:
    """How many forms were requested of a patient, and how many of them are completed."""

    requested: int = 0
    completed: int = 0

    @property
    def open(self) -> int:
        """Requests the patient has still to complete."""
        return self.requested - self.completed

    @property
    def all_completed(self) -> bool:
        """At least one form was requested, and every request is completed."""
        return self.requested > 0 and self.open == 0


async def load_form_counts(session: AsyncSession, user_ids: Sequence[int]) -> list[FormCounts]:
    """Each user's :class:`FormCounts`, in key order, in one grouped query.

    Keys are visible users: their requests belong to their organization.
    """
    completed = case((RequestedFormCompletion.status == FormRequestStatus.COMPLETED, 1), else_=0)
    rows = await session.execute(
        select(
            RequestedFormCompletion.recipient_id,
            func.count(RequestedFormCompletion.id),
            func.sum(completed),
        )
        .where(RequestedFormCompletion.recipient_id.in_(user_ids))
        .group_by(RequestedFormCompletion.recipient_id)
    )
    by_user = {uid: FormCounts(int(total), int(done or 0)) for uid, total, done in rows}
    return [by_user.get(uid, FormCounts()) for uid in user_ids]
