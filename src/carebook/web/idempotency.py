"""Idempotency-Key on POST /graphql: decide before a mutation runs, store its answer after.

The HTTP side of carebook.idempotency (which keeps the keys, the store and the purger): it sits
in the web layer because it answers HTTP requests and records replays in the GraphQL audit.

``prepare`` runs once the caller is known and the body parsed: a mutation whose key already has
an answer gets it back (``Idempotent-Replayed: true``, audited as a read of the patients the
first answer disclosed, see carebook.idempotency.answer) and nothing executes. Otherwise the
request carries a :class:`Claim`, which ``carebook.graphql.common.write`` records in the
mutation's own transaction. ``finish`` stores the answer once it is built. Queries, and requests
without the header, pass through untouched.
"""

import logging

from graphql import GraphQLError, OperationType, get_operation_ast, parse
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from strawberry.http import GraphQLRequestData

from carebook.db.base import utcnow
from carebook.graphql.audit.extension import UNAVAILABLE
from carebook.graphql.audit.replay import record_replay
from carebook.graphql.context import Context
from carebook.graphql.errors import INTERNAL
from carebook.idempotency import answer
from carebook.idempotency.answer import Disclosed
from carebook.idempotency.keys import (
    HEADER,
    REPLAYED_HEADER,
    Claim,
    InvalidKey,
    request_digest,
    scope_of,
    validated,
)
from carebook.idempotency.models import IdempotencyKey
from carebook.idempotency.store import IN_USE, REFUSALS, find, refusal_of, store_answer

logger = logging.getLogger("carebook.idempotency")

INVALID = "IDEMPOTENCY_KEY_INVALID"
# Parsing here only tells a mutation from a query; the abuse limits judge the document itself.
_PARSE_MAX_TOKENS = 50_000


class Answer(Exception):
    """The request is answered without executing its operation."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def error_response(status: int, code: str, message: str) -> JSONResponse:
    """A GraphQL-shaped error body with a non-200 status."""
    body = {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}
    return JSONResponse(body, status_code=status)


def refusal_response(code: str) -> JSONResponse:
    """409 for a key in use, 422 for a key reused with another request."""
    status, message = REFUSALS[code]
    return error_response(status, code, message)


def _is_mutation(data: GraphQLRequestData) -> bool:
    if not data.query:
        return False
    try:
        document = parse(data.query, max_tokens=_PARSE_MAX_TOKENS)
    except GraphQLError:
        return False  # Strawberry reports the syntax error; nothing will run
    operation = get_operation_ast(document, data.operation_name)
    return operation is not None and operation.operation == OperationType.MUTATION


def _answer_for(claim: Claim, record: IdempotencyKey) -> tuple[Response, list[Disclosed]]:
    """The stored answer (and the patients it disclosed), or the refusal."""
    refusal = refusal_of(claim, record)
    if refusal == IN_USE and record.response_status is not None and record.response_body:
        plain = claim.open(record.response_body)
        if plain is not None:
            body, disclosed = answer.unpack(plain)
            response = Response(
                body,
                status_code=record.response_status,
                media_type="application/json",
                headers={REPLAYED_HEADER: "true"},
            )
            return response, disclosed
    return refusal_response(refusal), []


async def _replay(context: Context, claim: Claim, record: IdempotencyKey) -> Response:
    """The answer for a key already recorded; a replay is audited like the first answer."""
    response, disclosed = _answer_for(claim, record)
    if disclosed and not await record_replay(context, disclosed):
        return error_response(500, INTERNAL, UNAVAILABLE)
    return response


async def prepare(context: Context, request: Request, data: object) -> None:
    """Give a mutation with an Idempotency-Key its claim, or raise :class:`Answer`."""
    raw = request.headers.get(HEADER)
    if raw is None or not isinstance(data, GraphQLRequestData) or not _is_mutation(data):
        return
    if context.credentials_rejected:
        return  # every operation fails UNAUTHENTICATED and writes nothing: no key to keep
    try:
        key = validated(raw)
    except InvalidKey as error:
        raise Answer(error_response(400, INVALID, str(error))) from None
    claim = Claim(
        scope=scope_of(context.actor),
        key=key,
        request_digest=request_digest(data.query, data.variables, data.operation_name),
        secret=context.settings.secret_key,
    )
    record = await context.read(lambda s: find(s, claim, utcnow()))
    if record is not None:
        raise Answer(await _replay(context, claim, record))
    context.idempotency = claim


async def finish(context: Context | None, response: Response) -> Response:
    """Store a claimed mutation's answer; turn a key found taken mid-request into its answer."""
    claim = context.idempotency if context is not None else None
    if context is None or claim is None:
        return response
    if claim.refused is not None:
        # The first request may have stored its answer meanwhile: then this is a replay.
        record = await context.read(lambda s: find(s, claim, utcnow()))
        return await _replay(context, claim, record) if record else refusal_response(claim.refused)
    if claim.held:
        try:
            disclosed = context.audit.disclosed if context.audit is not None else {}
            plain = answer.pack(bytes(response.body), disclosed)
            # The answer's reads after the write may have opened a read session again: give
            # its connection back first, or a full pool's requests each wait for a second one.
            await context.end_read_transaction()
            await store_answer(context.database, claim, response.status_code, plain)
        except Exception:  # the change is committed: the client still gets its answer
            logger.exception("could not store the answer of an Idempotency-Key")
    return response
