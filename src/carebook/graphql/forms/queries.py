"""requestedFormCompletions, and validateSignupToken (the activation link's check)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from carebook.forms import queries
from carebook.graphql.audit.recording import audited
from carebook.graphql.common import require_actor
from carebook.graphql.context import Context
from carebook.graphql.forms.types import RequestedFormCompletion
from carebook.graphql.lookup import id_argument
from carebook.graphql.pagination import page_of
from carebook.graphql.permissions import AllowAnyone, IsAuthenticated
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
