"""Root query fields: appointmentTypes, offerings, appointments, appointment."""

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
from carebook.graphql.scheduling.types import (
    Appointment,
    AppointmentLocation,
    AppointmentType,
    Offering,
)
from carebook.scheduling import queries


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
Filter = Annotated[
    str | None,
    strawberry.argument(
        description="future (default; upcoming too), past (ended too), didnt-occur or all."
    ),
]
Status = Annotated[str | None, strawberry.argument(description="Only this pm_status.")]
Statuses = Annotated[
    list[str | None] | None,
    strawberry.argument(description="Only these pm_status values (overrides the one)."),
]
TypeId = Annotated[
    strawberry.ID | None, strawberry.argument(description="Only this appointment type.")
]
TypeIds = Annotated[
    list[strawberry.ID | None] | None,
    strawberry.argument(description="Only these appointment types."),
]
IsActive = Annotated[
    bool | None,
    strawberry.argument(description="true: not cancelled; false: only cancelled ones."),
]
IsUpcoming = Annotated[
    bool | None, strawberry.argument(description="true: starting later; false: started.")
]
Keywords = Annotated[
    str | None,
    strawberry.argument(description="Words in the patient's name, contact type or notes."),
]
ProviderId = Annotated[
    strawberry.ID | None, strawberry.argument(description="Only appointments with this provider.")
]
ProviderIds = Annotated[
    list[strawberry.ID | None] | None,
    strawberry.argument(description="Only appointments with these providers."),
]
UserId = Annotated[strawberry.ID | None, strawberry.argument(description="Only this patient's.")]


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
        description="An appointment type of the caller's organization by id; null when unknown, "
        "deleted or (for a patient) not bookable.",
        permission_classes=[IsAuthenticated],
    )
    async def appointmentType(
        self,
        info: Info[Context, None],
        id: Annotated[strawberry.ID | None, strawberry.argument(description="The ID.")] = None,
    ) -> AppointmentType | None:
        row = await visible_row(info, id, queries.get_visible_type)
        return AppointmentType(row=row) if row else None

    @strawberry.field(
        description="An appointment location of the caller's organization by id; null when "
        "unknown or removed (for a patient: when clients cannot book it).",
        permission_classes=[IsAuthenticated],
    )
    async def appointmentLocation(
        self,
        info: Info[Context, None],
        id: Annotated[strawberry.ID | None, strawberry.argument(description="The ID.")] = None,
    ) -> AppointmentLocation | None:
        row = await visible_row(info, id, queries.get_visible_location)
        return AppointmentLocation(row=row) if row else None

    @strawberry.field(
        description="The appointment locations of the caller's organization, oldest first "
        "(patients see the ones clients can book).",
        permission_classes=[IsAuthenticated],
    )
    async def appointmentLocations(
        self,
        info: Info[Context, None],
        ids: Annotated[
            list[int | None] | None, strawberry.argument(description="Only these locations.")
        ] = None,
        keywords: Annotated[
            str | None, strawberry.argument(description="Words in the location's text.")
        ] = None,
    ) -> list[AppointmentLocation] | None:
        actor = require_actor(info)
        wanted = [i for i in ids or [] if i is not None]
        rows = await info.context.read(
            lambda s: queries.list_locations(s, actor, ids=wanted, keywords=keywords)
        )
        return [AppointmentLocation(row=row) for row in rows]

    @strawberry.field(
        description="Appointments the caller may see (a patient: their own). Cancelled and "
        "deleted ones are left out unless asked for (docs/api.md, Appointments).",
        permission_classes=[IsAuthenticated],
    )
    @audited
    async def appointments(
        self,
        info: Info[Context, None],
        filter: Filter = "future",
        filter_by_appointment_status: Status = None,
        filter_by_appointment_statuses: Statuses = None,
        filter_by_appointment_type_id: TypeId = None,
        filter_by_appointment_type_ids: TypeIds = None,
        is_active: IsActive = None,
        is_upcoming: IsUpcoming = None,
        keywords: Keywords = None,
        provider_id: ProviderId = None,
        provider_ids: ProviderIds = None,
        should_paginate: ShouldPaginate = False,
        order_by: Annotated[
            AppointmentOrderKeys | None, strawberry.argument(description="The order (by start).")
        ] = AppointmentOrderKeys.DATE_ASC,
        user_id: UserId = None,
        offset: Offset = 0,
        page_size: PageSize = 10,
    ) -> list[Appointment] | None:
        actor = require_actor(info)
        wanted = appointment_filter(
            filter,
            user_id=user_id,
            provider_ids=[provider_id, *(provider_ids or [])],
            type_ids=[filter_by_appointment_type_id, *(filter_by_appointment_type_ids or [])],
            statuses=filter_by_appointment_statuses or [filter_by_appointment_status],
            is_active=is_active,
            is_upcoming=is_upcoming,
            keywords=keywords,
        )
        page, window = _page(info, offset, page_size, should_paginate)
        order = (order_by or AppointmentOrderKeys.DATE_ASC).value
        # A calendar's list: it may lag the latest bookings (docs/production.md, Read replica).
        # Not a patient's: who may see an appointment is decided on the rows read, and a row
        # moved to another patient or deleted is still theirs on a replica that lags.
        rows = await info.context.read(
            lambda s: queries.list_appointments(s, actor, wanted, order=order, page=window),
            may_lag=not actor.is_patient,
        )
        page.check_whole(len(rows), info.context.settings, what="appointments")
        return [Appointment(row=row) for row in rows]

    @strawberry.field(
        description="How many appointments appointments would list with these filters.",
        permission_classes=[IsAuthenticated],
    )
    async def appointmentsCount(
        self,
        info: Info[Context, None],
        filter: Filter = "future",
        filter_by_appointment_status: Status = None,
        filter_by_appointment_type_id: TypeId = None,
        filter_by_appointment_type_ids: TypeIds = None,
        is_active: IsActive = None,
        is_upcoming: IsUpcoming = None,
        keywords: Keywords = None,
        provider_id: ProviderId = None,
        provider_ids: ProviderIds = None,
        user_id: UserId = None,
    ) -> int | None:
        actor = require_actor(info)
        wanted = appointment_filter(
            filter,
            user_id=user_id,
            provider_ids=[provider_id, *(provider_ids or [])],
            type_ids=[filter_by_appointment_type_id, *(filter_by_appointment_type_ids or [])],
            statuses=[filter_by_appointment_status],
            is_active=is_active,
            is_upcoming=is_upcoming,
            keywords=keywords,
        )
        return await info.context.read(  # a patient's: on the primary, as appointments
            lambda s: queries.count_appointments(s, actor, wanted), may_lag=not actor.is_patient
        )

    @strawberry.field(
        description="Fetch an appointment by id; null when the caller may not see it.",
        permission_classes=[IsAuthenticated],
    )
    @audited
    async def appointment(
        self,
        info: Info[Context, None],
        id: Annotated[strawberry.ID | None, strawberry.argument(description="The ID.")] = None,
        include_deleted: Annotated[
            bool | None,
            strawberry.argument(description="When true, a deleted appointment is returned too."),
        ] = False,
    ) -> Appointment | None:
        row = await visible_row(
            info,
            id,
            lambda s, actor, row_id: queries.get_visible_appointment(
                s, actor, row_id, include_deleted=bool(include_deleted)
            ),
        )
        return Appointment(row=row) if row else None


def appointment_filter(
    when: str | None,
    *,
    user_id: str | None,
    provider_ids: list[strawberry.ID | None],
    type_ids: list[strawberry.ID | None],
    statuses: list[str | None],
    is_active: bool | None,
    is_upcoming: bool | None,
    keywords: str | None,
) -> queries.AppointmentFilter:
    """The domain's filter from the arguments; a bad one is BAD_USER_INPUT."""
    which = (when or "future").strip().lower()
    if which not in queries.WHEN:
        raise CodedError("filter must be " + ", ".join(queries.WHEN), BAD_USER_INPUT)
    return queries.AppointmentFilter(
        when=which,
        user_id=id_argument(user_id, "user_id"),
        provider_ids=_ids(provider_ids, "provider_ids"),
        type_ids=_ids(type_ids, "filter_by_appointment_type_ids"),
        statuses=[status.strip() for status in statuses if status and status.strip()],
        is_active=is_active,
        is_upcoming=is_upcoming,
        keywords=(keywords or "").strip() or None,
    )


def _ids(values: list[strawberry.ID | None], name: str) -> list[int]:
    parsed = (id_argument(value, name) for value in values)
    return [value for value in parsed if value is not None]
