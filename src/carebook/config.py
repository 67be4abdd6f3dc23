"""Settings, read from ``CAREBOOK_*`` environment variables.

Settings are built once by the entry point (CLI or test) and passed down; nothing reads the
environment at import time, so tests can run several differently configured apps in one process.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./carebook.db"


class Settings(BaseSettings):
    """Every knob of a Carebook server."""

    model_config = SettingsConfigDict(env_prefix="CAREBOOK_", extra="ignore")

    database_url: str = Field(
        DEFAULT_DATABASE_URL,
        description="SQLAlchemy async URL (sqlite+aiosqlite or postgresql+asyncpg).",
    )
    database_pool_size: int = Field(10, description="Connections kept per process (PostgreSQL).")
    sqlite_cache_mib: int = Field(64, description="SQLite page cache per connection, MiB.")
    sqlite_mmap_mib: int = Field(1024, description="SQLite memory-mapped I/O window, MiB.")
    smtp_url: str | None = Field(None, description="smtp://user:pass@host:port for email delivery.")
    email_from: str = Field("Carebook <no-reply@carebook.local>", description="Sender of emails.")
    secret_key: str = Field("change-me", description="Secret used to derive signed values.")
    public_base_url: str = Field("http://127.0.0.1:8000", description="Base of emailed links.")
    session_ttl_hours: int = Field(24 * 14, description="Lifetime of a signIn token, in hours.")
    signup_token_ttl_hours: int = Field(
        24 * 14, description="Lifetime of an invitation's set-password link, in hours."
    )
    email_max_attempts: int = Field(6, description="Delivery attempts before an email fails.")
    email_retry_base_seconds: float = Field(
        30.0, description="First retry delay of a temporary SMTP failure; doubles each attempt."
    )
    outbox_poll_seconds: float = Field(2.0, description="How often the delivery worker looks.")
    smtp_timeout_seconds: float = Field(30.0, description="Timeout of one SMTP conversation.")
    bulk_update_max_ids: int = Field(1000, description="Maximum ids in one bulkUpdateClients call.")
    production: bool = Field(False, description="Mask internal errors and hide GraphiQL.")
    graphiql: bool = Field(True, description="Serve GraphiQL on GET /graphql.")
    # Argon2id cost parameters: OWASP's recommended minimum by default; tests lower them.
    argon2_time_cost: int = Field(2, description="Argon2id iterations.")
    argon2_memory_cost_kib: int = Field(19 * 1024, description="Argon2id memory, KiB.")
    argon2_parallelism: int = Field(1, description="Argon2id lanes.")

    @property
    def session_ttl(self) -> timedelta:
        """How long a session token stays valid after signIn/signUp."""
        return timedelta(hours=self.session_ttl_hours)

    @property
    def signup_token_ttl(self) -> timedelta:
        """How long an invitation's set-password link stays valid."""
        return timedelta(hours=self.signup_token_ttl_hours)

    @property
    def is_sqlite(self) -> bool:
        """True when the configured database is SQLite."""
        return self.database_url.startswith("sqlite")
