"""Root query fields of the patient record: user, currentUser."""

import strawberry
from strawberry.types import Info

from carebook.auth.actor import Actor
from carebook.errors import Invalid
from carebook.graphql.audit.recording import audited, record_denied_read
from carebook.graphql.common import require_actor, write
from carebook.graphql.context import Context
from carebook.graphql.permissions import IsAuthenticated
from carebook.graphql.users.columns import selected_columns
from carebook.graphql.users.types import User
from carebook.user_notifications import service as notification_service
from carebook.users import queries
from carebook.users.models import User as UserRow
from carebook.users.validation import parse_id


async def _clear_notifications(context: Context, actor: Actor, patient_id: int) -> None:
    """Mark the caller's notifications about the patient seen (called only when there are some)."""
    await write(
        context,
        lambda s: notification_service.mark_seen_from_patient(
            s, actor=actor, patient_id=patient_id
        ),
    )


async def _read_user(
    info: Info[Context, None], actor: Actor, user_id: int, *, clearing: bool
) -> tuple[UserRow | None, bool]:
    """The visible user and whether the caller has unseen notifications about them (the
    database's single-row read: no session, or the request's if the database needs one).

    Only the columns the document selects are read, and the notifications are looked at only
    when the read may clear them (issue 28: both were paid by every read).
    """
    context = info.context
    return await queries.read_visible_user_and_unseen(
        context.database,
        actor,
        user_id,
        within=context.read,
        columns=selected_columns(info),
        unseen=clearing,
    )


@strawberry.type
class UserQueries:
    """Reading one user."""

    @strawberry.field(
        description="Fetch a user by id. A user the caller may not see answers like a missing "
        "one (null). clear_notifs (default true) marks the caller's notifications about this "
        "patient as seen.",
        permission_classes=[IsAuthenticated],
    )
    @audited
    async def user(
        self,
        info: Info[Context, None],
        id: strawberry.ID | None = None,
        or_current_user: bool | None = False,
        clear_notifs: bool | None = True,
    ) -> User | None:
        actor = require_actor(info)
        try:
            user_id = parse_id(id, "id")
        except Invalid:  # a malformed id answers like a missing user
            user_id = None
        if user_id is None and or_current_user:
            user_id = actor.user_id
        if user_id is None:
            return None
        # Only providers and staff clear their notifications about a patient by reading them.
        clearing = clear_notifs is not False and actor.is_staff
        row, unseen = await _read_user(info, actor, user_id, clearing=clearing)
        if row is None:  # missing or not visible: recorded as refused, without another SELECT
            record_denied_read(info, user_id)
        if row is None and or_current_user:
            row, unseen = await _read_user(info, actor, actor.user_id, clearing=clearing)
        if row is not None and unseen and clearing and row.is_patient:
            await _clear_notifications(info.context, actor, row.id)
        return User(row=row, viewer=info.context.viewer) if row is not None else None

    @strawberry.field(description="Fetch the current user.", permission_classes=[IsAuthenticated])
    @audited
    async def currentUser(self, info: Info[Context, None]) -> User | None:
        actor = require_actor(info)
        row = await info.context.read(lambda s: queries.get_visible_user(s, actor, actor.user_id))
        return User(row=row, viewer=info.context.viewer) if row is not None else None
