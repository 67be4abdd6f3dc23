"""Mutation payloads are declared once each on shared bases (carebook/graphql/payloads.py).

The schema snapshot (tests/test_schema_snapshot.py) holds their names, fields, order and
descriptions; these tests hold the bases' behaviour.
"""

from __future__ import annotations

from carebook.graphql.common import FieldError, Outcome
from carebook.graphql.payloads import MESSAGES, Payload
from carebook.graphql.schema import build_schema
from carebook.graphql.tags.mutations import CreateTagPayload
from carebook.graphql.user_groups.mutations import CreateGroupPayload


def test_answer_wraps_the_written_row_or_carries_the_messages() -> None:
    wrote = CreateGroupPayload.answer(Outcome(value=3), lambda row: f"group {row}")
    assert (wrote.value, wrote.messages) == ("group 3", None)
    problem = [FieldError(field="name", message="Name can't be blank")]
    refused = CreateTagPayload.answer(Outcome(messages=list(problem)), lambda row: row)
    assert (refused.value, refused.messages) == (None, problem)


def test_each_payload_names_its_object_and_keeps_healthies_field_order() -> None:
    types = build_schema()._schema.type_map
    assert list(types["createTagPayload"].fields) == ["clientMutationId", "tag", "messages"]
    assert list(types["createGroupPayload"].fields) == [
        "clientMutationId",
        "messages",
        "user_group",
    ]


def test_every_payload_has_the_same_messages_field() -> None:
    types = build_schema()._schema.type_map
    payloads = [gql for name, gql in types.items() if name.endswith("Payload")]
    # 32 + the four webhook mutations, sendTestWebhook, redeliverWebhookEvent, mergeClients,
    # unmergeClients, + issue 29's deleteAppointment, updateAppointmentType,
    # deleteAppointmentType, updateAppointmentSetting, updateConversation,
    # updateConversationMembership, deleteConversationMembership, deleteRequestedFormCompletion,
    # updateRecurringForm, deleteRecurringForm, createNote, updateNote, deleteNote,
    # + dismissDuplicateCandidate
    assert len(payloads) == 54
    for gql in payloads:
        messages = gql.fields["messages"]
        assert (str(messages.type), messages.description) == ("[FieldError]", MESSAGES)
    assert issubclass(CreateTagPayload, Payload)
