"""Isolation proven by generation: nothing of another organization can be read or written.

The test walks the whole served schema. Every root query and mutation that takes an id (an
argument or input field of type ID or [ID], or a String named id, ids, *_id or *_ids, at any
depth of an input object) is called with the ids of organization B's records, by organization
A's provider, A's staff member, A's patient and an anonymous caller. Each id slot is tried on
its own (with only the required arguments besides), and once with every input filled in. No
answer may carry B's data, return one of B's records or fail with a 500, and none of B's rows
may change. New operations are covered without anyone editing this file.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    get_named_type,
    is_leaf_type,
    parse,
    parse_value,
    validate,
    value_from_ast_untyped,
)
from sqlalchemy import Table, select

from carebook.config import Settings
from carebook.db.engine import Database
from carebook.events.models import SentWebhook, Webhook, WebhookSubscription
from carebook.tables import Base
from tests.support.api import Api
from tests.support.emails import REQUEST_FORM
from tests.support.scheduling import CREATE_APPOINTMENT, create_offering, create_type, future
from tests.support.schema_walk import SCHEMA, is_required, root_fields
from tests.support.world import World

ID_NAME = re.compile(r"^(ids?|.+_ids?)$")
# String inputs that carry ids without the naming convention.
ID_LIKE_NAMES = {"providers", "simple_added_users", "groups_to_use_onboarding_flow"}
# Internal tables whose ids no operation takes.
NOT_ADDRESSABLE = {
    "search_tokens",
    "session_tokens",
    "api_keys",
    "signup_tokens",
    "outbox_messages",
    "alembic_version",
}
# GraphQL types whose table is not the plural of their snake-cased name.
TYPE_TABLES = {"Notification": "user_notifications"}
MIN_ATTEMPTS = 2000

Path = tuple[str, ...]


@dataclass(frozen=True)
class Slot:
    """One place an id goes: the path of argument and input-field names, and its type."""

    path: Path
    type_: GraphQLInputType


def _unwrap(type_: Any) -> Any:
    return type_.of_type if isinstance(type_, GraphQLNonNull) else type_


def _is_id_slot(name: str, type_: GraphQLInputType) -> bool:
    named = get_named_type(type_)
    if named.name == "ID":
        return True
    return named.name == "String" and (ID_NAME.match(name) is not None or name in ID_LIKE_NAMES)


def _slots(name: str, type_: GraphQLInputType, path: Path, depth: int = 0) -> Iterator[Slot]:
    named = get_named_type(type_)
    if isinstance(named, GraphQLInputObjectType):
        if depth < 3:
            for field_name, field in named.fields.items():
                yield from _slots(field_name, field.type, (*path, field_name), depth + 1)
    elif _is_id_slot(name, type_):
        yield Slot(path, type_)


def id_slots(field: GraphQLField) -> list[Slot]:
    """Every place of a root field that takes an id."""
    return [
        s for arg_name, arg in field.args.items() for s in _slots(arg_name, arg.type, (arg_name,))
    ]


def _filler(type_: Any) -> str:
    if isinstance(type_, GraphQLEnumType):
        return next(iter(type_.values))
    return {"Int": "1", "Float": "1.5", "Boolean": "true"}.get(type_.name, '"probe"')


def _value(
    type_: GraphQLInputType, path: Path, ids: dict[Path, str], fill: bool, required: bool
) -> str | None:
    """The literal at ``path``: an id where ``ids`` says, filler or nothing elsewhere."""
    inner = _unwrap(type_)
    if path in ids:
        return f'["{ids[path]}"]' if isinstance(inner, GraphQLList) else f'"{ids[path]}"'
    if isinstance(inner, GraphQLList):
        item = _value(inner.of_type, path, ids, fill, required)
        return None if item is None else f"[{item}]"
    if isinstance(inner, GraphQLInputObjectType):
        parts = []
        for name, field in inner.fields.items():
            need = is_required(field.type, field.default_value)
            sub = _value(field.type, (*path, name), ids, fill, need)
            if sub is not None:
                parts.append(f"{name}: {sub}")
        return "{" + ", ".join(parts) + "}" if parts or required or fill else None
    if not (required or fill):
        return None
    return _filler(inner)


def selection(type_: GraphQLOutputType, depth: int = 2) -> str:
    """Every scalar of an object result (and of its objects, ``depth`` levels down)."""
    return _selection(get_named_type(type_), depth)


@cache  # the schema does not change: each type's selection is written once, not per attempt
def _selection(named: Any, depth: int) -> str:
    if is_leaf_type(named):
        return ""
    parts = ["__typename"]
    if isinstance(named, GraphQLObjectType):
        for name, field in named.fields.items():
            if any(is_required(a.type, a.default_value) for a in field.args.values()):
                continue
            sub = get_named_type(field.type)
            if is_leaf_type(sub):
                parts.append(name)
            elif depth > 0:
                parts.append(f"{name} {_selection(sub, depth - 1)}")
    return "{ " + " ".join(parts) + " }"


def call(
    operation: str,
    name: str,
    field: GraphQLField,
    ids: dict[Path, str],
    fill: bool,
    select: str | None = None,
) -> str:
    """A document calling ``name`` with the given ids, required arguments and maybe filler.

    The result's selection is ``select``, by default every scalar two levels down.
    """
    arguments = []
    for arg_name, arg in field.args.items():
        need = is_required(arg.type, arg.default_value)
        value = _value(arg.type, (arg_name,), ids, fill and (arg_name,) not in ids, need)
        if value is not None:
            arguments.append(f"{arg_name}: {value}")
    args = f"({', '.join(arguments)})" if arguments else ""
    chosen = selection(field.type) if select is None else select
    return f"{operation} {{ {name}{args} {chosen} }}"


def walked_fields() -> list[tuple[str, str, GraphQLField, list[Slot]]]:
    """The root fields taking ids, with their id slots."""
    walked = []
    for operation, name, field in root_fields():
        slots = id_slots(field)
        if slots:
            walked.append((operation, name, field, slots))
    return walked


# One attempt: (root field, document, variables).
Attempt = tuple[str, str, dict[str, Any]]


def attempts(b_ids: list[str], operations: set[str] | None = None) -> Iterator[Attempt]:
    """An attempt for every id slot and id, and once with everything filled."""
    for operation, name, field, slots in walked_fields():
        if operations is not None and operation not in operations:
            continue
        for b_id in b_ids:
            for slot in slots:
                yield name, *call_with_variables(operation, name, field, {slot.path: b_id}, False)
            every = {slot.path: b_id for slot in slots}
            yield name, *call_with_variables(operation, name, field, every, True)


def call_with_variables(
    operation: str, name: str, field: GraphQLField, ids: dict[Path, str], fill: bool
) -> tuple[str, dict[str, Any]]:
    """call()'s request with every argument passed as a variable, the way clients send them.

    The documents of one root field then differ only in their variables, so the server parses
    and validates each once (its parser and validation caches) instead of once per id and caller:
    the walk spent three quarters of its time there. What reaches the resolvers is the same."""
    definitions, arguments, variables = [], [], {}
    for arg_name, arg in field.args.items():
        need = is_required(arg.type, arg.default_value)
        value = _value(arg.type, (arg_name,), ids, fill and (arg_name,) not in ids, need)
        if value is not None:
            definitions.append(f"${arg_name}: {arg.type}")
            arguments.append(f"{arg_name}: ${arg_name}")
            variables[arg_name] = value_from_ast_untyped(parse_value(value))
    heading = f"{operation}({', '.join(definitions)})" if definitions else operation
    args = f"({', '.join(arguments)})" if arguments else ""
    return f"{heading} {{ {name}{args} {selection(field.type)} }}", variables


# --- organization B's records -----------------------------------------------------------------


async def _ok(api: Api, query: str, variables: dict[str, Any], root: str) -> dict[str, Any]:
    payload: dict[str, Any] = (await api.data(query, variables))[root]
    assert payload["messages"] is None, payload
    return payload


async def build_b_records(api: Api, world: World, marker: str) -> None:
    """One record of each kind with an id in organization B, named with ``marker``."""
    b = world.b
    provider = api.with_key(b.provider.api_key)
    patient = str(b.patient_id)
    await _ok(
        provider,
        "mutation($n: String, $u: ID) { createTag(input: {name: $n, taggable_user_id: $u}) {"
        " tag { id } messages { field message } } }",
        {"n": f"{marker} tag", "u": patient},
        "createTag",
    )
    await _ok(
        provider,
        "mutation($i: createLocationInput) { createLocation(input: $i) {"
        " location { id } messages { field message } } }",
        {
            "i": {
                "name": f"{marker} clinic",
                "line1": f"1 {marker} Street",
                "city": "Albany",
                "state": "NY",
                "zip": "12207",
                "user_id": patient,
            }
        },
        "createLocation",
    )
    await _ok(
        provider,
        "mutation($n: String, $g: String) { createOnboardingFlow(input: {name: $n,"
        " groups_to_use_onboarding_flow: $g}) {"
        " onboardingFlow { id } messages { field message } } }",
        {"n": f"{marker} flow", "g": str(b.group_id)},
        "createOnboardingFlow",
    )
    await _ok(
        provider,
        "mutation($u: String, $n: String) { createConversation(input: {simple_added_users: $u,"
        " name: $n}) { conversation { id } messages { field message } } }",
        {"u": patient, "n": f"{marker} conversation"},
        "createConversation",
    )
    type_id = await create_type(provider, name=f"{marker} consult", ccb=True)
    await create_offering(provider, name=f"{marker} programme")
    await _ok(
        provider,
        CREATE_APPOINTMENT,
        {
            "user_id": patient,
            "providers": str(b.provider.user_id),
            "type": type_id,
            "datetime": future(days=4).isoformat(),
            "timezone": "UTC",
        },
        "createAppointment",
    )
    await _ok(
        provider,
        REQUEST_FORM,
        {"input": {"recipient_id": patient, "custom_module_form_id": "12"}},
        "createRequestedFormCompletion",
    )


async def build_b_webhook(database: Database, world: World, marker: str) -> None:
    """B's webhook, a subscription of it and a logged send, written directly: the walk's app
    refuses the private URL a test could register, and only delivery logs sends."""
    b_org = world.b.provider.organization_id
    url = f"https://{marker.lower()}.example/hook"
    async with database.write_sessions() as session, session.begin():
        webhook = Webhook(organization_id=b_org, url=url, event_type="patient.created")
        webhook.secret_sealed = f"sealed {marker}"
        session.add(webhook)
        await session.flush()
        session.add(WebhookSubscription(webhook_id=webhook.id, event_type="patient.updated"))
        session.add(
            SentWebhook(
                organization_id=b_org,
                webhook_id=webhook.id,
                event_type="patient.created",
                resource_id=world.b.patient_id,
                resource_id_type="User",
                url=url,
                http_response_status="200",
            )
        )


# --- B's rows ---------------------------------------------------------------------------------

Rows = dict[str, set[str]]


def _b_owned(
    table: Table, row: dict[str, Any], owned: dict[str, set[Any]], root: tuple[str, int]
) -> bool:
    if table.name == root[0]:
        return bool(row["id"] == root[1])
    for column in table.columns:
        for key in column.foreign_keys:
            if row[column.name] in owned.get(key.column.table.name, set()):
                return True
    return False


async def b_rows(
    database: Database, b_org: int, root: tuple[str, int] | None = None
) -> tuple[Rows, dict[str, set[Any]]]:
    """Every row belonging to organization B, table by table, and the ids of B's records.

    A row is B's when it is B's organization or refers (by a foreign key) to a row of B's.
    With ``root`` (table, id), the rows of that record instead (a user's, in the patient walk).
    """
    start = root if root is not None else ("organizations", b_org)
    owned: dict[str, set[Any]] = {}
    rows: Rows = {}
    async with database.write_sessions() as session:
        for table in Base.metadata.sorted_tables:
            result = await session.execute(select(table))
            mine = [dict(r) for r in result.mappings() if _b_owned(table, dict(r), owned, start)]
            rows[table.name] = {json.dumps(r, sort_keys=True, default=str) for r in mine}
            if "id" in table.columns:
                owned[table.name] = {r["id"] for r in mine}
    return rows, owned


def _table_of(typename: str) -> str:
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", typename).lower()
    return TYPE_TABLES.get(typename, f"{snake}s")


def b_objects(data: Any, owned: dict[str, set[Any]]) -> Iterator[str]:
    """``Type:id`` of every object in ``data`` that is one of B's records."""
    if isinstance(data, list):
        for item in data:
            yield from b_objects(item, owned)
    elif isinstance(data, dict):
        typename, object_id = data.get("__typename"), data.get("id")
        if typename and object_id is not None:
            ids = {str(i) for i in owned.get(_table_of(typename), set())}
            if str(object_id) in ids:
                yield f"{typename}:{object_id}"
        for value in data.values():
            yield from b_objects(value, owned)


async def check(
    caller: Api,
    who: str,
    query: str,
    needles: list[str],
    owned: dict[str, set[Any]],
    variables: dict[str, Any] | None = None,
) -> list[str]:
    """What is wrong with one answer: a failure, B's data or one of B's records."""
    body = {"query": query, "variables": variables or {}}
    response = await caller.client.post("/graphql", json=body, headers=caller.headers)
    return judge(response, who, query, needles, owned)


def judge(
    response: httpx.Response, who: str, query: str, needles: list[str], owned: dict[str, set[Any]]
) -> list[str]:
    """check()'s verdict on an answer already received."""
    text = response.text
    if response.status_code != 200:
        return [f"{who} {response.status_code}: {query} -> {text[:300]}"]
    body = response.json()
    problems = []
    codes = [e.get("extensions", {}).get("code") for e in body.get("errors") or []]
    if "INTERNAL_SERVER_ERROR" in codes:
        problems.append(f"{who} 500: {query} -> {text[:300]}")
    leaked = [n for n in needles if n in text]
    leaked += list(b_objects(body.get("data"), owned))
    if leaked:
        problems.append(f"{who} leak {leaked}: {query} -> {text[:300]}")
    return problems


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """A cost limit that lets every generated document run: lists of ids are costed too, and a
    refused document would prove nothing either way."""
    return settings.model_copy(update={"max_query_cost": 10**15})


# --- the tests --------------------------------------------------------------------------------


def test_the_walk_covers_the_id_taking_fields() -> None:
    walked = {name for _, name, _, _ in walked_fields()}
    assert {"user", "users", "updateClient", "location", "deleteTag", "appointment"} <= walked
    for operation, name, field, slots in walked_fields():
        for slot in slots:
            for fill in (False, True):
                query = call(operation, name, field, {slot.path: "1"}, fill)
                assert validate(SCHEMA._schema, parse(query)) == [], query


async def test_no_caller_reads_or_writes_another_organizations_records(
    api: Api, world: World, database: Database
) -> None:
    marker = f"LEAKB-{uuid.uuid4().hex[:10]}"
    await build_b_records(api, world, marker)
    await build_b_webhook(database, world, marker)
    b_org = world.b.provider.organization_id
    before, owned = await b_rows(database, b_org)
    b_ids = sorted(
        {str(i) for table, ids in owned.items() if table not in NOT_ADDRESSABLE for i in ids},
        key=int,
    )
    needles = [marker, "provider.b@", "staff.b@", "patient.b@", "other.b@", "IentB", "Group b"]
    records = sum(len(ids) for table, ids in owned.items() if table not in NOT_ADDRESSABLE)
    assert records >= 12 and owned["tags"] and owned["appointments"], owned

    # The control: B's own provider, walking the queries, must be caught reading B's records,
    # or the documents and the leak detection would prove nothing.
    b_provider = api.with_key(world.b.provider.api_key)
    caught: set[str] = set()
    # Written once: every caller sends the same attempts (the control the queries among them).
    every_attempt = list(attempts(b_ids))
    queries = {name for operation, name, _, _ in walked_fields() if operation == "query"}
    for name, query, variables in every_attempt:
        if name not in queries:
            continue
        if await check(b_provider, "B", query, needles, owned, variables):
            caught.add(name)
    assert {"user", "users", "location", "appointment", "conversation", "userGroup"} <= caught
    assert "webhook" in caught

    callers = {
        "anonymous": api,
        "patient": api.with_token(world.a.patient_token),
        "staff": api.with_key(world.a.staff.api_key),
        "provider": api.with_key(world.a.provider.api_key),
    }
    problems: list[str] = []
    count = 0
    fields: set[str] = set()
    for who, caller in callers.items():
        for name, query, variables in every_attempt:
            count += 1
            fields.add(name)
            problems += await check(caller, who, query, needles, owned, variables)

    for who in ("patient", "staff", "provider"):
        me = await callers[who].data("{ currentUser { id } }")
        assert me["currentUser"] is not None, f"the walk logged {who} out"

    after, _ = await b_rows(database, b_org)
    for table in before:
        if before[table] != after[table]:
            gone = sorted(before[table] - after[table])[:3]
            new = sorted(after[table] - before[table])[:3]
            problems.append(f"B's {table} changed: before {gone} after {new}")

    walked = {name for _, name, _, _ in walked_fields()}
    print(f"isolation: {count} attempts on {len(fields)} root fields with {len(b_ids)} ids of B")
    assert fields == walked
    assert count >= MIN_ATTEMPTS
    assert problems == [], "\n".join(problems[:25]) + f"\n({len(problems)} problems)"


async def test_the_write_check_sees_a_change_to_organization_b(
    api: Api, world: World, database: Database
) -> None:
    b_org = world.b.provider.organization_id
    before, _ = await b_rows(database, b_org)
    await build_b_records(api, world, "control")
    after, _ = await b_rows(database, b_org)
    assert {t for t in before if before[t] != after[t]} >= {"tags", "locations", "appointments"}
