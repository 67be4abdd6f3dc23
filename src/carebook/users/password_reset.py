"""Password reset: a forgotten password replaced from an emailed, single-use link.

Built like the invitation's signup token (users/activation.py): the link's token is
HMAC(secret_key, "reset:" + nonce), a random 256-bit nonce; only the nonce and the token's
SHA-256 are stored, so the outbox renders the link at delivery time while a copy of the table
alone yields no working link. A token expires after ``CAREBOOK_PASSWORD_RESET_TTL_MINUTES``,
works once, and using it ends every session of the user and every other link they hold.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import timedelta
from urllib.parse import quote

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.auth.models import PasswordResetToken, SignupToken
from carebook.auth.passwords import Passwords
from carebook.auth.tokens import digest
from carebook.db.base import utcnow
from carebook.errors import Invalid
from carebook.users import validation as v
from carebook.users.activity import record_sign_in
from carebook.users.credentials import revoke_other_sessions
from carebook.users.models import User
from carebook.users.new_password import Prehashed, password_hash_of
from carebook.users.trail import record_patients

RESET_PASSWORD_PATH = "/reset_password"  # noqa: S105
# How many accounts one email can name (patient emails are unique per practice only): as signIn.
MAX_ACCOUNTS_PER_EMAIL = 5
# Messages, not secrets.
RESET_UNKNOWN = "This link is not valid. Ask for a new password reset email."
RESET_USED = "This link has already been used. Ask for a new password reset email."
RESET_EXPIRED = "This link has expired. Ask for a new password reset email."


def token_of(secret_key: str, nonce: str) -> str:
    """The link's token for a stored nonce (a different key than the invitation's)."""
    mac = hmac.new(secret_key.encode(), f"reset:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def link_for(*, public_base_url: str, secret_key: str, row: PasswordResetToken) -> str | None:
    """The reset link of a token row; None when it was issued under another secret key."""
    token = token_of(secret_key, row.nonce)
    if not hmac.compare_digest(digest(token), row.token_digest):
        return None
    return f"{public_base_url.rstrip('/')}{RESET_PASSWORD_PATH}?token={quote(token)}"


def is_usable(row: PasswordResetToken) -> bool:
    """Unused and unexpired."""
    return row.used_at is None and row.expires_at > utcnow()


async def accounts_with_email(session: AsyncSession, email: str | None) -> list[User]:
    """The active accounts an email signs in to (any role, any practice), oldest first."""
    key = v.email_key(email)
    if not key:
        return []
    query = (
        select(User)
        .where(User.email_key == key, User.active)
        .order_by(User.id)
        .limit(MAX_ACCOUNTS_PER_EMAIL)
    )
    return list((await session.execute(query)).scalars())


async def issue(
    session: AsyncSession, *, user: User, secret_key: str, ttl: timedelta
) -> PasswordResetToken:
    """A new reset token for ``user``; earlier ones keep working until used or expired."""
    nonce = secrets.token_urlsafe(32)
    row = PasswordResetToken(
        user_id=user.id,
        nonce=nonce,
        token_digest=digest(token_of(secret_key, nonce)),
        expires_at=utcnow() + ttl,
    )
    session.add(row)
    await session.flush()
    return row


async def find(session: AsyncSession, token: str | None) -> PasswordResetToken | None:
    """The reset token row a link's token names, usable or not; None for any other string."""
    if not token:
        return None
    query = select(PasswordResetToken).where(PasswordResetToken.token_digest == digest(token))
    return (await session.execute(query)).scalar_one_or_none()


async def check_token(session: AsyncSession, token: str | None) -> tuple[PasswordResetToken, User]:
    """The token's row and its (active) user, or a message on ``reset_token``."""
    row = await find(session, token)
    user = await session.get(User, row.user_id) if row is not None else None
    if row is None or user is None or not user.active:
        raise Invalid.field("reset_token", RESET_UNKNOWN)
    if row.used_at is not None:
        raise Invalid.field("reset_token", RESET_USED)
    if row.expires_at <= utcnow():
        raise Invalid.field("reset_token", RESET_EXPIRED)
    return row, user


async def validate(session: AsyncSession, token: str | None) -> bool:
    """True when the token can still reset a password (``validateResetPasswordToken``)."""
    try:
        await check_token(session, token)
    except Invalid:
        return False
    return True


async def use_up_links(session: AsyncSession, user_id: int) -> None:
    """End every outstanding reset and invitation link of a user (used when one of them sets
    the password, and when the address they were sent to changes)."""
    now = utcnow()
    for model in (PasswordResetToken, SignupToken):
        await session.execute(
            update(model)
            .where(model.user_id == user_id, model.used_at.is_(None))
            .values(used_at=now)
        )


async def reset(
    session: AsyncSession,
    *,
    passwords: Passwords,
    token: str | None,
    password: str | None,
    password_confirmation: str | None = None,
    prehashed: Prehashed | None = None,
) -> User:
    """Set a new password from a reset token; the user, for a caller that signs them in.

    Every session of the user ends (whoever held a stolen session or the old password is out),
    and every other reset or invitation link of theirs stops working. A weak password is a
    message and leaves the token usable.
    """
    row, user = await check_token(session, token)
    return await set_password_from_link(
        session,
        passwords=passwords,
        link=(PasswordResetToken, row.id, RESET_USED),
        user=user,
        password=password,
        password_confirmation=password_confirmation,
        prehashed=prehashed,
    )


async def set_password_from_link(
    session: AsyncSession,
    *,
    passwords: Passwords,
    link: tuple[type[PasswordResetToken] | type[SignupToken], int, str],
    user: User,
    password: str | None,
    password_confirmation: str | None,
    prehashed: Prehashed | None = None,
) -> User:
    """Set ``user``'s password from an emailed link (``link``: its table, its row's id, and the
    message when it was used meanwhile).

    The link is used up (once, even under concurrency), so are the user's other links, and every
    session of the user ends; the visit (``last_sign_in_at``: they proved they hold the link) and
    the update of the record are recorded. No session is issued here: a page that sets a
    password only sets it, and signIn issues its own (accounts/sign_in.py). A weak password is a
    message and leaves the link usable. Invitations (activation.py) and resets share it.
    ``prehashed``: the password's hash made before the transaction (users/new_password.py).
    """
    model, link_id, used_message = link
    if password_confirmation is not None and password_confirmation != password:
        raise Invalid.field("password_confirmation", "Password confirmation doesn't match")
    user.password_hash = await password_hash_of(passwords, password, prehashed)
    # Single use even under concurrency: only one transaction can flip used_at from NULL.
    claimed = await session.execute(
        update(model).where(model.id == link_id, model.used_at.is_(None)).values(used_at=utcnow())
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise Invalid.field("reset_token", used_message)
    await use_up_links(session, user.id)
    await revoke_other_sessions(session, user_id=user.id)
    await session.flush()
    await record_sign_in(session, user)
    await record_patients(session, [user], action="update")
    return user
