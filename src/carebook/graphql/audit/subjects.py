"""Patient data other than the User itself: the records that name the people they are about.

A GraphQL type whose objects hold a person's data (an address, an appointment, a form request, a
tag applied to someone, a conversation's membership, ...) derives from :class:`DisclosesUsers`
and says whose data each object is. :func:`~carebook.graphql.audit.recording.audited` then records
a read of each of those people who is a patient, exactly as for a User, and the coverage walk
(tests/audit/test_coverage.py) requires every field returning such a type to be audited.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from strawberry.types import Info

from carebook.graphql.context import Context
from carebook.users.models import User as UserRow


class IsUser:
    """The GraphQL User type's base: a record that is one person (``row``).

    It lives here, not with the User type, so the audit trail can recognise a User without
    importing the User type's module (that module uses the trail for its own fields).
    """

    if TYPE_CHECKING:  # declared for the type checker only: Strawberry must not see a field
        row: UserRow


class DisclosesUsers:
    """A record about people: reading it reads their data.

    A record that holds its people's ids says so in :meth:`disclosed_user_ids`, without a
    query: the trail then loads only those it has not recorded yet in the request (a User's
    tags and addresses name that User, already recorded). Others override
    :meth:`disclosed_users`.
    """

    def disclosed_user_ids(self) -> Sequence[int | None] | None:
        """The ids of the users this record is about; None when only a query can tell."""
        return None

    async def disclosed_users(self, info: Info[Context, None]) -> list[UserRow]:
        """The users this record is about (only patients among them are recorded)."""
        ids = self.disclosed_user_ids()
        if ids is None:
            raise NotImplementedError
        return await users_by_id(info, ids)


async def users_by_id(info: Info[Context, None], ids: Iterable[int | None]) -> list[UserRow]:
    """The rows of ``ids`` through the request's loader (batched, and cached for the answer)."""
    wanted = [i for i in ids if i is not None]
    rows = await info.context.loaders.user.load_many(wanted)
    return [row for row in rows if row is not None]
