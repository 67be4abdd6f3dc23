"""DataLoaders, one per relationship, created per request and sharing its read session."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from strawberry.dataloader import DataLoader

from carebook.organizations.models import Organization
from carebook.user_groups.models import UserGroup
from carebook.users import queries
from carebook.users.models import User

if TYPE_CHECKING:
    from carebook.graphql.context import Context


class Loaders:
    """The request's loaders. Keys are only ever ids reached through visible records."""

    def __init__(self, context: Context) -> None:
        self._context = context
        self.user = DataLoader[int, User | None](load_fn=self._users)
        self.group = DataLoader[int, UserGroup | None](load_fn=self._groups)
        self.care_team_ids = DataLoader[int, list[int]](load_fn=self._care_team_ids)
        self.organization = DataLoader[int, Organization | None](load_fn=self._organizations)

    async def _users(self, ids: Sequence[int]) -> list[User | None]:
        return await self._context.read(lambda s: queries.load_users(s, ids))

    async def _groups(self, ids: Sequence[int]) -> list[UserGroup | None]:
        return await self._context.read(lambda s: queries.load_groups(s, ids))

    async def _organizations(self, ids: Sequence[int]) -> list[Organization | None]:
        return await self._context.read(lambda s: queries.load_organizations(s, ids))

    async def _care_team_ids(self, ids: Sequence[int]) -> list[list[int]]:
        return await self._context.read(lambda s: queries.load_care_team_ids(s, ids))
