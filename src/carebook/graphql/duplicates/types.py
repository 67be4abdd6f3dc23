"""The DuplicateCandidate object (a Carebook addition: Healthie has no such type)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import strawberry
from strawberry.types import Info

from carebook.duplicates.models import DuplicatePair
from carebook.duplicates.pairs import REASON_SEPARATOR
from carebook.graphql.audit.recording import audited
from carebook.graphql.audit.subjects import DisclosesUsers
from carebook.graphql.context import Context
from carebook.graphql.users.ref import LazyUser, user_object
from carebook.times import render

if TYPE_CHECKING:
    from carebook.graphql.users.types import User


async def _user(info: Info[Context, None], user_id: int) -> User | None:
    row = await info.context.loaders.user.load(user_id)
    return user_object(row, info.context.viewer) if row is not None else None


@strawberry.type(
    name="DuplicateCandidate",
    description="Two patients of the organization who are likely one person, with the score "
    "and the reasons (a Carebook addition).",
)
class DuplicateCandidate(DisclosesUsers):
    """A recorded pair (duplicates/models.py): both patients' data."""

    row: strawberry.Private[DuplicatePair]

    def disclosed_user_ids(self) -> list[int | None]:
        """The pair says two patients are alike: it is both patients' data."""
        return [self.row.user_id, self.row.other_user_id]

    @strawberry.field(description="The unique identifier of the candidate pair.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.row.id))

    @strawberry.field(description="How alike the two records are, from 0 to 1 (1: certain).")
    def score(self) -> float:
        return self.row.score

    @strawberry.field(
        description="Why they match, most telling first ('same date of birth', "
        "'phonetic last name', 'first name a nickname of the other', ...)."
    )
    def reasons(self) -> list[str]:
        return self.row.reasons.split(REASON_SEPARATOR)

    @strawberry.field(description="The older record of the two (the lower id).")
    @audited
    async def user(self, info: Info[Context, None]) -> LazyUser | None:
        return await _user(info, self.row.user_id)

    @strawberry.field(description="The newer record of the two (the higher id).")
    @audited
    async def other_user(self, info: Info[Context, None]) -> LazyUser | None:
        return await _user(info, self.row.other_user_id)

    @strawberry.field(description="When the pair was found (2023-06-05 14:10:00 +0200).")
    def created_at(self, info: Info[Context, None]) -> str:
        return render(self.row.created_at, info.context.zone)

    @strawberry.field(
        description="When a staff member dismissed the pair as two people, else null "
        "(2023-06-05 14:10:00 +0200)."
    )
    def dismissed_at(self, info: Info[Context, None]) -> str | None:
        at = self.row.dismissed_at
        return render(at, info.context.zone) if at is not None else None
