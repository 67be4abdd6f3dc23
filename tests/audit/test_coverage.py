"""No field can hand out patient data without recording it: the schema walks.

Patient data is the User and every type whose objects are about people (an address, an
appointment, a form request, a tag listed on someone, a conversation's members, a notification, a
payment): the types deriving from DisclosesUsers (graphql/audit/subjects.py). Any other object
type with a field returning a User must say here why it is not patient data, so a new type is
classified, not forgotten.

1. Every field whose type is one of them must have an audited resolver. A field of a plain
   payload (no resolver of its own) counts when every field returning that payload is audited,
   since the audited resolver records what the payload holds.
2. Every root query, followed down every path of object fields three deep, called by a provider
   with the ids of one patient's records: each answer that holds any of that patient's records
   must have stored a read of the patient, allowed, under the root field's name.
3. Every mutation that changes patient data, called for real: the events its action names.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from graphql import GraphQLField, GraphQLObjectType, get_named_type
from strawberry.types.field import StrawberryField

from carebook.config import Settings
from carebook.db.engine import Database
from carebook.graphql.audit.recording import MARK
from carebook.graphql.audit.subjects import DisclosesUsers
from tests.audit.events import brief, stored
from tests.support.api import Api
from tests.support.own_records import Cast, build_cast, nested_documents
from tests.support.schema_walk import SCHEMA
from tests.support.world import World

# Object types with a field returning a User that hold no one's data themselves, and why.
NOT_PATIENT_DATA = {
    "User": "the User is patient data itself (when its role is patient)",
    "UserGroup": "a group's name and settings; its members are read through UserGroup.users",
}
DEPTH = 3


def _object_types() -> dict[str, GraphQLObjectType]:
    return {
        name: type_
        for name, type_ in SCHEMA._schema.type_map.items()
        if isinstance(type_, GraphQLObjectType) and not name.startswith("__")
    }


def _discloses(type_: GraphQLObjectType) -> bool:
    definition = (type_.extensions or {}).get("strawberry-definition")
    return definition is not None and issubclass(definition.origin, DisclosesUsers)


PATIENT_TYPES = {"User"} | {name for name, t in _object_types().items() if _discloses(t)}


def _fields() -> list[tuple[str, str, GraphQLField]]:
    return [
        (type_name, field_name, field)
        for type_name, type_ in SCHEMA._schema.type_map.items()
        if isinstance(type_, GraphQLObjectType) and not type_name.startswith("__")
        for field_name, field in type_.fields.items()
    ]


def _definition(field: GraphQLField) -> StrawberryField:
    definition = (field.extensions or {}).get("strawberry-definition")
    assert isinstance(definition, StrawberryField)
    return definition


def _is_audited(field: GraphQLField) -> bool:
    resolver = _definition(field).base_resolver
    return resolver is not None and getattr(resolver.wrapped_func, MARK, False)


def _has_resolver(field: GraphQLField) -> bool:
    return _definition(field).base_resolver is not None


def unaudited_fields() -> list[str]:
    """Fields that can return a patient and are not audited."""
    fields = _fields()
    returning: dict[str, list[GraphQLField]] = {}
    for _, _, field in fields:
        returning.setdefault(get_named_type(field.type).name, []).append(field)
    missing = []
    for type_name, field_name, field in fields:
        if get_named_type(field.type).name not in PATIENT_TYPES or _is_audited(field):
            continue
        parents = returning.get(type_name, [])
        if not _has_resolver(field) and parents and all(_is_audited(p) for p in parents):
            continue  # a payload attribute, recorded by the resolver returning the payload
        missing.append(f"{type_name}.{field_name}")
    return missing


def test_every_field_returning_a_patient_is_audited() -> None:
    assert unaudited_fields() == []


def test_every_type_about_people_is_classified() -> None:
    """A type with a User field is patient data (DisclosesUsers) or says why not."""
    roots = {t.name for t in (SCHEMA._schema.query_type, SCHEMA._schema.mutation_type) if t}
    about_people = {
        name
        for name, type_ in _object_types().items()
        if name not in roots
        and not name.endswith("Payload")
        and any(get_named_type(f.type).name == "User" for f in type_.fields.values())
    }
    unclassified = about_people - PATIENT_TYPES - NOT_PATIENT_DATA.keys()
    assert unclassified == set()
    assert {"Location", "Appointment", "RequestedFormCompletion", "Tag"} <= PATIENT_TYPES
    assert {"Conversation", "Notification", "BillingItem"} <= PATIENT_TYPES


def test_the_walk_sees_the_patient_fields() -> None:
    """The walk is not vacuous: it finds the known patient fields, nested ones included."""
    names = {f"{t}.{n}" for t, n, f in _fields() if get_named_type(f.type).name == "User"}
    assert {"Query.user", "Query.users", "UserGroup.users", "createClientPayload.user"} <= names
    assert all(_is_audited(f) for t, n, f in _fields() if f"{t}.{n}" == "Query.users")


# --- 2. reads, by every path ------------------------------------------------------------------


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """A cost limit that lets every path run: a refused document would record nothing."""
    return settings.model_copy(update={"max_query_cost": 10**15})


def _patients_records(cast: Cast) -> set[tuple[str, str]]:
    """(type, id) of the calling walk's patient's records that an answer can hold."""
    return {(type_name, record_id) for type_name, record_id in cast.own.items()} - {
        ("UserGroup", cast.own["UserGroup"])  # a group is not one patient's record
    }


def _holds(data: Any, records: set[tuple[str, str]]) -> bool:
    if isinstance(data, list):
        return any(_holds(item, records) for item in data)
    if isinstance(data, dict):
        if (data.get("__typename"), str(data.get("id"))) in records:
            return True
        return any(_holds(value, records) for value in data.values())
    return False


async def test_every_path_to_a_patients_records_records_the_read(
    api: Api, world: World, database: Database
) -> None:
    cast = await build_cast(api, world)
    provider = api.with_key(world.a.provider.api_key)
    records = _patients_records(cast)
    patient = int(cast.me)
    problems: list[str] = []
    holding: dict[str, str] = {}  # path -> the request id it was sent with
    for path, query in nested_documents(cast, DEPTH, operations={"query"}):
        request_id = f"walk-{uuid.uuid4().hex}"
        headers = {**provider.headers, "X-Request-ID": request_id}
        response = await provider.client.post("/graphql", json={"query": query}, headers=headers)
        body = response.json()
        assert response.status_code == 200 and not body.get("errors"), (path, body)
        if _holds(body.get("data"), records):
            holding[path] = request_id
    # Each request's events, read once the walk is done: a request is answered only once its
    # read events are committed (audit_wait_for_reads), and each carries its own request id.
    by_request: dict[str, list[tuple[Any, ...]]] = {}
    for event in await stored(database, record_id=patient):
        by_request.setdefault(event.request_id, []).extend(brief([event]))
    for path, request_id in holding.items():
        root = path.split(".")[0]
        events = by_request.get(request_id, [])
        if (root, "read", patient, True) not in events:
            problems.append(f"{path}: no read of the patient recorded ({events})")
    # Not vacuous: the paths of the issue hold the patient's records, nested ones included.
    wanted = {"locations", "location", "appointments", "appointment", "requestedFormCompletions"}
    wanted |= {"requestedFormCompletion", "recurringForms"}
    wanted |= {"tags", "conversation", "user.locations", "user.active_tags", "tags.tagged_users"}
    wanted |= {"note", "notes", "conversation.notes"}
    assert {w for w in wanted if not any(p == w or p.startswith(w + ".") for p in holding)} == set()
    assert problems == [], "\n".join(problems[:20]) + f"\n({len(problems)} problems)"


# --- 3. writes, every mutation ------------------------------------------------------------------

# Mutations that change no patient's data, and why: everything else is in WRITES.
NOT_PATIENT_WRITES = {
    "signOut": "ends the caller's own session",
    "revokeToken": "revokes the caller's own credential",
    "resetPassword": "emails a reset link; the password changes (an audited update) only when "
    "the link is used, by signIn's reset_token or the reset page",
    "createWebhook": "a URL of the organization's; events carry ids only (docs/webhooks.md)",
    "updateWebhook": "a URL of the organization's and the event types it receives",
    "deleteWebhook": "a URL of the organization's; its log keeps ids only",
    "expireWebhookSignature": "a webhook's signing secret",
    "createGroup": "a new, empty group",
    "updateUserGroup": "a group's name and flow, no member",
    "createOnboardingFlow": "a flow and the groups it serves, no patient",
    "updateOnboardingFlow": "a flow and the groups it serves, no patient",
    "createAppointmentType": "a kind of appointment of the practice",
    "updateAppointmentType": "a kind of appointment of the practice; booked ones keep their end",
    "deleteAppointmentType": "a kind of appointment of the practice; booked ones keep it",
    "updateAppointmentSetting": "the practice's appointment locations",
    "createOffering": "a package the practice sells",
    "sendTestWebhook": "a sample event about the caller to the organization's webhook",
    "redeliverWebhookEvent": "queues an event's delivery again; the event carries ids only",
}
# Every other mutation changes a patient's data: the action its events carry.
WRITES = {
    "createClient": "create",
    "signUp": "create",
    **{
        name: "update"
        for name in (
            "updateClient",
            "updateUser",
            "updateUserEmail",
            "bulkUpdateClients",
            "signIn",  # with reset_token: sets an invited patient's password
            "createTag",
            "bulkApply",
            "removeAppliedTag",
            "updateTag",
            "deleteTag",
            "createLocation",
            "updateLocation",
            "deleteLocation",
            "createRequestedFormCompletion",
            "deleteRequestedFormCompletion",
            "updateRecurringForm",
            "deleteRecurringForm",
            "createAppointment",
            "updateAppointment",
            "deleteAppointment",
            "completeCheckout",
            "createConversation",
            "createNote",  # a message is part of the record of the patients taking part
            "updateNote",
            "deleteNote",
            "updateConversation",
            "updateConversationMembership",
            "deleteConversationMembership",
            "deleteUserGroup",
            "updateNotificationSetting",
            "sendWelcomeEmail",  # an email about the patient's account, queued for them
            "dismissDuplicateCandidate",  # a judgement on the patient's record, both patients'
        )
    },
    "mergeClients": "merge",
    "unmergeClients": "unmerge",
}
NEW = -1  # the record the write creates


def _input_type(name: str) -> str:
    return str(SCHEMA._schema.mutation_type.fields[name].args["input"].type)  # type: ignore[union-attr]


def _document(name: str) -> str:
    # Every record the payload returns is selected (its id): its read must not double the write.
    payload = get_named_type(SCHEMA._schema.mutation_type.fields[name].type)  # type: ignore[union-attr]
    assert isinstance(payload, GraphQLObjectType)
    records = [
        f"{field} {{ id }}"
        for field, definition in payload.fields.items()
        if isinstance(kind := get_named_type(definition.type), GraphQLObjectType)
        and "id" in kind.fields
    ]
    selection = "{ messages { field message } " + " ".join(records) + " }"
    return f"mutation($i: {_input_type(name)}) {{ {name}(input: $i) {selection} }}"


async def _call(caller: Api, name: str, fields: dict[str, Any]) -> None:
    payload = (await caller.data(_document(name), {"i": fields}))[name]
    assert payload["messages"] is None, (name, payload)


async def _one(caller: Api, query: str, variables: dict[str, Any]) -> Any:
    return await caller.data(query, variables)


Write = tuple[str, Api, dict[str, Any], int]  # name, caller, input, record


async def _writes(api: Api, world: World, cast: Cast) -> list[Write]:
    """Each patient write, in an order that keeps every record it needs alive."""
    provider = api.with_key(world.a.provider.api_key)
    patient = api.with_token(world.a.patient_token)
    me = int(cast.me)
    new_tag = (
        await provider.data('mutation { createTag(input: {name: "walk loose"}) { tag { id } } }')
    )["createTag"]["tag"]["id"]
    type_id = (
        await provider.data(
            'mutation { createAppointmentType(input: {name: "walk visit", length: 30,'
            " clients_can_book: true}) { appointmentType { id } } }"
        )
    )["createAppointmentType"]["appointmentType"]["id"]
    from tests.support.scheduling import future

    invited = (
        await provider.data(
            'mutation { createClient(input: {first_name: "Ina", last_name: "Vited",'
            ' email: "ina.vited@example.com"}) { user { id set_password_link } } }'
        )
    )["createClient"]["user"]
    from tests.support.emails import token_of

    withdrawn = (
        await provider.data(
            "mutation($p: ID) { createRequestedFormCompletion(input: {recipient_id: $p,"
            ' form: "13"}) { requestedFormCompletion { id } } }',
            {"p": cast.me},
        )
    )["createRequestedFormCompletion"]["requestedFormCompletion"]["id"]
    duplicate = (
        await provider.data(
            'mutation { createClient(input: {first_name: "Dup", last_name: "Licate",'
            " skipped_email: true}) { user { id } } }"
        )
    )["createClient"]["user"]["id"]
    location = {
        "name": "Walk",
        "line1": "2 Walk St",
        "city": "Albany",
        "state": "NY",
        "zip": "12207",
    }
    return [
        (
            "createClient",
            provider,
            {"first_name": "Wal", "last_name": "Ker", "skipped_email": True},
            NEW,
        ),
        ("updateClient", provider, {"id": cast.me, "pronouns": "they"}, me),
        ("updateUser", patient, {"id": cast.me, "pronouns": "she"}, me),
        (
            "updateUserEmail",
            provider,
            {
                "user_id": cast.me,
                "current_email": "patient.a@example.com",
                "new_email": "walk.moved@example.com",
            },
            me,
        ),
        (
            "bulkUpdateClients",
            provider,
            {"ids": [cast.me], "user_group_id": cast.own["UserGroup"]},
            me,
        ),
        (
            "signUp",
            api,
            {
                "role": "patient",
                "first_name": "Sig",
                "last_name": "Nup",
                "email": "sig.nup@example.com",
                "password": "b@se3ball rocks hard",
                "dietitian_id": str(world.a.provider.user_id),
            },
            NEW,
        ),
        (
            "signIn",
            api,
            {
                "reset_token": token_of(invited["set_password_link"]),
                "password": "b@se3ball rocks hard",
            },
            int(invited["id"]),
        ),
        ("createTag", provider, {"name": "walk new", "taggable_user_id": cast.me}, me),
        ("bulkApply", provider, {"ids": [new_tag], "taggable_user_id": cast.me}, me),
        ("removeAppliedTag", provider, {"id": new_tag, "taggable_user_id": cast.me}, me),
        ("updateTag", provider, {"id": cast.own["Tag"], "name": "walk renamed"}, me),
        ("deleteTag", provider, {"id": cast.own["Tag"]}, me),
        ("createLocation", provider, {**location, "user_id": cast.me}, me),
        ("updateLocation", provider, {"id": cast.own["Location"], "name": "Walk 2"}, me),
        ("deleteLocation", provider, {"id": cast.own["Location"]}, me),
        (
            "createRequestedFormCompletion",
            provider,
            {"recipient_id": cast.me, "custom_module_form_id": "12"},
            me,
        ),
        ("deleteRequestedFormCompletion", provider, {"id": withdrawn}, me),
        ("updateRecurringForm", provider, {"id": cast.own["RecurringForm"], "hour": "10"}, me),
        ("deleteRecurringForm", provider, {"id": cast.own["RecurringForm"]}, me),
        (
            "createAppointment",
            provider,
            {
                "user_id": cast.me,
                "providers": str(world.a.provider.user_id),
                "appointment_type_id": type_id,
                "datetime": future(days=6).isoformat(),
                "timezone": "UTC",
            },
            me,
        ),
        (
            "updateAppointment",
            provider,
            {"id": cast.own["Appointment"], "pm_status": "Cancelled"},
            me,
        ),
        ("deleteAppointment", provider, {"id": cast.own["Appointment"]}, me),
        (
            "completeCheckout",
            patient,
            {
                "appointment_type_id": type_id,
                "provider_id": str(world.a.provider.user_id),
                "date": future(days=7).isoformat(),
                "timezone": "UTC",
            },
            me,
        ),
        (
            "createConversation",
            provider,
            {"simple_added_users": cast.me, "name": "Walk 2"},
            me,
        ),
        (
            "createNote",
            provider,
            {"conversation_id": cast.own["Conversation"], "content": "Walk message"},
            me,
        ),
        ("updateNote", provider, {"id": cast.own["Note"], "content": "Walk changed"}, me),
        ("deleteNote", provider, {"id": cast.own["Note"]}, me),
        ("updateConversation", provider, {"id": cast.own["Conversation"], "name": "Walk 3"}, me),
        (
            "updateConversationMembership",
            patient,
            {"id": cast.own["ConversationMembership"], "viewed": False},
            me,
        ),
        (
            "deleteConversationMembership",
            provider,
            {"conversation_id": cast.own["Conversation"], "user_id": cast.me},
            me,
        ),
        ("deleteUserGroup", provider, {"id": cast.own["UserGroup"]}, me),
        ("updateNotificationSetting", patient, {"send_message_emails": False}, me),
        ("sendWelcomeEmail", provider, {"user_id": cast.me}, me),
        # A duplicate merged into the patient, then the merge undone: both record the patient.
        ("mergeClients", provider, {"ids": [duplicate], "target_user_id": cast.me}, me),
        ("unmergeClients", provider, {"id": duplicate}, me),
        ("dismissDuplicateCandidate", provider, {"id": cast.own["DuplicateCandidate"]}, me),
    ]


def test_every_mutation_is_classified() -> None:
    """A new mutation must be walked as a patient write, or say why it is none."""
    mutations = set(SCHEMA._schema.mutation_type.fields)  # type: ignore[union-attr]
    assert mutations == WRITES.keys() | NOT_PATIENT_WRITES.keys()
    assert not WRITES.keys() & NOT_PATIENT_WRITES.keys()


async def test_every_patient_write_records_its_action(
    api: Api, world: World, database: Database
) -> None:
    cast = await build_cast(api, world)
    problems = []
    writes = await _writes(api, world, cast)
    assert {name for name, *_ in writes} == WRITES.keys()
    for name, caller, fields, record in writes:
        action = WRITES[name]
        await _call(caller, name, fields)
        stored_events = brief(await stored(database, operation=name))
        events = [e for e in stored_events if e[1] != "read"]
        expected = [e for e in events if e[1] == action and e[3] is True]
        if record == NEW:
            expected = [e for e in expected if e[2] is not None]
        else:
            expected = [e for e in expected if e[2] == record]
        if not expected:
            problems.append(f"{name}: expected {action} of {record}, stored {events}")
        # The payload's read of a patient the write recorded is that write: one event, not two.
        written = {e[2] for e in events if e[3] is True}
        doubled = [e for e in stored_events if e[1] == "read" and e[2] in written]
        if doubled:
            problems.append(f"{name}: its write is recorded again as {doubled}")
    assert problems == [], "\n".join(problems)
