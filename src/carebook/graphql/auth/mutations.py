"""Sign-up, sign-in and sign-out."""

from collections.abc import Awaitable

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from carebook.accounts.enrollment import SIGN_UP_EMAIL_UNUSABLE, Attempt
from carebook.accounts.password_reset import ResetPolicy, address_to_reset, request_reset
from carebook.accounts.sign_in import SignedIn, prepare, sign_in
from carebook.accounts.signup import sign_up
from carebook.errors import Invalid
from carebook.graphql.audit.enrollment import answered
from carebook.graphql.audit.recording import audited
from carebook.graphql.audit.writes import audited_write
from carebook.graphql.auth.inputs import (
    ResetPasswordInput,
    RevokeTokenInput,
    SignInInput,
    SignOutInput,
    SignUpInput,
)
from carebook.graphql.common import FieldError, require_actor, write
from carebook.graphql.context import Context
from carebook.graphql.duplicates.checks import recorded
from carebook.graphql.inputs import typed, value_of
from carebook.graphql.limits import rate
from carebook.graphql.payloads import Messages, MessagesOnly, Relay, echo, messages_field, payload
from carebook.graphql.permissions import AllowAnyone, IsAuthenticated
from carebook.graphql.users.types import User
from carebook.users import credentials
from carebook.users.credentials import IssuedToken
from carebook.users.inputs import SignIn, SignUp
from carebook.users.new_password import prehash


@payload("signUp")
class SignUpPayload(Relay):
    """The new user, signed in."""

    user: User | None = strawberry.field(description="The created user.")
    token: str | None = strawberry.field(
        description="Session token: Authorization: Bearer <token>."
    )
    nextRequiredStep: str | None = strawberry.field(
        default=None,
        description="What the new user has to do next: 'onboarding' when their group has an "
        "onboarding flow to go through, else null.",
    )
    messages: Messages = messages_field()


@payload("signIn")
class SignInPayload(Relay):
    """The signed-in user and their token."""

    user: User | None = strawberry.field(description="User info.")
    token: str | None = strawberry.field(description="Token returned for authorization.")
    api_key: str | None = strawberry.field(
        description="API key created when generate_api_token is true (providers/staff)."
    )
    messages: Messages = messages_field()


@payload("signOut", "Return type of signOut (a Carebook addition).")
class SignOutPayload(MessagesOnly):
    """Whether the session ended."""


@payload("revokeToken")
class RevokeTokenPayload(MessagesOnly):
    """Whether the credential was revoked."""


@payload("resetPassword")
class ResetPasswordPayload(MessagesOnly):
    """Nothing but messages: the answer never tells whether the address has an account."""


async def _user_of(
    ctx: Context, issued: IssuedToken | None, *, enrolling: bool = False
) -> User | None:
    if issued is None:
        return None
    # The answer is the signed-in user's own record, whoever called (often nobody yet).
    await ctx.answer_as(issued.user, enrolling=enrolling)
    return User(row=issued.user, viewer=ctx.viewer)


# signUp's nextRequiredStep when the new patient's group has an onboarding flow.
ONBOARDING_STEP = "onboarding"


async def _next_step(ctx: Context, issued: IssuedToken | None) -> str | None:
    """The onboarding flow of the new patient's group, if any, is their next step."""
    if issued is None or issued.user.user_group_id is None:
        return None
    group = await ctx.loaders.group.load(issued.user.user_group_id)
    return ONBOARDING_STEP if group is not None and group.onboarding_flow_id else None


@strawberry.type
class AuthMutations:
    """Root mutation fields of authentication."""

    @strawberry.mutation(
        description="Sign up. role 'patient' joins the practice named by dietitian_id or "
        "invite_code; role 'provider' opens a new practice. Returns a session token.",
        permission_classes=[AllowAnyone],
    )
    @audited
    async def signUp(
        self, info: Info[Context, None], input: SignUpInput | None = None
    ) -> SignUpPayload | None:
        ctx, data = info.context, typed(SignUp, input)
        await rate.before_sign_up(ctx, data)
        # Hashed before the write transaction, which must not hold the write lock meanwhile.
        prehashed = await prehash(ctx.passwords, data.password)
        attempt = Attempt()
        written = await audited_write(
            info,
            lambda s: recorded(
                s,
                sign_up(
                    s,
                    passwords=ctx.passwords,
                    fields=data,
                    ttl=ctx.settings.session_ttl,
                    attempt=attempt,
                    prehashed=prehashed,
                    providers_may_sign_up=ctx.settings.provider_sign_up_enabled,
                ),
                lambda issued: issued.user if isinstance(issued, IssuedToken) else None,
            ),
            action="create",
            aimed_at=attempt,
        )
        outcome = answered(info, written, SIGN_UP_EMAIL_UNUSABLE, action="create")
        issued = outcome.value
        # An anonymous patient sign-up's answer shows nothing of the provider or practice it
        # named by id (users/scoping.py, follows_links).
        enrolling = ctx.actor is None and issued is not None and issued.user.is_patient
        return SignUpPayload(
            user=await _user_of(ctx, issued, enrolling=enrolling),
            token=issued.token if issued else None,
            nextRequiredStep=await _next_step(ctx, issued),
            messages=outcome.messages,
        )

    @strawberry.mutation(
        description="Sign in with email and password; returns a session token. With "
        "reset_token and password instead, sets the password of an invited user from their "
        "signup token (activating the account) and signs them in.",
        permission_classes=[AllowAnyone],
    )
    @audited
    async def signIn(
        self, info: Info[Context, None], input: SignInInput | None = None
    ) -> SignInPayload | None:
        ctx, data = info.context, typed(SignIn, input)
        account = await rate.before_sign_in(ctx, data.email)
        # argon2 runs before the write transaction (accounts/sign_in.py).
        prepared = await prepare(ctx.database, passwords=ctx.passwords, fields=data)

        def work(s: AsyncSession) -> Awaitable[SignedIn]:
            return sign_in(
                s,
                passwords=ctx.passwords,
                fields=data,
                ttl=ctx.settings.session_ttl,
                prepared=prepared,
            )

        if data.reset_token:
            # Setting an invited user's password from their signup token changes their record
            # (and activates it): an update, in the write's transaction, not an anonymous read.
            outcome = await audited_write(
                info,
                work,
                action="update",
            )
        else:
            outcome = await write(ctx, work)
        signed_in = outcome.value
        await rate.after_sign_in(ctx, account, succeeded=signed_in is not None)
        issued = signed_in.issued if signed_in else None
        api_key = signed_in.api_key if signed_in else None
        return SignInPayload(
            user=await _user_of(ctx, issued),
            token=issued.token if issued else None,
            api_key=api_key,
            messages=outcome.messages,
        )

    @strawberry.mutation(
        description="send the human a password reset email: every active account of the "
        "address gets a single-use link. The answer is the same whether or not the address "
        "has an account.",
        permission_classes=[AllowAnyone],
    )
    async def resetPassword(
        self, info: Info[Context, None], input: ResetPasswordInput | None = None
    ) -> ResetPasswordPayload | None:
        ctx, email = info.context, value_of(input, "email")
        await rate.before_reset_password(ctx, email)
        try:
            address = address_to_reset(email)
        except Invalid as problem:
            return ResetPasswordPayload(messages=FieldError.from_messages(problem.messages))
        policy = ResetPolicy.from_settings(ctx.settings)

        async def reset() -> None:
            async with ctx.database.write_sessions() as session, session.begin():
                await request_reset(session, email=address, policy=policy)

        # After the answer: its timing must not tell a known address from an unknown one.
        ctx.after_answer.append(reset)
        return ResetPasswordPayload(messages=None)

    @strawberry.mutation(
        description="End the current session: its token stops working (a Carebook addition).",
        permission_classes=[IsAuthenticated],
    )
    async def signOut(
        self, info: Info[Context, None], input: SignOutInput | None = None
    ) -> SignOutPayload | None:
        actor = require_actor(info)
        outcome = await write(info.context, lambda s: credentials.sign_out(s, actor=actor))
        return SignOutPayload(messages=outcome.messages, clientMutationId=echo(input))

    @strawberry.mutation(
        description="Revoke the token or API key this request was made with.",
        permission_classes=[IsAuthenticated],
    )
    async def revokeToken(
        self, info: Info[Context, None], input: RevokeTokenInput | None = None
    ) -> RevokeTokenPayload | None:
        actor = require_actor(info)
        outcome = await write(info.context, lambda s: credentials.revoke_credential(s, actor=actor))
        return RevokeTokenPayload(messages=outcome.messages, clientMutationId=echo(input))
