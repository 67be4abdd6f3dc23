"""GraphQL errors with codes, and the extension that shapes every error a client sees.

- Errors raised on purpose carry ``extensions.code`` (UNAUTHENTICATED, FORBIDDEN, ...).
- Malformed documents get GRAPHQL_PARSE_FAILED / GRAPHQL_VALIDATION_FAILED.
- Anything else is a fault: it is logged with a request id (and no variables, so no patient
  data) and the client gets only the id.
- In production mode every "Did you mean ...?" hint is removed, whatever produced it (unknown
  field, argument, type, input field or enum value, in the document or in the variables), so
  the schema cannot be enumerated by probing.
"""

import logging
import re
import traceback
import uuid
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

logger = logging.getLogger("carebook.graphql")

UNAUTHENTICATED = "UNAUTHENTICATED"
FORBIDDEN = "FORBIDDEN"
BAD_USER_INPUT = "BAD_USER_INPUT"
INTERNAL = "INTERNAL_SERVER_ERROR"
QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
RATE_LIMITED = "RATE_LIMITED"
# graphql-core words every suggestion "Did you mean X?" or "Did you mean the enum value X?";
# names never contain "?", so the hint ends at the first one.
_HINT = re.compile(r"\s*Did you mean\b[^?]*\?", re.IGNORECASE)
# graphql-core's parser stops at the token limit (CAREBOOK_MAX_QUERY_TOKENS) with a syntax error.
_TOO_MANY_TOKENS = re.compile(r"Document contains more than \d+ tokens")


class CodedError(GraphQLError):
    """An expected GraphQL error with a machine-readable code (and optional details)."""

    def __init__(self, message: str, code: str, **details: object) -> None:
        super().__init__(message, extensions={"code": code, **details})


class ErrorShaping(SchemaExtension):
    """Gives every error a code and hides internals (see module docstring)."""

    def __init__(self, *, production: bool = False) -> None:
        self.production = production
        self._request_id: str | None = None

    @property
    def request_id(self) -> str:
        """The HTTP request's id (the one its access log, X-Request-Id and audit trail carry;
        one made on first use when executed without a request)."""
        if self._request_id is None:
            self._request_id = request_id_of(self.execution_context)
        return self._request_id

    def on_operation(self) -> Iterator[None]:
        try:
            yield
        finally:  # also when Strawberry ends the hook by throwing into it (parse failures)
            self._shape_all()

    def _shape_all(self) -> None:
        # Errors are changed in place: a result built before this point holds the same objects.
        result = self.execution_context.result
        for error in [*(result.errors if result and result.errors else []),
                      *(self.execution_context.pre_execution_errors or [])]:  # fmt: skip
            self._shape(error)

    def _shape(self, error: GraphQLError) -> None:
        if self.production:
            error.message = _HINT.sub("", error.message)
        original = error.original_error
        if isinstance(error, CodedError) or isinstance(original, CodedError):
            return
        if error.extensions and "code" in error.extensions:
            return  # already shaped (the same error can be listed twice)
        if original is None:
            self._document_error(error)
        elif isinstance(original, GraphQLError):
            # A variable that does not fit its declared type: the client's mistake, not a fault.
            error.extensions = {"code": BAD_USER_INPUT}
        else:
            self._internal_error(error, original)

    def _internal_error(self, error: GraphQLError, original: BaseException) -> None:
        hide_fault(error, original, self.request_id)

    def _document_error(self, error: GraphQLError) -> None:
        if _TOO_MANY_TOKENS.search(error.message):
            code = QUERY_TOO_COMPLEX
        elif "Syntax Error" in error.message:
            code = "GRAPHQL_PARSE_FAILED"
        else:
            code = "GRAPHQL_VALIDATION_FAILED"
        error.extensions = {"code": code}


def request_id_of(execution_context: ExecutionContext | None) -> str:
    """The id of the HTTP request being answered, or a new one without a request."""
    context = execution_context.context if execution_context is not None else None
    given = getattr(getattr(context, "audit", None), "request_id", None)
    return given if isinstance(given, str) and given else uuid.uuid4().hex


def hide_fault(error: GraphQLError, original: BaseException, request_id: str) -> None:
    """A fault: logged with the request id, its type and stack frames; the client gets only
    the id. Not the exception's message: it may quote SQL parameters, that is patient data,
    which never goes into logs."""
    logger.error(
        "internal error %s in %s: %s\n%s",
        request_id,
        ".".join(str(p) for p in error.path or []),
        type(original).__name__,
        "".join(traceback.format_tb(original.__traceback__)),
    )
    error.message = f"Internal server error (request id {request_id})"
    error.extensions = {"code": INTERNAL, "request_id": request_id}
    error.original_error = None


def hide_faults_outside_the_operation(
    errors: list[GraphQLError], execution_context: ExecutionContext | None
) -> None:
    """The faults among ``errors`` (an exception other than a GraphQL error behind them) that
    no ErrorShaping saw: Strawberry makes one of an exception an extension's hook raises while
    the document is parsed or validated once the operation has ended, with the exception's
    text as its message."""
    request_id: str | None = None  # one per request, also where no HTTP request gives one
    for error in errors:
        original = error.original_error
        if original is None or isinstance(original, GraphQLError):
            continue  # the client's document or variables, or an error raised on purpose
        if error.extensions and "code" in error.extensions:
            continue
        request_id = request_id or request_id_of(execution_context)
        hide_fault(error, original, request_id)
