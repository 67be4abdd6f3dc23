"""Reading a GraphQL request's JSON (a POST body, or GET's ``variables``) before anything uses it.

JSON nested 100,000 deep made the decoder raise RecursionError, a bare 500; nesting a little
less deep than the decoder's limit would do the same later, in whatever walks the value
recursively (variable coercion, the Idempotency-Key digest). Bodies nested deeper than
:data:`MAX_DEPTH` (far beyond any GraphQL request: variables of input objects holding lists are a
handful of levels) and bodies that are not a JSON object (or a batch's array) are answered 400
with a GraphQL-style error, code ``BAD_REQUEST``, where Strawberry answered plain text, or a 500
for a body not in UTF-8 or a bare string, number or null.

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
from carebook.graphql.text_guard import problem

BAD_REQUEST = "BAD_REQUEST"
MAX_DEPTH = 64


class Refused(Exception):
    """The request is answered with ``response`` without running."""

    def __init__(self, response: JSONResponse) -> None:
        super().__init__(response.status_code)
        self.response = response


def error_response(status: int, code: str, message: str, **extensions: Any) -> JSONResponse:
    """A GraphQL-shaped error body."""
    error = {"message": message, "extensions": {"code": code, **extensions}}
    return JSONResponse({"data": None, "errors": [error]}, status_code=status)


BODY = "The request body"


def decode(data: str | bytes, *, source: str = BODY) -> object:
    """The decoded JSON; raises :class:`Refused` for a body that cannot be used.

    ``source`` names what is decoded in the messages: the POST body must be a JSON object (or a
    batch's array); a GET's ``variables`` or ``extensions`` (:func:`decode_parameter`) may be
    anything JSON, such as ``null``, which Strawberry then judges.
    """
    try:
        value = json.loads(data)
    except RecursionError:
        raise Refused(_too_deep(source)) from None
    except ValueError:  # not JSON, or not UTF-8 (UnicodeDecodeError)
        raise Refused(error_response(400, BAD_REQUEST, f"{source} is not JSON.")) from None
    # A bare string or number has no query to read.
    if source == BODY and not isinstance(value, dict | list):
        raise Refused(error_response(400, BAD_REQUEST, f"{source} is not a JSON object."))
    if not _plainly_fine(data):
        _inspect(value, source)
    return value


def _plainly_fine(data: str | bytes) -> bool:
    """Whether a UTF-8 body, from its bytes alone, can hold neither bad text nor deep nesting.

    The walk of :func:`_inspect` costs about 6 µs a request; this scan about 1. A NUL or a lone
    surrogate reaches a decoded string only through a ``\\u`` escape or, since ``json.loads``
    decodes bytes with ``surrogatepass``, as raw UTF-8-encoded surrogates (bytes ED A0-BF ..); a
    raw NUL is not valid JSON. Nesting needs one ``[`` or ``{`` per level (brackets in strings
    only count too many). Other encodings (UTF-16, UTF-32) are always walked.
    """
    if not isinstance(data, bytes) or json.detect_encoding(data) not in ("utf-8", "utf-8-sig"):
        return False
    if b"\\u" in data or b"\xed" in data:
        return False
    return data.count(b"[") + data.count(b"{") <= MAX_DEPTH


def decode_parameter(name: str, value: str) -> object:
    """A GET's JSON query parameter (``variables``, ``extensions``), checked as a body is."""
    return decode(value, source=f"The query parameter `{name}`")


def _too_deep(source: str) -> JSONResponse:
    message = f"{source} is nested more than {MAX_DEPTH} levels deep."
    return error_response(400, BAD_REQUEST, message, limit=MAX_DEPTH)


def _inspect(value: object, source: str) -> None:
    """Refuse nesting past MAX_DEPTH and text that cannot be stored, keys included."""
    # A loop, not recursion: the check itself cannot exhaust the stack.
    pending: list[tuple[object, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            found = problem(item)
            if found:
                # 200, as for a NUL: the request is well-formed JSON, one of its values is not.
                raise Refused(error_response(200, BAD_USER_INPUT, found))
        elif isinstance(item, dict | list):
            if depth == MAX_DEPTH:
                raise Refused(_too_deep(source))
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)
