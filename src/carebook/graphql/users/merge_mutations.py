"""mergeClients (Healthie's) and unmergeClients (Carebook's undo of it)."""

import strawberry
from strawberry.types import Info

from carebook.graphql.audit.recording import audited
from carebook.graphql.audit.writes import attempted_ids, audited_write
from carebook.graphql.common import require_actor
from carebook.graphql.context import Context
from carebook.graphql.inputs import opt, typed, value_of
from carebook.graphql.payloads import MessagesFirst, payload
from carebook.graphql.permissions import IsStaff
from carebook.graphql.users.types import User, user_or_none
from carebook.merges import service
from carebook.merges.inputs import MergeClients

MERGE_DOC = (
    "Merge duplicate clients: everything that belongs to the merged clients (tags, care team, "
    "addresses, appointments, conversations, form requests, notifications, payments) moves to "
    "the target, whose profile stays as it is but for target_email; the merged clients are "
    "archived. Undo with unmergeClients within CAREBOOK_MERGE_UNDO_DAYS (30 days)."
)


@strawberry.input(name="mergeClientsInput", description="Parameters for mergeClients.")
class MergeClientsInput:
    """The clients to merge and the one that remains."""

    ids: list[strawberry.ID | None] | None = opt(
        "The clients to merge (the target among them or not); at most 20 besides the target."
    )
    target_email: str | None = opt(
        "The email the remaining client gets; a merged client who has it gives it up."
    )
    target_user_id: strawberry.ID | None = opt("Required. The client that remains.")


@strawberry.input(name="unmergeClientsInput", description="Parameters for unmergeClients.")
class UnmergeClientsInput:
    """The merge to undo, named by one of the clients it merged away."""

    id: strawberry.ID | None = opt(
        "Required. A client that mergeClients archived; the whole merge that did is undone."
    )


@payload("mergeClients")
class MergeClientsPayload(MessagesFirst[User], field="user", about="The remaining client."):
    """The client that remains, or why nothing was merged."""


@payload("unmergeClients")
class UnmergeClientsPayload(
    MessagesFirst[list[User | None]],
    field="users",
    about="The clients of the merge, as they are again: the target first.",
):
    """The clients of the undone merge, or why nothing changed."""


@strawberry.type
class MergeMutations:
    """Root mutation fields that merge duplicate patients and undo a merge."""

    @strawberry.mutation(description=MERGE_DOC, permission_classes=[IsStaff])
    @audited
    async def mergeClients(
        self, info: Info[Context, None], input: MergeClientsInput | None = None
    ) -> MergeClientsPayload | None:
        actor = require_actor(info)
        fields = typed(MergeClients, input)
        outcome = await audited_write(
            info,
            lambda s: service.merge_clients(s, actor=actor, fields=fields),
            action="merge",
            attempted=attempted_ids(
                [fields.target_user_id, *list(fields.ids or [])[: service.MAX_MERGED + 1]]
            ),
        )
        return MergeClientsPayload(
            value=user_or_none(outcome.value, info.context.viewer), messages=outcome.messages
        )

    @strawberry.mutation(
        description="Undo a mergeClients (a Carebook addition): the rows it moved go back to "
        "the clients they came from and the merged clients are active again, within "
        "CAREBOOK_MERGE_UNDO_DAYS (30 days) of the merge.",
        permission_classes=[IsStaff],
    )
    @audited
    async def unmergeClients(
        self, info: Info[Context, None], input: UnmergeClientsInput | None = None
    ) -> UnmergeClientsPayload | None:
        ctx, actor = info.context, require_actor(info)
        user_id = value_of(input, "id")
        outcome = await audited_write(
            info,
            lambda s: service.unmerge_clients(
                s, actor=actor, user_id=user_id, undo_days=ctx.settings.merge_undo_days
            ),
            action="unmerge",
            attempted=attempted_ids([user_id]),
        )
        users: list[User | None] | None = None
        if outcome.value is not None:
            users = [User(row=row, viewer=ctx.viewer) for row in outcome.value]
        return UnmergeClientsPayload(value=users, messages=outcome.messages)
