"""Every string input of the API is bounded by exactly its column's width, on both databases.

PostgreSQL refuses a value longer than its VARCHAR column with an error (an internal error to the
client) while SQLite stores it: a limit checked in code wider than the column made valid input
fail on PostgreSQL only. The walk below lists every String and ID input of every mutation; each
is either stored in a column (STORED), and then the longest value validation accepts is stored
whole on both databases while one character more is refused with a message naming the column's
width, or it is not stored as given (OTHER, with the rule that bounds it). A new input fails
``test_every_string_input_is_classified`` until it is put in one of them.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from itertools import count
from typing import Any, cast

import pytest
from graphql import GraphQLInputObjectType, GraphQLScalarType, get_named_type
from sqlalchemy import String, select
from sqlalchemy.orm import InstrumentedAttribute
from tests.support.api import Api
from tests.support.scheduling import create_type, future
from tests.support.schema_walk import SCHEMA
from tests.support.world import World

from carebook.conversations.models import Conversation
from carebook.db import lengths
from carebook.db.engine import Database
from carebook.forms.models import RequestedFormCompletion
from carebook.locations.models import Location
from carebook.organizations.models import Organization
from carebook.scheduling.models import Appointment, AppointmentType, Offering
from carebook.tags.models import Tag
from carebook.user_groups.models import OnboardingFlow, UserGroup
from carebook.users.models import User

Column = InstrumentedAttribute[Any]

_USER_TEXT = {
    name: getattr(User, name)
    for name in (
        "first_name",
        "last_name",
        "legal_name",
        "preferred_name",
        "pronouns",
        "gender",
        "gender_identity",
        "sex",
        "additional_record_identifier",
        "record_identifier",
    )
} | {"metadata": User.user_metadata}
_PROFILE: tuple[str, ...] = ("first_name", "last_name", "legal_name", "preferred_name")
_PROFILE += ("pronouns", "gender", "gender_identity", "sex")
_LOCATION_TEXT = {name: getattr(Location, name) for name in lengths.LOCATION_TEXT}

# (mutation, input field) -> the column the value is stored in.
STORED: dict[tuple[str, str], Column] = {
    **{("createClient", name): column for name, column in _USER_TEXT.items()},
    **{("updateClient", name): column for name, column in _USER_TEXT.items()},
    **{("updateUser", name): _USER_TEXT[name] for name in _PROFILE},
    **{("signUp", name): _USER_TEXT[name] for name in ("first_name", "last_name", "legal_name")},
    **{("completeCheckout", name): _USER_TEXT[name] for name in ("first_name", "last_name")},
    ("completeCheckout", "legal_name"): User.legal_name,
    ("completeCheckout", "contact_type"): Appointment.contact_type,
    ("completeCheckout", "reason"): Appointment.reason,
    ("createTag", "name"): Tag.name,
    ("updateTag", "name"): Tag.name,
    **{("createLocation", name): column for name, column in _LOCATION_TEXT.items()},
    **{("updateLocation", name): column for name, column in _LOCATION_TEXT.items()},
    ("createGroup", "name"): UserGroup.name,
    ("updateUserGroup", "name"): UserGroup.name,
    ("createOnboardingFlow", "name"): OnboardingFlow.name,
    ("updateOnboardingFlow", "name"): OnboardingFlow.name,
    ("createRequestedFormCompletion", "custom_module_form_id"): (
        RequestedFormCompletion.custom_module_form_id
    ),
    ("createRequestedFormCompletion", "form"): RequestedFormCompletion.custom_module_form_id,
    ("createAppointmentType", "name"): AppointmentType.name,
    ("createOffering", "name"): Offering.name,
    ("createOffering", "billing_frequency"): Offering.billing_frequency,
    ("createAppointment", "contact_type"): Appointment.contact_type,
    ("createAppointment", "notes"): Appointment.reason,
    ("updateAppointment", "pm_status"): Appointment.pm_status,
    ("createAppointment", "location"): Appointment.location,
    ("updateAppointment", "contact_type"): Appointment.contact_type,
    ("updateAppointment", "notes"): Appointment.reason,
    ("updateAppointment", "location"): Appointment.location,
    ("updateAppointmentType", "name"): AppointmentType.name,
    ("createConversation", "name"): Conversation.name,
    ("updateConversation", "name"): Conversation.name,
    ("updateClient", "quick_notes"): User.quick_notes,
    ("updateClient", "sexual_orientation_other"): User.sexual_orientation_other,
    ("updateUser", "sexual_orientation_other"): User.sexual_orientation_other,
    ("updateUser", "human_id"): User.human_id,
}

_ID = "an id: digits, at most 10 (validation.parse_id)"
_IDS = "ids, each parsed as an id"
_EMAIL = "an email address: the validator allows 254 characters, the column 320"
_CHOICE = "one of a few fixed values"
# Recurrence inputs are checked and stored in one spelling (forms/service.py::_store_rule).
_RECURRENCE = {
    "frequency": _CHOICE,
    "weekday": _CHOICE,
    "period": _CHOICE,
    "monthday": "a day of the month, stored as '1st'..'31st'",
    "hour": "a number 0..23, stored as such",
    "minute": "a number 0..59, stored as such",
    "ends_on": "a date, stored in a DATE column",
}
_METADATA = "a JSON object, bounded by validation.clean_metadata at the column's width"
_CHECKED = "compared with what is stored, never stored"
_EVENT_TYPE = "a name of the event catalog (events/catalog.py), at most 64 = the column"
# Stored, but only once the SSRF guard resolved its host, which a walk without network cannot:
# tests/webhooks/test_management.py stores the longest (2048, the column) on both databases.
_WEBHOOK_URL = "a URL the SSRF guard accepts (webhooks/urls.py): at most 2048 = the column"
_PASSWORD = "stored as an Argon2 hash of fixed width"
# Stored, but only as an http(s) address, which the walk's text is not: the longest (2000, the
# column) is stored on both databases by tests/scheduling/test_appointments_integrations.py.
_VIDEOCHAT_URL = "an http(s) URL (scheduling/details.py): at most 2000 = the column"
# (mutation, input field) -> why it is not a free-text value stored as given.
_PERSON = {
    "email": _EMAIL,
    "phone_number": "a phone number, stored in E.164 form (at most 16 characters)",
    "timezone": "an IANA time zone name from the system's list (at most 32 characters)",
    "dob": "a date",
    "dietitian_id": _ID,
    "user_group_id": _ID,
    "other_provider_ids": _IDS,
    "password": _PASSWORD,
}
_PERSON_INPUTS = {
    "createClient": ("email", "phone_number", "timezone", "dob", "dietitian_id", "user_group_id"),
    "updateClient": ("email", "phone_number", "timezone", "dob", "dietitian_id", "user_group_id"),
    "updateUser": ("email", "phone_number", "timezone", "dob", "password"),
    "signUp": ("email", "phone_number", "timezone", "dietitian_id", "password"),
    "completeCheckout": ("email", "phone_number", "timezone"),
    "createAppointment": ("timezone",),
}
# (mutation, input field) -> why it is not a free-text value stored as given.
OTHER: dict[tuple[str, str], str] = {
    **{
        (mutation, name): _PERSON[name]
        for mutation, names in _PERSON_INPUTS.items()
        for name in names
    },
    ("createClient", "other_provider_ids"): _IDS,
    ("updateClient", "other_provider_ids"): _IDS,
    ("updateClient", "password"): _PASSWORD,
    ("updateClient", "id"): _ID,
    ("updateClient", "requested_form_completion_id"): _ID,
    ("updateUser", "id"): _ID,
    ("updateUser", "current_email"): _CHECKED,
    ("updateUser", "current_password"): _CHECKED,
    ("updateUser", "password_confirmation"): _CHECKED,
    ("bulkUpdateClients", "ids"): _IDS,
    ("bulkUpdateClients", "user_group_id"): _ID,
    ("mergeClients", "ids"): _IDS,
    ("mergeClients", "target_user_id"): _ID,
    ("mergeClients", "target_email"): _EMAIL,
    ("unmergeClients", "id"): _ID,
    ("signUp", "role"): _CHOICE,
    ("signUp", "provider_type"): "ignored (Healthie's provider types are not modelled)",
    ("signUp", "invite_code"): "looked up, never stored",
    ("signIn", "email"): _CHECKED,
    ("signIn", "password"): _CHECKED,
    ("signIn", "reset_token"): _CHECKED,
    ("signIn", "namespace"): "ignored",
    ("signOut", "clientMutationId"): "echoed, never stored",
    ("revokeToken", "clientMutationId"): "echoed, never stored",
    ("createTag", "taggable_user_id"): _ID,
    ("updateTag", "id"): _ID,
    ("deleteTag", "id"): _ID,
    ("bulkApply", "ids"): _IDS,
    ("bulkApply", "taggable_user_id"): _ID,
    ("removeAppliedTag", "id"): _ID,
    ("removeAppliedTag", "taggable_user_id"): _ID,
    ("createWebhook", "url"): _WEBHOOK_URL,
    ("createWebhook", "event_type"): _EVENT_TYPE,
    ("createWebhook", "webhook_events.id"): _ID,
    ("createWebhook", "webhook_events.event_type"): _EVENT_TYPE,
    ("updateWebhook", "id"): _ID,
    ("updateWebhook", "url"): _WEBHOOK_URL,
    ("updateWebhook", "event_type"): _EVENT_TYPE,
    ("updateWebhook", "webhook_events.id"): _ID,
    ("updateWebhook", "webhook_events.event_type"): _EVENT_TYPE,
    ("deleteWebhook", "id"): _ID,
    ("expireWebhookSignature", "id"): _ID,
    ("dismissDuplicateCandidate", "id"): _ID,
    ("createLocation", "user_id"): _ID,
    ("createLocation", "country"): "a two-letter country code",
    ("createLocation", "npi"): "ten digits",
    ("updateLocation", "id"): _ID,
    ("updateLocation", "country"): "a two-letter country code",
    ("updateLocation", "npi"): "ten digits",
    ("deleteLocation", "id"): _ID,
    ("updateUserGroup", "id"): _ID,
    ("updateUserGroup", "onboarding_flow_id"): _ID,
    ("deleteUserGroup", "id"): _ID,
    ("deleteUserGroup", "group_to_receive_clients"): _ID,
    ("createOnboardingFlow", "groups_to_use_onboarding_flow"): _IDS,
    ("updateOnboardingFlow", "id"): _ID,
    ("updateOnboardingFlow", "groups_to_use_onboarding_flow"): _IDS,
    ("createRequestedFormCompletion", "recipient_id"): _ID,
    ("createRequestedFormCompletion", "recipient_ids"): _IDS,
    ("createRequestedFormCompletion", "item_type"): _CHOICE,
    **{
        (mutation, name): _RECURRENCE[name]
        for mutation in ("createRequestedFormCompletion", "updateRecurringForm")
        for name in _RECURRENCE
    },
    ("createRequestedFormCompletion", "metadata"): _METADATA,
    ("updateRecurringForm", "id"): _ID,
    ("updateRecurringForm", "recipient_ids"): _IDS,
    ("deleteRequestedFormCompletion", "id"): _ID,
    ("deleteRequestedFormCompletion", "recurringFormId"): _ID,
    ("deleteRecurringForm", "id"): _ID,
    ("deleteRecurringForm", "connectable_id"): _ID,
    ("deleteRecurringForm", "connectable_type"): _CHOICE,
    ("createAppointmentType", "pricing"): "an amount of money",
    ("createOffering", "price"): "an amount of money",
    ("createOffering", "description"): "a TEXT column (no width): validation alone bounds it",
    ("createAppointment", "user_id"): _ID,
    ("createAppointment", "providers"): _IDS,
    ("createAppointment", "appointment_type_id"): _ID,
    ("createAppointment", "datetime"): "a date and time",
    ("updateAppointment", "id"): _ID,
    ("updateAppointment", "datetime"): "a date and time",
    **{
        (mutation, name): reason
        for mutation in ("createAppointment", "updateAppointment")
        for name, reason in (
            ("appointment_location_id", _ID),
            ("attendee_ids", _IDS),
            ("other_party_id", _ID),
            ("date", "a date"),
            ("time", "a time of day"),
            ("external_videochat_url", _VIDEOCHAT_URL),
        )
    },
    ("updateAppointment", "providers"): _IDS,
    ("updateAppointment", "user_id"): _ID,
    ("updateAppointment", "appointment_type_id"): _ID,
    ("updateAppointment", "timezone"): _PERSON["timezone"],
    ("deleteAppointment", "id"): _ID,
    ("updateAppointmentType", "id"): _ID,
    ("updateAppointmentType", "pricing"): "an amount of money",
    ("deleteAppointmentType", "id"): _ID,
    ("updateAppointmentSetting", "appointment_locations.id"): _ID,
    # A nested list the walk's cases do not fill: the longest (200, the column) is stored on
    # both databases by tests/scheduling/test_appointment_locations.py.
    ("updateAppointmentSetting", "appointment_locations.location"): "a location's text: at most "
    "200 = the column of appointment_locations.location",
    **{
        ("completeCheckout", name): _ID
        for name in (
            "appointment_id",
            "appointment_ids",
            "appointment_location_id",
            "appointment_type_id",
            "offering_id",
            "provider_id",
            "requested_payment_id",
            "payment_intent_id",
        )
    },
    ("completeCheckout", "date"): "a date and time",
    ("completeCheckout", "price"): "ignored: the price is the appointment type's and offering's",
    ("completeCheckout", "token"): "handed to the payment processor, never stored",
    ("completeCheckout", "stripe_idempotency_key"): "handed to the payment processor",
    ("completeCheckout", "coupon_code"): "ignored (coupons are not modelled)",
    ("completeCheckout", "intake_flow_uuid"): "ignored",
    ("completeCheckout", "location"): "ignored",
    ("createConversation", "simple_added_users"): _IDS,
    ("createConversation", "owner_id"): _ID,
    ("createConversation", "added_users.value"): _ID,
    ("createConversation", "added_users.label"): "the label of a picked user, never stored",
    ("createConversation", "appointment_id"): "accepted, changes nothing (docs/api.md)",
    ("createConversation", "select_all_status"): "accepted, changes nothing (docs/api.md)",
    ("updateConversation", "id"): _ID,
    ("updateConversation", "closed_by_id"): _ID,
    ("updateConversation", "simple_added_users"): _IDS,
    ("updateConversation", "select_all_status"): "accepted, changes nothing (docs/api.md)",
    ("updateConversationMembership", "id"): _ID,
    ("deleteConversationMembership", "conversation_id"): _ID,
    ("deleteConversationMembership", "group_id"): _ID,
    ("deleteConversationMembership", "user_id"): _ID,
    **{
        (mutation, name): _ID
        for mutation in ("createNote", "updateNote")
        for name in ("conversation_id", "user_id")
    },
    **{
        (mutation, "content"): "sanitized HTML in a TEXT column, at most 20,000 characters "
        "(conversations/content.py)"
        for mutation in ("createNote", "updateNote")
    },
    **{
        (mutation, "scheduled_at"): "refused unless blank: no message is scheduled"
        for mutation in ("createNote", "updateNote")
    },
    ("createNote", "created_at"): "ignored: a message's times are the server's",
    ("createNote", "updated_at"): "ignored: a message's times are the server's",
    ("updateNote", "id"): _ID,
    ("deleteNote", "id"): _ID,
    **{
        (mutation, name): "a code of its code system (users/demographics), at most 20 characters"
        for mutation in ("updateClient", "updateUser")
        for name in (
            "preferred_language_code",
            "primary_race_code",
            "secondary_race_code",
            "primary_ethnicity_code",
            "secondary_ethnicity_code",
            "sexual_orientation_code",
            "gender_identity_code",
        )
        if (mutation, name) != ("updateUser", "secondary_ethnicity_code")  # an Int there
    },
    ("updateClient", "additional_phone_number"): _PERSON["phone_number"],
    ("updateClient", "height"): "a number of inches",
    ("updateClient", "weight"): "a number of pounds",
    ("updateClient", "current_email"): _CHECKED,
    **{
        (mutation, f"{path}.{name}"): (
            _ID
            if name == "id"
            else "a location field: createLocation's rule and column (tested with it)"
        )
        for mutation, paths in (
            ("updateClient", ("locations", "location")),
            ("updateUser", ("locations",)),
        )
        for path in paths
        for name in ("id", "name", "line1", "line2", "city", "state", "zip", "country")
    },
    ("bulkUpdateClients", "other_provider_ids"): _IDS,
    ("bulkUpdateClients", "provider_ids_to_remove"): _IDS,
    ("updateNotificationSetting", "id"): _ID,
    ("resetPassword", "email"): _CHECKED,
    ("resetPassword", "namespace"): "ignored",
    ("updateUserEmail", "user_id"): _ID,
    ("updateUserEmail", "current_email"): _CHECKED,
    (
        "updateUserEmail",
        "new_email",
    ): "the email rule of every write path (updateUser's email case)",
    ("sendWelcomeEmail", "user_id"): _ID,
    ("sendTestWebhook", "id"): _ID,
    ("redeliverWebhookEvent", "event_id"): _ID,
    ("redeliverWebhookEvent", "webhook_id"): _ID,
}


def _string_inputs(type_: Any, path: str, seen: frozenset[str]) -> Iterator[str]:
    named = get_named_type(type_)
    if isinstance(named, GraphQLInputObjectType) and named.name not in seen:
        for name, input_field in named.fields.items():
            yield from _string_inputs(input_field.type, f"{path}.{name}", seen | {named.name})
    elif isinstance(named, GraphQLScalarType) and named.name in ("String", "ID"):
        yield path


def mutation_string_inputs() -> set[tuple[str, str]]:
    """(mutation, path below its ``input`` argument) of every String and ID input."""
    mutation_type = SCHEMA._schema.mutation_type
    assert mutation_type is not None
    found = set()
    for name, mutation in mutation_type.fields.items():
        for argument_name, argument in mutation.args.items():
            for path in _string_inputs(argument.type, argument_name, frozenset()):
                assert path.startswith("input."), (name, path)  # Healthie's one argument
                found.add((name, path.removeprefix("input.")))
    return found


def test_every_string_input_is_classified() -> None:
    assert not set(STORED) & set(OTHER)
    assert mutation_string_inputs() == set(STORED) | set(OTHER)


def width(column: Column) -> int:
    """A column's declared width."""
    type_ = column.property.columns[0].type
    assert isinstance(type_, String) and type_.length is not None, column
    return type_.length


def test_case_folding_grows_text_at_most_by_the_factor_the_key_columns_allow() -> None:
    growth = max(len(chr(code).casefold()) for code in range(sys.maxunicode + 1))
    assert growth == lengths.FOLD_GROWTH
    for name, key in [
        (UserGroup.name, UserGroup.name_key),
        (OnboardingFlow.name, OnboardingFlow.name_key),
        (Tag.name, Tag.name_key),
    ]:
        assert width(key) >= lengths.folded(width(name)), key


# 'ΐ' folds to three characters: a name of them has the longest possible key.
GROWS = "\u0390"
_serial = count()


def text_of(size: int, column: Column) -> str:
    """``size`` characters, unique to this call, for the input stored in ``column``."""
    unique = chr(0x4E00 + next(_serial))
    if column is User.user_metadata:  # a JSON object
        empty = json.dumps({"k": unique}, ensure_ascii=False)
        return json.dumps({"k": GROWS * (size - len(empty)) + unique}, ensure_ascii=False)
    return GROWS * (size - 1) + unique


@dataclass
class Probe:
    """What a mutation needs besides the value under test, and where its rows are."""

    world: World
    api: Api
    serial: Iterator[int] = field(default_factory=count)

    @property
    def provider(self) -> Api:
        return self.api.with_key(self.world.a.provider.api_key)

    def unique(self) -> int:
        return next(self.serial)


@dataclass(frozen=True)
class Case:
    """One mutation: the caller, the rest of its input, the object its payload returns."""

    base: Callable[[Probe], Awaitable[dict[str, Any]]]
    payload: str = "user"
    anonymous: bool = False
    # The selection under the payload object, and the row of each table from its answer.
    selection: str = "id"
    rows: Callable[[dict[str, Any], type], int] = lambda answer, _model: int(answer["id"])


async def _client(p: Probe) -> dict[str, Any]:
    n = p.unique()
    return {"first_name": "A", "last_name": "B", "email": f"width.{n}@example.com"}


async def _patient(p: Probe) -> dict[str, Any]:
    return {"id": str(p.world.a.patient_id)}


async def _self(p: Probe) -> dict[str, Any]:
    return {"id": str(p.world.a.provider.user_id)}


async def _sign_up(p: Probe) -> dict[str, Any]:
    n = p.unique()
    return {
        "role": "patient",
        "dietitian_id": str(p.world.a.provider.user_id),
        "first_name": "A",
        "last_name": "B",
        "email": f"signup.{n}@example.com",
        "password": "b@se3ball rocks",
    }


async def _checkout(p: Probe) -> dict[str, Any]:
    n = p.unique()
    return {
        "appointment_type_id": await create_type(p.provider, name=f"Type {n}"),
        "provider_id": str(p.world.a.provider.user_id),
        "date": future(days=3 + n).isoformat(),
        "first_name": "A",
        "last_name": "B",
        "email": f"checkout.{n}@example.com",
    }


async def _nothing(_p: Probe) -> dict[str, Any]:
    return {"name": "A name"}


async def _tag(p: Probe) -> dict[str, Any]:
    body = await p.provider.data(
        "mutation($n: String) { createTag(input: {name: $n}) { tag { id } } }",
        {"n": f"Tag {p.unique()}"},
    )
    return {"id": body["createTag"]["tag"]["id"]}


async def _location(p: Probe) -> dict[str, Any]:
    # Outside the US, state and zip are free text.
    return {"user_id": str(p.world.a.patient_id), "name": "Home", "country": "CA"}


async def _existing_location(p: Probe) -> dict[str, Any]:
    body = await p.provider.data(
        """mutation($input: createLocationInput) {
          createLocation(input: $input) { location { id } } }""",
        {"input": await _location(p)},
    )
    return {"id": body["createLocation"]["location"]["id"]}


async def _group(p: Probe) -> dict[str, Any]:
    return {"id": str(p.world.a.group_id)}


async def _flow(p: Probe) -> dict[str, Any]:
    body = await p.provider.data(
        """mutation($n: String) {
          createOnboardingFlow(input: {name: $n}) { onboardingFlow { id } } }""",
        {"n": f"Flow {p.unique()}"},
    )
    return {"id": body["createOnboardingFlow"]["onboardingFlow"]["id"]}


async def _form_request(p: Probe) -> dict[str, Any]:
    # The form is the value under test (custom_module_form_id, or form, its other name).
    return {"recipient_id": str(p.world.a.patient_id)}


async def _offering(_p: Probe) -> dict[str, Any]:
    return {"name": "An offering", "price": "10"}


async def _appointment_type(_p: Probe) -> dict[str, Any]:
    return {"name": "A type", "length": 30}


async def _appointment(p: Probe) -> dict[str, Any]:
    n = p.unique()
    return {
        "user_id": str(p.world.a.patient_id),
        "providers": str(p.world.a.provider.user_id),
        "appointment_type_id": await create_type(p.provider, name=f"Type {n}"),
        "datetime": future(days=3 + n).isoformat(),
    }


async def _existing_appointment(p: Probe) -> dict[str, Any]:
    body = await p.provider.data(
        """mutation($input: createAppointmentInput) {
          createAppointment(input: $input) { appointment { id } } }""",
        {"input": await _appointment(p)},
    )
    return {"id": body["createAppointment"]["appointment"]["id"]}


async def _existing_type(p: Probe) -> dict[str, Any]:
    return {"id": await create_type(p.provider, name=f"Type {p.unique()}")}


async def _conversation(p: Probe) -> dict[str, Any]:
    return {"simple_added_users": str(p.world.a.patient_id)}


async def _existing_conversation(p: Probe) -> dict[str, Any]:
    body = await p.provider.data(
        """mutation($input: createConversationInput) {
          createConversation(input: $input) { conversation { id } } }""",
        {"input": await _conversation(p)},
    )
    return {"id": body["createConversation"]["conversation"]["id"]}


def _checkout_rows(answer: dict[str, Any], model: type) -> int:
    return int(answer["user"]["id"] if model is User else answer["id"])


CASES: dict[str, Case] = {
    "createClient": Case(_client),
    "updateClient": Case(_patient),
    "updateUser": Case(_self),
    "signUp": Case(_sign_up, anonymous=True),
    "completeCheckout": Case(
        _checkout,
        payload="appointment",
        anonymous=True,
        selection="id user { id }",
        rows=_checkout_rows,
    ),
    "createTag": Case(_nothing, payload="tag"),
    "updateTag": Case(_tag, payload="tag"),
    "createLocation": Case(_location, payload="location"),
    "updateLocation": Case(_existing_location, payload="location"),
    "createGroup": Case(_nothing, payload="user_group"),
    "updateUserGroup": Case(_group, payload="user_group"),
    "createOnboardingFlow": Case(_nothing, payload="onboardingFlow"),
    "updateOnboardingFlow": Case(_flow, payload="onboardingFlow"),
    "createRequestedFormCompletion": Case(_form_request, payload="requestedFormCompletion"),
    "createAppointmentType": Case(_appointment_type, payload="appointmentType"),
    "updateAppointmentType": Case(_existing_type, payload="appointmentType"),
    "createOffering": Case(_offering, payload="offering"),
    "createAppointment": Case(_appointment, payload="appointment"),
    "updateAppointment": Case(_existing_appointment, payload="appointment"),
    "createConversation": Case(_conversation, payload="conversation"),
    "updateConversation": Case(_existing_conversation, payload="conversation"),
}


def test_every_stored_input_has_a_case() -> None:
    assert {mutation for mutation, _ in STORED} == set(CASES)


def _document(mutation: str, case: Case) -> str:
    field_ = SCHEMA._schema.mutation_type.fields[mutation]  # type: ignore[union-attr]
    input_type = field_.args["input"].type
    return (
        f"mutation($input: {input_type}) {{ {mutation}(input: $input) {{"
        f" {case.payload} {{ {case.selection} }} messages {{ field message }} }} }}"
    )


async def _stored(database: Database, column: Column, row_id: int) -> Any:
    model = column.class_
    async with database.read_sessions() as session:
        return (await session.execute(select(column).where(model.id == row_id))).scalar_one()


_AT_MOST = re.compile(r"at most ([\d,]+) characters")


@pytest.mark.parametrize("mutation", sorted(CASES))
async def test_the_longest_valid_value_is_stored_and_one_more_character_refused(
    mutation: str, api: Api, world: World, database: Database
) -> None:
    case = CASES[mutation]
    probe = Probe(world, api)
    caller = api if case.anonymous else probe.provider
    document = _document(mutation, case)
    for (name, input_name), column in STORED.items():
        if name != mutation:
            continue
        size = width(column)
        longest = text_of(size, column)
        body = await caller.post(
            document, {"input": await case.base(probe) | {input_name: longest}}
        )
        assert not body.get("errors"), (input_name, body["errors"])
        payload = body["data"][mutation]
        assert payload["messages"] is None, (input_name, payload["messages"])
        row_id = case.rows(payload[case.payload], cast(type, column.class_))  # a model, no alias
        assert await _stored(database, column, row_id) == longest, input_name

        too_long = text_of(size + 1, column)
        body = await caller.post(
            document, {"input": await case.base(probe) | {input_name: too_long}}
        )
        assert not body.get("errors"), (input_name, body["errors"])
        payload = body["data"][mutation]
        assert payload[case.payload] is None, input_name
        limits = [_AT_MOST.search(m["message"]) for m in payload["messages"]]
        assert [int(m.group(1).replace(",", "")) for m in limits if m] == [size], (
            input_name,
            payload["messages"],
        )


async def test_a_provider_with_the_longest_names_opens_a_practice(
    api: Api, database: Database
) -> None:
    # The practice is named after its first provider: "<first> <last>'s practice" is cut to fit.
    first, last = (text_of(width(User.first_name), User.first_name) for _ in range(2))
    body = await api.post(
        _document("signUp", CASES["signUp"]),
        {
            "input": {
                "role": "provider",
                "first_name": first,
                "last_name": last,
                "email": "long.names@example.com",
                "password": "b@se3ball rocks",
            }
        },
    )
    assert not body.get("errors"), body["errors"]
    payload = body["data"]["signUp"]
    assert payload["messages"] is None
    organization_id = await _stored(database, User.organization_id, int(payload["user"]["id"]))
    name = await _stored(database, Organization.name, organization_id)
    assert name == f"{first} {last}'s practice"[: width(Organization.name)]
