"""Rate limits of signIn, signUp, anonymous completeCheckout, resetPassword,
validateResetPasswordToken and sendTestWebhook, as GraphQL applies them.

Over a limit, the field executes nothing: the answer is a RATE_LIMITED error with
``extensions.retry_after`` (seconds), HTTP status 429 and a ``Retry-After`` header.
"""

from __future__ import annotations

from typing import Any, NoReturn

from carebook.checkout.inputs import CheckoutRequest
from carebook.client_address import client_address as web_client_address
from carebook.client_address import rate_limit_subject
from carebook.errors import Invalid
from carebook.graphql.context import Context
from carebook.graphql.errors import RATE_LIMITED, CodedError
from carebook.ratelimit import guard, policies, sign_in_throttle
from carebook.ratelimit.guard import Check
from carebook.ratelimit.service import Verdict
from carebook.ratelimit.sign_in_throttle import SignInAttempt
from carebook.users.inputs import SignUp
from carebook.users.validation import email_key, parse_id

# One message for every limit: which one tripped says nothing about whether an email exists.
TOO_MANY = "Too many attempts; try again in {seconds} seconds."


def client_address(context: Context) -> str:
    """The caller's address as per-address limits count it: an IPv6 client by its /64.

    The audit trail still records the full address (carebook.client_address).
    """
    return rate_limit_subject(web_client_address(context.request) or "unknown")


async def before_sign_in(context: Context, email: str | None) -> SignInAttempt:
    """Count a sign-in attempt; refuse it, checking no password, when it must wait.

    Per address (fixed windows) and per email with backoff for the addresses that failed for it
    (carebook.ratelimit.sign_in_throttle). Emails are counted whether or not an account has
    them, so a refusal says nothing about whether one exists. Returns the attempt, to be passed
    to :func:`after_sign_in`.
    """
    attempt = SignInAttempt(email_key(email), client_address(context))
    await context.end_read_transaction()  # the counters are written in their own transaction
    refused = await sign_in_throttle.claim(
        context.database,
        secret=context.settings.secret_key,
        address_limit=policies.sign_in_address(context.settings),
        account=policies.sign_in_account(context.settings),
        attempt=attempt,
    )
    if refused is not None:
        _refuse(context, refused)
    return attempt


async def after_sign_in(context: Context, attempt: SignInAttempt, *, succeeded: bool) -> None:
    """A successful sign-in takes its address's failures off the email's count."""
    if succeeded:
        await sign_in_throttle.succeeded(
            context.database,
            secret=context.settings.secret_key,
            address_limit=policies.sign_in_address(context.settings),
            account=policies.sign_in_account(context.settings),
            attempt=attempt,
        )


async def before_sign_up(context: Context, fields: SignUp) -> None:
    """Count a sign-up attempt per client address, email and target; refuse when over a limit.

    Counted from the input as given, before anything is looked up, so a refusal says nothing
    about whether the email or the provider exists.
    """
    address = Check(policies.sign_up_address(context.settings), client_address(context))
    target = fields.invite_code or fields.dietitian_id
    await _attempt(context, [address, *_enrollment_checks(context, fields.email, target)])


async def before_checkout(context: Context, fields: CheckoutRequest) -> None:
    """Count an anonymous checkout per client address, email and provider (as for signUp)."""
    if context.actor is not None:  # a signed-in patient books for themselves
        return
    address = Check(policies.checkout_address(context.settings), client_address(context))
    checks = _enrollment_checks(context, fields.email, fields.provider_id)
    await _attempt(context, [address, *checks])


async def before_reset_password(context: Context, email: str | None) -> None:
    """Count a resetPassword request per client address and per email, as given (an unknown
    email counts the same, so a refusal says nothing about an account)."""
    checks = [Check(policies.reset_password_address(context.settings), client_address(context))]
    key = email_key(email) if email else None
    if key:
        checks.append(Check(policies.reset_password_email(context.settings), key))
    await _attempt(context, checks)


async def before_reset_token_check(context: Context) -> None:
    """Count a validateResetPasswordToken query per client address (the /reset_password page
    counts its loads under the same limit, carebook.web.set_password)."""
    limit = policies.reset_token_check_address(context.settings)
    await _attempt(context, [Check(limit, client_address(context))])


async def before_send_test_webhook(context: Context, organization_id: int) -> None:
    """Count a sendTestWebhook call against its organization's limit."""
    limit = policies.send_test_webhook_organization(context.settings)
    await _attempt(context, [Check(limit, f"organization-{organization_id}")])


def _enrollment_checks(context: Context, email: Any, target: Any) -> list[Check]:
    """The per-email and per-target checks of an anonymous enrollment, where given."""
    checks = []
    key = email_key(str(email)) if email else None
    if key:
        checks.append(Check(policies.enrollment_email(context.settings), key))
    subject = _target_key(target)
    if subject:
        checks.append(Check(policies.enrollment_target(context.settings), subject))
    return checks


def _target_key(target: Any) -> str:
    """How a provider id or an invite code is counted: as the services will read it.

    Case and spaces do not make a new one, nor do leading zeros: "01" and "001" are provider 1
    to the services (parse_id), so they must be provider 1 here too, or each spelling would get
    a fresh allowance (issue 22). What is not a valid id (an invite code) is counted as typed.
    """
    text = str(target).strip().lower() if target else ""
    try:
        number = parse_id(text, "id")
    except Invalid:
        return text
    return str(number) if number is not None else text


async def _attempt(context: Context, checks: list[Check]) -> None:
    await context.end_read_transaction()  # the counters are written in their own transaction
    refused = await guard.attempt(
        context.database, secret=context.settings.secret_key, checks=checks
    )
    if refused is not None:
        _refuse(context, refused)


def _refuse(context: Context, refused: Verdict) -> NoReturn:
    """Answer 429 with Retry-After: the same for every limit and every email."""
    if context.response is not None:
        context.response.status_code = 429
        context.response.headers["Retry-After"] = str(refused.retry_after)
    raise CodedError(
        TOO_MANY.format(seconds=refused.retry_after),
        RATE_LIMITED,
        retry_after=refused.retry_after,
    )
