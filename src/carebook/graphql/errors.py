"""GraphQL errors with codes, and the extension that shapes every error a client sees.

- Errors raised on purpose carry ``extensions.code`` (UNAUTHENTICATED, FORBIDDEN, ...).
- Malformed documents get GRAPHQL_PARSE_FAILED / GRAPHQL_VALIDATION_FAILED.
- Anything else is a fault: it is logged with a request id (and no variables, so no patient
  data) and the client gets only the id.
- In production mode "Did you mean ...?" hints are removed so the schema is not enumerable.
"""

from __future__ import annotations

import logging
import re
import traceback
import uuid
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

logger = logging.getLogger("carebook.graphql")

UNAUTHENTICATED = "UNAUTHENTICATED"
FORBIDDEN = "FORBIDDEN"
BAD_USER_INPUT = "BAD_USER_INPUT"
INTERNAL = "INTERNAL_SERVER_ERROR"
_HINT = re.compile(r"\s*Did you mean .*?\?", re.DOTALL)


class CodedError(GraphQLError):
    """An expected GraphQL error with a machine-readable code."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message, extensions={"code": code})


class ErrorShaping(SchemaExtension):
    """Gives every error a code and hides internals (see module docstring)."""

    def __init__(self, *, production: bool = False) -> None:
        self.production = production

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
        request_id = uuid.uuid4().hex
        # Only the exception's type and stack frames: its message may quote SQL parameters,
        # that is patient data, which never goes into logs.
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

    def _document_error(self, error: GraphQLError) -> None:
        if self.production:
            error.message = _HINT.sub("", error.message)
        syntax = "Syntax Error" in error.message
        error.extensions = {
            "code": "GRAPHQL_PARSE_FAILED" if syntax else "GRAPHQL_VALIDATION_FAILED"
        }
