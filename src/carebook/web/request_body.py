"""Reading a GraphQL request's JSON (a POST body, or GET's ``variables``) before anything uses it.

A lone UTF-16 surrogate (``"\\ud800"``: valid JSON, kept as is by Python) cannot be encoded as
UTF-8. Anywhere in the request, in a variable, the operation name or the query, it broke whatever
encoded the text first: the Idempotency-Key digest, password hashing, rate-limit keys, the
database driver, or the error message echoing an unknown operation name. It is refused here, for
the whole request, with the answer :mod:`carebook.graphql.text_guard` gives inside the schema.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import JSONResponse

from carebook.graphql.errors import BAD_USER_INPUT
from carebook.graphql.text_guard import in_value


class Refused(Exception):
    """The request is answered with ``response`` without running."""

    def __init__(self, response: JSONResponse) -> None:
        super().__init__(response.status_code)
        self.response = response


def error_response(status: int, code: str, message: str, **extensions: Any) -> JSONResponse:
    """A GraphQL-shaped error body."""
    error = {"message": message, "extensions": {"code": code, **extensions}}
    return JSONResponse({"data": None, "errors": [error]}, status_code=status)


def decode(data: str | bytes) -> object:
    """The decoded JSON; raises :class:`Refused` for text that cannot be stored."""
    value = json.loads(data)
    problem = in_value(value)
    if problem:
        # 200, as for a NUL: the request is well-formed JSON, one of its values is refused.
        raise Refused(error_response(200, BAD_USER_INPUT, problem))
    return value
