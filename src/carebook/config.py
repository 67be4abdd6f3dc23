"""Settings, read from ``CAREBOOK_*`` environment variables.

Settings are built once by the entry point (CLI or test) and passed down; nothing reads the
environment at import time, so tests can run several differently configured apps in one process.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from carebook.client_address import trusted_proxy_list

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./carebook.db"
# The payment provider that accepts any card (carebook.checkout.payments): named, never a default.
TEST_PAYMENT_PROVIDER = "test"
_ORIGIN = re.compile(r"https?://[^/\s,]+")
_PROVIDER_PATH = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*")


class Settings(BaseSettings):
    """Every knob of a Carebook server."""

    # hide_input_in_errors: a model validator's error would otherwise show every setting as
    # its input, the secret key and passwords in URLs among them.
    model_config = SettingsConfigDict(
        env_prefix="CAREBOOK_", extra="ignore", hide_input_in_errors=True
    )

    database_url: str = Field(
        DEFAULT_DATABASE_URL,
        description="SQLAlchemy async URL (sqlite+aiosqlite or postgresql+asyncpg).",
    )
    # At most this many, and every one kept once opened: SQLAlchemy's overflow connections were
    # closed as soon as they went back, so 64 clients had a worker open and close hundreds of
    # connections a second (docs/performance.md, "A pool that kept what it opened").
    database_pool_size: int = Field(
        20,
        ge=1,
        description="Connections per process (PostgreSQL): opened as requests need them, up to "
        "this many, and kept open; a request that finds every one in use waits for one.",
    )
    # Reads that may lag go there (carebook.db.engine: Database.list_sessions); everything that
    # must see the latest commit stays on database_url (docs/production.md, Read replica).
    database_read_url: str | None = Field(
        None,
        description="PostgreSQL streaming replica (postgresql+asyncpg://...) for list and search "
        "reads (users, usersCount, appointments, appointmentsCount); unset: every read on "
        "CAREBOOK_DATABASE_URL. Refused with SQLite.",
    )
    sqlite_cache_mib: int = Field(64, description="SQLite page cache per connection, MiB.")
    sqlite_mmap_mib: int = Field(1024, description="SQLite memory-mapped I/O window, MiB.")
    smtp_url: str | None = Field(None, description="smtp://user:pass@host:port for email delivery.")
    email_from: str = Field("Carebook <no-reply@carebook.local>", description="Sender of emails.")
    secret_key: str = Field("change-me", description="Secret used to derive signed values.")
    public_base_url: str = Field("http://127.0.0.1:8000", description="Base of emailed links.")
    portal_url: str | None = Field(
        None,
        description="Where patients use the practice's own client portal (an app built on this "
        "API); emails link to it. Unset: emails link only to Carebook's own pages.",
    )
    session_ttl_hours: int = Field(24 * 14, description="Lifetime of a signIn token, in hours.")
    signup_token_ttl_hours: int = Field(
        24 * 14, description="Lifetime of an invitation's set-password link, in hours."
    )
    password_reset_ttl_minutes: int = Field(
        60, description="Lifetime of a resetPassword link, in minutes."
    )
    email_max_attempts: int = Field(6, description="Delivery attempts before an email fails.")
    email_retry_base_seconds: float = Field(
        30.0, description="First retry delay of a temporary SMTP failure; doubles each attempt."
    )
    outbox_poll_seconds: float = Field(2.0, description="How often the delivery worker looks.")
    smtp_timeout_seconds: float = Field(30.0, description="Timeout of one SMTP conversation.")
    bulk_update_max_ids: int = Field(1000, description="Maximum ids in one bulkUpdateClients call.")
    merge_undo_days: int = Field(
        30,
        ge=0,
        le=36500,  # a century; more would overflow a date
        description="Days during which unmergeClients can undo a mergeClients.",
    )
    duplicates_block_strong: bool = Field(
        False,
        description="createClient refuses a patient who strongly matches an existing one "
        "(docs/duplicates.md); off: the match is only a warning.",
    )
    production: bool = Field(False, description="Mask internal errors and hide GraphiQL.")
    graphiql: bool = Field(True, description="Serve GraphiQL on GET /graphql.")
    # --- safety switches (docs/production.md, "Safety switches") ---
    # Unset: follows production mode. Anyone who can reach the server could otherwise open a
    # practice on it; an operator's server usually hosts only the practices it creates.
    provider_sign_up: bool | None = Field(
        None,
        description="signUp with role 'provider' opens a new practice: on by default, off by "
        "default when CAREBOOK_PRODUCTION is on (practices then come from the CLI).",
    )
    cors_origins: str = Field(
        "",
        description="Comma-separated origins (scheme://host[:port]) whose browser pages may "
        "call the API; empty (the default) allows none, '*' any.",
    )
    # --- logs (carebook.logs; docs/production.md, "Health and logs") ---
    log_format: Literal["text", "json"] = Field(
        "text", description="Format of the server's log lines (Carebook's and uvicorn's)."
    )
    log_level: str = Field(
        "INFO", description="Level of the server's log (DEBUG, INFO, WARNING, ERROR)."
    )
    access_log: bool = Field(
        True,
        description="One line per HTTP request: request id, method, path, GraphQL operation "
        "name, status, duration (never variables, documents or patient data).",
    )
    # --- metrics and tracing (carebook.web.metrics, carebook.web.tracing; docs/production.md) ---
    metrics: bool = Field(
        False,
        description="Serve Prometheus metrics on GET /metrics (needs metrics_token); off, "
        "/metrics answers 404.",
    )
    metrics_token: str = Field(
        "",
        description="Bearer token a scraper sends to GET /metrics (Authorization: Bearer ...); "
        "required when metrics are on.",
    )
    otel: bool = Field(
        False,
        description="Trace requests and SQL with OpenTelemetry (needs the carebook[otel] extra).",
    )
    payment_provider: str | None = Field(
        None,
        description="Who charges completeCheckout's cards: package.module:factory (called with "
        "these settings, returns a carebook.checkout.payments.PaymentProvider), or 'test' (accepts "
        "any card; tests and demos only). Unset: a checkout with a price is refused.",
    )
    # Argon2id cost parameters: OWASP's recommended minimum by default; tests lower them.
    argon2_time_cost: int = Field(2, description="Argon2id iterations.")
    argon2_memory_cost_kib: int = Field(19 * 1024, description="Argon2id memory, KiB.")
    argon2_parallelism: int = Field(1, description="Argon2id lanes.")
    # --- webhooks and the change feed (issue 25, docs/webhooks.md) ---
    webhook_allow_private_urls: bool = Field(
        False,
        description="Accept http:// webhook URLs and hosts that resolve to loopback, private, "
        "link-local or reserved addresses (tests and closed networks only: it allows SSRF).",
    )
    webhook_signature: Literal["rfc9421", "healthie"] = Field(
        "rfc9421",
        description="How webhook POSTs are signed: 'rfc9421' (HTTP Message Signatures, "
        "HMAC-SHA256, base64), or 'healthie' (the string and hex HMAC of Healthie's own "
        "verification sample, for receivers written against Healthie; docs/webhooks.md).",
    )
    webhook_poll_seconds: float = Field(
        1.0, description="How often each server's webhook delivery worker looks for due events."
    )
    webhook_delivery: Literal["process", "inline"] = Field(
        "process",
        description="Where `carebook serve` delivers webhooks: 'process' (the default), one "
        "child process of its own at a lower CPU priority (requests come first); 'inline', a "
        "task in every server process, sharing its event loop with requests (what an app under "
        "another ASGI server does either way: it has no delivery process; docs/webhooks.md).",
    )
    webhook_delivery_nice: int = Field(
        10,
        ge=0,
        le=19,
        description="How much the delivery process lowers its CPU priority (os.nice; 0 keeps "
        "the server's).",
    )
    webhook_delivery_burst_cpu_share: float = Field(
        0.03,
        gt=0,
        le=1,
        description="While the application writes in a burst (50 events a second or more; "
        "paced for its first 2 minutes), the webhook delivery process claims new deliveries "
        "only while its CPU stays within this share of one core: deliveries come tens of "
        "seconds later (2 minutes at most) and requests keep their speed; 1 turns pacing off "
        "(docs/webhooks.md, 'aiohttp, and a pace during bursts').",
    )
    # The delivery process's own writes (fan-out, claims, records of attempts, and what a
    # failing webhook brings: disabling it, the providers' email, purges of the log) lose
    # nothing that matters to a power cut: a lost claim or record means the event is sent again
    # (delivery is at least once), a lost fan-out is redone from the events, which the server
    # wrote durably, and a lost disable or email comes again with the next failure. Without
    # the fsync its commits run on its event loop and hold SQLite's write lock far shorter,
    # which is what the server's requests wait for (docs/webhooks.md, "Throughput").
    webhook_delivery_sqlite_synchronous: Literal["EXTRA", "FULL", "NORMAL"] = Field(
        "NORMAL",
        description="SQLite PRAGMA synchronous of the webhook delivery process's own writes: "
        "NORMAL (a power cut can undo its last claims and records: those events are sent "
        "again), FULL or EXTRA (as CAREBOOK_SQLITE_SYNCHRONOUS).",
    )
    webhook_connect_timeout_seconds: float = Field(
        5.0, description="Connect timeout of one webhook POST."
    )
    webhook_timeout_seconds: float = Field(
        15.0, description="Total timeout of one webhook POST (connect, send, response)."
    )
    webhook_lease_margin_seconds: float = Field(
        10.0,
        gt=0,
        description="How long a delivery's claim lasts beyond twice the POST's timeout, to "
        "record the outcome; a crashed server's deliveries are sent again after that.",
    )
    # A test send is a POST (up to the timeout above) made on a staff member's request: bounded
    # per organization so that a script cannot turn the server into a request cannon.
    send_test_webhook_limit: int = Field(
        60, description="sendTestWebhook calls per organization per window (0 turns it off)."
    )
    send_test_webhook_window_seconds: int = Field(
        3600, description="Window of the per-organization sendTestWebhook limit, seconds."
    )
    webhook_retry_base_seconds: float = Field(
        30.0,
        description="First retry delay of a failed webhook POST; doubles each attempt, with "
        "jitter, up to webhook_retry_max_seconds.",
    )
    webhook_retry_max_seconds: float = Field(
        3600.0, description="Longest delay between two retries of one webhook POST."
    )
    webhook_retry_period_hours: float = Field(
        72.0,
        description="How long a failing webhook is retried before it is disabled (Healthie: "
        "3 days).",
    )
    webhook_warn_after_hours: float = Field(
        24.0,
        description="After how long of failures the organization's providers are emailed "
        "(Healthie: about a day).",
    )
    sent_webhook_retention_days: int = Field(
        180, description="How long the sentWebhooks log is kept (Healthie: 180 days)."
    )
    event_retention_days: int = Field(
        90, description="How long events stay in the change feed (carebook events)."
    )
    event_purge_seconds: float = Field(
        3600.0,
        description="How often each server deletes events past event_retention_days (0: never).",
    )
    # --- recurring form requests ---
    form_schedule_seconds: float = Field(
        30.0,
        description="How often each server looks for recurring form requests that fall due "
        "(0: this server creates none; another server with the lease does).",
    )
    form_schedule_lease_seconds: float = Field(
        120.0,
        description="How long a server holds the scheduler's lease without renewing it; a "
        "server that dies is replaced by another after at most this long.",
    )
    # --- scheduled chat messages ---
    note_schedule_seconds: float = Field(
        15.0,
        description="How often each server sends the scheduled chat messages that fell due "
        "(0: this server sends none; another server with the lease does). The lease lasts "
        "form_schedule_lease_seconds.",
    )
    # --- audit trail ---
    audit_wait_for_reads: bool = Field(
        True,
        description="Answer a request only once its read events are committed (the audit "
        "writer batches them); false answers at once and stores them right after.",
    )
    # --- abuse limits and rate limits ---
    # Defaults pass every document of Healthie's docs, the seed and the tests with room to spare:
    # the deepest is 4 levels; the costliest, the isolation walk's tags(user_id:) selecting every
    # field of every nested list, is estimated at 350,360 objects.
    max_query_depth: int = Field(12, description="Deepest nesting of selections in a document.")
    max_query_aliases: int = Field(30, description="Most aliased fields in one document.")
    max_query_tokens: int = Field(5000, description="Most lexical tokens in one document.")
    max_query_cost: int = Field(
        500_000,
        description="Most objects a document may be estimated to return: the product of page "
        "sizes along nested list fields, summed over the fields that return objects.",
    )
    query_cost_list_size: int = Field(
        10, description="Size assumed for a list field that takes no page_size."
    )
    unpaginated_list_max_rows: int = Field(
        1000, description="Most rows a should_paginate: false list returns before it is refused."
    )
    nested_list_max_rows: int = Field(
        100,
        description="Most rows a list inside an object (a group's users, a tag's tagged_users "
        "asked for whole, a patient's providers, ...) returns before it is refused.",
    )
    max_body_bytes: int = Field(1024 * 1024, description="Largest accepted request body, bytes.")
    # uvicorn's default trusts X-Forwarded-For from 127.0.0.1: any local process, or a proxy
    # that passes the header through, could then choose the address limits and audit see.
    trusted_proxies: str = Field(
        "",
        description="Comma-separated IPs/CIDR networks of reverse proxies whose "
        "X-Forwarded-For gives the client address; empty (the default) trusts none.",
    )
    # A backoff, never a lock-out: it slows only addresses that failed for the email, so an
    # owner signing in from elsewhere passes (docs/security.md, "Sign-in and sign-up protection").
    sign_in_account_limit: int = Field(
        10,
        description="Failed signIn attempts per email, from every address, before an address "
        "that failed for it must wait between attempts (0 turns the backoff off).",
    )
    sign_in_account_window_seconds: int = Field(
        86400,
        description="An email's failed signIn attempts are forgotten this long after the "
        "last one, seconds.",
    )
    sign_in_backoff_base_seconds: int = Field(
        1, description="First wait of the per-email signIn backoff; doubles with each failure."
    )
    sign_in_backoff_max_seconds: int = Field(
        900, description="Longest wait of the per-email signIn backoff, seconds."
    )
    sign_in_address_limit: int = Field(
        60, description="signIn attempts per client address per window (0 turns it off)."
    )
    sign_in_address_window_seconds: int = Field(
        300, description="Window of the per-address signIn limit, seconds."
    )
    sign_up_address_limit: int = Field(
        20, description="signUp attempts per client address per window (0 turns it off)."
    )
    sign_up_address_window_seconds: int = Field(
        3600, description="Window of the per-address signUp limit, seconds."
    )
    # resetPassword sends email to whatever address it is given: limited per address and email.
    reset_password_address_limit: int = Field(
        20, description="resetPassword requests per client address per window (0 turns it off)."
    )
    reset_password_address_window_seconds: int = Field(
        3600, description="Window of the per-address resetPassword limit, seconds."
    )
    reset_password_email_limit: int = Field(
        5, description="resetPassword requests per email per window (0 turns it off)."
    )
    reset_password_email_window_seconds: int = Field(
        3600, description="Window of the per-email resetPassword limit, seconds."
    )
    # A reset link's token is 256 random bits: no one guesses one, but each check is a database
    # read that anyone may ask for, so a client address gets a bounded number (issue 24).
    reset_token_check_address_limit: int = Field(
        30,
        description="validateResetPasswordToken queries and /reset_password page loads per "
        "client address per window (0 turns it off).",
    )
    reset_token_check_address_window_seconds: int = Field(
        3600, description="Window of the per-address reset-token check limit, seconds."
    )
    # Anonymous enrollment (signUp, completeCheckout) is a way to ask whether an email is a
    # patient somewhere: limited per address, per email and per practice targeted (issue 22).
    checkout_address_limit: int = Field(
        20, description="Anonymous completeCheckout attempts per client address per window."
    )
    checkout_address_window_seconds: int = Field(
        3600, description="Window of the per-address completeCheckout limit, seconds."
    )
    enrollment_email_limit: int = Field(
        10, description="Anonymous signUp + completeCheckout attempts per email per window."
    )
    enrollment_email_window_seconds: int = Field(
        3600, description="Window of the per-email enrollment limit, seconds."
    )
    enrollment_target_limit: int = Field(
        200,
        description="Anonymous signUp + completeCheckout attempts per provider id or invite "
        "code per window.",
    )
    enrollment_target_window_seconds: int = Field(
        3600, description="Window of the per-target enrollment limit, seconds."
    )
    # --- durability ---
    # FULL: a committed transaction survives power loss and OS crashes, not only a killed
    # process (which WAL with NORMAL already survives); costs one more fsync per commit.
    sqlite_synchronous: Literal["EXTRA", "FULL", "NORMAL"] = Field(
        "FULL",
        description="SQLite PRAGMA synchronous in WAL mode: FULL (durable on power loss) or "
        "NORMAL (survives a process crash; the last commits can be lost on power loss).",
    )
    # The read audit trail's group commits are the most frequent transactions of a busy server
    # (one per batch of reads); their fsync under FULL halved single-patient read throughput.
    # Events of writes go in the write's own transaction and follow sqlite_synchronous.
    audit_sqlite_synchronous: Literal["EXTRA", "FULL", "NORMAL"] = Field(
        "NORMAL",
        description="SQLite PRAGMA synchronous of the read audit trail's batches: NORMAL (a "
        "killed server loses no event; a power cut can lose the last moments of read events) "
        "or FULL (durable on power loss, about half the single-record read throughput).",
    )
    # The same trade-off on PostgreSQL: a batch's commit waited for its WAL flush, so every
    # read's response waited for a disk flush (user(id): 845 -> 986 req/s with "off").
    audit_postgres_synchronous_commit: Literal["on", "off", "local", "remote_write"] = Field(
        "off",
        description="PostgreSQL synchronous_commit of the read audit trail's batches: off (a "
        "killed server loses no event; a database crash or power cut can lose the read events "
        "of the last moments, at most 3 x wal_writer_delay) or on (durable on power loss).",
    )
    # --- performance ---
    # Off, every database verb runs through plain SQLAlchemy sessions of one engine (see
    # carebook.db.engine): for telling a fast path's bug from the application's, and for CI.
    fast_paths: bool = Field(
        True,
        description="Use the measured fast paths to the database (held connections, prepared "
        "single-row reads, the read trail's own connection, SQLite's loop-thread reads); "
        "off/false/0 runs everything through plain SQLAlchemy on one engine.",
    )
    api_key_cache_seconds: float = Field(
        2.0,
        description="How long each server process remembers the user of an API key, seconds "
        "(0 turns it off). A key revoked, or its user archived, through another process keeps "
        "working here for at most this long; a write in the same process forgets at once.",
    )
    activity_window_seconds: float = Field(
        300.0,
        description="How stale User.last_active / last_activity may get, seconds: each server "
        "process writes a user's activity at most once per window (0 writes on every request).",
    )
    # --- idempotency ---
    idempotency_ttl_hours: float = Field(
        24.0, description="How long a mutation's answer is replayed for its Idempotency-Key, hours."
    )
    idempotency_purge_seconds: float = Field(
        600.0, description="How often each server deletes expired Idempotency-Key records."
    )
    write_attempts: int = Field(
        5,
        description="Tries of a write that loses a race (unique value taken, serialization "
        "failure, deadlock) before the mutation answers with a conflict message.",
    )
    write_retry_base_seconds: float = Field(
        0.01, description="Backoff before the first write retry (doubles, with jitter)."
    )

    @field_validator("database_read_url")
    @classmethod
    def _read_url_is_postgres(cls, value: str | None) -> str | None:
        url = (value or "").strip()
        if not url:
            return None
        if not url.startswith("postgresql+asyncpg://"):
            raise ValueError("give a postgresql+asyncpg://... URL of a streaming replica")
        return url

    @model_validator(mode="after")
    def _read_url_needs_postgres(self) -> Settings:
        # Refused rather than ignored, so a server never runs believing its lists are offloaded
        # when they are not (also checked at start-up: a --database-url bypasses validators).
        problem = self.read_url_problem
        if problem is not None:
            raise ValueError(problem)
        return self

    @field_validator("log_level")
    @classmethod
    def _log_level_is_known(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("give DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return level

    @field_validator("trusted_proxies")
    @classmethod
    def _trusted_proxies_are_addresses(cls, value: str) -> str:
        return ",".join(trusted_proxy_list(value))

    @field_validator("cors_origins")
    @classmethod
    def _cors_origins_are_origins(cls, value: str) -> str:
        origins = [origin.strip().rstrip("/") for origin in value.split(",") if origin.strip()]
        for origin in origins:
            if origin != "*" and not _ORIGIN.fullmatch(origin):
                raise ValueError(f"{origin!r} is not an origin like https://app.example.com")
        return ",".join(origins)

    @field_validator("payment_provider")
    @classmethod
    def _payment_provider_is_named(cls, value: str | None) -> str | None:
        name = (value or "").strip()
        if not name:
            return None
        if name != TEST_PAYMENT_PROVIDER and not _PROVIDER_PATH.fullmatch(name):
            raise ValueError(f"give '{TEST_PAYMENT_PROVIDER}' or package.module:factory")
        return name

    @property
    def session_ttl(self) -> timedelta:
        """How long a session token stays valid after signIn/signUp."""
        return timedelta(hours=self.session_ttl_hours)

    @property
    def signup_token_ttl(self) -> timedelta:
        """How long an invitation's set-password link stays valid."""
        return timedelta(hours=self.signup_token_ttl_hours)

    @property
    def password_reset_ttl(self) -> timedelta:
        """How long a resetPassword link stays valid."""
        return timedelta(minutes=self.password_reset_ttl_minutes)

    @property
    def provider_sign_up_enabled(self) -> bool:
        """Whether signUp may open a new practice (CAREBOOK_PROVIDER_SIGN_UP, else not
        production)."""
        if self.provider_sign_up is None:
            return not self.production
        return self.provider_sign_up

    @property
    def cors_origin_list(self) -> list[str]:
        """The origins browsers may call the API from (none by default)."""
        return [origin for origin in self.cors_origins.split(",") if origin]

    @property
    def read_url_problem(self) -> str | None:
        """Why CAREBOOK_DATABASE_READ_URL cannot be used with this database, or None."""
        if self.database_read_url is not None and self.is_sqlite:
            return (
                "CAREBOOK_DATABASE_READ_URL needs PostgreSQL: CAREBOOK_DATABASE_URL is SQLite, "
                "which has no replicas (unset CAREBOOK_DATABASE_READ_URL)"
            )
        return None

    @property
    def is_sqlite(self) -> bool:
        """True when the configured database is SQLite."""
        return self.database_url.startswith("sqlite")
