"""Checks of a server's settings before it serves anyone.

The secret key signs the set-password links of invitations: with the default one, anyone who
reads the signup token table (a leaked backup, say) can compute a working link and take over an
invited patient's account. In production mode the server refuses to start with it; elsewhere
(development, tests, the demo) it starts and says so in the log.

Likewise the test payment provider accepts any card: a production server named with it would
hand out paid bookings for free, so it refuses to start.
"""

from __future__ import annotations

import logging

from carebook.config import TEST_PAYMENT_PROVIDER, Settings

logger = logging.getLogger("carebook")

DEFAULT_SECRET_KEY = str(Settings.model_fields["secret_key"].default)
PROBLEM = (
    f"CAREBOOK_SECRET_KEY is the default ('{DEFAULT_SECRET_KEY}') or blank: anyone who knows it"
    " can forge set-password links."
)
REMEDY = (
    "Set CAREBOOK_SECRET_KEY to a long random value, e.g. the output of"
    ' python -c "import secrets; print(secrets.token_urlsafe(32))", and keep it secret.'
)


class UnsafeSettings(RuntimeError):
    """Settings a production server must not start with."""


def check_secret_key(settings: Settings) -> None:
    """Raise :class:`UnsafeSettings` in production when the secret key is the default (or
    blank); log a warning outside production."""
    if settings.secret_key.strip() not in ("", DEFAULT_SECRET_KEY):
        return
    if settings.production:
        raise UnsafeSettings(f"{PROBLEM} Refusing to start in production mode. {REMEDY}")
    logger.warning("%s Fine for development; not for real patients. %s", PROBLEM, REMEDY)


def check_payment_provider(settings: Settings) -> None:
    """Raise :class:`UnsafeSettings` in production when the payment provider is the test one."""
    if settings.production and settings.payment_provider == TEST_PAYMENT_PROVIDER:
        raise UnsafeSettings(
            f"CAREBOOK_PAYMENT_PROVIDER={TEST_PAYMENT_PROVIDER} accepts any card: refusing to "
            "start in production mode. Name your processor's factory (package.module:factory, "
            "see docs/api.md), or leave it unset to refuse paid checkouts."
        )


def check_metrics_token(settings: Settings) -> None:
    """Raise :class:`UnsafeSettings` when metrics are on without a token: /metrics is never
    open to anyone who can reach the port (it names operations, error codes and queue depths)."""
    if settings.metrics and not settings.metrics_token.strip():
        raise UnsafeSettings(
            "CAREBOOK_METRICS is on but CAREBOOK_METRICS_TOKEN is empty: set a long random "
            "token (the scraper sends it as Authorization: Bearer ...), or turn metrics off."
        )


def check_read_url(settings: Settings) -> None:
    """Raise :class:`UnsafeSettings` when CAREBOOK_DATABASE_READ_URL is set for SQLite (the
    settings refuse it too; ``--database-url`` is applied after they were checked)."""
    problem = settings.read_url_problem
    if problem is not None:
        raise UnsafeSettings(f"{problem}.")
