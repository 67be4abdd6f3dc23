"""Which limits protect signing in, signing up and password resets, from the settings."""

from __future__ import annotations

from carebook.config import Settings
from carebook.ratelimit.backoff import Backoff
from carebook.ratelimit.service import Limit


def sign_in_account(settings: Settings) -> Backoff:
    """Failed sign-ins per email, from every address (unknown emails count the same).

    A backoff, not a lock-out: it holds back only addresses that failed for the email
    (carebook.ratelimit.sign_in_throttle).
    """
    return Backoff(
        "sign_in_failures",
        free=settings.sign_in_account_limit,
        base_seconds=settings.sign_in_backoff_base_seconds,
        max_seconds=settings.sign_in_backoff_max_seconds,
        forget_seconds=settings.sign_in_account_window_seconds,
    )


def sign_in_address(settings: Settings) -> Limit:
    """Every sign-in attempt per client address."""
    return Limit(
        "sign_in_address",
        settings.sign_in_address_limit,
        settings.sign_in_address_window_seconds,
    )


def sign_up_address(settings: Settings) -> Limit:
    """Every sign-up attempt per client address."""
    return Limit(
        "sign_up_address",
        settings.sign_up_address_limit,
        settings.sign_up_address_window_seconds,
    )


def checkout_address(settings: Settings) -> Limit:
    """Every anonymous completeCheckout attempt per client address."""
    return Limit(
        "checkout_address",
        settings.checkout_address_limit,
        settings.checkout_address_window_seconds,
    )


def enrollment_email(settings: Settings) -> Limit:
    """Anonymous signUp and completeCheckout attempts per email, counted together."""
    return Limit(
        "enrollment_email",
        settings.enrollment_email_limit,
        settings.enrollment_email_window_seconds,
    )


def enrollment_target(settings: Settings) -> Limit:
    """Anonymous signUp and completeCheckout attempts per provider id or invite code."""
    return Limit(
        "enrollment_target",
        settings.enrollment_target_limit,
        settings.enrollment_target_window_seconds,
    )


def reset_password_address(settings: Settings) -> Limit:
    """resetPassword requests per client address."""
    return Limit(
        "reset_password_address",
        settings.reset_password_address_limit,
        settings.reset_password_address_window_seconds,
    )


def reset_password_email(settings: Settings) -> Limit:
    """resetPassword requests per email (known or not), from every address."""
    return Limit(
        "reset_password_email",
        settings.reset_password_email_limit,
        settings.reset_password_email_window_seconds,
    )


def reset_token_check_address(settings: Settings) -> Limit:
    """Checks of a reset link's token (validateResetPasswordToken, the page) per address."""
    return Limit(
        "reset_token_check_address",
        settings.reset_token_check_address_limit,
        settings.reset_token_check_address_window_seconds,
    )


def send_test_webhook_organization(settings: Settings) -> Limit:
    """sendTestWebhook calls per organization, by all its staff together."""
    return Limit(
        "send_test_webhook_organization",
        settings.send_test_webhook_limit,
        settings.send_test_webhook_window_seconds,
    )
