"""Rate limits of signIn and signUp, as the GraphQL layer applies them.

Over a limit, the mutation executes nothing: the answer is a RATE_LIMITED error with
``extensions.retry_after`` (seconds), HTTP status 429 and a ``Retry-After`` header.
"""

from __future__ import annotations

from carebook.graphql.context import Context
from carebook.graphql.errors import RATE_LIMITED, CodedError
from carebook.ratelimit import guard, policies
from carebook.ratelimit.guard import Check
from carebook.users.validation import email_key
from carebook.web.client_address import client_address as web_client_address

# One message for every limit: which one tripped says nothing about whether an email exists.
TOO_MANY = "Too many attempts; try again in {seconds} seconds."


def client_address(context: Context) -> str:
    """The caller's address, as the audit trail records it (see carebook.web.client_address)."""
    return web_client_address(context.request) or "unknown"


async def before_sign_in(context: Context, email: str | None) -> Check | None:
    """Count a sign-in attempt per address and per email; refuse when over a limit.

    The attempt is counted against the email before the password is checked (and forgotten
    after a success), so parallel guesses cannot overtake the count. Emails are counted whether
    or not an account has them, so a refusal says nothing about whether one exists. Returns the
    per-account check, to be passed to :func:`after_sign_in`.
    """
    settings = context.settings
    account = None
    key = email_key(email)
    if key:
        account = Check(policies.sign_in_account(settings), key)
    address = Check(policies.sign_in_address(settings), client_address(context))
    await _attempt(context, [c for c in (account, address) if c is not None])
    return account


async def after_sign_in(context: Context, account: Check | None, *, succeeded: bool) -> None:
    """A successful sign-in ends its account's count of failed attempts."""
    if succeeded and account is not None:
        await guard.forget(context.database, secret=context.settings.secret_key, check=account)


async def before_sign_up(context: Context) -> None:
    """Count a sign-up attempt per client address; refuse when over the limit."""
    address = Check(policies.sign_up_address(context.settings), client_address(context))
    await _attempt(context, [address])


async def _attempt(context: Context, checks: list[Check]) -> None:
    await context.end_read_transaction()  # the counters are written in their own transaction
    refused = await guard.attempt(
        context.database, secret=context.settings.secret_key, checks=checks
    )
    if refused is None:
        return
    if context.response is not None:
        context.response.status_code = 429
        context.response.headers["Retry-After"] = str(refused.retry_after)
    raise CodedError(
        TOO_MANY.format(seconds=refused.retry_after),
        RATE_LIMITED,
        retry_after=refused.retry_after,
    )
