"""requestedFormCompletion(s), recurringForms, and validateSignupToken (the activation link's
check)."""

from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from carebook.forms import queries
from carebook.graphql.audit.recording import audited
from carebook.graphql.common import require_actor
from carebook.graphql.context import Context
from carebook.graphql.forms.types import RecurringForm, RequestedFormCompletion, load_recurring
from carebook.graphql.limits.rows import capped
from carebook.graphql.lookup import id_argument, id_or_none
from carebook.graphql.pagination import page_of
from carebook.graphql.permissions import AllowAnyone, IsAuthenticated, IsStaff
from carebook.users import activation


@strawberry.type
class FormQueries:
    """Listing form requests; checking a signup token."""

    @strawberry.field(
        description="Form completion requests, newest first: the organization's for providers "
        "and staff, a patient's own for a patient.",
        permission_classes=[IsAuthenticated],
    )
    @audited
    async def requestedFormCompletions(
        self,
        info: Info[Context, None],
        user_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Only the requests asked of this patient."),
        ] = None,
        status: Annotated[
            str | None,
            strawberry.argument(description="Only requests in this status, e.g. 'Not Started'."),
        ] = None,
        keywords: Annotated[
            str | None,
            strawberry.argument(description="Only requests of this form template ID."),
        ] = None,
        offset: Annotated[
            int | None, strawberry.argument(description="How many requests to skip.")
        ] = 0,
        page_size: Annotated[
            int | None, strawberry.argument(description="At most this many (1..100).")
        ] = 10,
    ) -> list[RequestedFormCompletion] | None:
        actor = require_actor(info)
        recipient = id_argument(user_id, "user_id")
        page = page_of(offset=offset, page_size=page_size)
        rows = await info.context.read(
            lambda s: queries.list_requests(
                s,
                actor,
                user_id=recipient,
                status=status,
                keywords=keywords,
                offset=page.offset,
                limit=page.limit(info.context.settings),
            )
        )
        return [RequestedFormCompletion(row=row) for row in rows]

    @strawberry.field(
        description="fetch a requested form completion by id (null when it is not one the "
        "caller sees: the organization's, or a patient's own)",
        permission_classes=[IsAuthenticated],
    )
    @audited
    async def requestedFormCompletion(
        self,
        info: Info[Context, None],
        id: Annotated[
            strawberry.ID | None, strawberry.argument(description="The ID of the request.")
        ] = None,
        track_opened_event: Annotated[
            bool | None,
            strawberry.argument(
                description="Accepted for compatibility: Carebook keeps no form history."
            ),
        ] = False,
    ) -> RequestedFormCompletion | None:
        actor, request_id = require_actor(info), id_or_none(id)
        if request_id is None:
            return None
        row = await info.context.read(lambda s: queries.get_request(s, actor, request_id))
        return None if row is None else RequestedFormCompletion(row=row)

    @strawberry.field(
        description="Recurring form requests of the organization, oldest first; with "
        "connectable_id, those naming that group (connectable_type 'UserGroup', the default) "
        "or that patient ('User').",
        permission_classes=[IsStaff],
    )
    @audited
    @capped("recurringForms", "narrow with connectable_id")
    async def recurringForms(
        self,
        info: Info[Context, None],
        connectable_id: Annotated[
            str | None, strawberry.argument(description="ID of a patient or user group.")
        ] = None,
        connectable_type: Annotated[
            str | None, strawberry.argument(description="'UserGroup' (default) or 'User'.")
        ] = "UserGroup",
    ) -> list[RecurringForm] | None:
        actor = require_actor(info)
        target = id_argument(connectable_id, "connectable_id")

        async def read(session: AsyncSession) -> list[RecurringForm]:
            rows = await queries.list_recurring(
                session,
                actor,
                connectable_id=target,
                connectable_type=connectable_type or "UserGroup",
            )
            return await load_recurring(session, rows)

        return await info.context.read(read)

    @strawberry.field(
        description="Check if a signup token (from a set-password link) is valid: unknown, "
        "used and expired tokens answer false.",
        permission_classes=[AllowAnyone],
    )
    async def validateSignupToken(
        self,
        info: Info[Context, None],
        token: Annotated[
            str | None, strawberry.argument(description="The token of the set-password link.")
        ] = None,
    ) -> bool | None:
        return await info.context.read(lambda s: activation.validate_signup_token(s, token))
