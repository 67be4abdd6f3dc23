"""Root query fields: appointmentTypes, offerings, appointments, appointment."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from carebook.graphql.audit.recording import audited
from carebook.graphql.common import require_actor
from carebook.graphql.context import Context
from carebook.graphql.errors import BAD_USER_INPUT, CodedError
from carebook.graphql.lookup import id_argument, visible_row
from carebook.graphql.pagination import Page, page_of
from carebook.graphql.permissions import IsAuthenticated
from carebook.graphql.scheduling.inputs import AppointmentOrderKeys
from carebook.graphql.scheduling.types import Appointment, AppointmentType, Offering
from carebook.scheduling import queries

FILTERS = ("upcoming", "past", "all")


def _page(
    info: Info[Context, None],
    offset: int | None,
    page_size: int | None,
    should_paginate: bool | None,
) -> tuple[Page, queries.Page]:
    """The page asked for, and the rows to read for it (a whole list: one past the cap)."""
    page = page_of(offset=offset, page_size=page_size, paginate=should_paginate)
    return page, queries.Page(offset=page.offset, limit=page.limit(info.context.settings))


Offset = Annotated[int | None, strawberry.argument(description="How many to skip.")]
PageSize = Annotated[int | None, strawberry.argument(description="Page size (max 100).")]
ShouldPaginate = Annotated[
    bool | None, strawberry.argument(description="When true, return one page of page_size.")
]


@strawberry.type
class SchedulingQueries:
    """Reading appointment types, offerings and appointments."""

    @strawberry.field(
        description="The appointment types of the caller's organization, oldest first "
        "(patients see only the ones clients can book).",
        permission_classes=[IsAuthenticated],
    )
    async def appointmentTypes(
        self,
        info: Info[Context, None],
        clients_can_book: Annotated[
            bool | None, strawberry.argument(description="Only types clients can (not) book.")
        ] = None,
        offset: Offset = 0,
        page_size: PageSize = 10,
        should_paginate: ShouldPaginate = False,
    ) -> list[AppointmentType] | None:
        actor = require_actor(info)
        page, window = _page(info, offset, page_size, should_paginate)
        rows = await info.context.read(
            lambda s: queries.list_appointment_types(
                s, actor, clients_can_book=clients_can_book, page=window
            )
        )
        page.check_whole(len(rows), info.context.settings, what="appointment types")
        return [AppointmentType(row=row) for row in rows]

    @strawberry.field(
        description="The offerings of the caller's organization, oldest first.",
        permission_classes=[IsAuthenticated],
    )
    async def offerings(
        self,
        info: Info[Context, None],
        offset: Offset = 0,
        page_size: PageSize = 10,
        should_paginate: ShouldPaginate = False,
    ) -> list[Offering] | None:
        actor = require_actor(info)
        page, window = _page(info, offset, page_size, should_paginate)
        rows = await info.context.read(lambda s: queries.list_offerings(s, actor, page=window))
        page.check_whole(len(rows), info.context.settings, what="offerings")
        return [Offering(row=row) for row in rows]

    @strawberry.field(
        description="Appointments the caller may see (a patient: their own), by start.",
        permission_classes=[IsAuthenticated],
    )
    @audited
    async def appointments(
        self,
        info: Info[Context, None],
        user_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Only this patient's.")
        ] = None,
        provider_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Only appointments with this provider."),
        ] = None,
        filter: Annotated[
            str | None,
            strawberry.argument(
                description="upcoming (default), past or all; cancelled ones are only in all."
            ),
        ] = "upcoming",
        order_by: Annotated[
            AppointmentOrderKeys | None, strawberry.argument(description="Sort by start.")
        ] = AppointmentOrderKeys.DATE_ASC,
        offset: Offset = 0,
        page_size: PageSize = 10,
        should_paginate: ShouldPaginate = False,
    ) -> list[Appointment] | None:
        actor = require_actor(info)
        which = (filter or "upcoming").strip().lower()
        if which not in FILTERS:
            raise CodedError("filter must be upcoming, past or all", BAD_USER_INPUT)
        page, window = _page(info, offset, page_size, should_paginate)
        patient_id, provider = (
            id_argument(user_id, "user_id"),
            id_argument(provider_id, "provider_id"),
        )
        rows = await info.context.read(
            lambda s: queries.list_appointments(
                s,
                actor,
                user_id=patient_id,
                provider_id=provider,
                filter=which,
                descending=order_by == AppointmentOrderKeys.DATE_DESC,
                page=window,
            )
        )
        page.check_whole(len(rows), info.context.settings, what="appointments")
        return [Appointment(row=row) for row in rows]

    @strawberry.field(
        description="Fetch an appointment by id; null when the caller may not see it.",
        permission_classes=[IsAuthenticated],
    )
    @audited
    async def appointment(
        self,
        info: Info[Context, None],
        id: Annotated[strawberry.ID | None, strawberry.argument(description="The ID.")] = None,
    ) -> Appointment | None:
        row = await visible_row(info, id, queries.get_visible_appointment)
        return Appointment(row=row) if row else None
