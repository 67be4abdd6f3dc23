"""createClient: every input of the seed, its rules, and nothing written on bad input."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from tests.support.api import Api
from tests.support.seed_documents import CREATE_CLIENT, GET_USER
from tests.support.world import World

from carebook.db.engine import Database
from carebook.notifications.models import OutboxMessage
from carebook.users.models import CareTeamMember, User

FULL = """mutation($input: createClientInput) { createClient(input: $input) {
  user { id first_name last_name email phone_number dob gender timezone record_identifier
         legal_name metadata dietitian_id user_group_id other_provider_ids active skipped_email }
  messages { field message } } }"""


async def _count(database: Database, model: Any) -> int:
    async with database.read_sessions() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def test_seed_document_creates_patient_owned_by_caller(
    api: Api, world: World, database: Database
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    data = await provider.data(
        CREATE_CLIENT,
        {
            "first_name": "Jonas",
            "last_name": "Salk",
            "email": "Jonas.Salk@Example.com",
            "phone_number": "555-444-2244",
        },
    )
    payload = data["createClient"]
    assert payload["messages"] is None
    user = (await provider.data(GET_USER, {"id": payload["user"]["id"]}))["user"]
    assert user["first_name"] == "Jonas"
    assert user["email"] == "Jonas.Salk@example.com"
    assert user["phone_number"] == "+15554442244"
    async with database.read_sessions() as session:
        row = await session.get_one(User, int(payload["user"]["id"]))
    assert row.dietitian_id == world.a.provider.user_id
    assert row.organization_id == world.a.provider.organization_id


async def test_all_inputs_are_applied(api: Api, world: World, database: Database) -> None:
    provider = api.with_key(world.a.provider.api_key)
    data = await provider.data(
        FULL,
        {
            "input": {
                "first_name": " Amara ",
                "last_name": "Okafor",
                "email": "amara@example.com",
                "phone_number": "(212) 555-0100",
                "dob": "1990-04-05",
                "gender": "Female",
                "timezone": "America/New_York",
                "record_identifier": "MRN-1",
                "legal_name": "Amarachi",
                "metadata": '{"source": "referral"}',
                "dietitian_id": str(world.a.staff.user_id),
                "user_group_id": str(world.a.group_id),
                "other_provider_ids": [str(world.a.provider.user_id)],
                "dont_send_welcome": True,
            }
        },
    )
    user = data["createClient"]["user"]
    assert data["createClient"]["messages"] is None
    assert user == {
        "id": user["id"],
        "first_name": "Amara",
        "last_name": "Okafor",
        "email": "amara@example.com",
        "phone_number": "+12125550100",
        "dob": "1990-04-05",
        "gender": "Female",
        "timezone": "America/New_York",
        "record_identifier": "MRN-1",
        "legal_name": "Amarachi",
        "metadata": '{"source": "referral"}',
        "dietitian_id": str(world.a.staff.user_id),
        "user_group_id": str(world.a.group_id),
        "other_provider_ids": [str(world.a.provider.user_id)],
        "active": True,
        "skipped_email": False,
    }
    assert await _count(database, CareTeamMember) == 1


async def test_welcome_email_is_queued_unless_dont_send_welcome(
    api: Api, world: World, database: Database
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    before = await _count(database, OutboxMessage)
    await provider.data(
        CREATE_CLIENT, {"first_name": "A", "last_name": "B", "email": "ab@example.com"}
    )
    assert await _count(database, OutboxMessage) == before + 1
    await provider.data(
        CREATE_CLIENT,
        {"first_name": "C", "last_name": "D", "email": "cd@example.com", "dont_send_welcome": True},
    )
    assert await _count(database, OutboxMessage) == before + 1


async def test_skipped_email_allows_no_email(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    data = await provider.data(
        CREATE_CLIENT, {"first_name": "No", "last_name": "Mail", "skipped_email": True}
    )
    assert data["createClient"]["messages"] is None
    assert data["createClient"]["user"]["id"]


BAD_INPUTS: list[tuple[dict[str, Any], str]] = [
    ({"last_name": "Salk", "email": "x1@example.com"}, "first_name"),
    ({"first_name": "  ", "last_name": "Salk", "email": "x2@example.com"}, "first_name"),
    ({"first_name": "Jonas", "email": "x3@example.com"}, "last_name"),
    ({"first_name": "Jonas", "last_name": "Salk"}, "email"),
    ({"first_name": "Jonas", "last_name": "Salk", "email": "not-an-email"}, "email"),
    (
        {
            "first_name": "Jonas",
            "last_name": "Salk",
            "email": "x4@example.com",
            "phone_number": "12",
        },
        "phone_number",
    ),
    (
        {
            "first_name": "Jonas",
            "last_name": "Salk",
            "email": "x5@example.com",
            "phone_number": "call me",
        },
        "phone_number",
    ),
    (
        {
            "first_name": "Jonas",
            "last_name": "Salk",
            "email": "x6@example.com",
            "dietitian_id": "999999",
        },
        "dietitian_id",
    ),
    (
        {
            "first_name": "Jonas",
            "last_name": "Salk",
            "email": "x7@example.com",
            "dietitian_id": "abc",
        },
        "dietitian_id",
    ),
    (
        {
            "first_name": "Jonas",
            "last_name": "Salk",
            "email": "x8@example.com",
            "user_group_id": "999999",
        },
        "user_group_id",
    ),
]


async def test_bad_input_gets_a_message_and_writes_nothing(
    api: Api, world: World, database: Database
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    users_before = await _count(database, User)
    outbox_before = await _count(database, OutboxMessage)
    for variables, field in BAD_INPUTS:
        data = await provider.data(CREATE_CLIENT, variables)
        payload = data["createClient"]
        assert payload["user"] is None, variables
        assert [m["field"] for m in payload["messages"]] == [field], (variables, payload)
        assert all(m["message"] for m in payload["messages"])
    assert await _count(database, User) == users_before
    assert await _count(database, OutboxMessage) == outbox_before


async def test_other_inputs_are_validated(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    cases = [
        ({"dob": "2999-01-01"}, "dob"),
        ({"dob": "10/10"}, "dob"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"metadata": "[1,2]"}, "metadata"),
        ({"metadata": "{oops"}, "metadata"),
        ({"other_provider_ids": ["424242"]}, "other_provider_ids"),
    ]
    for extra, field in cases:
        data = await provider.data(
            FULL, {"input": {"first_name": "J", "last_name": "S", "skipped_email": True, **extra}}
        )
        assert data["createClient"]["user"] is None
        assert [m["field"] for m in data["createClient"]["messages"]] == [field], extra


async def test_several_problems_are_reported_together(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    data = await provider.data(CREATE_CLIENT, {"email": "bad", "phone_number": "x"})
    fields = {m["field"] for m in data["createClient"]["messages"]}
    assert fields == {"first_name", "last_name", "email", "phone_number"}


async def test_email_is_unique_per_organization_case_insensitively(api: Api, world: World) -> None:
    a = api.with_key(world.a.provider.api_key)
    b = api.with_key(world.b.provider.api_key)
    variables = {"first_name": "Dup", "last_name": "Licate", "email": "PATIENT.a@example.com"}
    data = await a.data(CREATE_CLIENT, variables)
    assert data["createClient"]["messages"] == [
        {"field": "email", "message": "Email has already been taken"}
    ]
    # The same email is free in another organization.
    data = await b.data(CREATE_CLIENT, variables)
    assert data["createClient"]["messages"] is None


async def test_dietitian_must_belong_to_callers_organization(api: Api, world: World) -> None:
    data = await api.with_key(world.a.provider.api_key).data(
        CREATE_CLIENT,
        {
            "first_name": "J",
            "last_name": "S",
            "email": "js@example.com",
            "dietitian_id": str(world.b.provider.user_id),
        },
    )
    assert data["createClient"]["messages"][0]["field"] == "dietitian_id"


async def test_group_of_another_organization_is_not_found(api: Api, world: World) -> None:
    data = await api.with_key(world.a.provider.api_key).data(
        CREATE_CLIENT,
        {
            "first_name": "J",
            "last_name": "S",
            "email": "js@example.com",
            "user_group_id": str(world.b.group_id),
        },
    )
    assert data["createClient"]["messages"] == [
        {"field": "user_group_id", "message": "User group not found"}
    ]


async def test_staff_may_create_patients_but_patients_and_anonymous_may_not(
    api: Api, world: World
) -> None:
    variables = {"first_name": "J", "last_name": "S", "email": "js2@example.com"}
    data = await api.with_key(world.a.staff.api_key).data(CREATE_CLIENT, variables)
    assert data["createClient"]["messages"] is None
    assert await api.with_token(world.a.patient_token).error_codes(CREATE_CLIENT, variables) == [
        "FORBIDDEN"
    ]
    assert await api.error_codes(CREATE_CLIENT, variables) == ["UNAUTHENTICATED"]
