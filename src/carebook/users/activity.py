"""When a user signed in and last used the account (Healthie's last_sign_in_at, last_active,
last_activity, accessed_account).

Signing in is a write anyway, so it is recorded in its own transaction. Using the account is
noted from authenticated requests, which are mostly reads: :class:`ActivityThrottle` lets each
server process write a user's activity at most once per window, and the write itself only
moves a value older than the window, so several processes add at most one change per window
between them. Neither write touches ``updated_at``: using the account does not change the record.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from carebook.auth.actor import Actor
from carebook.db.base import utcnow
from carebook.users.models import User

# Past this many remembered users the throttle starts over: one write more per user, once.
_THROTTLE_MAX_USERS = 100_000


async def record_sign_in(session: AsyncSession, user: User) -> None:
    """Note that ``user`` signed in now (signIn, signUp, setting a password from an invitation).

    A statement rather than an ORM change, so the record's ``updated_at`` stays; the loaded
    row gets the values too, for the answer that follows.
    """
    now = utcnow()
    values = {"last_sign_in_at": now, "last_active_at": now, "last_activity_at": now}
    await session.execute(
        update(User)
        .where(User.id == user.id)
        .values(updated_at=User.updated_at, **values)
        .execution_options(synchronize_session=False)
    )
    for name, value in values.items():
        set_committed_value(user, name, value)


def signed_in_on_creation(user: User) -> None:
    """:func:`record_sign_in` for a user not inserted yet (signUp): the values go in its
    INSERT, one statement fewer than an UPDATE after it (issue 28)."""
    now = utcnow()
    user.last_sign_in_at = user.last_active_at = user.last_activity_at = now


async def record_activity(
    session: AsyncSession, *, user_id: int, own_session: bool, window: timedelta
) -> None:
    """Note that ``user_id`` used the account now, unless it was noted less than ``window`` ago.

    ``own_session``: through a session token (web or mobile), which also moves last_active_at;
    an API key moves only last_activity_at.
    """
    now = utcnow()
    column = User.last_active_at if own_session else User.last_activity_at
    values: dict[str, datetime] = {"last_activity_at": now}
    if own_session:
        values["last_active_at"] = now
    await session.execute(
        update(User)
        .where(User.id == user_id, or_(column.is_(None), column < now - window))
        .values(updated_at=User.updated_at, **values)
        .execution_options(synchronize_session=False)
    )


class ActivityThrottle:
    """Which users' activity this process should write now: at most once per window each.

    Within the window a request costs a dictionary look-up and no SQL. The clock is monotonic;
    a write that fails is forgotten (:meth:`failed`), so the next request tries again.
    """

    def __init__(self, window_seconds: float) -> None:
        self.window_seconds = window_seconds
        # (user id, through a session token) -> monotonic time of the last write decided.
        self._written: dict[tuple[int, bool], float] = {}

    @property
    def window(self) -> timedelta:
        """The window as a duration, for the write's own condition."""
        return timedelta(seconds=self.window_seconds)

    def due(self, actor: Actor) -> bool:
        """True (and remembered) when ``actor``'s activity should be written now."""
        key = (actor.user_id, actor.session_token_id is not None)
        now = time.monotonic()
        last = self._written.get(key)
        if last is not None and now - last < self.window_seconds:
            return False
        if len(self._written) >= _THROTTLE_MAX_USERS:
            self._written.clear()
        self._written[key] = now
        return True

    def failed(self, actor: Actor) -> None:
        """The write decided for ``actor`` did not happen: the next request may try again."""
        self._written.pop((actor.user_id, actor.session_token_id is not None), None)
