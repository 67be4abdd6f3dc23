"""validateResetPasswordToken: whether a password-reset link still works."""

from typing import Annotated

import strawberry
from strawberry.types import Info

from carebook.graphql.context import Context
from carebook.graphql.limits import rate
from carebook.graphql.permissions import AllowAnyone
from carebook.users import password_reset


@strawberry.type
class AuthQueries:
    """Checks of authentication links, open to anyone (the link's holder is not signed in)."""

    @strawberry.field(
        description="Check if a reset password token is valid: unknown, used and expired "
        "tokens answer false.",
        permission_classes=[AllowAnyone],
    )
    async def validateResetPasswordToken(
        self,
        info: Info[Context, None],
        token: Annotated[
            str | None, strawberry.argument(description="The token of the reset link.")
        ] = None,
    ) -> bool | None:
        await rate.before_reset_token_check(info.context)
        return await info.context.read(lambda s: password_reset.validate(s, token))
