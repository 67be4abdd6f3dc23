"""Account activation and sign-in as entry points call them: with their audit events.

Setting an invited patient's password from their signup token changes their record (and
activates the account): an ``update`` of them, recorded in the same transaction, whether it
comes from GraphQL's ``signIn(reset_token:)`` or from the set-password page. A plain sign-in
changes no record and records nothing here.

These wrap carebook.auth.activation and carebook.auth.sign_in, which may not import the audit
trail (auth sits below the domain packages); when activation moves out of auth, the recording
moves into it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from carebook.auth import activation
from carebook.auth import sign_in as signing_in
from carebook.auth.passwords import Passwords
from carebook.auth.service import IssuedToken
from carebook.auth.sign_in import SignedIn
from carebook.users.trail import record_patients


async def activate(
    session: AsyncSession,
    *,
    passwords: Passwords,
    token: str | None,
    password: str | None,
    password_confirmation: str | None = None,
    ttl: timedelta,
) -> IssuedToken:
    """Set the invited user's password from their token, sign them in, record the update."""
    issued = await activation.activate(
        session,
        passwords=passwords,
        token=token,
        password=password,
        password_confirmation=password_confirmation,
        ttl=ttl,
    )
    await record_patients(session, [issued.user], action="update")
    return issued


async def sign_in(
    session: AsyncSession, *, passwords: Passwords, fields: Mapping[str, Any], ttl: timedelta
) -> SignedIn:
    """Healthie's ``signIn``; its ``reset_token`` form is an activation, recorded as one."""
    signed = await signing_in.sign_in(session, passwords=passwords, fields=fields, ttl=ttl)
    if fields.get("reset_token"):
        await record_patients(session, [signed.issued.user], action="update")
    return signed
