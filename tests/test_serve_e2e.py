"""The seed's example documents, sent unchanged over real HTTP to ``carebook serve``.

Also exercises the command line a new user follows: ``carebook provider create --json`` for a key.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from carebook.db.engine import Database
from tests.support import seed_documents as seed
from tests.support.serving import wait_until_healthy

SIGN_IN = """mutation($e: String, $p: String) {
  signIn(input: {email: $e, password: $p}) { token messages { message } } }"""


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "carebook.cli.main", *args]


def _env(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "CAREBOOK_DATABASE_URL": database_url,
        "CAREBOOK_ARGON2_TIME_COST": "1",
        "CAREBOOK_ARGON2_MEMORY_COST_KIB": "1024",
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(database_url: str, database: Database) -> Iterator[str]:
    """A real ``carebook serve`` process on a free port; its URL."""
    port = _free_port()
    process = subprocess.Popen(
        _cli("serve", "--port", str(port)),
        env=_env(database_url),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def _provider(database_url: str) -> dict[str, Any]:
    out = subprocess.run(
        _cli(
            "provider",
            "create",
            "--email",
            "e2e@example.com",
            "--first-name",
            "Eve",
            "--last-name",
            "Ends",
            "--json",
        ),
        env=_env(database_url),
        capture_output=True,
        text=True,
        check=True,
    )
    created: dict[str, Any] = json.loads(out.stdout)
    assert set(created) == {"id", "organization_id", "api_key"}
    return created


def _call(url: str, headers: dict[str, str], query: str, variables: dict[str, Any]) -> Any:
    response = httpx.post(
        f"{url}/graphql", json={"query": query, "variables": variables}, headers=headers, timeout=10
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert not body.get("errors"), body
    return body["data"]


def test_seed_documents_work_against_carebook_serve(database_url: str, server: str) -> None:
    provider = _provider(database_url)
    key = {"Authorization": f"Basic {provider['api_key']}", "AuthorizationSource": "API"}

    created = _call(
        server,
        key,
        seed.CREATE_CLIENT,
        {
            "first_name": "Jonas",
            "last_name": "Salk",
            "email": "jonas.salk@example.com",
            "phone_number": "555-444-2244",
            "dietitian_id": provider["id"],
            "dont_send_welcome": True,
        },
    )["createClient"]
    assert created["messages"] is None
    patient_id = created["user"]["id"]

    user = _call(server, key, seed.GET_USER, {"id": patient_id})["user"]
    assert user == {
        "id": patient_id,
        "first_name": "Jonas",
        "last_name": "Salk",
        "dob": None,
        "gender": None,
        "email": "jonas.salk@example.com",
        "phone_number": "+15554442244",
        "next_appt_date": None,
    }

    updated = _call(
        server,
        key,
        seed.UPDATE_CLIENT,
        {
            "id": patient_id,
            "first_name": "Jonas E.",
            "legal_name": "Jonas Edward",
        },
    )["updateClient"]
    assert updated["messages"] is None
    assert updated["user"]["legal_name"] == "Jonas Edward"

    bulk = _call(
        server, key, seed.BULK_UPDATE_CLIENTS, {"ids": [patient_id], "active_status": False}
    )
    assert bulk["bulkUpdateClients"] == {"users": [{"id": patient_id}], "messages": None}

    signed_up = _call(
        server,
        {},
        seed.SIGN_UP,
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "ada@example.com",
            "password": "b@se3ball rocks",
            "role": "patient",
            "dietitian_id": provider["id"],
            "timezone": "Europe/London",
        },
    )["signUp"]
    assert signed_up["messages"] is None

    token = _call(
        server,
        {},
        SIGN_IN,
        {"e": "ada@example.com", "p": "b@se3ball rocks"},
    )["signIn"]["token"]
    own = _call(
        server, {"Authorization": f"Bearer {token}"}, seed.UPDATE_USER, {"first_name": "Augusta"}
    )
    assert own["updateUser"] == {"user": {"id": signed_up["user"]["id"]}, "messages": None}
