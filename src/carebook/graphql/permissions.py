"""Permissions, declared on every root field (a test fails on a root field without one)."""

from typing import Any

from strawberry.permission import BasePermission
from strawberry.types import Info

from carebook.graphql.context import Context
from carebook.graphql.errors import FORBIDDEN, UNAUTHENTICATED, CodedError

REJECTED = "Invalid, expired or revoked credentials"
SIGN_IN = "You must be signed in to do this (API key or session token)"


def _check_signed_in(context: Context) -> None:
    if context.credentials_rejected:
        raise CodedError(REJECTED, UNAUTHENTICATED)
    if context.actor is None:
        raise CodedError(SIGN_IN, UNAUTHENTICATED)


class AllowAnyone(BasePermission):
    """Open to unauthenticated callers (signUp, signIn, ...). Bad credentials still fail."""

    message = REJECTED

    def has_permission(self, source: Any, info: Info[Context, Any], **kwargs: Any) -> bool:
        if info.context.credentials_rejected:
            raise CodedError(REJECTED, UNAUTHENTICATED)
        return True


class IsAuthenticated(BasePermission):
    """Any signed-in user: provider, staff member or patient."""

    message = SIGN_IN

    def has_permission(self, source: Any, info: Info[Context, Any], **kwargs: Any) -> bool:
        _check_signed_in(info.context)
        return True


class IsStaff(BasePermission):
    """Providers and staff members only."""

    message = "Only providers and staff members can do this"

    def has_permission(self, source: Any, info: Info[Context, Any], **kwargs: Any) -> bool:
        _check_signed_in(info.context)
        actor = info.context.actor
        if actor is None or not actor.is_staff:
            raise CodedError(self.message, FORBIDDEN)
        return True


ROOT_PERMISSIONS = (AllowAnyone, IsAuthenticated, IsStaff)
