"""Recording who read which patient record during one GraphQL request.

Every field that can return a patient ``User``, or another record of patient data (a
:class:`~.subjects.DisclosesUsers`: an address, an appointment, ...), is wrapped with
:func:`audited` (a test walks the schema and fails on any that is not). Read events are
collected on the request and handed to the process's AuditWriter when the operation ends (see
:mod:`.extension`). Writes are recorded by the services that make them (carebook.audit.trail);
:mod:`.writes` gives them the request's origin and records refused attempts.
"""

import functools
import inspect
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, ParamSpec, TypeVar

from graphql import FieldNode
from strawberry.types import Info
from strawberry.types.nodes import SelectedField, Selection

from carebook.audit.service import Target, event_rows
from carebook.graphql.audit.request import RequestAudit, origin_of
from carebook.graphql.audit.subjects import DisclosesUsers, IsUser, users_by_id
from carebook.graphql.context import Context
from carebook.users.models import User as UserRow
from carebook.users.trail import patient_targets

P = ParamSpec("P")
R = TypeVar("R")
MARK = "__carebook_audited__"


def _operation(info: Info[Context, None], audit: RequestAudit) -> str:
    """The root field (not its alias) under which this field is being resolved."""
    path = info.path
    if path.prev is None:  # a root field itself
        return info.field_name
    while path.prev is not None:
        path = path.prev
    key = str(path.key)
    name = audit.root_names.get(key)
    if name is None:
        name = key
        for node in info.operation.selection_set.selections:
            if isinstance(node, FieldNode) and (node.alias or node.name).value == key:
                name = node.name.value
        audit.root_names[key] = name
    return name


def _selected(selections: Iterable[Selection]) -> Iterator[str]:
    """Names of the fields selected, looking through fragments."""
    for selection in selections:
        if isinstance(selection, SelectedField):
            yield selection.name
        else:
            yield from _selected(selection.selections)


def _is_record(value: Any) -> bool:
    """A User, or an object of another patient-data type (it names its people; subjects.py)."""
    return isinstance(value, IsUser | DisclosesUsers)


def _records(info: Info[Context, None], value: Any) -> Iterator[Any]:
    """The records in a resolver's result: one, a list of them, or a mutation payload's.

    A payload's records are returned only when the client selected them.
    """
    if _is_record(value):
        yield value
    elif isinstance(value, list):
        yield from (item for item in value if _is_record(item))
    elif hasattr(value, "__strawberry_definition__"):
        selected = set(_selected(info.selected_fields[0].selections))
        for definition in value.__strawberry_definition__.fields:
            if definition.name not in selected:
                continue
            attribute = getattr(value, definition.python_name, None)
            if _is_record(attribute) or isinstance(attribute, list):
                yield from _records(info, attribute)


def _user_rows(info: Info[Context, None], value: Any) -> Iterator[UserRow]:
    """The rows of the Users in a resolver's result (see _records)."""
    for record in _records(info, value):
        if not isinstance(record, DisclosesUsers):
            yield record.row


async def _people_of_records(info: Info[Context, None], value: Any) -> list[UserRow]:
    """The people whose records (addresses, appointments, ...) a resolver's result holds.

    Those already recorded for this operation are left out before anything is loaded: a
    User's tags and addresses name that User, recorded just before (one load per resolver at
    most, not one per record; the trail would drop their duplicate events anyway).
    """
    audit = info.context.audit
    if audit is None:
        return []
    people: list[UserRow] = []
    ids: dict[int, None] = {}
    for record in _records(info, value):
        if isinstance(record, DisclosesUsers):
            named = record.disclosed_user_ids()
            if named is None:
                people.extend(await record.disclosed_users(info))
            else:
                ids.update(dict.fromkeys(i for i in named if i is not None))
    operation = _operation(info, audit)
    fresh = [i for i in ids if not audit.read_recorded(info.context.actor, i, operation)]
    if fresh:
        people.extend(await users_by_id(info, fresh))
    return people


def _record(info: Info[Context, None], targets: Sequence[Target], allowed: bool) -> None:
    context = info.context
    audit = context.audit
    if audit is None or not targets:
        return
    rows = audit.first_reads(
        event_rows(
            origin_of(context, audit),
            targets,
            operation=_operation(info, audit),
            action="read",
            allowed=allowed,
            occurred_at=datetime.now(UTC),
        )
    )
    audit.pending.extend(rows)
    if context.idempotency is not None:  # only an answer kept for replays needs the list
        audit.note_disclosed(rows)


def record_denied_read(info: Info[Context, None], record_id: int) -> None:
    """A read of a record the caller may not see (it answered as missing)."""
    _record(info, [Target(record_id, None)], allowed=False)


def record_reads(info: Info[Context, None], patients: Sequence[tuple[int, int]]) -> None:
    """Reads of patients known by (id, organization id) that an answer discloses outside any
    record it returns (createClient's duplicate warnings name them)."""
    _record(info, [Target(i, org) for i, org in patients], allowed=True)


def audited(resolver: Callable[P, R]) -> Callable[P, R]:
    """Record a read event for every patient in what ``resolver`` returns.

    The resolver must take ``info``; the wrapper keeps its signature, so Strawberry sees the
    same arguments.
    """
    if "info" not in inspect.signature(resolver).parameters:
        raise TypeError(f"{resolver.__qualname__} must take info to be audited")

    def after(kwargs: dict[str, Any], value: Any, people: Sequence[UserRow] = ()) -> None:
        info = kwargs["info"]
        _record(info, patient_targets([*_user_rows(info, value), *people]), allowed=True)

    wrapper: Any
    if inspect.iscoroutinefunction(resolver):

        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            value = await resolver(*args, **kwargs)
            after(kwargs, value, await _people_of_records(kwargs["info"], value))
            return value

    else:

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            value = resolver(*args, **kwargs)
            after(kwargs, value)
            return value

    functools.update_wrapper(wrapper, resolver)
    setattr(wrapper, MARK, True)
    return wrapper  # type: ignore[no-any-return]
