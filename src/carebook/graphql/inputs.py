"""Inputs: terse field declarations, and the one conversion of a Strawberry input to a service's.

Services take typed inputs, never a mapping of GraphQL names. The scheme, the same in every domain:

- Each service input is a frozen, slotted, keyword-only dataclass defined in its domain package
  (``carebook/<domain>/inputs.py``), so the GraphQL layer, the CLI and the web pages build the same
  value and the domain never imports Strawberry.
- A field the caller did not give is ``None``. Healthie treats an explicit ``null`` in an input
  like an absent field (docs/decisions.md, "Field rules"), and so does Carebook: both arrive at the
  service as ``None``, and a service tests ``value is not None`` to know a field was given.
  No service input has a field whose ``None`` means "clear the value"; clearing uses a value
  (``""``, an empty list) as in Healthie.
- A field an operation needs even when absent (a new patient's names) is named by the service
  (``required`` of :func:`carebook.accounts.changes.apply_changes`), not by the input.
- Single-id services (deletes, tag writes) take the id itself, read with :func:`value_of`.
- :func:`given` is the one place the rule is written: :func:`typed`, :func:`value_of` and
  ``carebook.graphql.common.provided`` (the mapping signIn still takes) all use it.
"""

import dataclasses
from typing import Any, TypeVar

import strawberry

T = TypeVar("T")


def opt(description: str, default: Any = strawberry.UNSET) -> Any:
    """An optional input field; absent (UNSET) unless the client sends it."""
    return strawberry.field(description=description, default=default)


def given(value: Any) -> bool:
    """Whether the client set a field: sent, and not null (null means absent, as in Healthie)."""
    return value is not None and value is not strawberry.UNSET


def typed(kind: type[T], data: object | None, **extra: Any) -> T:
    """The service input ``kind`` (a dataclass) built from the Strawberry input ``data``.

    Each field of ``kind`` takes the value of the attribute of the same name of ``data`` when the
    client set it (see :func:`given`), and otherwise keeps its default, ``None``: an omitted
    field and an explicit ``null`` become the same ``None``. A field that ``data``'s GraphQL type
    does not have stays ``None`` too (updateUser's input has no ``dietitian_id``, for one), and so
    does every field when the client sent no input at all (``data`` is ``None``). ``extra`` gives
    fields that do not come from the client (e.g. a key made by the resolver); a value the client
    set wins over them.
    """
    values = {name: value for name, value in extra.items() if value is not None}
    for field in dataclasses.fields(kind):  # type: ignore[arg-type]
        if given(value := getattr(data, field.name, None)):
            values[field.name] = value
    return kind(**values)


def value_of(data: object | None, name: str) -> Any:
    """One field of a Strawberry input, ``None`` when absent or null: :func:`typed`'s rule, for
    the services that take a single id rather than an input dataclass."""
    value = getattr(data, name, None)
    return value if given(value) else None
