"""A patient reads nothing private of anyone else, by any path: the isolation walk, for one role.

The cross-organization walk (test_isolation.py) proves nothing of organization B reaches A. This
walk covers what a patient of A reaches inside A through what is theirs: their conversation with
another patient, their care team, their appointments, tags, addresses and form requests.

1. Every root field a patient can call, followed down every path of object fields (four fields
   deep; each (type, field) once per path, so User.dietitian.providers.dietitian is walked), with
   every scalar selected along the way, called with the ids of the patient's own records.
2. Every root field with an id slot, called with the ids of the other patient's records and of
   the staff's (the generated attempts of test_isolation.py).

No answer may carry the other patient's private data (email, phone, date of birth, record id,
address, tags) or the addresses, tags or contact details of the staff; every User in an answer
that is not the caller shows only what auth/scoping.py discloses to them (a name; a provider's
professional profile); no answer is an internal error or a refused document; no row of the other
patient changes; the patient stays signed in.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from graphql import GraphQLField, get_named_type

from carebook.auth.scoping import Disclosure
from carebook.config import Settings
from carebook.db.engine import Database
from tests.security.test_isolation import attempts, b_rows, call, check, id_slots
from tests.support.api import Api
from tests.support.emails import REQUEST_FORM
from tests.support.scheduling import CREATE_APPOINTMENT, create_type, future
from tests.support.schema_walk import object_paths, path_selection, root_fields
from tests.support.world import World

DEPTH = 4
# What each disclosure shows of a user (every other field is null or empty). The walk checks the
# server against this table, written out here so that a change to scoping.py must change it too.
SHOWN = {
    Disclosure.NAME: {"id", "cursor", "first_name", "last_name", "full_name", "name", "active"},
    Disclosure.PROFILE: {
        "id",
        "cursor",
        "first_name",
        "last_name",
        "full_name",
        "name",
        "active",
        "pronouns",
        "timezone",
        "is_patient",
    },
}
# Root fields a patient's walk leaves out: they end the session it walks with.
SIGNING_OUT = {"signOut", "revokeToken"}


@dataclass
class Cast:
    """Organization A's records, as the walks need them."""

    me: str  # the calling patient
    other: str  # the patient in a conversation with them
    staff: set[str]  # the provider and the staff member
    own: dict[str, str]  # GraphQL type -> the id of one of the caller's records of that type
    foreign: list[str]  # ids of the other patient's records and of the staff's
    needles: list[str]  # strings of their private data, found in no answer to the caller


async def _ok(api: Api, query: str, variables: dict[str, Any], root: str) -> dict[str, Any]:
    payload: dict[str, Any] = (await api.data(query, variables))[root]
    assert payload["messages"] == [], payload
    return payload


async def _location(api: Api, user_id: str, line1: str) -> str:
    payload = await _ok(
        api,
        "mutation($i: createLocationInput) { createLocation(input: $i) {"
        " location { id } messages { field message } } }",
        {
            "i": {
                "name": line1,
                "line1": line1,
                "city": "Albany",
                "state": "NY",
                "zip": "12207",
                "user_id": user_id,
            }
        },
        "createLocation",
    )
    return str(payload["location"]["id"])


async def _tag(api: Api, name: str, *user_ids: str) -> str:
    payload = await _ok(
        api,
        "mutation($n: String, $u: ID) { createTag(input: {name: $n, taggable_user_id: $u}) {"
        " tag { id } messages { field message } } }",
        {"n": name, "u": user_ids[0]},
        "createTag",
    )
    tag_id = str(payload["tag"]["id"])
    for user_id in user_ids[1:]:
        await _ok(
            api,
            "mutation($t: [ID], $u: ID) { bulkApply(input: {ids: $t, taggable_user_id: $u}) {"
            " messages { field message } } }",
            {"t": [tag_id], "u": user_id},
            "bulkApply",
        )
    return tag_id


async def _appointment(api: Api, patient: str, provider: str, type_id: str, days: int) -> str:
    payload = await _ok(
        api,
        CREATE_APPOINTMENT,
        {
            "user_id": patient,
            "providers": provider,
            "type": type_id,
            "datetime": future(days=days).isoformat(),
            "timezone": "UTC",
        },
        "createAppointment",
    )
    return str(payload["appointment"]["id"])


async def _form_request(api: Api, patient: str) -> str:
    payload = await _ok(
        api,
        REQUEST_FORM,
        {"input": {"recipient_id": patient, "custom_module_form_id": "12"}},
        "createRequestedFormCompletion",
    )
    return str(payload["requestedFormCompletion"]["id"])


async def build_cast(api: Api, world: World) -> Cast:
    """The caller's records, the other patient's and the staff's, each private field marked."""
    a = world.a
    provider = api.with_key(a.provider.api_key)
    marker = f"PRIV{uuid.uuid4().hex[:8]}"
    me, other = str(a.patient_id), str(a.other_patient_id)
    staff_ids = {str(a.provider.user_id), str(a.staff.user_id)}
    for patient in (me, other):
        await _ok(
            provider,
            "mutation($i: updateClientInput) { updateClient(input: $i) {"
            " user { id } messages { field message } } }",
            {
                "i": {
                    "id": patient,
                    "user_group_id": str(a.group_id),
                    "other_provider_ids": str(a.staff.user_id),
                }
            },
            "updateClient",
        )
    await _ok(
        provider,
        "mutation($i: updateClientInput) { updateClient(input: $i) {"
        " user { id } messages { field message } } }",
        {
            "i": {
                "id": other,
                "phone_number": "+15550001234",
                "dob": "1961-02-03",
                "record_identifier": f"{marker}rec",
                "legal_name": f"{marker}legal",
            }
        },
        "updateClient",
    )
    type_id = await create_type(provider, name="Walk consult", ccb=True)
    conversation = await _ok(
        provider,
        'mutation($u: String) { createConversation(input: {simple_added_users: $u, name: "Walk"})'
        " { conversation { id } messages { field message } } }",
        {"u": f"{me},{other}"},
        "createConversation",
    )
    own = {
        "User": me,
        "Conversation": str(conversation["conversation"]["id"]),
        "Location": await _location(provider, me, "1 Own Street"),
        "Tag": await _tag(provider, "Shared walk tag", me, other),
        "Appointment": await _appointment(provider, me, str(a.provider.user_id), type_id, 4),
        "RequestedFormCompletion": await _form_request(provider, me),
        "UserGroup": str(a.group_id),
    }
    foreign = [
        other,
        *staff_ids,
        await _location(provider, other, f"{marker}other street"),
        await _location(provider, str(a.provider.user_id), f"{marker}staff street"),
        await _tag(provider, f"{marker}other tag", other),
        await _tag(provider, f"{marker}staff tag", str(a.provider.user_id), str(a.staff.user_id)),
        await _appointment(provider, other, str(a.provider.user_id), type_id, 5),
        await _form_request(provider, other),
    ]
    needles = [marker, "other.a@", "provider.a@", "staff.a@", "5550001234", "1961-02-03"]
    return Cast(me, other, staff_ids, own, foreign, needles)


# --- documents ----------------------------------------------------------------------------


def _own_ids(field: GraphQLField, cast: Cast) -> dict[tuple[str, ...], str]:
    """Each id slot of a root field given the caller's own record: the field's own type for
    ``id``/``ids`` (the conversation of ``conversation(id:)``), the caller for any other."""
    returned = re.sub(r"Payload$", "", get_named_type(field.type).name)
    ids = {}
    for slot in id_slots(field):
        name = slot.path[-1]
        if name in ("id", "ids") and returned in cast.own:
            ids[slot.path] = cast.own[returned]
        elif name in ("id", "ids", "user_id", "taggable_user_id", "recipient_id", "patient_id"):
            ids[slot.path] = cast.me
    return ids


def nested_documents(cast: Cast) -> Iterator[tuple[str, str]]:
    """(root field path, document) for every path below every root field, with own ids."""
    for operation, name, field in root_fields():
        if name in SIGNING_OUT or operation == "subscription":
            continue
        ids = _own_ids(field, cast)
        for path in object_paths(field.type, DEPTH):
            select = path_selection(field.type, path)
            yield ".".join((name, *path)), call(operation, name, field, ids, False, select)


# --- the checks ---------------------------------------------------------------------------


def _users(data: Any) -> Iterator[dict[str, Any]]:
    if isinstance(data, list):
        for item in data:
            yield from _users(item)
    elif isinstance(data, dict):
        if data.get("__typename") == "User":
            yield data
        for value in data.values():
            yield from _users(value)


def _shown(value: Any) -> bool:
    return value not in (None, [], {}) and not (
        isinstance(value, dict) and set(value) == {"__typename"}
    )


def overexposed(data: Any, cast: Cast) -> list[str]:
    """Fields of users other than the caller that their disclosure does not show."""
    problems = []
    for user in _users(data):
        user_id = str(user.get("id"))
        if user_id == cast.me:
            continue
        disclosure = Disclosure.PROFILE if user_id in cast.staff else Disclosure.NAME
        extra = sorted(
            k
            for k, v in user.items()
            if k != "__typename" and k not in SHOWN[disclosure] and _shown(v)
        )
        if extra:
            problems.append(f"User {user_id} shows {extra}")
    return problems


async def examine(caller: Api, path: str, query: str, cast: Cast) -> list[str]:
    """What is wrong with one answer to the patient."""
    response = await caller.client.post("/graphql", json={"query": query}, headers=caller.headers)
    if response.status_code != 200:
        return [f"{path} {response.status_code}: {response.text[:200]}"]
    body = response.json()
    codes = {e.get("extensions", {}).get("code") for e in body.get("errors") or []}
    # Refused documents would prove nothing: the walk must stay inside the limits.
    refused = codes & {"INTERNAL_SERVER_ERROR", "GRAPHQL_VALIDATION_FAILED", "QUERY_TOO_COMPLEX"}
    refused |= codes & {"GRAPHQL_PARSE_FAILED", "RATE_LIMITED"}
    problems = [f"{path} errors {sorted(refused)}: {response.text[:300]}"] if refused else []
    leaked = [n for n in cast.needles if n in response.text]
    leaked += overexposed(body.get("data"), cast)
    if leaked:
        problems.append(f"{path} leaks {leaked}: {query} -> {response.text[:400]}")
    return problems


# --- the tests ----------------------------------------------------------------------------


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The test settings with a cost limit that lets every path run: the walk is about what a
    path shows, and a document refused for its estimated size would show nothing."""
    return settings.model_copy(update={"max_query_cost": 10**12})


def test_the_walk_follows_the_nested_paths() -> None:
    """Not vacuous: the paths the attack used, and the care team's, are in the walk."""
    cast = Cast("1", "2", {"3"}, {}, [], [])
    paths = {path for path, _ in nested_documents(cast)}
    wanted = {
        "conversation.users",
        "currentUser.dietitian.locations",
        "currentUser.providers.active_tags",
        "appointment.provider.location",
        "updateUser.user.dietitian.active_tags",
        "currentUser.active_tags.tagged_users",
        "currentUser.user_group.users",
    }
    # A walked path selects every scalar along the way: it covers each of its beginnings.
    covered = {".".join(p.split(".")[:n]) for p in paths for n in range(1, DEPTH + 2)}
    assert wanted <= covered, wanted - covered
    assert len(paths) >= 1500


async def test_a_patient_reads_nothing_private_of_anyone_else(
    api: Api, world: World, database: Database
) -> None:
    cast = await build_cast(api, world)
    patient = api.with_token(world.a.patient_token)
    before, owned = await b_rows(database, 0, root=("users", int(cast.other)))
    # The other patient's own User (a conversation member) is shown, by name: the checks of
    # what a User shows are overexposed(); their other records must not appear at all.
    records = {table: ids for table, ids in owned.items() if table != "users"}

    # The control: the provider, walking the same documents, reads the private fields, or
    # the documents and the checks would prove nothing.
    provider = api.with_key(world.a.provider.api_key)
    caught = set()
    for path, query in nested_documents(cast):
        if query.startswith("query") and await examine(provider, path, query, cast):
            caught.add(path.split(".")[0])
    assert {"user", "currentUser", "conversation", "appointment", "location", "tags"} <= caught

    problems: list[str] = []
    count = 0
    for path, query in nested_documents(cast):
        count += 1
        problems += await examine(patient, path, query, cast)
    for name, query in attempts(cast.foreign):
        if name in SIGNING_OUT:
            continue
        count += 1
        problems += await examine(patient, name, query, cast)
        problems += await check(patient, "patient", query, [], records)

    me = await patient.data("{ currentUser { id email } }")
    assert me["currentUser"] == {"id": cast.me, "email": "patient.a@example.com"}
    after, _ = await b_rows(database, 0, root=("users", int(cast.other)))
    changed = [t for t in before if before[t] != after[t]]
    assert changed == [], changed
    print(f"patient paths: {count} documents")
    assert problems == [], "\n".join(problems[:25]) + f"\n({len(problems)} problems)"
