"""sentNotificationRecords, sentNotificationRecordsCount and notificationSetting."""

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from carebook import times
from carebook.graphql.audit.recording import audited
from carebook.graphql.common import require_actor
from carebook.graphql.context import Context
from carebook.graphql.errors import BAD_USER_INPUT, CodedError
from carebook.graphql.lookup import id_argument, id_or_none
from carebook.graphql.notifications.types import (
    DELIVERY_STATUS,
    NotificationSetting,
    SentNotificationRecord,
)
from carebook.graphql.pagination import page_of
from carebook.graphql.permissions import IsAuthenticated
from carebook.notifications import queries, settings
from carebook.notifications.inputs import RecordFilter

EndDate = Annotated[
    str | None,
    strawberry.argument(
        description="Only records created up to this date (the whole day) or time; in the "
        "reader's time zone unless it has an offset."
    ),
]
OrgLevel = Annotated[
    bool | None,
    strawberry.argument(
        description="With provider_id: every patient of the organization, not only the "
        "provider's (providers and staff only)."
    ),
]
PatientId = Annotated[
    strawberry.ID | None,
    strawberry.argument(description="The ID of the patient to return records for."),
]
ProviderId = Annotated[
    strawberry.ID | None,
    strawberry.argument(
        description="The records of this provider's patients (primary provider or care "
        "team); overrides patient_id. Providers and staff only."
    ),
]
StartDate = Annotated[
    str | None,
    strawberry.argument(description="Only records created on or after this date or time."),
]
Status = Annotated[
    str | None,
    strawberry.argument(
        description="Only records of this delivery_status: pending, sent, failed, skipped."
    ),
]
Type = Annotated[
    str | None,
    strawberry.argument(
        description="Only records of this notification_type, or of this representation_type "
        "(forms, appointments)."
    ),
]


def _moment(value: str | None, name: str, zone: tzinfo, *, end: bool) -> datetime | None:
    """A date (its whole day) or a date-time (Healthie's form or ISO 8601), in the reader's
    zone when it has no offset; for ``end`` the exclusive bound just after it."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        try:
            instant = times.parse_in(text, zone)
        except ValueError:
            raise CodedError(
                f"{name} is not a date (yyyy-MM-dd) or a date and time ({times.EXAMPLES})",
                BAD_USER_INPUT,
            ) from None
        if not end:
            return instant
        # A time in whole seconds, as answers write them, covers its whole second.
        whole = instant.microsecond == 0
        return instant + (timedelta(seconds=1) if whole else timedelta(microseconds=1))
    start = datetime.combine(day + timedelta(days=1) if end else day, time(), tzinfo=zone)
    return start.astimezone(UTC)


def _statuses(status: str | None) -> tuple[str, ...] | None:
    wanted = (status or "").strip().lower()
    if not wanted:
        return None
    statuses = tuple(raw for raw, shown in DELIVERY_STATUS.items() if shown == wanted)
    if not statuses:
        raise CodedError("status must be one of: pending, sent, failed, skipped", BAD_USER_INPUT)
    return statuses


def _filter(
    info: Info[Context, None],
    patient_id: strawberry.ID | None,
    provider_id: strawberry.ID | None,
    org_level: bool | None,
    start_date: str | None,
    end_date: str | None,
    status: str | None,
    type: str | None,
) -> RecordFilter:
    return RecordFilter(
        patient_id=id_argument(patient_id, "patient_id"),
        provider_id=id_argument(provider_id, "provider_id"),
        org_level=bool(org_level),
        statuses=_statuses(status),
        kind=(type or "").strip() or None,
        # Dates and times without an offset are the reader's, as the answer's times are.
        since=_moment(start_date, "start_date", info.context.zone, end=False),
        until=_moment(end_date, "end_date", info.context.zone, end=True),
    )


@strawberry.type
class EmailNotificationQueries:
    """What was emailed to patients, and their email preferences."""

    @strawberry.field(
        description="Emails sent (or queued) to a patient, newest first: the caller's own by "
        "default; providers and staff may name a patient of the organization, or a provider's "
        "patients. The whole list unless should_paginate (then pages of 10).",
        permission_classes=[IsAuthenticated],
    )
    @audited
    async def sentNotificationRecords(
        self,
        info: Info[Context, None],
        end_date: EndDate = None,
        offset: Annotated[
            int | None, strawberry.argument(description="How many records to skip.")
        ] = 0,
        org_level: OrgLevel = None,
        patient_id: PatientId = None,
        provider_id: ProviderId = None,
        should_paginate: Annotated[
            bool | None, strawberry.argument(description="Pages of 10 instead of the whole list.")
        ] = False,
        start_date: StartDate = None,
        status: Status = None,
        type: Type = None,
    ) -> list[SentNotificationRecord] | None:
        actor = require_actor(info)
        wanted = _filter(
            info,
            patient_id,
            provider_id,
            org_level,
            start_date,
            end_date,
            status,
            type,
        )
        page = page_of(offset=offset, page_size=None, paginate=should_paginate)
        limit = page.limit(info.context.settings)
        rows = await info.context.read(
            lambda s: queries.list_records(s, actor, wanted, offset=page.offset, limit=limit)
        )
        page.check_whole(len(rows), info.context.settings, what="sentNotificationRecords")
        return [SentNotificationRecord(row=row) for row in rows]

    @strawberry.field(
        description="How many records sentNotificationRecords lists for the same filters.",
        permission_classes=[IsAuthenticated],
    )
    async def sentNotificationRecordsCount(
        self,
        info: Info[Context, None],
        end_date: EndDate = None,
        org_level: OrgLevel = False,
        patient_id: PatientId = None,
        provider_id: ProviderId = None,
        start_date: StartDate = None,
        status: Status = None,
        type: Type = None,
    ) -> int | None:
        actor = require_actor(info)
        wanted = _filter(
            info,
            patient_id,
            provider_id,
            org_level,
            start_date,
            end_date,
            status,
            type,
        )
        return await info.context.read(lambda s: queries.count_records(s, actor, wanted))

    @strawberry.field(
        description="A user's notification setting by its id (its user's id); blank: the "
        "caller's own. Null for a user the caller may not change.",
        permission_classes=[IsAuthenticated],
    )
    @audited
    async def notificationSetting(
        self,
        info: Info[Context, None],
        id: Annotated[
            strawberry.ID | None, strawberry.argument(description="The setting's id.")
        ] = None,
    ) -> NotificationSetting | None:
        actor = require_actor(info)
        if id is not None and id.strip() and id_or_none(id) is None:
            return None  # malformed: like an unknown id

        async def load(session: AsyncSession) -> NotificationSetting | None:
            owner = await settings.setting_owner(session, actor, id)
            if owner is None:
                return None
            [row] = await settings.load_settings(session, [owner.id])
            return NotificationSetting(owner_id=owner.id, row=row)

        return await info.context.read(load)
