"""Credentials: resolving the caller, signing in and out, and issuing API keys."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, event, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from carebook.auth.actor import Actor
from carebook.auth.models import ApiKey, SessionToken
from carebook.auth.passwords import Passwords
from carebook.auth.roles import Role
from carebook.auth.tokens import digest, new_secret
from carebook.db.base import utcnow
from carebook.db.session import CarebookSession
from carebook.errors import Invalid
from carebook.organizations.models import Organization
from carebook.times import zone_of
from carebook.users.activity import record_sign_in
from carebook.users.models import User
from carebook.users.validation import email_key

SIGN_IN_FAILED = "Invalid email or password"


@dataclass(frozen=True)
class IssuedToken:
    """A freshly issued secret (shown once) and the user it belongs to."""

    user: User
    token: str


def _actor_for(
    user: User,
    organization_zone: str | None,
    *,
    session_token_id: int | None = None,
    api_key_id: int | None = None,
) -> Actor:
    return Actor(
        user_id=user.id,
        organization_id=user.organization_id,
        role=Role(user.role),
        session_token_id=session_token_id,
        api_key_id=api_key_id,
        zone=zone_of(user.timezone, organization_zone),
    )


# API key digest -> (expiry on the monotonic clock, actor), per process. Only found actors are
# kept, and only for ``api_key_cache_seconds``: a key revoked (or its user archived) by another
# process keeps working here until its entry expires. A commit of this process that changed an
# API key, an organization or the user of a remembered actor empties the cache, so here a
# revocation, an archive or a new time zone (the actor carries it) takes effect at once.
_API_KEY_ACTORS: dict[str, tuple[float, Actor]] = {}
# The users of the actors remembered since the cache was last emptied (expired ones included).
_CACHED_USERS: set[int] = set()
_API_KEY_CACHE_MAX = 10_000
# Session info keys: forget whatever is remembered; the ids of the users the session changed.
_FORGET = "carebook_forget_api_key_actors"
_CHANGED_USERS = "carebook_changed_user_ids"


@event.listens_for(CarebookSession, "after_flush")
def _note_credential_changes(session: Session, _context: Any) -> None:
    touched = (*session.new, *session.dirty, *session.deleted)
    if any(isinstance(obj, ApiKey | Organization) for obj in touched):
        session.info[_FORGET] = True
    # A user added now is no remembered actor's: only changed and deleted ones count. Every
    # creation and update of a patient used to empty the cache, so under writes each request
    # looked its key up again (issue 28).
    changed = [obj.id for obj in (*session.dirty, *session.deleted) if isinstance(obj, User)]
    if changed:
        session.info.setdefault(_CHANGED_USERS, set()).update(changed)


def forget_api_key_actors_at_commit(
    session: AsyncSession | Session, user_ids: Iterable[int]
) -> None:
    """At this session's commit, empty the cache if one of ``user_ids`` has a remembered actor,
    as after a flush that changed them: for writes of users that bypass the flush
    (accounts/bulk_writes.py, imports)."""
    session.info.setdefault(_CHANGED_USERS, set()).update(user_ids)


@event.listens_for(CarebookSession, "after_commit")
def _forget_api_key_actors(session: Session) -> None:
    # Decided at commit, not at flush: an actor remembered in between (read before this
    # commit) is forgotten too.
    forget = session.info.pop(_FORGET, False)
    changed: set[int] = session.info.pop(_CHANGED_USERS, set())
    if forget or not changed.isdisjoint(_CACHED_USERS):
        forget_api_key_actors()


def forget_api_key_actors() -> None:
    """Empty the process's cache of API key actors."""
    _API_KEY_ACTORS.clear()
    _CACHED_USERS.clear()


def cached_api_key_actor(key: str) -> Actor | None:
    """The actor remembered for this API key (see _API_KEY_ACTORS), if still fresh; else None.

    Lets a caller skip opening a session when the look-up would not need one.
    """
    cached = _API_KEY_ACTORS.get(digest(key))
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    return None


# Every authenticated request asks one of these: built once with bound parameters (building
# and keying a statement per request cost a few per cent of a createClient's CPU).
_BY_API_KEY = (
    select(User, ApiKey.id, Organization.timezone)
    .join(ApiKey, ApiKey.user_id == User.id)
    .join(Organization, Organization.id == User.organization_id)
    .where(ApiKey.key_digest == bindparam("digest"), ApiKey.revoked_at.is_(None), User.active)
)
_BY_SESSION_TOKEN = (
    select(User, SessionToken.id, Organization.timezone)
    .join(SessionToken, SessionToken.user_id == User.id)
    .join(Organization, Organization.id == User.organization_id)
    .where(
        SessionToken.token_digest == bindparam("digest"),
        SessionToken.revoked_at.is_(None),
        SessionToken.expires_at > bindparam("now", type_=SessionToken.expires_at.type),
        User.active,
    )
)


async def actor_from_api_key(
    session: AsyncSession, key: str, cache_seconds: float = 0.0
) -> Actor | None:
    """The provider/staff user an unrevoked API key belongs to, or None.

    With ``cache_seconds`` > 0 a found actor is remembered that long (see _API_KEY_ACTORS).
    """
    if cache_seconds > 0 and (cached := cached_api_key_actor(key)) is not None:
        return cached
    key_digest = digest(key)
    row = (await session.execute(_BY_API_KEY, {"digest": key_digest})).first()
    if row is None or row[0].is_patient:
        return None
    actor = _actor_for(row[0], row[2], api_key_id=row[1])
    if cache_seconds > 0:
        if len(_API_KEY_ACTORS) >= _API_KEY_CACHE_MAX:
            forget_api_key_actors()
        _API_KEY_ACTORS[key_digest] = (time.monotonic() + cache_seconds, actor)
        _CACHED_USERS.add(actor.user_id)
    return actor


async def actor_from_session_token(session: AsyncSession, token: str) -> Actor | None:
    """The user of an unexpired, unrevoked session token, or None."""
    values = {"digest": digest(token), "now": utcnow()}
    row = (await session.execute(_BY_SESSION_TOKEN, values)).first()
    return _actor_for(row[0], row[2], session_token_id=row[1]) if row is not None else None


async def create_api_key(session: AsyncSession, *, user: User) -> str:
    """A new API key for a provider/staff user; only its digest is stored."""
    if user.is_patient:
        raise Invalid.field(None, "Only providers and staff members can have API keys")
    key = new_secret()
    session.add(ApiKey(user_id=user.id, key_digest=digest(key)))
    await session.flush()
    return key


async def issue_session_token(session: AsyncSession, *, user: User, ttl: timedelta) -> str:
    """A new bearer token for ``user`` that expires after ``ttl``."""
    token = new_secret()
    session.add(
        SessionToken(user_id=user.id, token_digest=digest(token), expires_at=utcnow() + ttl)
    )
    await session.flush()
    return token


@dataclass(frozen=True)
class Verified:
    """A user whose password matched, checked before the write transaction; the hash it
    matched, so that the write can see it is still theirs."""

    user_id: int
    password_hash: str = field(repr=False)


async def password_candidates(
    session: AsyncSession, email: str | None
) -> list[tuple[int, str | None]]:
    """The active accounts an email signs in to, oldest first: id and password hash (None for
    an account whose password was never set; it still costs a verification)."""
    key = email_key(email)
    if not key:
        return []
    query = (
        select(User.id, User.password_hash)
        .where(User.email_key == key, User.active)
        .order_by(User.id)
        .limit(5)
    )
    return [(row[0], row[1]) for row in await session.execute(query)]


async def first_match(
    passwords: Passwords, candidates: list[tuple[int, str | None]], password: str | None
) -> Verified | None:
    """The first candidate ``password`` matches, or None.

    A hash is verified even when there is no candidate, so the time taken does not tell an
    unknown email from a wrong password.
    """
    if not candidates:
        await passwords.verify(None, password or "")
    for user_id, password_hash in candidates:
        if await passwords.verify(password_hash, password or "") and password_hash is not None:
            return Verified(user_id, password_hash)
    return None


async def start_session(
    session: AsyncSession, *, verified: Verified | None, ttl: timedelta
) -> IssuedToken:
    """Issue a session token (expiring after ``ttl``) to the user whose password matched.

    The same message whether the email is unknown or the password wrong. The password was
    checked before this transaction (argon2 must not hold the write lock): an account archived
    or given a new password since then gets that message too.
    """
    user = await session.get(User, verified.user_id) if verified is not None else None
    if user is None or verified is None or not user.active:
        raise Invalid.field(None, SIGN_IN_FAILED)
    if user.password_hash != verified.password_hash:
        raise Invalid.field(None, SIGN_IN_FAILED)
    token = await issue_session_token(session, user=user, ttl=ttl)
    await record_sign_in(session, user)
    return IssuedToken(user=user, token=token)


async def sign_out(session: AsyncSession, *, actor: Actor) -> None:
    """Revoke the session token the actor called with (API keys are not revoked here)."""
    if actor.session_token_id is None:
        raise Invalid.field(None, "Only a session token signed in with signIn can be signed out")
    await revoke_credential(session, actor=actor)


async def revoke_credential(session: AsyncSession, *, actor: Actor) -> None:
    """Revoke whichever credential the actor called with: session token or API key."""
    now = utcnow()
    if actor.session_token_id is not None:
        await session.execute(
            update(SessionToken)
            .where(SessionToken.id == actor.session_token_id)
            .values(revoked_at=now)
        )
    if actor.api_key_id is not None:
        await session.execute(
            update(ApiKey).where(ApiKey.id == actor.api_key_id).values(revoked_at=now)
        )
        # A statement, not a flush: tell the commit hook that a key changed.
        session.sync_session.info[_FORGET] = True


async def revoke_other_sessions(
    session: AsyncSession, *, user_id: int, keep_token_id: int | None = None
) -> None:
    """End every session of a user but the one making the request (after a password change)."""
    query = update(SessionToken).where(
        SessionToken.user_id == user_id, SessionToken.revoked_at.is_(None)
    )
    if keep_token_id is not None:
        query = query.where(SessionToken.id != keep_token_id)
    await session.execute(query.values(revoked_at=utcnow()))
