"""The ASGI application: POST /graphql, GraphiQL on GET /graphql (its files under
/graphiql/assets/), GET /livez, /readyz, /healthz."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, overload

import strawberry
from cross_web import AsyncHTTPRequestAdapter
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLRequestData
from strawberry.http.temporal_response import TemporalResponse
from strawberry.http.types import QueryParams
from strawberry.types import ExecutionResult, SubscriptionExecutionResult
from strawberry.types.unset import UNSET

from carebook.accounts.form_schedule import start_form_scheduler
from carebook.accounts.note_schedule import start_note_scheduler
from carebook.audit.writer import AuditWriter
from carebook.auth.actor import Actor
from carebook.auth.passwords import Passwords
from carebook.checkout.payments import PaymentProvider
from carebook.checkout.payments import from_settings as payment_provider_from
from carebook.config import Settings
from carebook.db.engine import Database, create_database
from carebook.gc_pauses import freeze_startup_objects, start_full_collections
from carebook.graphql.audit.request import RequestAudit
from carebook.graphql.context import Context
from carebook.graphql.limits.extension import QueryLimits
from carebook.graphql.limits.fair_share import LoopShare
from carebook.graphql.schema import build_schema
from carebook.idempotency.purger import start_purger
from carebook.notifications.worker import start_worker
from carebook.search import SearchState
from carebook.startup import (
    check_metrics_token,
    check_payment_provider,
    check_read_url,
    check_secret_key,
)
from carebook.users.activation import SET_PASSWORD_PATH
from carebook.users.activity import ActivityThrottle, record_activity
from carebook.users.credentials import (
    actor_from_api_key,
    actor_from_session_token,
    cached_api_key_actor,
)
from carebook.users.password_reset import RESET_PASSWORD_PATH
from carebook.web import graphiql, idempotency, request_body
from carebook.web.access_log import AccessLog, note_operation
from carebook.web.body_limit import BodySizeLimit
from carebook.web.health import Health, live
from carebook.web.metrics import METRICS_PATH
from carebook.web.no_store import NoStore, internal_error
from carebook.web.set_password import ResetPasswordPage, SetPasswordPage
from carebook.web.tracing import trace
from carebook.webhooks.retention import start_event_purger
from carebook.webhooks.worker import delivers_inline
from carebook.webhooks.worker import start_worker as start_webhook_worker

if TYPE_CHECKING:
    from carebook.web.metrics.recorder import GraphQLMetrics

logger = logging.getLogger("carebook")
# The paths the access log names as they are (any other is logged as "(other)").
ROUTE_PATHS = frozenset(
    {
        "/graphql",
        "/livez",
        "/readyz",
        "/healthz",
        METRICS_PATH,
        SET_PASSWORD_PATH,
        RESET_PASSWORD_PATH,
    }
)
# Where the view keeps a request's arrival time, for the latency metric.
_STARTED_STATE = "carebook_metrics_started"


class CarebookGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI view with Carebook's context: who is calling."""

    def __init__(
        self,
        settings: Settings,
        database: Database,
        passwords: Passwords,
        payments: PaymentProvider | None,
        schema: strawberry.Schema | None = None,
    ) -> None:
        super().__init__(
            schema or schema_for(settings),
            graphql_ide="graphiql" if settings.graphiql and not settings.production else None,
        )
        self.settings = settings
        self.database = database
        self.passwords = passwords
        self.payments = payments
        self.audit_writer = AuditWriter(database)
        self.loop_share = LoopShare()
        self.search = SearchState()
        self.activity = ActivityThrottle(settings.activity_window_seconds)
        self.metrics: GraphQLMetrics | None = None
        if settings.metrics:
            # Imported only with metrics on (carebook.web.metrics).
            from carebook.web.metrics.recorder import GraphQLMetrics

            self.metrics = GraphQLMetrics(_root_field_names(self.schema), self.audit_writer)

    async def render_graphql_ide(self, request: Request) -> Response:
        # Carebook's page: its files come from this server, not from a CDN (web/graphiql.py).
        return graphiql.page_response()

    async def get_context(
        self, request: Request | Any, response: Response | TemporalResponse | Any
    ) -> Context:
        context = Context(
            request=request,
            response=response if isinstance(response, Response) else None,
            settings=self.settings,
            database=self.database,
            passwords=self.passwords,
            payments=self.payments,
            search=self.search,
            audit=RequestAudit.for_request(
                self.audit_writer, wait=self.settings.audit_wait_for_reads, request=request
            ),
        )
        context.share_ticket = getattr(request.state, "carebook_share_ticket", None)
        # Remembered on the request so the route can release its session whatever happens
        # (GraphiQL pages and unreadable bodies never reach the operation's own cleanup).
        request.state.carebook_context = context
        await _authenticate(context, request)
        return context

    async def execute_operation(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: Context,
        root_value: None,
        sub_response: Response,
    ) -> ExecutionResult | list[ExecutionResult] | SubscriptionExecutionResult:
        # The access log names the operation (never its variables or document).
        first = request_data[0] if isinstance(request_data, list) and request_data else request_data
        if isinstance(first, GraphQLRequestData):
            note_operation(request.scope, first.operation_name, first.query)
        # A mutation's Idempotency-Key is checked once the caller is known (may answer at once).
        await idempotency.prepare(context, request, request_data)
        result = await super().execute_operation(
            request, request_adapter, request_data, context, root_value, sub_response
        )
        if self.metrics is not None and isinstance(first, GraphQLRequestData):
            self._record(request, first, result)
        return result

    def _record(
        self,
        request: Request,
        data: GraphQLRequestData,
        result: ExecutionResult | list[ExecutionResult] | SubscriptionExecutionResult,
    ) -> None:
        """Count the request in the metrics (a batch by its first operation)."""
        first = result[0] if isinstance(result, list) and result else result
        started = getattr(request.state, _STARTED_STATE, None)
        if self.metrics is None or not isinstance(first, ExecutionResult) or started is None:
            return
        operation = self.metrics.operation(data.query, data.operation_name)
        self.metrics.record(operation, first, time.perf_counter() - started)

    def decode_json(self, data: str | bytes) -> object:
        return request_body.decode(data)

    def parse_query_params(self, params: QueryParams) -> dict[str, Any]:
        # As Strawberry's, but a GET's JSON parameters are not a body: null is allowed there,
        # and messages name the parameter.
        parsed: dict[str, Any] = dict(params)
        for name in ("variables", "extensions"):
            if parsed.get(name):
                parsed[name] = request_body.decode_parameter(name, parsed[name])
        return parsed

    @overload
    async def run(
        self, request: Request, context: Context = ..., root_value: None = ...
    ) -> Response: ...

    @overload
    async def run(
        self, request: WebSocket, context: Context = ..., root_value: None = ...
    ) -> WebSocket: ...

    async def run(
        self, request: Request | WebSocket, context: Any = UNSET, root_value: Any = UNSET
    ) -> Response | WebSocket:
        # Light until its document's cost is known: costly documents wait for it.
        ticket = self.loop_share.arrive()
        request.state.carebook_share_ticket = ticket
        if self.metrics is not None:
            setattr(request.state, _STARTED_STATE, time.perf_counter())
        try:
            response = await super().run(request, context, root_value)
        except idempotency.Answer as answer:
            return answer.response
        except request_body.Refused as refused:
            return refused.response
        finally:
            ticket.leave()
        if not isinstance(response, Response):
            return response
        # The answer is stored for replays before the client can see it.
        return await idempotency.finish(getattr(request.state, "carebook_context", None), response)


def schema_for(settings: Settings) -> strawberry.Schema:
    """The schema a server with these settings serves: its mode and its query limits."""
    return build_schema(production=settings.production, limits=QueryLimits.from_settings(settings))


def _root_field_names(schema: Any) -> frozenset[str]:
    """The names a request's operation label may take: Query's and Mutation's fields and the
    introspection fields."""
    graphql_schema = schema._schema
    names = {"__schema", "__type", "__typename"}
    for root in (graphql_schema.query_type, graphql_schema.mutation_type):
        if root is not None:
            names.update(root.fields)
    return frozenset(names)


def _credentials(request: Request) -> tuple[str, str] | None:
    """("api_key" | "bearer", secret) from the Authorization header, as Healthie sends them."""
    header = request.headers.get("authorization", "").strip()
    if not header:
        return None
    scheme, _, secret = header.partition(" ")
    secret = secret.strip()
    if scheme.lower() == "basic" and secret:
        return "api_key", secret
    if scheme.lower() == "bearer" and secret:
        return "bearer", secret
    return "invalid", ""


async def _authenticate(context: Context, request: Request) -> None:
    """Set the context's actor from the request's credentials, if any."""
    credentials = _credentials(request)
    if credentials is None:
        return
    kind, secret = credentials
    # API keys are sent as "Basic <key>" with "AuthorizationSource: API"; a Basic header
    # without it is not an API key.
    is_api = kind == "api_key" and request.headers.get("authorizationsource", "").upper() == "API"
    if is_api:
        ttl = context.settings.api_key_cache_seconds
        # A remembered key needs no session (opening and closing one cost more than the rest).
        context.actor = (cached_api_key_actor(secret) if ttl > 0 else None) or await context.read(
            lambda s: actor_from_api_key(s, secret, ttl)
        )
    elif kind == "bearer":
        context.actor = await context.read(lambda s: actor_from_session_token(s, secret))
    context.credentials_rejected = context.actor is None
    # The look-up's session stays open: a query's resolvers reuse its connection (one checkout
    # per request), and a mutation closes it before writing (carebook.graphql.common.write).


class _ReleasingSessions:
    """Runs the GraphQL app, then returns its request's connection to the pool and notes the
    caller's activity (after the answer was sent, so no caller waits for that write).

    A class, not a function: Starlette treats plain functions as request handlers.
    """

    def __init__(self, app: CarebookGraphQL) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        context = None
        try:
            try:
                await self.app(scope, receive, send)
            finally:
                # Taken off the request's state: the context refers to the request, whose
                # scope holds the state, a cycle that kept both (and uvicorn's request cycle)
                # alive after the answer until a collection found them (docs/performance.md,
                # "Requests freed when they end").
                context = scope.get("state", {}).pop("carebook_context", None)
                if isinstance(context, Context):
                    await context.close()
            if isinstance(context, Context):
                await _after_answer(context)
                if context.actor is not None:
                    await _note_activity(self.app.activity, context.database, context.actor)
        finally:
            if isinstance(context, Context):
                context.release()


async def _after_answer(context: Context) -> None:
    """The request's work deferred until its answer was sent (Context.after_answer)."""
    for work in context.after_answer:
        try:
            await work()
        except (SQLAlchemyError, OSError) as error:
            # The answer is gone; the caller can ask again. Never the request's data in the log.
            logger.warning("work after an answer failed: %s", type(error).__name__)


async def _note_activity(throttle: ActivityThrottle, database: Database, actor: Actor) -> None:
    """Write the actor's last activity when the throttle says it is due (users/activity.py)."""
    if not throttle.due(actor):
        return
    try:
        async with database.write_sessions() as session, session.begin():
            await record_activity(
                session,
                user_id=actor.user_id,
                own_session=actor.session_token_id is not None,
                window=throttle.window,
            )
    except (SQLAlchemyError, OSError) as error:
        # Bookkeeping only: the answer is already sent. The next request tries again.
        throttle.failed(actor)
        logger.warning("could not record a user's activity: %s", type(error).__name__)


async def _stop(task: asyncio.Task[None] | None) -> None:
    """Cancel a background task of the server and wait until it has stopped."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def create_app(
    settings: Settings,
    database: Database | None = None,
    *,
    serving: bool = False,
    payments: PaymentProvider | None = None,
    tracer_provider: Any = None,
    schema: strawberry.Schema | None = None,
) -> Starlette:
    """Build the application. ``database`` may be passed in by tests to share an engine.

    ``payments``: the provider that charges cards; by default the one the settings name
    (``CAREBOOK_PAYMENT_PROVIDER``, none when unset). Tests pass one to look at its charges.

    ``tracer_provider``: where spans go when ``CAREBOOK_OTEL`` is on (tests pass one with an
    in-memory exporter); by default OpenTelemetry's global one (carebook.web.otel).

    ``schema``: the GraphQL schema, by default built for ``settings`` (:func:`schema_for`). A
    schema holds no state of a request or a server, so tests build one per configuration and pass
    it to every app they make (building it costs some 30 ms of CPU).

    ``serving`` (``carebook serve``): once started, the collector stops scanning what startup
    built (:mod:`carebook.gc_pauses`).

    Raises :class:`carebook.startup.UnsafeSettings` in production mode with the default secret.
    """
    check_secret_key(settings)
    check_payment_provider(settings)
    check_metrics_token(settings)
    check_read_url(settings)
    db = database or create_database(settings)
    passwords = Passwords(settings)
    processor = payments if payments is not None else payment_provider_from(settings)
    graphql_app = CarebookGraphQL(settings, db, passwords, processor, schema)

    health = Health(db)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        # Emails are delivered after commit by this process's worker (when SMTP is set).
        worker = start_worker(db, settings)
        purger = start_purger(db, settings)  # expired Idempotency-Key records
        event_purger = start_event_purger(db, settings)  # events past their retention
        # Events committed by any server are sent by every server's worker (claims share them):
        # a task here (inline, or process without `carebook serve`'s delivery process), or that
        # delivery process.
        webhooks = start_webhook_worker(db, settings) if delivers_inline(settings) else None
        if webhooks is not None and settings.webhook_delivery == "process":
            logger.info("no delivery process of carebook serve: webhooks are delivered inline")
        # Recurring form requests: every server runs it, the lease lets one create at a time.
        forms = start_form_scheduler(db, settings)
        # Scheduled chat messages: the same, under a lease of their own.
        scheduled_notes = start_note_scheduler(db, settings)
        collector = None
        if serving:
            freeze_startup_objects()
            collector = start_full_collections()
        yield
        await _stop(collector)
        await _stop(scheduled_notes)
        await _stop(forms)
        await _stop(webhooks)
        await _stop(purger)
        await _stop(event_purger)
        await graphql_app.audit_writer.close()  # read events still queued are stored
        await _stop(worker)
        if database is None:
            await db.dispose()

    app = Starlette(
        routes=[
            Route("/graphql", _ReleasingSessions(graphql_app), methods=["GET", "POST"]),
            # /healthz is /readyz under its older name (servers and tests wait on it).
            Route("/livez", live, methods=["GET"]),
            Route("/readyz", health.ready, methods=["GET"]),
            Route("/healthz", health.ready, methods=["GET"]),
            Route(
                SET_PASSWORD_PATH,
                SetPasswordPage(settings, db, passwords).handle,
                methods=["GET", "POST"],
            ),
            Route(
                RESET_PASSWORD_PATH,
                ResetPasswordPage(settings, db, passwords).handle,
                methods=["GET", "POST"],
            ),
            # GraphiQL's files, only where its page is served.
            *graphiql.asset_routes(enabled=graphql_app.graphql_ide is not None),
            *_metrics_routes(settings, db, graphql_app),
        ],
        # Before routing, so an oversized body is refused before anything reads it; outermost,
        # every answer (patient data, set-password pages, errors) is marked no-store; GraphiQL's
        # public files alone keep their own caching.
        middleware=[
            # Outermost: every answer, refusals included, carries its id and is logged.
            Middleware(
                AccessLog,
                log=settings.access_log,
                paths=ROUTE_PATHS,
                prefixes=(f"{graphiql.ASSETS_PATH}/",),
            ),
            Middleware(NoStore, cacheable_prefix=f"{graphiql.ASSETS_PATH}/"),
            *_cors(settings),
            Middleware(BodySizeLimit, max_bytes=settings.max_body_bytes),
        ],
        # Unhandled exceptions are answered outside the middleware above: no-store there too.
        exception_handlers={Exception: internal_error},
        lifespan=lifespan,
    )
    app.state.loop_share = graphql_app.loop_share  # tests hold a light request's place
    if settings.otel:
        trace(app, db, paths=ROUTE_PATHS, tracer_provider=tracer_provider)
    return app


def _metrics_routes(settings: Settings, db: Database, view: CarebookGraphQL) -> list[Route]:
    """GET /metrics when metrics are on (else the path is unknown: 404)."""
    if not settings.metrics:
        return []
    # Imported only with metrics on (carebook.web.metrics).
    from carebook.web.metrics.endpoint import MetricsEndpoint
    from carebook.web.metrics.pool import count_pools

    count_pools(db)
    endpoint = MetricsEndpoint(
        token=settings.metrics_token, database=db, audit_writer=view.audit_writer
    )
    return [Route(METRICS_PATH, endpoint.handle, methods=["GET"])]


# The headers a Healthie client sends (API keys: Authorization + AuthorizationSource).
CORS_HEADERS = [
    "Authorization",
    "AuthorizationSource",
    "Content-Type",
    "Idempotency-Key",
    "X-Request-ID",
]


def _cors(settings: Settings) -> list[Middleware]:
    """Cross-origin access for the configured origins only; none by default.

    Inside NoStore (preflight answers are no-store too) and outside the body limit, so a refusal
    still carries the headers a browser needs to show it to the page.
    """
    origins = settings.cors_origin_list
    if not origins:
        return []
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST"],
            allow_headers=CORS_HEADERS,
            expose_headers=["X-Request-Id", "Retry-After"],
            max_age=600,
        )
    ]


def app_from_environment() -> Starlette:
    """Factory used by ``carebook serve --workers N``: settings from CAREBOOK_* variables."""
    return create_app(Settings(), serving=True)
