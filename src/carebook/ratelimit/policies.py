"""Which limits protect signing in and signing up, from the settings."""

from __future__ import annotations

from carebook.config import Settings
from carebook.ratelimit.service import Limit


def sign_in_account(settings: Settings) -> Limit:
    """Sign-in attempts per email that did not succeed (unknown emails count the same)."""
    return Limit(
        "sign_in_account",
        settings.sign_in_account_limit,
        settings.sign_in_account_window_seconds,
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
