"""``updateUserEmail``: change the address a user signs in and is written to with.

The caller names the user and the address it has now: a wrong current address is refused, so a
stale client or a mistyped id cannot move someone else's sign-in. The new address follows the
email rule of every write path (accounts/changes.py: valid, unique among the practice's patients,
or across all practices for providers and staff); that rule also ends the links already
emailed to the old address (password resets, invitations), on every write path.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from carebook.accounts.changes import ChangeContext, apply_changes
from carebook.auth.actor import Actor
from carebook.auth.passwords import Passwords
from carebook.errors import FieldMessage, Invalid, NotFound
from carebook.users import queries
from carebook.users import validation as v
from carebook.users.events import emit_patient_updated, patient_changes
from carebook.users.inputs import EmailChange, Profile
from carebook.users.merged import refuse_merged
from carebook.users.models import User
from carebook.users.scoping import may_manage
from carebook.users.trail import record_patients

USER_NOT_FOUND = "User not found"
CURRENT_EMAIL_WRONG = "Current email does not match the user's email"
OWN_EMAIL = "Change your own email with updateUser and your current_password"


async def _target(session: AsyncSession, actor: Actor, raw_id: str | None) -> User:
    """The caller themself, or (for providers and staff) a patient of their organization."""
    user_id = v.parse_id(raw_id, "user_id")
    if user_id is None:
        raise Invalid.field("user_id", "User can't be blank")
    user = await queries.get_visible_user(session, actor, user_id)
    if user is None or not may_manage(actor, user):
        raise NotFound.field("user_id", USER_NOT_FOUND)
    return user


def _check_current(user: User, current_email: str | None) -> None:
    if not (current_email or "").strip():
        raise Invalid.field("current_email", "Current email can't be blank")
    if user.email_key is None or v.email_key(current_email) != user.email_key:
        raise Invalid.field("current_email", CURRENT_EMAIL_WRONG)


async def update_user_email(
    session: AsyncSession, *, actor: Actor, passwords: Passwords, change: EmailChange
) -> User:
    """Set ``change.new_email`` on the user after checking ``change.current_email``."""
    user = await _target(session, actor, change.user_id)
    refuse_merged([user], field="user_id")
    if user.id == actor.user_id and user.password_hash is not None:
        # This input has no password: a stolen session must not move the sign-in address
        # (and then reset the password). One's own address changes through updateUser.
        raise Invalid.field("user_id", OWN_EMAIL)
    _check_current(user, change.current_email)
    if not (change.new_email or "").strip():
        raise Invalid.field("new_email", "New email can't be blank")
    if v.email_key(change.new_email) == user.email_key and change.new_email == user.email:
        return user  # nothing to change
    ctx = ChangeContext(session, user.organization_id, passwords, actor)
    try:
        await apply_changes(ctx, user, Profile(email=change.new_email))
    except Invalid as error:  # the email rule speaks of "email"; this input calls it new_email
        raise Invalid(*(FieldMessage("new_email", m.message) for m in error.messages)) from None
    await emit_patient_updated(session, user, patient_changes(user))
    # The email rule also ended the links sent to the old address (flushed with the event's
    # INSERT when there was one).
    await session.flush()
    await record_patients(session, [user], action="update")
    return user
