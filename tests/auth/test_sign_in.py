"""signIn, signOut, revokeToken, and how credentials are checked on every request."""

from __future__ import annotations

from typing import Any

from tests.support.api import Api
from tests.support.auth_helpers import (
    CURRENT_USER,
    all_rows,
    count_rows,
    expire_session_token,
    set_password,
    with_headers,
)
from tests.support.seed_documents import BULK_UPDATE_CLIENTS
from tests.support.world import PATIENT_PASSWORD, World

from carebook.auth.models import ApiKey, SessionToken
from carebook.auth.passwords import _DUMMY_PASSWORD, Passwords
from carebook.auth.tokens import digest
from carebook.db.engine import Database

SIGN_IN = """mutation signIn($email: String, $password: String, $generate_api_token: Boolean) {
  signIn(input: {email: $email, password: $password, generate_api_token: $generate_api_token}) {
    user { id } token api_key messages { field message } } }"""
SIGN_OUT = "mutation { signOut(input: {}) { messages { field message } } }"
REVOKE_TOKEN = "mutation { revokeToken(input: {}) { messages { field message } } }"
PROVIDER_PASSWORD = "Tr0mbone & quiet library"


async def sign_in(api: Api, email: str, password: str, **extra: Any) -> dict[str, Any]:
    """signIn's payload."""
    variables = {"email": email, "password": password, **extra}
    payload: dict[str, Any] = (await api.data(SIGN_IN, variables))["signIn"]
    return payload


async def patient_session(api: Api) -> dict[str, Any]:
    """A fresh signIn of organization A's patient, which must succeed."""
    payload = await sign_in(api, "patient.a@example.com", PATIENT_PASSWORD)
    assert payload["messages"] is None, payload
    return payload


async def provider_session(
    api: Api, world: World, database: Database, passwords: Passwords, **extra: Any
) -> dict[str, Any]:
    """A signIn of organization A's provider (given a password first), which must succeed."""
    await set_password(database, passwords, world.a.provider.user_id, PROVIDER_PASSWORD)
    payload = await sign_in(api, "provider.a@example.com", PROVIDER_PASSWORD, **extra)
    assert payload["messages"] is None, payload
    return payload


async def rejected(api: Api) -> bool:
    """True when a call with these credentials answers UNAUTHENTICATED."""
    return await api.error_codes(CURRENT_USER) == ["UNAUTHENTICATED"]


async def test_sign_in_returns_a_token_and_the_user(api: Api, world: World) -> None:
    payload = await patient_session(api)
    assert payload["user"] == {"id": str(world.a.patient_id)}
    assert payload["token"]
    assert payload["api_key"] is None


async def test_the_token_works_as_bearer_token(api: Api, world: World) -> None:
    token = (await patient_session(api))["token"]
    data = await api.with_token(token).data(CURRENT_USER)
    assert data["currentUser"] == {"id": str(world.a.patient_id)}


async def test_email_is_matched_case_insensitively(api: Api, world: World) -> None:
    payload = await sign_in(api, " Patient.A@EXAMPLE.com ", PATIENT_PASSWORD)
    assert payload["user"] == {"id": str(world.a.patient_id)}


async def test_wrong_password_and_unknown_email_answer_alike(
    api: Api, world: World, database: Database
) -> None:
    tokens = await count_rows(database, SessionToken)
    wrong_password = await api.post(SIGN_IN, {"email": "patient.a@example.com", "password": "x"})
    unknown_email = await api.post(
        SIGN_IN, {"email": "nobody@example.com", "password": PATIENT_PASSWORD}
    )
    assert wrong_password == unknown_email
    payload = wrong_password["data"]["signIn"]
    assert payload["user"] is None
    assert payload["token"] is None
    assert len(payload["messages"]) == 1
    assert payload["messages"][0]["message"]
    assert await count_rows(database, SessionToken) == tokens


async def test_missing_email_or_password_is_refused(api: Api, world: World) -> None:
    for variables in [{}, {"email": "patient.a@example.com"}, {"password": PATIENT_PASSWORD}]:
        payload = (await api.data(SIGN_IN, variables))["signIn"]
        assert payload["token"] is None, variables
        assert payload["messages"], variables


async def test_patient_without_a_password_cannot_sign_in(api: Api, world: World) -> None:
    # The "other" patient was created by their provider and never set a password; the stand-in
    # hash verified for accounts without one must not let its own password in.
    for password in ["", _DUMMY_PASSWORD]:
        payload = await sign_in(api, "other.a@example.com", password)
        assert payload["token"] is None
        assert payload["messages"]


async def test_sign_out_revokes_only_that_token(api: Api, world: World) -> None:
    token = (await patient_session(api))["token"]
    data = await api.with_token(token).data(SIGN_OUT)
    assert data["signOut"]["messages"] is None
    assert await rejected(api.with_token(token))
    # Another session of the same patient is untouched.
    assert not await rejected(api.with_token(world.a.patient_token))


async def test_sign_out_with_an_api_key_is_refused_and_keeps_the_key(
    api: Api, world: World
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    data = await provider.data(SIGN_OUT)
    assert data["signOut"]["messages"]
    assert not await rejected(provider)


async def test_revoke_token_with_an_api_key_revokes_that_key(
    api: Api, world: World, database: Database, passwords: Passwords
) -> None:
    session = await provider_session(api, world, database, passwords)
    provider = api.with_key(world.a.provider.api_key)
    data = await provider.data(REVOKE_TOKEN)
    assert data["revokeToken"]["messages"] is None
    assert await rejected(provider)
    # The provider's other credential still works.
    assert not await rejected(api.with_token(session["token"]))


async def test_revoke_token_with_a_session_token_revokes_it(api: Api, world: World) -> None:
    patient = api.with_token(world.a.patient_token)
    assert (await patient.data(REVOKE_TOKEN))["revokeToken"]["messages"] is None
    assert await rejected(patient)


async def test_expired_token_is_rejected(api: Api, world: World, database: Database) -> None:
    token = (await patient_session(api))["token"]
    await expire_session_token(database, token)
    assert await rejected(api.with_token(token))


async def test_archived_users_token_stops_working_and_they_cannot_sign_in(
    api: Api, world: World
) -> None:
    token = (await patient_session(api))["token"]
    data = await api.with_key(world.a.provider.api_key).data(
        BULK_UPDATE_CLIENTS, {"ids": [str(world.a.patient_id)], "active_status": False}
    )
    assert data["bulkUpdateClients"]["messages"] is None
    assert await rejected(api.with_token(token))
    assert await rejected(api.with_token(world.a.patient_token))
    payload = await sign_in(api, "patient.a@example.com", PATIENT_PASSWORD)
    assert payload["token"] is None
    assert payload["messages"]


async def test_generate_api_token_gives_a_provider_a_working_api_key(
    api: Api, world: World, database: Database, passwords: Passwords
) -> None:
    payload = await provider_session(api, world, database, passwords, generate_api_token=True)
    assert payload["api_key"]
    assert payload["api_key"] != payload["token"]
    data = await api.with_key(payload["api_key"]).data(CURRENT_USER)
    assert data["currentUser"] == {"id": str(world.a.provider.user_id)}
    # Earlier keys keep working.
    assert not await rejected(api.with_key(world.a.provider.api_key))


async def test_patients_get_no_api_key(api: Api, world: World, database: Database) -> None:
    keys = await count_rows(database, ApiKey)
    payload = await sign_in(api, "patient.a@example.com", PATIENT_PASSWORD, generate_api_token=True)
    assert payload["token"]
    assert payload["api_key"] is None
    assert await count_rows(database, ApiKey) == keys


async def test_basic_header_without_authorization_source_is_rejected(
    api: Api, world: World
) -> None:
    key = world.a.provider.api_key
    assert await rejected(with_headers(api, {"Authorization": f"Basic {key}"}))
    headers = {"Authorization": f"Basic {key}", "AuthorizationSource": "Web"}
    assert await rejected(with_headers(api, headers))


async def test_api_key_is_not_a_bearer_token_and_a_token_is_not_an_api_key(
    api: Api, world: World
) -> None:
    assert await rejected(api.with_token(world.a.provider.api_key))
    assert await rejected(api.with_key(world.a.patient_token))


async def test_garbage_authorization_headers_are_rejected(api: Api, world: World) -> None:
    for header in ["garbage", "Bearer", "Bearer ", "Basic", "Token abc", "Bearer not-a-token"]:
        assert await rejected(with_headers(api, {"Authorization": header})), header


async def test_rejected_credentials_do_not_fall_back_to_anonymous(api: Api, world: World) -> None:
    # signIn is open to anonymous callers, but a bad credential is still an error, not anonymous.
    bad = with_headers(api, {"Authorization": "Bearer not-a-token"})
    codes = await bad.error_codes(SIGN_IN, {"email": "x@example.com", "password": "y"})
    assert codes == ["UNAUTHENTICATED"]


async def test_secrets_are_stored_only_as_digests(
    api: Api, world: World, database: Database, passwords: Passwords
) -> None:
    payload = await provider_session(api, world, database, passwords, generate_api_token=True)
    secrets = {
        (SessionToken, "token_digest"): [payload["token"], world.a.patient_token],
        (ApiKey, "key_digest"): [payload["api_key"], world.a.provider.api_key],
    }
    for (model, column), raw_values in secrets.items():
        rows = await all_rows(database, model)
        stored = repr(rows)
        digests = {row[column] for row in rows}
        for raw in raw_values:
            assert raw not in stored
            assert digest(raw) in digests
