"""Healthie's ``signIn`` in its two forms: email + password, or signup token + new password."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from carebook.auth.passwords import Passwords
from carebook.users import activation, credentials, password_reset
from carebook.users.credentials import IssuedToken
from carebook.users.inputs import SignIn
from carebook.users.models import User


@dataclass(frozen=True)
class SignedIn:
    """The session token issued, and an API key when one was asked for."""

    issued: IssuedToken
    api_key: str | None = None


async def sign_in(
    session: AsyncSession, *, passwords: Passwords, fields: SignIn, ttl: timedelta
) -> SignedIn:
    """Reset or activate with ``reset_token`` + ``password``, or check ``email`` + ``password``.

    A ``reset_token`` is a password-reset link's token (resetPassword) or an invitation's signup
    token; an unknown one answers as an invitation's does.

    ``generate_api_token`` also issues an API key, for providers and staff only.
    """
    if fields.reset_token:
        user = await _set_password_from_link(session, passwords=passwords, fields=fields)
        # Setting the password ended every session; this is the one the answer carries.
        token = await credentials.issue_session_token(session, user=user, ttl=ttl)
        return SignedIn(IssuedToken(user=user, token=token))
    issued = await credentials.sign_in(
        session,
        passwords=passwords,
        email=fields.email,
        password=fields.password,
        ttl=ttl,
    )
    if fields.generate_api_token and not issued.user.is_patient:
        return SignedIn(issued, await credentials.create_api_key(session, user=issued.user))
    return SignedIn(issued)


async def _set_password_from_link(
    session: AsyncSession, *, passwords: Passwords, fields: SignIn
) -> User:
    """A password-reset link's token, or else an invitation's (whose message an unknown token
    gets)."""
    if await password_reset.find(session, fields.reset_token):
        return await password_reset.reset(
            session, passwords=passwords, token=fields.reset_token, password=fields.password
        )
    return await activation.activate(
        session, passwords=passwords, token=fields.reset_token, password=fields.password
    )
