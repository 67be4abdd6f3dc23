"""Reads of requested form completions, scoped like every read of patient data."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, case, column, false, func, or_, select, table
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.auth.actor import Actor
from carebook.forms.models import (
    FormRequestStatus,
    RecurringForm,
    RecurringFormRecipient,
    RecurringFormRun,
    RequestedFormCompletion,
)
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


async def get_request_unscoped(
    session: AsyncSession, request_id: int
) -> RequestedFormCompletion | None:
    """A form request by id, unscoped: for the delivery worker, which acts for no one."""
    return await session.get(RequestedFormCompletion, request_id)


async def get_request(
    session: AsyncSession, actor: Actor, raw_id: Any
) -> RequestedFormCompletion | None:
    """The visible form request with this id (``requestedFormCompletion(id)``)."""
    request_id = v.parse_id(raw_id, "id")
    if request_id is None:
        return None
    query = visible_requests(actor).where(RequestedFormCompletion.id == request_id)
    return (await session.execute(query)).scalar_one_or_none()


# user_groups is a layer above forms: its table is named here, not imported.
_GROUPS = table("user_groups", column("id"), column("organization_id"))


async def visible_group_ids(session: AsyncSession, actor: Actor, ids: Sequence[int]) -> set[int]:
    """The user groups among ``ids`` that belong to the actor's organization."""
    query = select(_GROUPS.c.id).where(
        _GROUPS.c.id.in_(ids), _GROUPS.c.organization_id == actor.organization_id
    )
    return set((await session.execute(query)).scalars())


def visible_recurring(actor: Actor) -> Select[RecurringForm]:
    """The recurring requests ``actor`` may read: the organization's, for its staff only."""
    query = select(RecurringForm).where(RecurringForm.organization_id == actor.organization_id)
    if not actor.is_staff:
        query = query.where(false())
    return query


async def get_recurring(session: AsyncSession, actor: Actor, raw_id: Any) -> RecurringForm | None:
    """The visible recurring request with this id."""
    form_id = v.parse_id(raw_id, "id")
    if form_id is None:
        return None
    query = visible_recurring(actor).where(RecurringForm.id == form_id)
    return (await session.execute(query)).scalar_one_or_none()


async def recurring_by_ids(
    session: AsyncSession, actor: Actor, ids: Sequence[int]
) -> list[RecurringForm]:
    """The visible recurring requests among ``ids``, by id."""
    query = visible_recurring(actor).where(RecurringForm.id.in_(ids)).order_by(RecurringForm.id)
    return list((await session.execute(query)).scalars())


async def list_recurring(
    session: AsyncSession, actor: Actor, *, connectable_id: int | None, connectable_type: str
) -> list[RecurringForm]:
    """Visible recurring requests, oldest first; with ``connectable_id``, only those naming
    that patient (``connectable_type`` 'User') or that group (any other type, 'UserGroup')."""
    query = visible_recurring(actor)
    if connectable_id is not None:
        named = RecurringFormRecipient.user_group_id
        if connectable_type.strip().lower() == "user":
            named = RecurringFormRecipient.user_id
        query = query.where(
            RecurringForm.id.in_(
                select(RecurringFormRecipient.recurring_form_id).where(named == connectable_id)
            )
        )
    return list((await session.execute(query.order_by(RecurringForm.id))).scalars())


async def recipients_of(
    session: AsyncSession, form_ids: Sequence[int]
) -> dict[int, list[RecurringFormRecipient]]:
    """Each recurring form's recipients (patients, then groups, by id), in one query."""
    rows = await session.execute(
        select(RecurringFormRecipient)
        .where(RecurringFormRecipient.recurring_form_id.in_(form_ids))
        .order_by(RecurringFormRecipient.id)
    )
    found: dict[int, list[RecurringFormRecipient]] = {fid: [] for fid in form_ids}
    for row in rows.scalars():
        found[row.recurring_form_id].append(row)
    return found


async def last_run_at(session: AsyncSession, form_id: int) -> datetime | None:
    """The latest occurrence already created (or skipped) of a recurring form, if any."""
    return await session.scalar(
        select(func.max(RecurringFormRun.due_at)).where(
            RecurringFormRun.recurring_form_id == form_id
        )
    )


async def recurring_user_ids(session: AsyncSession, form_id: int) -> list[int]:
    """The patients a recurring form names directly."""
    rows = await session.execute(
        select(RecurringFormRecipient.user_id).where(
            RecurringFormRecipient.recurring_form_id == form_id,
            RecurringFormRecipient.user_id.is_not(None),
        )
    )
    return [uid for uid in rows.scalars() if uid is not None]


async def due_recurring_ids(
    session: AsyncSession, now: Any, limit: int, tried: Collection[int] = ()
) -> list[int]:
    """Active recurring forms whose next occurrence is due at ``now``, earliest first, but for
    those ``tried`` already in this pass and those failing, until their ``retry_at``."""
    rows = await session.execute(
        select(RecurringForm.id)
        .where(
            RecurringForm.is_active.is_(True),
            RecurringForm.next_run_at <= now,
            or_(RecurringForm.retry_at.is_(None), RecurringForm.retry_at <= now),
            RecurringForm.id.not_in(list(tried)),
        )
        .order_by(RecurringForm.next_run_at, RecurringForm.id)
        .limit(limit)
    )
    return list(rows.scalars())


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
