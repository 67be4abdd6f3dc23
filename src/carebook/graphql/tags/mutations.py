"""Tag mutations: createTag, updateTag, deleteTag, bulkApply, removeAppliedTag."""

from typing import Annotated

import strawberry
from strawberry.types import Info

from carebook.graphql.audit.recording import audited
from carebook.graphql.audit.writes import attempted_ids, audited_write
from carebook.graphql.common import require_actor
from carebook.graphql.context import Context
from carebook.graphql.inputs import value_of
from carebook.graphql.payloads import Payload, payload
from carebook.graphql.permissions import IsStaff
from carebook.graphql.tags.inputs import (
    BulkApplyInput,
    CreateTagInput,
    DeleteTagInput,
    RemoveAppliedTagInput,
    UpdateTagInput,
)
from carebook.graphql.tags.types import Tag
from carebook.tags import service

CreateTagParameters = Annotated[
    CreateTagInput | None, strawberry.argument(description="Parameters for createTag.")
]
UpdateTagParameters = Annotated[
    UpdateTagInput | None, strawberry.argument(description="Parameters for updateTag.")
]
DeleteTagParameters = Annotated[
    DeleteTagInput | None, strawberry.argument(description="Parameters for deleteTag.")
]
BulkApplyParameters = Annotated[
    BulkApplyInput | None, strawberry.argument(description="Parameters for bulkApply.")
]
RemoveAppliedTagParameters = Annotated[
    RemoveAppliedTagInput | None,
    strawberry.argument(description="Parameters for removeAppliedTag."),
]


@payload("createTag")
class CreateTagPayload(Payload[Tag], field="tag", about="The created tag."):
    """The new tag, or why none was created."""


@payload("updateTag")
class UpdateTagPayload(Payload[Tag], field="tag", about="The tag."):
    """The renamed tag, or why nothing changed."""


@payload("deleteTag")
class DeleteTagPayload(Payload[Tag], field="tag", about="The deleted tag."):
    """The deleted tag (as it was), or why nothing changed."""


@payload("bulkApply")
class BulkApplyPayload(Payload[list[Tag | None]], field="tags", about="The applied tags."):
    """The applied tags, or why none was applied."""


@payload("removeAppliedTag")
class RemoveAppliedTagPayload(Payload[Tag], field="tag", about="The tag taken off the user."):
    """The removed tag, or why nothing changed."""


@strawberry.type
class TagMutations:
    """Root mutation fields of tags. All are for providers and staff members."""

    @strawberry.mutation(
        description="Create a custom user tag owned by the caller, and apply it to "
        "taggable_user_id when given. A name the caller already has is a message.",
        permission_classes=[IsStaff],
    )
    @audited
    async def createTag(
        self, info: Info[Context, None], input: CreateTagParameters = None
    ) -> CreateTagPayload | None:
        actor, user_id = require_actor(info), value_of(input, "taggable_user_id")
        tagged = attempted_ids([user_id])
        outcome = await audited_write(
            info,
            lambda s: service.create_tag(
                s, actor=actor, name=value_of(input, "name"), taggable_user_id=user_id
            ),
            action="update",
            attempted=tagged,
        )
        return CreateTagPayload.answer(outcome, lambda row: Tag(row=row))

    @strawberry.mutation(description="Update a custom user tag.", permission_classes=[IsStaff])
    @audited
    async def updateTag(
        self, info: Info[Context, None], input: UpdateTagParameters = None
    ) -> UpdateTagPayload | None:
        actor, tag_id = require_actor(info), value_of(input, "id")
        outcome = await audited_write(
            info,
            lambda s: service.update_tag(
                s, actor=actor, tag_id=tag_id, name=value_of(input, "name")
            ),
            action="update",  # the label every carrier of the tag shows
            attempted=(),  # a refused rename changed no one
        )
        return UpdateTagPayload.answer(outcome, lambda row: Tag(row=row))

    @strawberry.mutation(
        description="Delete a custom user tag. It is removed from everyone who carries it; no "
        "user is deleted.",
        permission_classes=[IsStaff],
    )
    @audited
    async def deleteTag(
        self, info: Info[Context, None], input: DeleteTagParameters = None
    ) -> DeleteTagPayload | None:
        actor, tag_id = require_actor(info), value_of(input, "id")
        outcome = await audited_write(
            info,
            lambda s: service.delete_tag(s, actor=actor, tag_id=tag_id),
            action="update",  # the tag is removed from every carrier
            attempted=(),  # a refused delete removed it from no one
        )
        return DeleteTagPayload.answer(outcome, lambda row: Tag(row=row))

    @strawberry.mutation(
        description="Apply selected tags on a specific user. Applying a tag the user already "
        "carries changes nothing. All or nothing.",
        permission_classes=[IsStaff],
    )
    @audited
    async def bulkApply(
        self, info: Info[Context, None], input: BulkApplyParameters = None
    ) -> BulkApplyPayload | None:
        ctx, actor, user_id = info.context, require_actor(info), value_of(input, "taggable_user_id")
        tagged = attempted_ids([user_id])
        outcome = await audited_write(
            info,
            lambda s: service.bulk_apply(
                s,
                actor=actor,
                ids=value_of(input, "ids") or [],
                taggable_user_id=user_id,
                max_ids=ctx.settings.bulk_update_max_ids,
            ),
            action="update",
            attempted=tagged,
        )
        tags: list[Tag | None] | None = None
        if outcome.value is not None:
            tags = [Tag(row=row) for row in outcome.value]
        return BulkApplyPayload(value=tags, messages=outcome.messages)

    @strawberry.mutation(
        description="Remove applied tag on a specific user. Removing a tag the user does not "
        "carry changes nothing.",
        permission_classes=[IsStaff],
    )
    @audited
    async def removeAppliedTag(
        self, info: Info[Context, None], input: RemoveAppliedTagParameters = None
    ) -> RemoveAppliedTagPayload | None:
        actor, user_id = require_actor(info), value_of(input, "taggable_user_id")
        tagged = attempted_ids([user_id])
        outcome = await audited_write(
            info,
            lambda s: service.remove_applied_tag(
                s, actor=actor, tag_id=value_of(input, "id"), taggable_user_id=user_id
            ),
            action="update",
            attempted=tagged,
        )
        return RemoveAppliedTagPayload.answer(outcome, lambda row: Tag(row=row))
