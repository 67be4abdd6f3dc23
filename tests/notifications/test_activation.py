"""Activation: set_password_link, signIn with reset_token, validateSignupToken, the web page."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import update
from tests.support.api import Api
from tests.support.emails import (
    NEW_PASSWORD,
    SIGN_IN,
    SIGN_IN_WITH_TOKEN,
    USER_LINK,
    VALIDATE,
    create_client,
    token_of,
)
from tests.support.world import World

from carebook.app import create_app
from carebook.auth.models import SignupToken
from carebook.config import Settings
from carebook.db.base import utcnow
from carebook.db.engine import Database

EMAIL = "grace.hopper@example.com"


async def _invite(api: Api, world: World, **fields: object) -> tuple[str, str]:
    payload = await create_client(
        api.with_key(world.a.provider.api_key),
        first_name="Grace",
        last_name="Hopper",
        email=EMAIL,
        **fields,
    )
    assert payload["messages"] is None, payload
    link = payload["user"]["set_password_link"]
    assert link.startswith("http://127.0.0.1:8000/set_password?token=")
    return str(payload["user"]["id"]), link


async def test_the_link_activates_the_account_and_the_patient_signs_in(
    api: Api, world: World
) -> None:
    user_id, link = await _invite(api, world)
    token = token_of(link)
    assert (await api.data(VALIDATE, {"t": token}))["validateSignupToken"] is True

    payload = (await api.data(SIGN_IN_WITH_TOKEN, {"t": token, "p": NEW_PASSWORD}))["signIn"]

    assert payload["messages"] is None
    assert payload["user"]["id"] == user_id
    me = await api.with_token(payload["token"]).data("query { currentUser { id } }")
    assert me["currentUser"]["id"] == user_id
    signed_in = (await api.data(SIGN_IN, {"e": EMAIL, "p": NEW_PASSWORD}))["signIn"]
    assert signed_in["messages"] is None and signed_in["token"]
    assert (await api.data(VALIDATE, {"t": token}))["validateSignupToken"] is False
    user = (await api.with_key(world.a.provider.api_key).data(USER_LINK, {"id": user_id}))["user"]
    assert user == {"id": user_id, "set_password_link": None, "has_created_password": True}


async def test_a_used_token_is_a_clear_message(api: Api, world: World) -> None:
    _, link = await _invite(api, world)
    await api.data(SIGN_IN_WITH_TOKEN, {"t": token_of(link), "p": NEW_PASSWORD})
    again = await api.data(SIGN_IN_WITH_TOKEN, {"t": token_of(link), "p": "another-Pass-77x"})
    assert again["signIn"]["token"] is None
    assert again["signIn"]["messages"] == [
        {
            "field": "reset_token",
            "message": "This link has already been used. Sign in with your password.",
        }
    ]


async def test_an_expired_token_is_a_clear_message(
    api: Api, world: World, database: Database
) -> None:
    _, link = await _invite(api, world)
    async with database.write_sessions() as session, session.begin():
        await session.execute(update(SignupToken).values(expires_at=utcnow() - timedelta(1)))
    payload = await api.data(SIGN_IN_WITH_TOKEN, {"t": token_of(link), "p": NEW_PASSWORD})
    [message] = payload["signIn"]["messages"]
    assert message["message"].startswith("This link has expired")
    assert (await api.data(VALIDATE, {"t": token_of(link)}))["validateSignupToken"] is False


async def test_an_unknown_token_is_a_clear_message(api: Api) -> None:
    payload = await api.data(SIGN_IN_WITH_TOKEN, {"t": "not-a-token", "p": NEW_PASSWORD})
    [message] = payload["signIn"]["messages"]
    assert message["message"].startswith("This link is not valid")
    assert (await api.data(VALIDATE, {"t": "nope"}))["validateSignupToken"] is False


async def test_a_weak_password_is_refused_and_the_token_still_works(api: Api, world: World) -> None:
    _, link = await _invite(api, world)
    weak = await api.data(SIGN_IN_WITH_TOKEN, {"t": token_of(link), "p": "password"})
    assert [m["field"] for m in weak["signIn"]["messages"]] == ["password"]
    ok = await api.data(SIGN_IN_WITH_TOKEN, {"t": token_of(link), "p": NEW_PASSWORD})
    assert ok["signIn"]["messages"] is None


async def test_set_password_link_is_for_the_organizations_staff_only(
    api: Api, world: World
) -> None:
    user_id, link = await _invite(api, world)
    staff = (await api.with_key(world.a.staff.api_key).data(USER_LINK, {"id": user_id}))["user"]
    assert staff["set_password_link"] == link  # stable: the same pending invitation
    other_org = await api.with_key(world.b.provider.api_key).data(USER_LINK, {"id": user_id})
    assert other_org["user"] is None
    own = await api.with_token(world.a.patient_token).data(
        USER_LINK, {"id": str(world.a.patient_id)}
    )
    assert own["user"]["set_password_link"] is None


async def test_dont_send_welcome_still_gives_staff_a_link_to_send_themselves(
    api: Api, world: World
) -> None:
    _, link = await _invite(api, world, dont_send_welcome=True)
    ok = await api.data(SIGN_IN_WITH_TOKEN, {"t": token_of(link), "p": NEW_PASSWORD})
    assert ok["signIn"]["messages"] is None


async def test_the_web_page_sets_the_password(
    api: Api, world: World, client: httpx.AsyncClient, settings: Settings
) -> None:
    _, link = await _invite(api, world)
    path = link.removeprefix(settings.public_base_url)

    page = await client.get(path)
    assert page.status_code == 200
    assert 'name="password"' in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-store"

    token = token_of(link)
    weak = await client.post(
        "/set_password",
        data={"token": token, "password": "short", "password_confirmation": "short"},
    )
    assert weak.status_code == 400 and "at least 8 characters" in weak.text.lower()
    mismatch = await client.post(
        "/set_password",
        data={"token": token, "password": NEW_PASSWORD, "password_confirmation": "different"},
    )
    assert mismatch.status_code == 400 and "doesn&#x27;t match" in mismatch.text
    done = await client.post(
        "/set_password",
        data={"token": token, "password": NEW_PASSWORD, "password_confirmation": NEW_PASSWORD},
    )
    assert done.status_code == 200 and "Your password is set" in done.text
    assert (await api.data(SIGN_IN, {"e": EMAIL, "p": NEW_PASSWORD}))["signIn"]["token"]
    used = await client.get(path)
    assert used.status_code == 400 and "already been used" in used.text


async def test_the_web_page_answers_an_unknown_token_clearly(client: httpx.AsyncClient) -> None:
    page = await client.get("/set_password?token=%3Cscript%3E")
    assert page.status_code == 400
    assert "This link is not valid" in page.text
    assert "<script>" not in page.text


async def test_a_new_secret_key_keeps_emailed_links_working_and_reissues_on_resend(
    api: Api, world: World, database: Database, settings: Settings
) -> None:
    user_id, old_link = await _invite(api, world)
    rotated = create_app(settings.model_copy(update={"secret_key": "rotated-secret"}), database)
    transport = httpx.ASGITransport(app=rotated)
    async with httpx.AsyncClient(transport=transport, base_url="http://carebook.test") as http:
        new_api = Api(http).with_key(world.a.provider.api_key)
        shown = (await new_api.data(USER_LINK, {"id": user_id}))["user"]
        assert shown["set_password_link"] is None  # this server cannot rebuild the old link
        await new_api.data(
            "mutation($id: ID) { updateClient(input: {id: $id, resend_welcome: true}) "
            "{ messages { message } } }",
            {"id": user_id},
        )
        new_link = (await new_api.data(USER_LINK, {"id": user_id}))["user"]["set_password_link"]
        assert new_link and new_link != old_link
        assert (await Api(http).data(VALIDATE, {"t": token_of(old_link)}))["validateSignupToken"]
        assert (await Api(http).data(VALIDATE, {"t": token_of(new_link)}))["validateSignupToken"]
