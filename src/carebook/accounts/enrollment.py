"""Anonymous enrollment (signUp, completeCheckout) with an email that already has an account.

Being a patient of a practice is protected health information, so an anonymous caller must not
learn it from these answers. Both mutations validate every other input first, with answers that
do not depend on the email; only a request that would otherwise succeed looks the email up. When
a patient of the practice (active, archived or invited) has it, nothing is created: the owner is
told by email, through the outbox in the request's own transaction, and the caller gets one
message that says nothing the owner's email does not (docs/decisions.md, "Anonymous enrollment").
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.accounts.changes import ChangeContext, apply_changes
from carebook.db.base import utcnow
from carebook.errors import FieldMessage, Invalid
from carebook.notifications.models import EmailKind, OutboxMessage
from carebook.notifications.outbox import queue_email
from carebook.users import queries
from carebook.users import validation as v
from carebook.users.inputs import Profile
from carebook.users.models import User

# An account's owner is told at most once in this long that their address was used.
NOTICE_INTERVAL = timedelta(days=1)
SIGN_UP_EMAIL_UNUSABLE = (
    "This email address cannot be used to sign up here. We have sent a message to it with "
    "what to do next"
)
CHECKOUT_EMAIL_UNUSABLE = (
    "This email address cannot be used to book without signing in. We have sent a message to "
    "it with what to do next"
)


@dataclass
class Attempt:
    """The organization an anonymous enrollment aimed at, once known.

    Filled in by the service as soon as the target (provider, invite code) resolves, so that a
    refused attempt, whose transaction rolls back, can still be recorded for that organization.
    """

    organization_id: int | None = None


@dataclass(frozen=True)
class AccountExists:
    """An enrollment that created nothing because a patient of the practice has the email."""

    organization_id: int


async def validated_except_email_use(
    ctx: ChangeContext, user: User, profile: Profile, required: Collection[str] = ()
) -> str:
    """Apply every field of ``profile`` but the email, and check the email's form; its new email.

    The email is always checked (blank is a message); ``required`` as for apply_changes.
    Whether a patient already uses the email is left to the caller: every other problem is
    reported first, together, so the answer never depends on the email's owner.
    """
    problems: list[FieldMessage] = []
    email = ""
    try:
        email = v.clean_email(profile.email)
    except Invalid as error:
        problems.extend(error.messages)
    try:
        await apply_changes(ctx, user, replace(profile, email=None), set(required) - {"email"})
    except Invalid as error:
        problems.extend(error.messages)
    if problems:
        raise Invalid(*problems)
    return email


async def patient_with_email(session: AsyncSession, organization_id: int, key: str) -> int | None:
    """The id of the organization's patient with this email key, whatever their state."""
    return await queries.patient_with_email(session, organization_id, key)


async def tell_owner(session: AsyncSession, organization_id: int, owner_id: int) -> AccountExists:
    """Queue the owner's email (sent only if the request's transaction commits).

    At most one a day per account: strangers sending its address again cannot fill its inbox
    (the per-email rate limit alone would let 10 an hour through).
    """
    since = utcnow() - NOTICE_INTERVAL
    recent = select(OutboxMessage.id).where(
        OutboxMessage.recipient_user_id == owner_id,
        OutboxMessage.kind == EmailKind.ACCOUNT_EXISTS.value,
        OutboxMessage.created_at > since,
    )
    if (await session.execute(recent.limit(1))).first() is None:
        await queue_email(
            session,
            organization_id=organization_id,
            recipient_user_id=owner_id,
            kind=EmailKind.ACCOUNT_EXISTS,
        )
    return AccountExists(organization_id)
