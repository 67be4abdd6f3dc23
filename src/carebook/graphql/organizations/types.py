"""The Organization object."""

import strawberry

from carebook.organizations.models import Organization as OrganizationRow


@strawberry.type(name="Organization", description="A practice: its providers, staff and patients.")
class Organization:
    """Healthie's Organization (the fields that concern patient management)."""

    id: strawberry.ID = strawberry.field(description="The unique identifier of the organization.")
    name: str | None = strawberry.field(description="The name of the organization.")

    @classmethod
    def from_row(cls, row: OrganizationRow) -> "Organization":
        """Build from the ORM row."""
        return cls(id=strawberry.ID(str(row.id)), name=row.name)
