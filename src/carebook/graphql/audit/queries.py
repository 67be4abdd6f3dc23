"""Root fields auditEvents and auditEventsCount: the caller's organization's audit trail."""

from typing import Annotated

import strawberry
from strawberry.types import Info

from carebook.audit import queries
from carebook.graphql.audit.types import AuditEvent
from carebook.graphql.common import require_actor
from carebook.graphql.context import Context
from carebook.graphql.iso_scalar import parse_iso_datetime
from carebook.graphql.lookup import id_argument
from carebook.graphql.pagination import page_of
from carebook.graphql.permissions import IsStaff

MAX_PAGE_SIZE = 500

PatientId = Annotated[
    strawberry.ID | None, strawberry.argument(description="Only events about this patient.")
]
ActorId = Annotated[
    strawberry.ID | None, strawberry.argument(description="Only events by this user.")
]
Since = Annotated[
    str | None,
    strawberry.argument(
        description="Only events at or after this time (2023-06-05 14:10:00 +0200 or ISO 8601; "
        "without an offset, in the reader's time zone)."
    ),
]
Until = Annotated[
    str | None,
    strawberry.argument(
        description="Only events before this time (2023-06-05 14:10:00 +0200 or ISO 8601; "
        "without an offset, in the reader's time zone)."
    ),
]


def _filter(
    info: Info[Context, None],
    patient_id: strawberry.ID | None,
    actor_id: strawberry.ID | None,
    since: str | None,
    until: str | None,
) -> queries.EventFilter:
    # Always the caller's own organization: another organization's ids simply match nothing.
    return queries.EventFilter(
        organization_id=require_actor(info).organization_id,
        patient_id=id_argument(patient_id, "patient_id"),
        actor_id=id_argument(actor_id, "actor_id"),
        since=parse_iso_datetime(since, "since", info.context.zone),
        until=parse_iso_datetime(until, "until", info.context.zone),
    )


@strawberry.type
class AuditQueries:
    """The audit trail of the caller's organization, for its providers and staff."""

    @strawberry.field(
        description="Audit events of the caller's organization, newest first (a Carebook "
        "addition). Providers and staff members only.",
        permission_classes=[IsStaff],
    )
    async def auditEvents(
        self,
        info: Info[Context, None],
        patient_id: PatientId = None,
        actor_id: ActorId = None,
        since: Since = None,
        until: Until = None,
        offset: Annotated[
            int | None, strawberry.argument(description="How many events to skip.")
        ] = 0,
        page_size: Annotated[
            int | None,
            strawberry.argument(description=f"How many events to return (max {MAX_PAGE_SIZE})."),
        ] = 50,
    ) -> list[AuditEvent]:
        wanted = _filter(info, patient_id, actor_id, since, until)
        page = page_of(offset=offset, page_size=page_size, default_size=50, max_size=MAX_PAGE_SIZE)
        limit = page.limit(info.context.settings)
        rows = await info.context.read(
            lambda s: queries.list_events(s, wanted, offset=page.offset, limit=limit)
        )
        return [AuditEvent(row=row) for row in rows]

    @strawberry.field(
        description="How many audit events auditEvents lists for the same filters.",
        permission_classes=[IsStaff],
    )
    async def auditEventsCount(
        self,
        info: Info[Context, None],
        patient_id: PatientId = None,
        actor_id: ActorId = None,
        since: Since = None,
        until: Until = None,
    ) -> int:
        wanted = _filter(info, patient_id, actor_id, since, until)
        return await info.context.read(lambda s: queries.count_events(s, wanted))
