"""Healthie's ``signIn`` in its two forms: email + password, or signup token + new password.

argon2 runs before the write transaction (:func:`prepare`, on a worker thread): inside it, the
hash would hold the database's write lock, and concurrent sign-ins would queue behind each
other's hashing until one passed the busy timeout. The write then only issues the session.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from carebook.auth.passwords import Passwords
from carebook.db.engine import Database
from carebook.users import activation, credentials, password_reset
from carebook.users.credentials import IssuedToken, Verified
from carebook.users.inputs import SignIn
from carebook.users.models import User
from carebook.users.new_password import Prehashed, prehash


@dataclass(frozen=True)
class SignedIn:
    """The session token issued, and an API key when one was asked for."""

    issued: IssuedToken
    api_key: str | None = None


@dataclass(frozen=True)
class Prepared:
    """What a sign-in worked out before its write transaction."""

    verified: Verified | None = None  # email + password: the account the password matched
    prehashed: Prehashed | None = None  # reset_token + password: the new password's hash


async def prepare(database: Database, *, passwords: Passwords, fields: SignIn) -> Prepared:
    """Check the password (email form) or hash the new one (reset_token form), reading in a
    read session and hashing after it closed: no transaction is open while argon2 runs."""
    if fields.reset_token:
        async with database.read_sessions() as session:
            usable = await _link_usable(session, fields.reset_token)
        # A token that sets no password costs no hash, as before (its message comes from the write).
        return Prepared(prehashed=await prehash(passwords, fields.password) if usable else None)
    async with database.read_sessions() as session:
        candidates = await credentials.password_candidates(session, fields.email)
    return Prepared(verified=await credentials.first_match(passwords, candidates, fields.password))


async def sign_in(
    session: AsyncSession,
    *,
    passwords: Passwords,
    fields: SignIn,
    ttl: timedelta,
    prepared: Prepared,
) -> SignedIn:
    """Reset or activate with ``reset_token`` + ``password``, or sign in the account whose
    ``email`` + ``password`` matched in :func:`prepare`.

    A ``reset_token`` is a password-reset link's token (resetPassword) or an invitation's signup
    token; an unknown one answers as an invitation's does.

    ``generate_api_token`` also issues an API key, for providers and staff only.
    """
    if fields.reset_token:
        user = await _set_password_from_link(session, passwords, fields, prepared.prehashed)
        # Setting the password ended every session; this is the one the answer carries.
        token = await credentials.issue_session_token(session, user=user, ttl=ttl)
        return SignedIn(IssuedToken(user=user, token=token))
    issued = await credentials.start_session(session, verified=prepared.verified, ttl=ttl)
    if fields.generate_api_token and not issued.user.is_patient:
        return SignedIn(issued, await credentials.create_api_key(session, user=issued.user))
    return SignedIn(issued)


async def _link_usable(session: AsyncSession, token: str) -> bool:
    if await password_reset.validate(session, token):
        return True
    return await activation.validate_signup_token(session, token)


async def _set_password_from_link(
    session: AsyncSession, passwords: Passwords, fields: SignIn, prehashed: Prehashed | None
) -> User:
    """A password-reset link's token, or else an invitation's (whose message an unknown token
    gets)."""
    if await password_reset.find(session, fields.reset_token):
        return await password_reset.reset(
            session,
            passwords=passwords,
            token=fields.reset_token,
            password=fields.password,
            prehashed=prehashed,
        )
    return await activation.activate(
        session,
        passwords=passwords,
        token=fields.reset_token,
        password=fields.password,
        prehashed=prehashed,
    )
