"""Healthie's ``ISO8601DateTime`` scalar, as an argument type: a date-time in ISO 8601.

Kept a plain ``NewType`` of ``str`` (registered in the schema's ``scalar_map``, as ``Cursor`` is),
so a resolver parses it with :func:`parse_iso_datetime` (carebook.times' parser) and a bad value
is a clear BAD_USER_INPUT error naming the argument.
"""

from datetime import datetime, tzinfo
from typing import NewType

import strawberry

from carebook.graphql.errors import BAD_USER_INPUT, CodedError
from carebook.times import parse_in

ISO8601DateTime = NewType("ISO8601DateTime", str)

ISO8601_SCALAR = strawberry.scalar(
    name="ISO8601DateTime",
    description="An ISO 8601-encoded datetime",
    serialize=str,
    parse_value=str,
)


def parse_iso_datetime(value: str | None, name: str, zone: tzinfo) -> datetime | None:
    """The date-time an argument names, in UTC; None when absent. Without an offset it is in
    ``zone``, the reader's (the zone the answer's times are written in), as every date-time
    filter reads it."""
    if value is None or not str(value).strip():
        return None
    try:
        return parse_in(str(value), zone)  # the one parser: ISO 8601 and Healthie's own form
    except ValueError as error:
        raise CodedError(f"{name}: {error}", BAD_USER_INPUT) from None
