"""``resetPassword``: email a reset link to the accounts of an address, telling the caller
nothing about whether there are any.

The answer is the same for a known and an unknown address (no message, no payload); only a
blank or malformed address is a message, which depends on the text alone. The link is
rendered at delivery (notifications/delivery.py), so the outbox holds ids only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from carebook.config import Settings
from carebook.errors import Invalid
from carebook.notifications.models import EmailKind
from carebook.notifications.outbox import queue_email
from carebook.users import password_reset
from carebook.users import validation as v


@dataclass(frozen=True)
class ResetPolicy:
    """What issuing reset links needs from the settings."""

    secret_key: str
    ttl: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> ResetPolicy:
        """The reset policy of a configured server."""
        return cls(secret_key=settings.secret_key, ttl=settings.password_reset_ttl)


def address_to_reset(email: str | None) -> str:
    """The address a reset was asked for, cleaned; a message when it is blank or malformed
    (which depends on the text alone, never on whether an account has it)."""
    if not (email or "").strip():
        raise Invalid.field("email", "Email can't be blank")
    return v.clean_email(email)


async def request_reset(session: AsyncSession, *, email: str, policy: ResetPolicy) -> None:
    """Queue a reset email to every active account of the clean address ``email`` (none:
    nothing happens).

    Run after the answer was sent (graphql/auth/mutations.py): a known address does more work
    than an unknown one (a link and an email written), and the answer's timing must not show it.
    """
    for user in await password_reset.accounts_with_email(session, email):
        row = await password_reset.issue(
            session, user=user, secret_key=policy.secret_key, ttl=policy.ttl
        )
        await queue_email(
            session,
            organization_id=user.organization_id,
            recipient_user_id=user.id,
            kind=EmailKind.PASSWORD_RESET,
            params={"password_reset_id": row.id},
        )
