"""Account activation: an invited patient sets their password from a signup token.

A signup token is random (a 256-bit nonce, keyed with the secret key), stored only as a digest,
expires after ``CAREBOOK_SIGNUP_TOKEN_TTL_HOURS`` and works once. The link in the welcome email
and in ``User.set_password_link`` carries it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote

from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.auth.models import SignupToken
from carebook.auth.passwords import Passwords
from carebook.auth.tokens import digest
from carebook.config import Settings
from carebook.db.base import utcnow
from carebook.errors import Invalid
from carebook.users.models import User
from carebook.users.new_password import Prehashed
from carebook.users.password_reset import set_password_from_link

_TOKENS: Table = SignupToken.__table__  # type: ignore[assignment]
# created_at takes the column's Python default, as in the ORM's INSERT.
_INSERT = insert(_TOKENS)

SET_PASSWORD_PATH = "/set_password"  # noqa: S105
# Messages, not secrets.
TOKEN_UNKNOWN = "This link is not valid. Ask your provider to send you a new invitation."  # noqa: S105
TOKEN_USED = "This link has already been used. Sign in with your password."  # noqa: S105
TOKEN_EXPIRED = "This link has expired. Ask your provider to send you a new invitation."  # noqa: S105


@dataclass(frozen=True)
class Invitations:
    """What issuing a signup token needs from the settings."""

    secret_key: str
    ttl: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> Invitations:
        """The invitation policy of a configured server."""
        return cls(secret_key=settings.secret_key, ttl=settings.signup_token_ttl)


def token_of(secret_key: str, nonce: str) -> str:
    """The link's token for a stored nonce."""
    mac = hmac.new(secret_key.encode(), f"signup:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def link_for(*, public_base_url: str, secret_key: str, row: SignupToken) -> str | None:
    """The set-password link of a signup token; None when it was issued under another secret
    key (the emailed link still works, but this server cannot show it again)."""
    token = token_of(secret_key, row.nonce)
    if not hmac.compare_digest(digest(token), row.token_digest):
        return None
    return f"{public_base_url.rstrip('/')}{SET_PASSWORD_PATH}?token={quote(token)}"


def is_usable(row: SignupToken) -> bool:
    """Unused and unexpired."""
    return row.used_at is None and row.expires_at > utcnow()


async def ensure_signup_token(
    session: AsyncSession, *, user: User, secret_key: str, ttl: timedelta, new: bool = False
) -> SignupToken:
    """The user's usable signup token, or a new one when there is none (``new``: a user
    inserted in this transaction, who has none yet: no look-up).

    A new token is written at once and returned outside the session (its id unknown; never
    add it to a session, which would insert it again); an existing one is the session's row.
    """
    if new:
        return await _issue(session, user, secret_key, ttl)
    query = (
        select(SignupToken)
        .where(
            SignupToken.user_id == user.id,
            SignupToken.used_at.is_(None),
            SignupToken.expires_at > utcnow(),
        )
        .order_by(SignupToken.id.desc())
        .limit(1)
    )
    existing = (await session.execute(query)).scalar_one_or_none()
    if existing is not None and existing.token_digest == digest(
        token_of(secret_key, existing.nonce)
    ):
        return existing
    return await _issue(session, user, secret_key, ttl)


async def _issue(session: AsyncSession, user: User, secret_key: str, ttl: timedelta) -> SignupToken:
    nonce = secrets.token_urlsafe(32)
    row = SignupToken(
        user_id=user.id,
        nonce=nonce,
        token_digest=digest(token_of(secret_key, nonce)),
        expires_at=utcnow() + ttl,
    )
    # Written now with one Core INSERT, not added to the session for the next flush, whose unit
    # of work cost a createClient more than the statement (issue 28). What callers read of the
    # row (the nonce and digest for the link, the expiry) is set here; its id is not needed.
    # A Core statement does not autoflush: what the caller added goes first (the user, when
    # not flushed yet; a no-op in createClient, which flushed it).
    await session.flush()
    await session.execute(
        _INSERT,
        {
            "user_id": row.user_id,
            "nonce": row.nonce,
            "token_digest": row.token_digest,
            "expires_at": row.expires_at,
        },
    )
    return row


async def load_usable_tokens(
    session: AsyncSession, user_ids: list[int] | tuple[int, ...]
) -> list[SignupToken | None]:
    """Each user's newest usable signup token (the batch behind a DataLoader)."""
    query = select(SignupToken).where(
        SignupToken.user_id.in_(user_ids),
        SignupToken.used_at.is_(None),
        SignupToken.expires_at > utcnow(),
    )
    newest: dict[int, SignupToken] = {}
    for row in (await session.execute(query)).scalars():
        if row.user_id not in newest or row.id > newest[row.user_id].id:
            newest[row.user_id] = row
    return [newest.get(uid) for uid in user_ids]


async def check_token(session: AsyncSession, token: str | None) -> tuple[SignupToken, User]:
    if not token:
        raise Invalid.field("reset_token", TOKEN_UNKNOWN)
    query = (
        select(SignupToken, User)
        .join(User, User.id == SignupToken.user_id)
        .where(SignupToken.token_digest == digest(token))
    )
    row = (await session.execute(query)).first()
    if row is None or not row[1].active:
        raise Invalid.field("reset_token", TOKEN_UNKNOWN)
    signup, user = row
    if signup.used_at is not None:
        raise Invalid.field("reset_token", TOKEN_USED)
    if signup.expires_at <= utcnow():
        raise Invalid.field("reset_token", TOKEN_EXPIRED)
    return signup, user


async def validate_signup_token(session: AsyncSession, token: str | None) -> bool:
    """True when the token can still set a password (Healthie's ``validateSignupToken``)."""
    try:
        await check_token(session, token)
    except Invalid:
        return False
    return True


async def activate(
    session: AsyncSession,
    *,
    passwords: Passwords,
    token: str | None,
    password: str | None,
    password_confirmation: str | None = None,
    prehashed: Prehashed | None = None,
) -> User:
    """Set the invited user's password from their token; the user, for a caller that signs
    them in.

    It changes their record (and activates the account): an ``update`` of them is recorded in
    the same transaction, whichever entry point calls (signIn's reset_token, the set-password page).
    """
    signup, user = await check_token(session, token)
    return await set_password_from_link(
        session,
        passwords=passwords,
        link=(SignupToken, signup.id, TOKEN_USED),
        user=user,
        password=password,
        password_confirmation=password_confirmation,
        prehashed=prehashed,
    )
