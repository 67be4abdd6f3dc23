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
that is not the caller shows only what users/scoping.py discloses to them (a name; a provider's
professional profile); no answer is an internal error or a refused document; no row of the other
patient changes; the patient stays signed in.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from carebook.config import Settings
from carebook.db.engine import Database
from carebook.users.scoping import Disclosure
from tests.security.test_isolation import attempts, b_rows, judge
from tests.support.api import Api
from tests.support.own_records import (
    SIGNING_OUT,
    Cast,
    Walk,
    build_cast,
    nested_documents,
    root_walks,
)
from tests.support.world import World

DEPTH = 4
# What each disclosure shows of a user (every other field is null or empty). The walk checks the
# server against this table, written out here so that a change to scoping.py must change it too.
SHOWN = {
    Disclosure.NAME: {
        "id",
        "cursor",
        "first_name",
        "last_name",
        "first_name_last_initial",
        "full_name",
        "name",
        "active",
    },
    Disclosure.PROFILE: {
        "id",
        "cursor",
        "first_name",
        "last_name",
        "first_name_last_initial",
        "full_name",
        "name",
        "active",
        "pronouns",
        "timezone",
        "is_patient",
    },
}


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


async def examine(
    caller: Api, path: str, query: str, cast: Cast, variables: dict[str, Any] | None = None
) -> list[str]:
    """What is wrong with one answer to the patient."""
    return (await _examine(caller, path, query, cast, variables))[0]


async def _send(caller: Api, query: str, variables: dict[str, Any] | None) -> httpx.Response:
    body = {"query": query, "variables": variables or {}}
    return await caller.client.post("/graphql", json=body, headers=caller.headers)


async def _examine(
    caller: Api, path: str, query: str, cast: Cast, variables: dict[str, Any] | None = None
) -> tuple[list[str], bool]:
    """examine()'s problems, and whether the answer was whole (see _whole)."""
    return _verdict(await _send(caller, query, variables), path, query, cast)


def _verdict(response: httpx.Response, path: str, query: str, cast: Cast) -> tuple[list[str], bool]:
    """_examine()'s verdict on an answer already received."""
    if response.status_code != 200:
        return [f"{path} {response.status_code}: {response.text[:200]}"], False
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
    return problems, _whole(body, path.split(".")[0])


def _whole(body: dict[str, Any], root: str) -> bool:
    """Whether an answer is whole: no error at all, or the root field refused as a whole (its
    permission, which no selection below it changes) and nothing of it shown."""
    errors = body.get("errors") or []
    if not errors:
        return True
    at_root = all(e.get("path") == [root] for e in errors)
    return at_root and (body.get("data") or {}).get(root) is None


async def walk(caller: Api, root: Walk, cast: Cast) -> tuple[list[str], int]:
    """The problems of every path below one root field, and the documents it took.

    The paths go out together as one document first: an answer without any error holds each
    path's answer, so it shows whatever they would. An answer with an error (one path refused
    may null its neighbours) or a problem is not trusted that far, unless the root field itself
    was refused: then every path goes alone,
    as the walk did before, and reports its own problems."""
    problems, whole = await _examine(caller, root.root, root.document, cast)
    if whole and not problems:
        # A refused root is refused whatever is selected below it: one path alone shows it.
        path, query = root.path_document(root.field_paths[0])
        return await examine(caller, path, query, cast), 2
    problems = []
    for path, query in root.paths:
        problems += await examine(caller, path, query, cast)
    return problems, 1 + len(root.paths)


# --- the tests ----------------------------------------------------------------------------


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The test settings with cost and size limits that let every path run, one by one or all
    of a root's at once: the walk is about what a path shows, and a document refused for its
    estimated size would show nothing."""
    return settings.model_copy(update={"max_query_cost": 10**15, "max_query_tokens": 10**6})


def test_the_walk_follows_the_nested_paths() -> None:
    """Not vacuous: the paths the attack used, and the care team's, are in the walk."""
    cast = Cast("1", "2", {"3"}, {}, [], [])
    paths = {path for path, _ in nested_documents(cast, DEPTH)}
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

    # The control: the provider, sending the same documents, reads the private fields, or
    # the documents and the checks would prove nothing.
    provider = api.with_key(world.a.provider.api_key)

    caught = set()
    walks = list(root_walks(cast, DEPTH))  # written once, sent by both callers
    for root in walks:
        if root.document.startswith("query") and await examine(
            provider, root.root, root.document, cast
        ):
            caught.add(root.root)
    assert {"user", "currentUser", "conversation", "appointment", "location", "tags"} <= caught

    problems: list[str] = []
    count = 0
    for root in walks:
        found, sent = await walk(patient, root, cast)
        problems += found
        count += sent
    for name, query, variables in attempts(cast.foreign):
        if name in SIGNING_OUT:
            continue
        count += 1
        # One answer, judged both ways: what it shows the patient, and whether it holds one
        # of the other patient's records.
        response = await _send(patient, query, variables)
        problems += _verdict(response, name, query, cast)[0]
        problems += judge(response, "patient", query, [], records)

    me = await patient.data("{ currentUser { id email } }")
    assert me["currentUser"] == {"id": cast.me, "email": "patient.a@example.com"}
    after, _ = await b_rows(database, 0, root=("users", int(cast.other)))
    changed = [t for t in before if before[t] != after[t]]
    assert changed == [], changed
    print(f"patient paths: {count} documents")
    assert problems == [], "\n".join(problems[:25]) + f"\n({len(problems)} problems)"
