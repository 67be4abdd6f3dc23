"""Root fields duplicateCandidates and duplicateCandidatesCount (Carebook additions)."""

from typing import Annotated

import strawberry
from strawberry.types import Info

from carebook.duplicates import queries
from carebook.graphql.audit.recording import audited
from carebook.graphql.common import require_actor
from carebook.graphql.context import Context
from carebook.graphql.duplicates.types import DuplicateCandidate
from carebook.graphql.errors import BAD_USER_INPUT, CodedError
from carebook.graphql.permissions import IsStaff

Offset = Annotated[
    int | None, strawberry.argument(description="How many pairs to skip (default 0).")
]
PageSize = Annotated[
    int | None,
    strawberry.argument(
        description=f"How many pairs to return (1 to {queries.MAX_PAGE_SIZE}; "
        f"default {queries.DEFAULT_PAGE_SIZE})."
    ),
]


def _page(offset: int | None, page_size: int | None) -> tuple[int, int]:
    size = queries.DEFAULT_PAGE_SIZE if page_size is None else page_size
    if not 1 <= size <= queries.MAX_PAGE_SIZE:
        raise CodedError(f"page_size must be between 1 and {queries.MAX_PAGE_SIZE}", BAD_USER_INPUT)
    if offset is not None and offset < 0:
        raise CodedError("offset must not be negative", BAD_USER_INPUT)
    return offset or 0, size


@strawberry.type
class DuplicateQueries:
    """The organization's likely duplicate patients, for its providers and staff."""

    @strawberry.field(
        description="Pairs of the organization's patients who are likely one person, highest "
        "score first; dismissed pairs are not listed (a Carebook addition). Providers and "
        "staff only.",
        permission_classes=[IsStaff],
    )
    @audited
    async def duplicateCandidates(
        self, info: Info[Context, None], offset: Offset = 0, page_size: PageSize = None
    ) -> list[DuplicateCandidate]:
        actor = require_actor(info)
        start, size = _page(offset, page_size)
        rows = await info.context.read(
            lambda s: queries.open_pairs(s, actor, offset=start, limit=size)
        )
        return [DuplicateCandidate(row=row) for row in rows]

    @strawberry.field(
        description="How many pairs duplicateCandidates lists in all (a Carebook addition).",
        permission_classes=[IsStaff],
    )
    async def duplicateCandidatesCount(self, info: Info[Context, None]) -> int:
        actor = require_actor(info)
        return await info.context.read(lambda s: queries.open_pair_count(s, actor))
