"""updateUserEmail: Healthie's input (current_email, new_email, user_id) and payload
(success_string, messages); the address follows the email rules of every write path."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from tests.support.api import Api
from tests.support.emails import UPDATE_CLIENT, create_client
from tests.support.world import PATIENT_PASSWORD, World

from carebook.accounts.email_change import OWN_EMAIL
from carebook.auth.models import PasswordResetToken, SignupToken
from carebook.config import Settings
from carebook.db.engine import Database
from carebook.users import password_reset

UPDATE_EMAIL = """mutation updateUserEmail($input: UpdateUserEmailInput) {
  updateUserEmail(input: $input) { success_string messages { field message } } }"""
SIGN_IN = """mutation($e: String, $p: String) {
  signIn(input: {email: $e, password: $p}) { token messages { field message } } }"""
RESET = """mutation($e: String) { resetPassword(input: {email: $e}) { messages { message } } }"""
VALIDATE = "query($t: String) { validateResetPasswordToken(token: $t) }"
EMAIL_OF = "query($id: ID) { user(id: $id) { id email } }"
A_EMAIL = "patient.a@example.com"


async def _change(api: Api, user_id: Any, current: str, new: str) -> dict[str, Any]:
    variables = {"input": {"user_id": str(user_id), "current_email": current, "new_email": new}}
    payload: dict[str, Any] = (await api.data(UPDATE_EMAIL, variables))["updateUserEmail"]
    return payload


async def _email_of(api: Api, user_id: int) -> str | None:
    user = (await api.data(EMAIL_OF, {"id": str(user_id)}))["user"]
    return None if user is None else user["email"]


async def test_staff_change_a_patients_email_and_the_patient_signs_in_with_it(
    api: Api, world: World
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    payload = await _change(provider, world.a.patient_id, "Patient.A@example.com", "new.a@x.org")
    assert payload["success_string"] == "Email updated"
    assert not payload["messages"]
    assert await _email_of(provider, world.a.patient_id) == "new.a@x.org"
    assert (await api.data(SIGN_IN, {"e": "new.a@x.org", "p": PATIENT_PASSWORD}))["signIn"]["token"]
    assert (await api.data(SIGN_IN, {"e": A_EMAIL, "p": PATIENT_PASSWORD}))["signIn"][
        "token"
    ] is None


async def test_a_patient_changes_no_email_here_not_even_their_own(api: Api, world: World) -> None:
    patient = api.with_token(world.a.patient_token)
    # This input has no password: one's own address changes with updateUser and the current
    # password, so a stolen session cannot move it (and then reset the password).
    own = await _change(patient, world.a.patient_id, A_EMAIL, "mine@x.org")
    assert own == {
        "success_string": None,
        "messages": [{"field": "user_id", "message": OWN_EMAIL}],
    }
    other = await _change(patient, world.a.other_patient_id, "other.a@example.com", "x@x.org")
    assert other == {
        "success_string": None,
        "messages": [{"field": "user_id", "message": "User not found"}],
    }
    provider = api.with_key(world.a.provider.api_key)
    assert await _email_of(provider, world.a.other_patient_id) == "other.a@example.com"


async def test_refusals_are_messages_and_change_nothing(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    cases: list[tuple[Any, str, str, dict[str, str]]] = [
        (
            world.a.patient_id,
            "wrong@example.com",
            "n@x.org",
            {"field": "current_email", "message": "Current email does not match the user's email"},
        ),
        (
            world.a.patient_id,
            A_EMAIL,
            "other.a@example.com",  # another patient of the practice has it
            {"field": "new_email", "message": "Email has already been taken"},
        ),
        (
            world.a.patient_id,
            A_EMAIL,
            "not an email",
            {"field": "new_email", "message": "'not an email' is not a valid email address"},
        ),
        (
            world.a.patient_id,
            A_EMAIL,
            " ",
            {"field": "new_email", "message": "New email can't be blank"},
        ),
        (
            world.b.patient_id,  # another practice's patient answers as missing
            "patient.b@example.com",
            "n@x.org",
            {"field": "user_id", "message": "User not found"},
        ),
        (
            world.a.staff.user_id,  # a colleague is not changed through this mutation
            "staff.a@example.com",
            "n@x.org",
            {"field": "user_id", "message": "User not found"},
        ),
        ("abc", A_EMAIL, "n@x.org", {"field": "user_id", "message": "'abc' is not a valid id"}),
    ]
    for user_id, current, new, message in cases:
        payload = await _change(provider, user_id, current, new)
        assert payload == {"success_string": None, "messages": [message]}, (user_id, new)
    assert await _email_of(provider, world.a.patient_id) == A_EMAIL
    other_org = api.with_key(world.b.provider.api_key)
    assert await _email_of(other_org, world.b.patient_id) == "patient.b@example.com"


async def test_the_same_address_may_be_a_patient_in_another_practice(
    api: Api, world: World
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    payload = await _change(provider, world.a.patient_id, A_EMAIL, "patient.b@example.com")
    assert payload["success_string"] == "Email updated"
    # Provider and staff addresses are unique everywhere: a provider's own change is checked so.
    own = await _change(provider, world.a.provider.user_id, "provider.a@example.com",
                        "staff.b@example.com")  # fmt: skip
    assert own["messages"] == [{"field": "new_email", "message": "Email has already been taken"}]


async def test_links_sent_to_an_old_address_stop_working(
    api: Api, world: World, database: Database, settings: Settings
) -> None:
    assert not (await api.data(RESET, {"e": A_EMAIL}))["resetPassword"]["messages"]
    provider = api.with_key(world.a.provider.api_key)
    invited = await create_client(
        provider, first_name="Ina", last_name="Vited", email="ina@example.com"
    )
    assert invited["user"]["set_password_link"]
    async with database.read_sessions() as session:
        [reset_row] = (await session.execute(select(PasswordResetToken))).scalars()
    token = password_reset.token_of(settings.secret_key, reset_row.nonce)
    assert (await api.data(VALIDATE, {"t": token}))["validateResetPasswordToken"] is True

    await _change(provider, world.a.patient_id, A_EMAIL, "moved@x.org")
    # Every write path that changes an address does the same: here updateClient.
    fixed = await provider.data(
        UPDATE_CLIENT, {"input": {"id": invited["user"]["id"], "email": "ina.fixed@x.org"}}
    )
    assert not fixed["updateClient"]["messages"]

    assert (await api.data(VALIDATE, {"t": token}))["validateResetPasswordToken"] is False
    async with database.read_sessions() as session:
        unused = select(SignupToken).where(SignupToken.used_at.is_(None))
        assert (await session.execute(unused)).first() is None
    anonymous = await api.post(UPDATE_EMAIL, {"input": {"user_id": "1", "current_email": "a@b.c",
                                                        "new_email": "d@e.f"}})  # fmt: skip
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
