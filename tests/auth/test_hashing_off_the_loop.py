"""argon2 runs on a worker thread and outside any write transaction (issue 28's item): signIn,
signUp and the set-password page.

argon2's own computation is held on its thread until the test lets it go: meanwhile other
requests, a write among them, must complete. Were the hash on the event loop, nothing else
could run until the hold ran out; were it inside the sign-in's write transaction, the other
write would wait for SQLite's write lock. Either way the hold runs out instead of being released
by the test, which the test sees (no timing is asserted: only who finished first).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from tests.support.api import Api
from tests.support.auth_helpers import CURRENT_USER, group_invite_code, set_password
from tests.support.emails import NEW_PASSWORD, SIGN_IN, create_client, token_of
from tests.support.seed_documents import SIGN_UP
from tests.support.world import PATIENT_PASSWORD, World

from carebook.auth.passwords import Passwords
from carebook.config import Settings
from carebook.db.engine import Database

# How long a held computation waits for the test before going on by itself: long enough that
# running out means the test could not get its other requests through.
HOLD_SECONDS = 20
POLLS = 2000  # 10 ms each: how long the test waits for the held computation to start
RENAME = """mutation($id: ID, $name: String) {
  updateClient(input: {id: $id, first_name: $name}) { user { first_name } messages { message } }
}"""


class HeldArgon2:
    """argon2's ``hash`` or ``verify`` (the library's, not Carebook's), held on its thread."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        self.released_by_test: list[bool] = []
        original: Callable[..., Any] = getattr(PasswordHasher, name)

        def held(hasher: PasswordHasher, *args: Any) -> Any:
            self.started.set()
            self.released_by_test.append(self.release.wait(HOLD_SECONDS))
            return original(hasher, *args)

        monkeypatch.setattr(PasswordHasher, name, held)

    async def wait_started(self) -> None:
        for _ in range(POLLS):
            if self.started.is_set():
                return
            await asyncio.sleep(0.01)
        raise AssertionError("argon2 was never called")


async def _others_get_through(
    api: Api, world: World, held: HeldArgon2, task: asyncio.Task[Any]
) -> None:
    """While argon2 is held: a read and a write of other users complete; then release it."""
    await held.wait_started()
    patient = api.with_token(world.b.patient_token)
    assert (await patient.data(CURRENT_USER))["currentUser"]["id"] == str(world.b.patient_id)
    staff = api.with_key(world.b.provider.api_key)
    renamed = await staff.data(RENAME, {"id": str(world.b.patient_id), "name": "Renamed"})
    assert renamed["updateClient"]["user"]["first_name"] == "Renamed"
    assert not task.done()
    held.release.set()


async def test_other_requests_complete_while_a_sign_in_checks_its_password(
    api: Api, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = HeldArgon2(monkeypatch, "verify")
    variables = {"e": "patient.a@example.com", "p": PATIENT_PASSWORD}
    sign_in = asyncio.create_task(api.data(SIGN_IN, variables))
    await _others_get_through(api, world, held, sign_in)
    signed_in = (await sign_in)["signIn"]
    assert signed_in["messages"] is None and signed_in["token"]
    assert held.released_by_test == [True]


async def test_other_requests_complete_while_a_sign_up_hashes_its_password(
    api: Api, world: World, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = await group_invite_code(database, world.a.group_id)
    held = HeldArgon2(monkeypatch, "hash")
    variables = {
        "first_name": "Mei",
        "last_name": "Chen",
        "email": "mei.chen@example.com",
        "password": PATIENT_PASSWORD,
        "role": "patient",
        "invite_code": code,
    }
    sign_up = asyncio.create_task(api.data(SIGN_UP, variables))
    await _others_get_through(api, world, held, sign_up)
    signed_up = (await sign_up)["signUp"]
    assert signed_up["messages"] is None and signed_up["user"]["id"]
    assert held.released_by_test == [True]


async def test_other_requests_complete_while_the_set_password_page_hashes(
    api: Api, world: World, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    staff = api.with_key(world.a.provider.api_key)
    invited = await create_client(staff, first_name="Ada", last_name="L", email="ada@example.com")
    token = token_of(invited["user"]["set_password_link"])
    held = HeldArgon2(monkeypatch, "hash")
    form = {"token": token, "password": NEW_PASSWORD, "password_confirmation": NEW_PASSWORD}
    page = asyncio.create_task(client.post("/set_password", data=form))
    await _others_get_through(api, world, held, page)
    assert (await page).status_code == 200
    assert held.released_by_test == [True]
    signed_in = await api.data(SIGN_IN, {"e": "ada@example.com", "p": NEW_PASSWORD})
    assert signed_in["signIn"]["token"]


async def test_concurrent_sign_ins_at_the_production_cost_all_succeed(
    api: Api, world: World, database: Database, settings: Settings
) -> None:
    # The stored hash sets verification's cost: give the patient one at the default cost.
    defaults = Settings.model_fields
    production = settings.model_copy(
        update={
            "argon2_time_cost": defaults["argon2_time_cost"].default,
            "argon2_memory_cost_kib": defaults["argon2_memory_cost_kib"].default,
        }
    )
    await set_password(database, Passwords(production), world.a.patient_id, PATIENT_PASSWORD)
    variables = {"e": "patient.a@example.com", "p": PATIENT_PASSWORD}
    answers = await asyncio.gather(*(api.data(SIGN_IN, variables) for _ in range(24)))
    tokens = {a["signIn"]["token"] for a in answers}
    assert None not in tokens and len(tokens) == 24
