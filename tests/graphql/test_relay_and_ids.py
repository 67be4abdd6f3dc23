"""As Healthie answers: nullable payloads with clientMutationId, ids in Healthie's forms.

Healthie's clients select ``clientMutationId`` on payloads, write ``ID`` arguments as numbers or
strings, and send comma-separated id lists such as ``"user-12, 13"`` or ``"1,group-3"``
(awell-extensions' chat and form-request actions do).
"""

from __future__ import annotations

from typing import Any

import pytest
from tests.support.api import Api
from tests.support.world import PATIENT_PASSWORD, World

from carebook.errors import Invalid
from carebook.users.validation import parse_id_list

SIGN_IN = """mutation($email: String, $password: String) {
  signIn(input: {email: $email, password: $password}) { token clientMutationId } }"""
REVOKE = """mutation($m: String) {
  revokeToken(input: {clientMutationId: $m}) { clientMutationId messages { message } } }"""
SIGN_OUT = """mutation($m: String) {
  signOut(input: {clientMutationId: $m}) { clientMutationId messages { message } } }"""
CREATE_TAG = """mutation($name: String) {
  createTag(input: {name: $name}) { clientMutationId tag { id name } messages { message } } }"""
USER = "query($id: ID) { user(id: $id) { id } }"
APPLY = """mutation($ids: [ID], $user: ID) {
  bulkApply(input: {ids: $ids, taggable_user_id: $user}) { tags { id } messages { message } } }"""
CONVERSATION = """mutation($users: String) {
  createConversation(input: {simple_added_users: $users, name: "Check-in"}) {
    conversation { users { id } } messages { field message } } }"""
PUT_IN_GROUP = """mutation($id: ID, $group: String) {
  updateClient(input: {id: $id, user_group_id: $group}) { user { id } messages { message } } }"""
REQUEST_FORM = """mutation($ids: String) {
  createRequestedFormCompletion(
    input: {recipient_ids: $ids, custom_module_form_id: "7", item_type: "CustomModuleForm"}
  ) { requestedFormCompletion { id } messages { field message } } }"""
REQUESTS = "query($user: ID) { requestedFormCompletions(user_id: $user) { recipient_id } }"


async def test_revoke_token_and_sign_out_echo_the_client_mutation_id(
    api: Api, world: World
) -> None:
    signed_in = await api.data(
        SIGN_IN, {"email": "patient.a@example.com", "password": PATIENT_PASSWORD}
    )
    assert signed_in["signIn"]["clientMutationId"] is None  # signInInput has none to echo
    session = api.with_token(signed_in["signIn"]["token"])
    revoked = (await session.data(REVOKE, {"m": "relay-7"}))["revokeToken"]
    assert revoked["clientMutationId"] == "relay-7" and not revoked["messages"]
    assert await session.error_codes(USER, {"id": str(world.a.patient_id)}) == ["UNAUTHENTICATED"]

    signed_out = await api.with_token(world.a.patient_token).data(SIGN_OUT, {"m": "out-1"})
    assert signed_out["signOut"]["clientMutationId"] == "out-1"


async def test_a_payload_without_an_input_id_answers_null_for_it(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    created = (await provider.data(CREATE_TAG, {"name": "Relay"}))["createTag"]
    assert created["clientMutationId"] is None
    assert created["tag"]["name"] == "Relay"


async def test_a_failed_mutation_answers_a_null_payload_beside_its_error(api: Api) -> None:
    # The payload is nullable, as Healthie's: the error stays an error with its code, and the
    # rest of the answer keeps its shape ({"data": {"createTag": null}}), not "data": null.
    body = await api.post(CREATE_TAG, {"name": "Nobody"})
    assert body["data"] == {"createTag": None}
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]


async def test_id_arguments_may_be_numbers(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    patient = world.a.patient_id
    as_variable = await provider.data(USER, {"id": patient})  # a JSON number
    as_literal = await provider.data(f"{{ user(id: {patient}) {{ id }} }}")
    assert as_variable == as_literal == {"user": {"id": str(patient)}}

    tag_id = int((await provider.data(CREATE_TAG, {"name": "Numbers"}))["createTag"]["tag"]["id"])
    applied = (await provider.data(APPLY, {"ids": [tag_id], "user": patient}))["bulkApply"]
    assert applied["tags"] == [{"id": str(tag_id)}] and not applied["messages"]


async def test_simple_added_users_takes_healthies_user_prefix(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    users = f"user-{world.a.patient_id}, {world.a.other_patient_id}"
    payload = (await provider.data(CONVERSATION, {"users": users}))["createConversation"]
    assert not payload["messages"]
    members = {int(u["id"]) for u in payload["conversation"]["users"]}
    assert {world.a.patient_id, world.a.other_patient_id} <= members

    # Another kind of entry than user- and group- (issue 29 added groups) is refused.
    refused = await provider.data(CONVERSATION, {"users": "tag-3"})
    assert refused["createConversation"]["conversation"] is None
    [message] = refused["createConversation"]["messages"]
    assert message["field"] == "simple_added_users"
    assert "'tag-3' is not accepted here" in message["message"]


async def test_recipient_ids_may_name_a_group_for_its_patients(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    patient, other = world.a.patient_id, world.a.other_patient_id
    group = {"id": str(patient), "group": str(world.a.group_id)}
    assert not (await provider.data(PUT_IN_GROUP, group))["updateClient"]["messages"]

    asked = await provider.data(REQUEST_FORM, {"ids": f"group-{world.a.group_id}"})
    assert not asked["createRequestedFormCompletion"]["messages"]
    assert await _asked(provider, patient) == [str(patient)]
    assert await _asked(provider, other) == []  # not in the group

    both = await provider.data(REQUEST_FORM, {"ids": f" user-{other},{patient} "})
    assert not both["createRequestedFormCompletion"]["messages"]
    assert await _asked(provider, other) == [str(other)]
    assert len(await _asked(provider, patient)) == 2


async def test_another_organizations_group_asks_no_one(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    other_org = api.with_key(world.b.provider.api_key)
    group = {"id": str(world.b.patient_id), "group": str(world.b.group_id)}
    assert not (await other_org.data(PUT_IN_GROUP, group))["updateClient"]["messages"]
    refused = await provider.data(REQUEST_FORM, {"ids": f"group-{world.b.group_id}"})
    [message] = refused["createRequestedFormCompletion"]["messages"]
    # Answered as an unknown group is: nothing tells the other organization's group exists.
    assert message == {
        "field": "recipient_ids",
        "message": f"User groups not found: {world.b.group_id}",
    }
    unknown = await provider.data(REQUEST_FORM, {"ids": "group-999999"})
    [message] = unknown["createRequestedFormCompletion"]["messages"]
    assert message == {"field": "recipient_ids", "message": "User groups not found: 999999"}
    assert await _asked(other_org, world.b.patient_id) == []


async def _asked(api: Api, user_id: int) -> list[Any]:
    rows = (await api.data(REQUESTS, {"user": str(user_id)}))["requestedFormCompletions"]
    return [row["recipient_id"] for row in rows]


def test_id_lists_are_read_as_healthie_writes_them() -> None:
    assert parse_id_list("1, user-2,USER-3 ,,1", "f") == {"user": [1, 2, 3]}
    assert parse_id_list(None, "f") == {"user": []}
    mixed = parse_id_list("4,group-5, user-6 ,group-5", "f", kinds=("user", "group"))
    assert mixed == {"user": [4, 6], "group": [5]}


@pytest.mark.parametrize("text", ["tag-1", "-1", "user-", "user-x", "1.5", "99999999999"])
def test_an_id_list_entry_that_is_not_an_id_of_an_accepted_kind_is_a_message(text: str) -> None:
    with pytest.raises(Invalid) as refused:
        parse_id_list(f"1,{text}", "recipient_ids", kinds=("user", "group"))
    assert [problem.field for problem in refused.value.messages] == ["recipient_ids"]
