"""signIn's answer says nothing about whether an email exists: same body, same status, and the
same work (one password verification) for an unknown email as for a wrong password."""

from __future__ import annotations

from typing import Any

import pytest
from tests.ratelimit.conftest import Clock, MakeClient
from tests.support.world import World

from carebook.auth.passwords import Passwords

SIGN_IN = """mutation($email: String, $password: String) {
  signIn(input: {email: $email, password: $password}) { user { id } token messages { field message } } }"""  # noqa: E501


async def test_unknown_email_and_wrong_password_are_indistinguishable(
    client_with: MakeClient, world: World, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    verified: list[str | None] = []
    original = Passwords.verify

    def counting(self: Passwords, password_hash: str | None, password: str) -> bool:
        verified.append(password_hash)
        return original(self, password_hash, password)

    monkeypatch.setattr(Passwords, "verify", counting)
    client = await client_with(sign_in_account_limit=10, sign_in_address_limit=10)

    async def attempt(email: str) -> tuple[int, dict[str, Any], int]:
        verified.clear()
        variables = {"email": email, "password": "not the password"}
        response = await client.post("/graphql", json={"query": SIGN_IN, "variables": variables})
        return response.status_code, response.json(), len(verified)

    wrong_password = await attempt("patient.a@example.com")
    unknown_email = await attempt("nobody.at.all@example.com")
    assert wrong_password == unknown_email
    assert wrong_password[2] == 1  # one argon2 verification either way
    assert wrong_password[1]["data"]["signIn"]["token"] is None
