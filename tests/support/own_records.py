"""Organization A's records for the walks over nested paths: the calling patient's own, another
patient's and the staff's, each private field marked (tests/security/test_patient_paths.py,
tests/audit/test_coverage.py).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLField, get_named_type

from tests.security.test_isolation import call, id_slots
from tests.support.api import Api
from tests.support.emails import REQUEST_FORM
from tests.support.scheduling import CREATE_APPOINTMENT, create_type, future
from tests.support.schema_walk import (
    FieldPath,
    object_paths,
    path_selection,
    paths_selection,
    root_fields,
)
from tests.support.world import World

# Root fields the walks leave out: they end the session they walk with.
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
    assert payload["messages"] is None, payload
    return payload


async def _duplicate_of(api: Api, user_id: str) -> str:
    """The id of the candidate pair of ``user_id`` and a second record of them (same names and
    phone number), which duplicate detection finds when the second one is created."""
    await _ok(
        api,
        "mutation($i: updateClientInput) { updateClient(input: $i) { user { id } messages {"
        " field message } } }",
        {"i": {"id": user_id, "phone_number": "+15550009876"}},
        "updateClient",
    )
    user = (
        await api.data("query($id: ID) { user(id: $id) { first_name last_name } }", {"id": user_id})
    )["user"]
    await _ok(
        api,
        "mutation($i: createClientInput) { createClient(input: $i) { user { id } messages {"
        " field message } } }",
        {"i": {**user, "phone_number": "+15550009876", "skipped_email": True}},
        "createClient",
    )
    pairs = (await api.data("{ duplicateCandidates { id user { id } } }"))["duplicateCandidates"]
    return str(next(p["id"] for p in pairs if p["user"]["id"] == user_id))


async def _applied_tag(api: Api, tag_id: str, user_id: str) -> str:
    """The id of the application of ``tag_id`` to ``user_id``."""
    data = await api.data(
        "query($u: ID, $t: ID) { appliedTags(id: $u, tag_id: $t) { id } }",
        {"u": user_id, "t": tag_id},
    )
    return str(data["appliedTags"][0]["id"])


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


CONVERSATION = (
    "mutation($u: String, $n: String) { createConversation(input: {simple_added_users: $u,"
    " name: $n}) { conversation { id conversation_memberships { id user_id } } messages {"
    " field message } } }"
)


async def _conversation(api: Api, users: str, name: str) -> tuple[str, dict[str, str]]:
    """A conversation of the provider and ``users``: its id and its memberships by user id."""
    payload = await _ok(api, CONVERSATION, {"u": users, "n": name}, "createConversation")
    convo = payload["conversation"]
    return str(convo["id"]), {m["user_id"]: m["id"] for m in convo["conversation_memberships"]}


RECURRING_REQUEST = """mutation($input: createRequestedFormInput) {
  createRequestedFormCompletion(input: $input) {
    requestedFormCompletion { id recurring_form { id } } messages { field message } } }"""


async def _recurring_form(api: Api, patient: str) -> str:
    weekly = {"frequency": "Weekly", "weekday": "Monday", "recurrence_ends": False}
    payload = await _ok(
        api,
        RECURRING_REQUEST,
        {"input": {"recipient_ids": patient, "form": "12", "is_recurring": True, **weekly}},
        "createRequestedFormCompletion",
    )
    return str(payload["requestedFormCompletion"]["recurring_form"]["id"])


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
    conversation, memberships = await _conversation(provider, f"{me},{other}", "Walk")
    # The other patient's conversation with the provider alone: the caller sees none of it.
    private, private_memberships = await _conversation(provider, other, f"{marker} private")
    shared_tag = await _tag(provider, "Shared walk tag", me, other)
    note = await _ok(
        provider,
        "mutation($i: createNoteInput) { createNote(input: $i) {"
        " note { id } messages { field message } } }",
        {"i": {"conversation_id": conversation, "content": "Walk note"}},
        "createNote",
    )
    own = {
        "User": me,
        "Conversation": conversation,
        "ConversationMembership": memberships[me],
        "Note": str(note["note"]["id"]),
        "Location": await _location(provider, me, "1 Own Street"),
        "Tag": shared_tag,
        "AppliedTag": await _applied_tag(provider, shared_tag, me),
        "Appointment": await _appointment(provider, me, str(a.provider.user_id), type_id, 4),
        "RequestedFormCompletion": await _form_request(provider, me),
        "RecurringForm": await _recurring_form(provider, me),
        "UserGroup": str(a.group_id),
    }
    own["DuplicateCandidate"] = await _duplicate_of(provider, me)
    foreign = [
        other,
        *staff_ids,
        await _location(provider, other, f"{marker}other street"),
        await _location(provider, str(a.provider.user_id), f"{marker}staff street"),
        await _tag(provider, f"{marker}other tag", other),
        await _tag(provider, f"{marker}staff tag", str(a.provider.user_id), str(a.staff.user_id)),
        await _appointment(provider, other, str(a.provider.user_id), type_id, 5),
        await _form_request(provider, other),
        private,
        private_memberships[other],
        await _recurring_form(provider, other),
    ]
    # A message in the other patient's private conversation: the caller reads none of it.
    others_note = await _ok(
        provider,
        "mutation($i: createNoteInput) { createNote(input: $i) {"
        " note { id } messages { field message } } }",
        {"i": {"conversation_id": private, "content": f"{marker}other message"}},
        "createNote",
    )
    foreign.append(str(others_note["note"]["id"]))
    # A message the provider scheduled in the shared conversation: until sent, only its writer
    # sees it (the caller is a member, and still reads none of it).
    pending = await _ok(
        provider,
        "mutation($i: createNoteInput) { createNote(input: $i) {"
        " note { id } messages { field message } } }",
        {
            "i": {
                "conversation_id": conversation,
                "content": f"{marker}pending message",
                "scheduled_at": "2999-01-01 09:00:00 +0000",
            }
        },
        "createNote",
    )
    foreign.append(str(pending["note"]["id"]))
    needles = [marker, "other.a@", "provider.a@", "staff.a@", "5550001234", "1961-02-03"]
    return Cast(me, other, staff_ids, own, foreign, needles)


# --- documents ----------------------------------------------------------------------------

# Id slots named after the record they take (conversationMembership's own ``id`` is a
# conversation's, as in Healthie).
SLOT_RECORDS = {"conversation_membership_id": "ConversationMembership"}


def _own_ids(field: GraphQLField, cast: Cast) -> dict[tuple[str, ...], str]:
    """Each id slot of a root field given the caller's own record: the field's own type for
    ``id``/``ids`` (the conversation of ``conversation(id:)``), the caller for any other."""
    returned = re.sub(r"Payload$", "", get_named_type(field.type).name)
    ids = {}
    for slot in id_slots(field):
        name = slot.path[-1]
        if name in SLOT_RECORDS and SLOT_RECORDS[name] in cast.own:
            ids[slot.path] = cast.own[SLOT_RECORDS[name]]
        elif name in ("id", "ids") and returned in cast.own:
            ids[slot.path] = cast.own[returned]
        elif name in ("id", "ids", "user_id", "taggable_user_id", "recipient_id", "patient_id"):
            ids[slot.path] = cast.me
    return ids


def _walked_roots(
    operations: set[str] | None,
) -> Iterator[tuple[str, str, GraphQLField]]:
    for operation, name, field in root_fields():
        if name in SIGNING_OUT or operation == "subscription":
            continue
        if operations is None or operation in operations:
            yield operation, name, field


def nested_documents(
    cast: Cast, depth: int, operations: set[str] | None = None
) -> Iterator[tuple[str, str]]:
    """(root field path, document) for every path below every root field, ``depth`` object
    fields deep, with the caller's own ids (see _own_ids); signing out is left out."""
    for operation, name, field in _walked_roots(operations):
        ids = _own_ids(field, cast)
        for path in object_paths(field.type, depth):
            select = path_selection(field.type, path)
            yield ".".join((name, *path)), call(operation, name, field, ids, False, select)


@dataclass
class Walk:
    """Every path below one root field, as one document and one document a path (written only
    when asked for: a walk needs them where the whole document's answer needs a closer look)."""

    root: str
    document: str  # every path at once (paths_selection)
    operation: str
    field: GraphQLField
    ids: dict[tuple[str, ...], str]
    field_paths: list[FieldPath]

    def path_document(self, path: FieldPath) -> tuple[str, str]:
        """(root field path, document) of one path, as nested_documents gives it."""
        select = path_selection(self.field.type, path)
        return ".".join((self.root, *path)), call(
            self.operation, self.root, self.field, self.ids, False, select
        )

    @property
    def paths(self) -> Iterator[tuple[str, str]]:
        """path_document() of every path, in nested_documents' order."""
        return (self.path_document(path) for path in self.field_paths)


def root_walks(cast: Cast, depth: int) -> Iterator[Walk]:
    """nested_documents() grouped by root field, with the one document holding them all: a
    walk can send that, and the paths one by one only where its answer needs a closer look."""
    for operation, name, field in _walked_roots(None):
        ids = _own_ids(field, cast)
        paths: list[FieldPath] = list(object_paths(field.type, depth))
        whole = call(operation, name, field, ids, False, paths_selection(field.type, paths))
        yield Walk(name, whole, operation, field, ids, paths)
