"""Duplicate detection through HTTP: createClient's warnings, the blocking setting, anonymous
sign-ups recorded silently, the staff list and its dismissal, isolation between organizations.

createClient is sent as Awell's Healthie extension sends it (createPatient, one
createClientInput! variable with names, email, phone and dob).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from carebook.db.engine import Database
from carebook.duplicates import service
from carebook.users.models import User
from tests.audit.events import stored
from tests.support.api import Api
from tests.support.seed_documents import SIGN_UP
from tests.support.world import World

CREATE_PATIENT = """mutation createPatient($input: createClientInput!) {
  createClient(input: $input) { user { id } messages { field message } } }"""
CANDIDATES = """query duplicates($offset: Int, $page_size: Int) {
  duplicateCandidatesCount
  duplicateCandidates(offset: $offset, page_size: $page_size) {
    id score reasons created_at dismissed_at
    user { id first_name last_name } other_user { id first_name last_name } } }"""
DISMISS = """mutation dismiss($id: ID) { dismissDuplicateCandidate(input: {id: $id}) {
  duplicate_candidate { id dismissed_at } messages { field message } } }"""
ROBERT = {
    "first_name": "Robert",
    "last_name": "Smith",
    "dob": "1980-03-04",
    "phone_number": "555-444-2244",
    "email": "robert.smith@example.com",
    "dont_send_welcome": True,
}
BOB = ROBERT | {"first_name": "Bob", "last_name": "Smyth", "email": "bob.s@example.com"}


async def _create(api: Api, fields: dict[str, Any]) -> dict[str, Any]:
    return await api.post(CREATE_PATIENT, {"input": fields})


def _warnings(body: dict[str, Any]) -> list[dict[str, Any]]:
    return list((body.get("extensions") or {}).get("warnings") or [])


async def test_create_client_warns_of_a_likely_duplicate_with_reasons(
    api: Api, world: World
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    first = await _create(provider, ROBERT)
    assert _warnings(first) == []
    robert_id = first["data"]["createClient"]["user"]["id"]

    second = await _create(provider, BOB)

    payload = second["data"]["createClient"]
    assert payload["messages"] is None and payload["user"]["id"]  # created all the same
    [warning] = _warnings(second)
    assert warning["code"] == "POSSIBLE_DUPLICATE"
    assert warning["path"] == ["createClient"]
    assert warning["message"] == (
        f"Likely the same person as patient {robert_id}: same date of birth, same phone "
        "number, phonetic last name and first name a nickname of the other"
    )


async def test_staff_list_pairs_with_score_and_reasons_and_dismiss_them_for_good(
    api: Api, world: World, database: Database
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    robert = (await _create(provider, ROBERT))["data"]["createClient"]["user"]["id"]
    bob = (await _create(provider, BOB))["data"]["createClient"]["user"]["id"]

    data = await provider.data(CANDIDATES)
    assert data["duplicateCandidatesCount"] == 1
    [pair] = data["duplicateCandidates"]
    assert (pair["user"]["id"], pair["other_user"]["id"]) == (robert, bob)
    assert pair["user"]["first_name"] == "Robert" and pair["other_user"]["first_name"] == "Bob"
    assert 0.9 <= pair["score"] <= 1.0
    assert pair["reasons"] == [
        "same date of birth",
        "same phone number",
        "phonetic last name",
        "first name a nickname of the other",
    ]
    assert pair["dismissed_at"] is None

    # Another organization's staff neither see nor dismiss it.
    other = api.with_key(world.b.provider.api_key)
    assert (await other.data(CANDIDATES))["duplicateCandidates"] == []
    refused = (await other.data(DISMISS, {"id": pair["id"]}))["dismissDuplicateCandidate"]
    assert refused["messages"] == [{"field": "id", "message": "Duplicate candidate not found"}]

    dismissed = (await provider.data(DISMISS, {"id": pair["id"]}))["dismissDuplicateCandidate"]
    assert dismissed["messages"] is None and dismissed["duplicate_candidate"]["dismissed_at"]
    assert (await provider.data(CANDIDATES))["duplicateCandidates"] == []

    # For good: a full scan finds the pair again but does not list it.
    async with database.write_sessions() as session, session.begin():
        assert await service.scan_organization(session, world.a.provider.organization_id) == 0
    assert (await provider.data(CANDIDATES))["duplicateCandidatesCount"] == 0


async def test_pages_and_bad_arguments(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    await _create(provider, ROBERT)
    await _create(provider, BOB)
    await _create(provider, ROBERT | {"email": "r2@example.com", "last_name": "Smiht"})
    data = await provider.data(CANDIDATES, {"page_size": 2})
    assert data["duplicateCandidatesCount"] == 3
    first_page = data["duplicateCandidates"]
    scores = [p["score"] for p in first_page]
    assert len(first_page) == 2 and scores == sorted(scores, reverse=True)
    rest = (await provider.data(CANDIDATES, {"offset": 2, "page_size": 2}))["duplicateCandidates"]
    assert len(rest) == 1 and rest[0]["id"] not in {p["id"] for p in first_page}
    assert await provider.error_codes(CANDIDATES, {"page_size": 0}) == ["BAD_USER_INPUT"]
    assert await provider.error_codes(CANDIDATES, {"offset": -1}) == ["BAD_USER_INPUT"]
    bad = (await provider.data(DISMISS, {"id": "x"}))["dismissDuplicateCandidate"]
    assert bad["duplicate_candidate"] is None and bad["messages"][0]["field"] == "id"


async def test_patients_and_anonymous_callers_cannot_list(api: Api, world: World) -> None:
    assert await api.with_token(world.a.patient_token).error_codes(CANDIDATES)
    assert await api.error_codes(CANDIDATES)


async def test_anonymous_sign_up_is_recorded_for_staff_but_not_told(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    await _create(provider, ROBERT)
    body = await api.post(
        SIGN_UP,
        {
            "first_name": "Bob",
            "last_name": "Smith",
            "email": "bobby@example.com",
            "phone_number": "555-444-2244",
            "password": "a long enough passphrase 1",
            "role": "patient",
            "dietitian_id": str(world.a.provider.user_id),
        },
    )
    assert body["data"]["signUp"]["messages"] is None
    assert _warnings(body) == []  # anyone may sign up: telling them would disclose a patient
    [pair] = (await provider.data(CANDIDATES))["duplicateCandidates"]
    assert pair["reasons"] == [
        "same phone number",
        "same last name",
        "first name a nickname of the other",
    ]


async def test_the_setting_refuses_strong_matches_only(
    blocking: Api, world: World, database: Database
) -> None:
    provider = blocking.with_key(world.a.provider.api_key)
    robert = (await _create(provider, ROBERT))["data"]["createClient"]["user"]["id"]
    async with database.read_sessions() as session:
        before = await session.scalar(select(func.count()).select_from(User))

    same = await _create(provider, ROBERT | {"email": "other@example.com"})

    payload = same["data"]["createClient"]
    assert payload["user"] is None
    assert payload["messages"] == [
        {
            "field": None,
            "message": f"Likely the same person as patient {robert}: same date of birth, same "
            "phone number, same last name and same first name",
        }
    ]
    async with database.read_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == before
    # A weaker match (a new phone, a day/month swap) is created, with its warning.
    weaker = await _create(provider, BOB | {"phone_number": "555-444-9999", "dob": "1980-04-03"})
    assert weaker["data"]["createClient"]["user"]["id"]
    assert [w["code"] for w in _warnings(weaker)] == ["POSSIBLE_DUPLICATE"]


async def test_an_archived_patient_leaves_the_list(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    await _create(provider, ROBERT)
    bob = (await _create(provider, BOB))["data"]["createClient"]["user"]["id"]
    assert (await provider.data(CANDIDATES))["duplicateCandidatesCount"] == 1
    archived = await provider.data(
        "mutation($id: ID) { updateClient(input: {id: $id, active: false}) {"
        " messages { field message } } }",
        {"id": bob},
    )
    assert archived["updateClient"]["messages"] is None
    data = await provider.data(CANDIDATES)
    assert data["duplicateCandidatesCount"] == 0 and data["duplicateCandidates"] == []


async def test_a_warning_is_an_audited_read_of_the_other_patient(
    api: Api, world: World, database: Database
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    robert = int((await _create(provider, ROBERT))["data"]["createClient"]["user"]["id"])
    await _create(provider, BOB)
    events = await stored(database, operation="createClient", record_id=robert)
    assert ("read", True) in {(event.action, event.allowed) for event in events}
