"""Root field dismissDuplicateCandidate (a Carebook addition)."""

import strawberry
from strawberry.types import Info

from carebook.duplicates import service
from carebook.graphql.audit.recording import audited
from carebook.graphql.audit.writes import attempted_ids, audited_write
from carebook.graphql.common import require_actor
from carebook.graphql.context import Context
from carebook.graphql.duplicates.types import DuplicateCandidate
from carebook.graphql.payloads import Payload, payload
from carebook.graphql.permissions import IsStaff


@strawberry.input(
    name="dismissDuplicateCandidateInput",
    description="Parameters for dismissDuplicateCandidate.",
)
class DismissDuplicateCandidateInput:
    """Which pair is two different people."""

    id: strawberry.ID | None = strawberry.field(
        default=None, description="The id of the candidate pair (DuplicateCandidate.id)."
    )


@payload("dismissDuplicateCandidate")
class DismissDuplicateCandidatePayload(
    Payload[DuplicateCandidate], field="duplicate_candidate", about="The dismissed pair."
):
    """The dismissed pair, or why nothing changed."""


@strawberry.type
class DuplicateMutations:
    """Root mutation fields of duplicate detection."""

    @strawberry.mutation(
        description="Mark a candidate pair as two different people, for good: no later check "
        "or scan lists it again (a Carebook addition). Providers and staff only.",
        permission_classes=[IsStaff],
    )
    @audited
    async def dismissDuplicateCandidate(
        self, info: Info[Context, None], input: DismissDuplicateCandidateInput | None = None
    ) -> DismissDuplicateCandidatePayload | None:
        actor = require_actor(info)
        pair_id = input.id if input is not None else None
        outcome = await audited_write(
            info,
            lambda s: service.dismiss_pair(s, actor=actor, pair_id=pair_id),
            action="update",
            attempted=attempted_ids([]),
        )
        return DismissDuplicateCandidatePayload.answer(
            outcome, lambda row: DuplicateCandidate(row=row)
        )
