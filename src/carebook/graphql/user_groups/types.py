"""The UserGroup object (as far as the patient record needs it)."""

from __future__ import annotations

import strawberry

from carebook.user_groups.models import UserGroup as UserGroupRow


@strawberry.type(name="UserGroup", description="A group of patients inside an organization.")
class UserGroup:
    """Healthie's UserGroup."""

    id: strawberry.ID = strawberry.field(description="The unique identifier of the group.")
    name: str | None = strawberry.field(description="The name of the group.")
    invite_code: str | None = strawberry.field(
        description="Code that puts a patient who signs up with it into this group."
    )
    created_at: str = strawberry.field(description="When the group was created (ISO 8601).")

    @classmethod
    def from_row(cls, row: UserGroupRow) -> UserGroup:
        """Build from the ORM row."""
        return cls(
            id=strawberry.ID(str(row.id)),
            name=row.name,
            invite_code=row.invite_code,
            created_at=row.created_at.isoformat(),
        )
