"""A patient moving their own sign-in address to one another patient of the practice has.

"Email has already been taken" would tell them that the address is a patient of their practice
(protected health information, as for anonymous enrollment: carebook.accounts.enrollment). So
the update is checked as it would be with a free address, every other problem answered as
usual; then nothing of it is applied, the address's owner is told by email (at most once a
day) and the caller gets one message that says nothing the owner's email does not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncSession

from carebook.accounts.addresses import apply_locations
from carebook.accounts.changes import ChangeContext, apply_changes
from carebook.accounts.enrollment import AccountExists, patient_with_email, tell_owner
from carebook.audit.trail import trail_of
from carebook.auth.actor import Actor
from carebook.errors import Invalid
from carebook.locations.inputs import ClientLocation
from carebook.users import validation as v
from carebook.users.inputs import UserChanges
from carebook.users.models import User

OWN_EMAIL_UNUSABLE = (
    "This email address cannot be used for your account. We have sent a message to it with "
    "what to do next"
)


async def other_patients_address(
    session: AsyncSession, actor: Actor, user: User, email: str | None
) -> int | None:
    """The id of the other patient of the practice who has ``email``, when a patient moves
    their own address to it; None otherwise (staff, another record, a free or malformed
    address: the update answers those as before)."""
    if not (actor.is_patient and user.id == actor.user_id) or email is None:
        return None
    try:
        key = v.email_key(v.clean_email(email))
    except Invalid:
        return None
    if key is None or key == user.email_key:
        return None
    owner = await patient_with_email(session, user.organization_id, key)
    return owner if owner != user.id else None


async def refuse_quietly(
    ctx: ChangeContext,
    user: User,
    fields: UserChanges,
    locations: Sequence[ClientLocation] | None,
    owner_id: int,
) -> AccountExists:
    """Check every other change as the update would, apply none, tell the address's owner.

    The changes are applied inside a savepoint that is always rolled back: a problem is raised
    with its usual message (so the answer depends on the address only for an update that would
    otherwise succeed, and succeeding with a free address changes it), and nothing of a
    refused update stays but the owner's email in the outbox.
    """
    assert ctx.actor is not None
    session, organization_id = ctx.session, user.organization_id
    trail = trail_of(session)
    recorded = len(trail.rows)
    savepoint = await session.begin_nested()
    try:
        await apply_changes(ctx, user, replace(fields, email=None))
        await session.flush()
        await apply_locations(session, ctx.actor, user, locations)
    finally:
        await savepoint.rollback()  # which expires ``user``: read nothing of it after
        del trail.rows[recorded:]  # the audit events written meanwhile went with it
    return await tell_owner(session, organization_id, owner_id)
