"""The User type as the other types refer to it, without importing its module.

The API's types form a graph with cycles (a User has Locations, a Location has its User), so the
modules that define them cannot all import each other. Strawberry's answer is a lazy reference,
resolved by name once every module is loaded: ``LazyUser`` in annotations, :func:`user_object`
to build one. This is the only place that names the User type's module for that purpose.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types.lazy_type import LazyType

from carebook.auth.actor import Actor
from carebook.users.models import User as UserRow

if TYPE_CHECKING:
    from carebook.graphql.users.types import User

_MODULE = "carebook.graphql.users.types"

LazyUser = Annotated["User", strawberry.lazy(_MODULE)]

_USER: LazyType[str, str] = LazyType("User", _MODULE)


def user_object(row: UserRow, viewer: Actor | None) -> User:
    """The GraphQL User of ``row`` as ``viewer`` sees it (the User type's own constructor)."""
    built: User = _USER.resolve_type()(row=row, viewer=viewer)
    return built
