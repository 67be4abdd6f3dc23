"""schema.graphql against Healthie's: every shared thing is typed exactly as Healthie types it.

The reference is docs/reference/healthie-excerpt.graphql, written by scripts/healthie_excerpt from
Healthie's full public schema: every type Carebook shares, with the members both have. A client
generated from Healthie's schema sends its documents unchanged, so a shared field, argument, input
field or enum value must carry Healthie's type string letter for letter (nullability and list
wrappers included). Two short lists below explain the rest: what Carebook adds, and the few shared
things typed otherwise. Anything else fails, including a new unexplained addition.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from graphql import (
    DocumentNode,
    EnumTypeDefinitionNode,
    FieldDefinitionNode,
    InputValueDefinitionNode,
    NonNullTypeNode,
    TypeDefinitionNode,
    parse,
    print_ast,
)

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "schema.graphql"
EXCERPT = ROOT / "docs" / "reference" / "healthie-excerpt.graphql"
REGENERATE = "scripts/healthie_excerpt <Healthie's schema.graphql>"

SEED_SORT = "the seed's sort argument (`sort_by: String`), kept beside `order_by` (CONTRACT 1a)"
PREFERRED = "the name a patient goes by; Healthie has no such field (docs/api.md, User fields)"

FORM_EMAILS = "form reminders honour a preference; Healthie has none for them (docs/api.md)"

# Things of Carebook's that Healthie's schema does not have, each with why it is there.
# Coordinates: Type, Type.field, Type.field(argument), Enum.VALUE.
CHANGE_FEED = (
    "the change feed: replays the organization's webhook events after a cursor (docs/webhooks.md)"
)
UNMERGE = "undoes a mergeClients within CAREBOOK_MERGE_UNDO_DAYS (docs/api.md, Merging patients)"
DUPLICATES = (
    "duplicate detection: likely duplicate patients, their dismissal (Healthie has none; "
    "docs/duplicates.md)"
)
REDELIVER = "sends a past event to the webhooks again (docs/webhooks.md, The change feed)"
CAREBOOK_ADDITIONS: dict[str, str] = {
    "AuditEvent": "who read or changed which patient record (audit trail, a Carebook addition)",
    "Query.auditEvents": "the audit trail, read by providers and staff (docs/api.md)",
    "Query.auditEventsCount": "the audit trail's count, as usersCount is the patient list's",
    "Query.webhook": "one webhook by id, as location(id) reads one location; Healthie lists "
    "webhooks only (docs/webhooks.md, Managing webhooks)",
    "Mutation.signOut": "ends only the session of the request (revokeToken ends any credential)",
    "signOutInput": "signOut's input (Carebook addition)",
    "signOutPayload": "signOut's payload (Carebook addition)",
    "Query.users(sort_by)": SEED_SORT,
    "Query.tags(sort_by)": SEED_SORT,
    "Query.userGroups(sort_by)": SEED_SORT,
    "Query.onboardingFlows(sort_by)": SEED_SORT,
    "Query.requestedFormCompletions(offset)": "offset paging, as every other root list has it",
    "Query.requestedFormCompletions(page_size)": "the page size, as every other root list has it",
    "User.preferred_name": PREFERRED,
    "createClientInput.preferred_name": PREFERRED,
    "updateClientInput.preferred_name": PREFERRED,
    "updateUserInput.preferred_name": PREFERRED,
    "createClientInput.sex": "sets User.sex (Healthie sets it only with updateClient)",
    "createClientInput.gender_identity": "sets User.gender_identity at creation, as updateClient",
    "createClientInput.pronouns": "sets User.pronouns at creation, as updateClient",
    "updateClientInput.weight": "sets User.weight: Healthie's comes from metric entries, which "
    "Carebook does not have (docs/api.md, The patient record)",
    "Appointment.timezone": "the IANA zone the appointment's times are written in",
    "BillingItem.appointment_id": "the appointment completeCheckout paid for",
    "Conversation.owner_id": "who opened the conversation (Healthie: owner { id })",
    "Conversation.users": "the members, readable with their visibility rules",
    "Notification.notification_type": "what happened (booked, cancelled), for the list",
    "Notification.text": "the notification's line of text, as Healthie's app shows it",
    "Notification.seen_at": "when the caller saw it (user(clear_notifs: true) marks it)",
    "Notification.appointment": "the appointment the notification is about",
    "RequestedFormCompletion.created_at": "when the request was made",
    "RequestedFormCompletion.updated_at": "when the request last changed (completed)",
    "NotificationSetting.send_form_request_emails": FORM_EMAILS,
    "updateNotificationSettingInput.send_form_request_emails": FORM_EMAILS,
    "ChangeEvent": CHANGE_FEED,
    "Query.changeEvents": CHANGE_FEED,
    "DuplicateCandidate": DUPLICATES,
    "Query.duplicateCandidates": DUPLICATES,
    "Query.duplicateCandidatesCount": DUPLICATES,
    "Mutation.dismissDuplicateCandidate": DUPLICATES,
    "dismissDuplicateCandidateInput": DUPLICATES,
    "dismissDuplicateCandidatePayload": DUPLICATES,
    "Mutation.redeliverWebhookEvent": REDELIVER,
    "redeliverWebhookEventInput": REDELIVER,
    "redeliverWebhookEventPayload": REDELIVER,
    "Mutation.unmergeClients": UNMERGE,
    "unmergeClientsInput": UNMERGE,
    "unmergeClientsPayload": UNMERGE,
}

# Shared things whose type string differs from Healthie's, each with why. Keep it short.
ALLOWED_DIFFERENCES: dict[str, str] = {}

ISSUE_29 = "appointments as integrations use them are issue 29's (Carebook's default for now)"
NO_FILTER = "no filter either way: Carebook reads null and [] alike"

# Shared arguments and input fields whose default differs from Healthie's, each with why.
DEFAULT_DIFFERENCES: dict[str, str] = {
    "Query.users(order_by)": "null, so that sort_by (the seed's, default last_name_desc) applies",
    "Query.users(tag_ids)": NO_FILTER,
    "Query.usersCount(tag_ids)": NO_FILTER,
    "Query.tags(order_by)": "null, so that sort_by applies; neither given sorts NAME_ASC",
    "Query.userGroups(order_by)": "null, so that sort_by (the seed's, default name) applies",
    "Query.onboardingFlows(order_by)": "null, so that sort_by applies; neither sorts by name",
    "Query.appointmentTypes(page_size)": ISSUE_29,
    "Query.appointmentTypes(should_paginate)": ISSUE_29,
    "Query.offerings(page_size)": ISSUE_29,
    "Query.offerings(should_paginate)": ISSUE_29,
    "Query.appointments(order_by)": "DATE_ASC: soonest first, Carebook's order before issue 29",
    "Query.appointments(page_size)": "10, the page size of every other root list",
}


@dataclass(frozen=True)
class Member:
    """A field, argument, input field or enum value: its type string ('' for enum values), its
    default (``null`` when none is written) and its deprecation."""

    type: str
    required_by_healthie: bool = False
    default: str = "null"
    deprecated: str | None = None


def _members(document: DocumentNode) -> dict[str, Member]:
    """Every coordinate of a document (types, members, arguments) and its type string."""
    found: dict[str, Member] = {}
    for node in document.definitions:
        if not isinstance(node, TypeDefinitionNode):
            continue
        name = node.name.value
        found[name] = Member(node.kind)
        for field in getattr(node, "fields", None) or ():
            found[f"{name}.{field.name.value}"] = _member(field)
            for argument in getattr(field, "arguments", None) or ():
                found[f"{name}.{field.name.value}({argument.name.value})"] = _member(argument)
        if isinstance(node, EnumTypeDefinitionNode):
            for value in node.values or ():
                found[f"{name}.{value.name.value}"] = Member("")
    return found


def _member(node: FieldDefinitionNode | InputValueDefinitionNode) -> Member:
    default = getattr(node, "default_value", None)
    required = (
        isinstance(node, InputValueDefinitionNode)
        and isinstance(node.type, NonNullTypeNode)
        and default is None
    )
    deprecated = next(
        (print_ast(d) for d in node.directives or () if d.name.value == "deprecated"), None
    )
    return Member(
        print_ast(node.type), required, print_ast(default) if default else "null", deprecated
    )


def _ours() -> dict[str, Member]:
    return _members(parse(SCHEMA.read_text()))


def _healthies() -> dict[str, Member]:
    return _members(parse(EXCERPT.read_text()))


def _differences(ours: dict[str, Member], healthie: dict[str, Member]) -> Iterator[str]:
    for coordinate, member in ours.items():
        theirs = healthie.get(coordinate)
        if theirs is None:
            if coordinate not in CAREBOOK_ADDITIONS and _owner(coordinate) in healthie:
                yield (
                    f"{coordinate}: not in the excerpt of Healthie's schema. If Healthie has it, "
                    f"run {REGENERATE}; if not, add it to CAREBOOK_ADDITIONS with the reason"
                )
        elif member.type != theirs.type and coordinate not in ALLOWED_DIFFERENCES:
            yield f"{coordinate}: Carebook {member.type or '(value)'}, Healthie {theirs.type}"


def _owner(coordinate: str) -> str:
    """The type or field a coordinate belongs to ('' for a type: always checked)."""
    if "(" in coordinate:
        return coordinate.split("(")[0]
    return coordinate.rpartition(".")[0] if "." in coordinate else ""


def test_every_shared_thing_is_typed_as_healthie_types_it() -> None:
    ours, healthie = _ours(), _healthies()
    healthie[""] = Member("")  # types hang off the root: an unknown type is reported too
    assert list(_differences(ours, healthie)) == []


def test_shared_arguments_default_and_deprecate_as_healthie_does() -> None:
    # A client that leaves an argument out gets Healthie's behaviour; a deprecation tells its
    # developer the same thing Healthie's schema tells them.
    ours, healthie = _ours(), _healthies()
    shared = [(c, m, healthie[c]) for c, m in ours.items() if c in healthie]
    defaults = [
        f"{c}: Carebook = {m.default}, Healthie = {h.default}"
        for c, m, h in shared
        if m.default != h.default and c not in DEFAULT_DIFFERENCES
    ]
    assert defaults == []
    assert [c for c, m, h in shared if m.deprecated != h.deprecated] == []


def test_what_healthie_requires_or_relay_echoes_carebook_has() -> None:
    """The excerpt keeps clientMutationId and Healthie's required arguments even where Carebook
    lacks them (a client selects the one and always sends the others); anything else in it that
    Carebook lacks means the excerpt is out of date."""
    ours, healthie = _ours(), _healthies()
    missing = [
        coordinate
        for coordinate, member in healthie.items()
        if coordinate not in ours and _owner(coordinate) in ours | {"": Member("")}
    ]
    stale = [
        c for c in missing if not (healthie[c].required_by_healthie or "clientMutationId" in c)
    ]
    assert stale == [], f"the excerpt is out of date: run {REGENERATE}"
    assert missing == []


def test_every_payload_of_carebook_has_relays_client_mutation_id() -> None:
    # Every payload of Healthie's has it, and Carebook's own payloads follow suit.
    ours = _ours()
    payloads = [c for c, m in ours.items() if "." not in c and c.endswith("Payload")]
    assert payloads, "no payload found in schema.graphql"
    assert [p for p in payloads if f"{p}.clientMutationId" not in ours] == []
    assert {ours[f"{p}.clientMutationId"].type for p in payloads} == {"String"}


def test_every_listed_exception_is_still_needed() -> None:
    # An entry whose reason has gone (removed, or now in Healthie's schema) must leave the lists.
    ours, healthie = _ours(), _healthies()
    assert [c for c in CAREBOOK_ADDITIONS if c not in ours or c in healthie] == []
    assert [
        c
        for c in ALLOWED_DIFFERENCES
        if c not in ours or c not in healthie or ours[c].type == healthie[c].type
    ] == []
    assert [
        c
        for c in DEFAULT_DIFFERENCES
        if c not in ours or c not in healthie or ours[c].default == healthie[c].default
    ] == []
