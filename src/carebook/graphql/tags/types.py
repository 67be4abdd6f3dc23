"""The Tag object."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from carebook.graphql.audit.recording import audited
from carebook.graphql.audit.subjects import DisclosesUsers
from carebook.graphql.context import Context
from carebook.graphql.limits.rows import capped
from carebook.graphql.users.ref import LazyUser, user_object
from carebook.tags.models import AppliedTag as AppliedTagRow
from carebook.tags.models import Tag as TagRow
from carebook.times import render
from carebook.users.models import User as UserRow

if TYPE_CHECKING:
    from carebook.graphql.users.types import User
# User and Tag refer to each other (User.active_tags, Tag.tagged_users): resolved lazily.

TAGGED_USERS_PAGE_SIZE = 10


def _user(row: UserRow, info: Info[Context, None]) -> User:
    return user_object(row, info.context.viewer)


@strawberry.type(name="Tag", description="A custom tag that can be applied on a user.")
class Tag(DisclosesUsers):
    """Healthie's Tag: owned by a provider/staff account, listed for the whole organization."""

    row: strawberry.Private[TagRow]
    # The user this tag was listed as applied to (User.active_tags, tags(user_id:)): the tag is
    # then that user's data. None for a tag listed for the organization.
    applied_to: strawberry.Private[int | None] = None

    def disclosed_user_ids(self) -> list[int | None]:
        """A tag listed on someone is their data; the organization's list of tags is not."""
        return [self.applied_to]

    @strawberry.field(description="The unique identifier of the tag.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.row.id))

    @strawberry.field(description="A human-readable name of the tag.")
    def name(self) -> str:
        return self.row.name

    @strawberry.field(description="The time when the tag was created (2023-06-05 14:10:00 +0200).")
    def created_at(self, info: Info[Context, None]) -> str:
        return render(self.row.created_at, info.context.zone)

    @strawberry.field(description="The last time the tag was updated (2023-06-05 14:10:00 +0200).")
    def updated_at(self, info: Info[Context, None]) -> str:
        return render(self.row.updated_at, info.context.zone)

    @strawberry.field(description="The provider/staff account that created (owns) the tag.")
    @audited
    async def user(self, info: Info[Context, None]) -> LazyUser | None:
        row = await info.context.loaders.user.load(self.row.user_id)
        return _user(row, info) if row is not None else None

    @strawberry.field(description="The full name of the user who created the tag.")
    async def added_by(self, info: Info[Context, None]) -> str | None:
        row = await info.context.loaders.user.load(self.row.user_id)
        return f"{row.first_name} {row.last_name}".strip() if row is not None else None

    @strawberry.field(
        description="The array of tagged users (patients and organization members), by last "
        "name. A patient sees only themselves."
    )
    @audited
    @capped("Tag.tagged_users", "ask for pages (should_paginate: true with offset)")
    async def tagged_users(
        self,
        info: Info[Context, None],
        offset: Annotated[
            int | None,
            strawberry.argument(description="The pagination offset (if pagination required)."),
        ] = None,
        should_paginate: Annotated[
            bool | None,
            strawberry.argument(
                description=f"Require pagination of tagged users ({TAGGED_USERS_PAGE_SIZE} a page)."
            ),
        ] = False,
    ) -> list[LazyUser] | None:
        # Only the rows up to this page's end (or one past the cap: @capped refuses a longer
        # list) are read, and only their ids.
        start = max(offset or 0, 0) if should_paginate else 0
        end = (
            start + TAGGED_USERS_PAGE_SIZE
            if should_paginate
            else info.context.settings.nested_list_max_rows + 1
        )
        ids = await info.context.loaders.tagged_user_ids.load((self.row.id, end))
        ids = ids[start:end]
        found = await info.context.loaders.user.load_many(ids)
        rows = [row for row in found if row is not None]
        actor = info.context.actor
        if actor is None or actor.is_patient:
            rows = [row for row in rows if actor is not None and row.id == actor.user_id]
        return [_user(row, info) for row in rows]

    async def _counts(self, info: Info[Context, None], name: str) -> int | None:
        actor = info.context.actor
        if actor is None or not actor.is_staff:  # how many carry a tag is the practice's business
            return None
        counts = await info.context.loaders.tag_counts.load(self.row.id)
        return int(getattr(counts, name))

    @strawberry.field(
        description="The number of active patients who have the tag (null for patients)."
    )
    async def active_users_count(self, info: Info[Context, None]) -> int | None:
        return await self._counts(info, "active_users")

    @strawberry.field(
        description="The number of archived patients who have the tag (null for patients)."
    )
    async def archived_users_count(self, info: Info[Context, None]) -> int | None:
        return await self._counts(info, "archived_users")

    @strawberry.field(
        description="The number of org members (providers, staff) who have the tag (null for "
        "patients)."
    )
    async def org_members_count(self, info: Info[Context, None]) -> int | None:
        return await self._counts(info, "org_members")


@strawberry.type(name="AppliedTag", description="A tag applied to a user")
class AppliedTag(DisclosesUsers):
    """Healthie's AppliedTag: one application of a tag to a user, kept after its removal."""

    row: strawberry.Private[AppliedTagRow]
    # The tag, read with the record (None once the tag was deleted).
    tag_row: strawberry.Private[TagRow | None]

    def disclosed_user_ids(self) -> list[int | None]:
        """Which tags someone carries is their data."""
        return [self.row.user_id]

    @strawberry.field(description="The unique identifier of the applied tag")
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.row.id))

    @strawberry.field(description="The time the tag was applied (2023-06-05 14:10:00 +0200)")
    def created_at(self, info: Info[Context, None]) -> str:
        return render(self.row.created_at, info.context.zone)

    @strawberry.field(
        description="The time the applied tag was last updated, its removal once removed "
        "(2023-06-05 14:10:00 +0200)"
    )
    def updated_at(self, info: Info[Context, None]) -> str:
        return render(self.row.updated_at, info.context.zone)

    @strawberry.field(description="The unique identifier of the tag (null once it was deleted)")
    def tag_id(self) -> str | None:
        return str(self.row.tag_id) if self.row.tag_id is not None else None

    @strawberry.field(description="The tag applied (null once it was deleted)")
    @audited
    async def tag(self, info: Info[Context, None]) -> Tag | None:
        return Tag(row=self.tag_row, applied_to=self.row.user_id) if self.tag_row else None

    @strawberry.field(description="The ID of the tagged user")
    def user_id(self) -> str | None:
        return str(self.row.user_id)

    @strawberry.field(description="The tagged user")
    @audited
    async def user(self, info: Info[Context, None]) -> LazyUser | None:
        row = await info.context.loaders.user.load(self.row.user_id)
        return _user(row, info) if row is not None else None
